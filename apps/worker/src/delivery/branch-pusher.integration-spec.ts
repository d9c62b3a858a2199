import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { type ForgeFlavour, type GitServer, protectBranches, startGitServer } from '@airlock/local-stack';
import { FailureCode } from '@airlock/protocol';
import { GitRunner } from '../git/git-runner';
import { JobPhaseFailedError } from '../jobs/job-phase-failed.error';
import { JsonLogger } from '../logging/json-logger';
import { createBareRepo, git } from '../testing/git-fixture.mock';
import { BranchPusher, type BranchPushOutcome } from './branch-pusher';
import { attemptWorktree, commitAttempt, holdFirstPush } from './delivery-fixture.mock';
import type { DeliveryPosition } from './delivery-target';

jest.setTimeout(30_000);

const host = { path: process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin', lang: 'C.UTF-8' };
const JOB = '0b6f6a4e-5d3c-4f0e-9a57-1c2d3e4f5a6b';
const REF = `refs/heads/airlock/${JOB}`;

/** How the test reaches the bare repository: as a path, or through a git daemon. */
type Transport = 'a local path' | 'git daemon';

describe.each<Transport>(['a local path', 'git daemon'])('BranchPusher: compare-and-swap of the branch tip (real git, pushing to %s)', (transport) => {
  let root: string;
  let server: GitServer | undefined;
  let origin: string;
  let pushUrl: string;
  let logs: Array<Record<string, unknown>>;
  let attempts = 0;
  const pusher = new BranchPusher(new GitRunner(host));

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'airlock-branch-pusher-'));
    mkdirSync(join(root, 'served'));
    if (transport === 'git daemon') server = await startGitServer(join(root, 'served'), root);
  });

  afterAll(async () => {
    await server?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  beforeEach(() => {
    const seed = createBareRepo({ 'README.md': '# demo\n' });
    origin = join(root, 'served', `${basename(mkdtempSync(join(root, 'origin-')))}.git`);
    git(root, 'clone', '--quiet', '--bare', seed, origin);
    rmSync(dirname(seed), { recursive: true, force: true });
    pushUrl = server === undefined ? origin : server.urlOf(basename(origin));
    logs = [];
  });

  /** A worktree of its own for an attempt, with its change committed as DELIVER commits it. */
  const prepareAttempt = (position: DeliveryPosition): { worktree: string; commit: string } => {
    attempts += 1;
    const worktree = attemptWorktree(origin, join(root, `mirror-${basename(origin)}`), join(root, `attempt-${attempts}`));
    return { worktree, commit: commitAttempt(worktree, JOB, position) };
  };
  const push = (worktree: string, position: DeliveryPosition): Promise<BranchPushOutcome> =>
    pusher.push({
      worktree,
      pushUrl,
      ref: REF,
      position,
      signal: new AbortController().signal,
      logger: new JsonLogger((line) => logs.push(JSON.parse(line) as Record<string, unknown>)),
    });
  const tip = () => git(origin, 'rev-parse', REF).trim();
  const failedPushes = () => logs.filter((line) => line['event'] === 'delivery-git-failed' && line['command'] === 'push').length;
  const failureOf = async (pushing: Promise<unknown>) => {
    const error = await pushing.then(
      () => undefined,
      (rejection: unknown) => rejection,
    );
    expect(error).toBeInstanceOf(JobPhaseFailedError);
    return error as JobPhaseFailedError;
  };

  it('creates the branch, and a stale attempt that comes later is superseded: the branch keeps the newer commit', async () => {
    const second = prepareAttempt({ generation: 0, attempt: 2 });
    const first = prepareAttempt({ generation: 0, attempt: 1 });
    await expect(push(second.worktree, { generation: 0, attempt: 2 })).resolves.toBe('created');
    // The first attempt's lease check passed before a pause: only the branch tip can stop it now.
    const failure = await failureOf(push(first.worktree, { generation: 0, attempt: 1 }));
    expect(failure.failureCode).toBe(FailureCode.DELIVERY_SUPERSEDED);
    expect(failure.message).toBe('the branch holds generation 0, attempt 2; this is generation 0, attempt 1');
    expect(git(origin, 'log', '-1', '--format=%H %s', REF).trim()).toBe(`${second.commit} Fix add`);
    // The tip was read through a ref private to the worktree, and that ref is gone again.
    expect(git(first.worktree, 'for-each-ref', 'refs/worktree/').trim()).toBe('');
  });

  it('replaces an earlier attempt of the same job', async () => {
    const first = prepareAttempt({ generation: 0, attempt: 1 });
    const second = prepareAttempt({ generation: 0, attempt: 2 });
    await expect(push(first.worktree, { generation: 0, attempt: 1 })).resolves.toBe('created');
    await expect(push(second.worktree, { generation: 0, attempt: 2 })).resolves.toBe('replaced');
    expect(tip()).toBe(second.commit);
  });

  it("lets a re-run's first attempt (generation 1, attempt 1) replace the first job's third (generation 0, attempt 3)", async () => {
    const earlier = prepareAttempt({ generation: 0, attempt: 3 });
    const rerun = prepareAttempt({ generation: 1, attempt: 1 });
    await push(earlier.worktree, { generation: 0, attempt: 3 });
    await expect(push(rerun.worktree, { generation: 1, attempt: 1 })).resolves.toBe('replaced');
    expect(tip()).toBe(rerun.commit);
  });

  it("never overwrites a person's commit on the branch tip", async () => {
    const first = prepareAttempt({ generation: 0, attempt: 1 });
    await push(first.worktree, { generation: 0, attempt: 1 });
    const person = mkdtempSync(join(root, 'person-'));
    git(root, 'clone', '--quiet', '--branch', `airlock/${JOB}`, origin, person);
    writeFileSync(join(person, 'review.txt'), 'a reviewer fixed it up\n');
    git(person, 'add', 'review.txt');
    git(person, 'commit', '--quiet', '-m', 'Review fix-up');
    git(person, 'push', '--quiet', 'origin', `HEAD:${REF}`);
    const humanTip = tip();
    const second = prepareAttempt({ generation: 0, attempt: 2 });
    const failure = await failureOf(push(second.worktree, { generation: 0, attempt: 2 }));
    expect(failure.failureCode).toBe(FailureCode.DELIVERY_SUPERSEDED);
    expect(failure.message).toMatch(/not an Airlock commit/);
    expect(tip()).toBe(humanTip);
  });

  it('succeeds without pushing when the branch already holds this very commit', async () => {
    const first = prepareAttempt({ generation: 0, attempt: 1 });
    await push(first.worktree, { generation: 0, attempt: 1 });
    await expect(push(first.worktree, { generation: 0, attempt: 1 })).resolves.toBe('already-there');
    expect(tip()).toBe(first.commit);
  });

  it("holds when a person's push lands between the observation and the push: the lease fails, and the next look sees the person's commit", async () => {
    const first = prepareAttempt({ generation: 0, attempt: 1 });
    await push(first.worktree, { generation: 0, attempt: 1 });
    const second = prepareAttempt({ generation: 0, attempt: 2 });
    const hold = holdFirstPush(origin, join(root, `hold-${basename(origin)}`));
    const pushing = push(second.worktree, { generation: 0, attempt: 2 });
    await hold.held();
    // Another clone pushes while the attempt's push waits with its lease on attempt 1's commit.
    const person = mkdtempSync(join(root, 'person-'));
    git(root, 'clone', '--quiet', '--branch', `airlock/${JOB}`, origin, person);
    git(person, 'commit', '--quiet', '--allow-empty', '-m', 'A person was quicker');
    git(person, 'push', '--quiet', 'origin', `HEAD:${REF}`);
    const humanTip = tip();
    hold.release();
    const failure = await failureOf(pushing);
    expect(failure.failureCode).toBe(FailureCode.DELIVERY_SUPERSEDED);
    expect(tip()).toBe(humanTip);
    expect(failedPushes()).toBe(1);
  });

  it('observes again when an older attempt lands between the observation and the push, and then replaces it', async () => {
    const newer = prepareAttempt({ generation: 0, attempt: 2 });
    const older = prepareAttempt({ generation: 0, attempt: 1 });
    const hold = holdFirstPush(origin, join(root, `hold-${basename(origin)}`));
    // The newer attempt sees no branch and pushes on the lease "must not exist".
    const pushing = push(newer.worktree, { generation: 0, attempt: 2 });
    await hold.held();
    execFileSync('git', ['push', '--quiet', '--', origin, `HEAD:${REF}`], { cwd: older.worktree });
    expect(tip()).toBe(older.commit);
    hold.release();
    await expect(pushing).resolves.toBe('replaced');
    expect(tip()).toBe(newer.commit);
    // The held push lost its lease; the second round pushed on the older attempt's commit.
    expect(failedPushes()).toBe(1);
  });

  it.each<ForgeFlavour>(['gitlab', 'github', 'gitea'])("fails BRANCH_PROTECTED on %s's protected-branch refusal, pushing nothing", async (flavour) => {
    protectBranches(origin, 'airlock/*', flavour);
    const first = prepareAttempt({ generation: 0, attempt: 1 });
    const failure = await failureOf(push(first.worktree, { generation: 0, attempt: 1 }));
    expect(failure.failureCode).toBe(FailureCode.BRANCH_PROTECTED);
    expect(git(origin, 'for-each-ref', '--format=%(refname)').trim()).toBe('refs/heads/main');
    // The git server's words are in the local log only, never in the error that names the code.
    const refusal = logs.find((line) => line['event'] === 'delivery-git-failed' && line['command'] === 'push');
    expect(String(refusal?.['stderr'])).toMatch(/protected/i);
    expect(failure.message).toBe('a branch protection rule refused the push');
  });

  it('fails DELIVERY_FAILED when the git server refuses the push for another reason and the branch did not move', async () => {
    writeFileSync(join(origin, 'hooks', 'pre-receive'), '#!/bin/sh\necho "push rejected: commit message lacks a ticket reference" >&2\nexit 1\n', { mode: 0o755 });
    const first = prepareAttempt({ generation: 0, attempt: 1 });
    const failure = await failureOf(push(first.worktree, { generation: 0, attempt: 1 }));
    expect(failure.failureCode).toBe(FailureCode.DELIVERY_FAILED);
    expect(failedPushes()).toBe(1);
  });
});

describe('BranchPusher: what it logs', () => {
  it('keeps credentials out of the local log when git echoes a location that carries them', async () => {
    const root = mkdtempSync(join(tmpdir(), 'airlock-branch-pusher-log-'));
    try {
      const origin = createBareRepo({ 'README.md': '# demo\n' });
      const worktree = attemptWorktree(origin, join(root, 'mirror.git'), join(root, 'attempt'));
      commitAttempt(worktree, JOB, { generation: 0, attempt: 1 });
      const logs: string[] = [];
      const pushing = new BranchPusher(new GitRunner(host)).push({
        worktree,
        // A location git quotes back whole in its error (it strips credentials from http URLs itself).
        pushUrl: `${root}/gone//deploy:s3cret-token@git.corp.example/payments.git`,
        ref: REF,
        position: { generation: 0, attempt: 1 },
        signal: new AbortController().signal,
        logger: new JsonLogger((line) => logs.push(line)),
      });
      // Not a JobError: DELIVER's default, DELIVERY_FAILED, ends the job.
      await expect(pushing).rejects.toMatchObject({ name: 'GitCommandFailedError' });
      expect(logs.join('')).toContain('//***@git.corp.example/payments.git');
      expect(logs.join('')).not.toContain('s3cret-token');
      rmSync(dirname(origin), { recursive: true, force: true });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
