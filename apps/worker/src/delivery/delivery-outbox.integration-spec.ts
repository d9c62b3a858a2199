import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { GitRunner } from '../git/git-runner';
import { createBareRepo, git } from '../testing/git-fixture.mock';
import { attemptWorktree, commitAttempt } from './delivery-fixture.mock';
import { DELIVERY_OUTBOX_FILES, DeliveryOutbox, type DeliveryOutboxEntry, type DeliveryOutboxRecord } from './delivery-outbox';
import type { DeliveryPosition } from './delivery-target';

jest.setTimeout(30_000);

const host = { path: process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin', lang: 'C.UTF-8' };
const FIRST_JOB = '0b6f6a4e-5d3c-4f0e-9a57-1c2d3e4f5a6b';
const RERUN_JOB = '7c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f';
const CREATED_AT = Date.parse('2026-11-02T09:30:00.000Z');

describe('DeliveryOutbox (real git bundles and patches)', () => {
  let root: string;
  let origin: string;
  let baseCommit: string;
  let outbox: DeliveryOutbox;
  let worktrees = 0;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'airlock-delivery-outbox-'));
    origin = createBareRepo({ 'src/calculator.js': 'function add(a, b) {\n  return a - b;\n}\n' });
    baseCommit = git(origin, 'rev-parse', 'main').trim();
    outbox = new DeliveryOutbox(join(root, 'outbox'), new GitRunner(host), () => CREATED_AT);
  });

  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
    rmSync(dirname(origin), { recursive: true, force: true });
  });

  /** An attempt's committed change and the entry DELIVER would put for it. */
  function entryFor(position: DeliveryPosition, jobId = FIRST_JOB, state: DeliveryOutboxRecord['state'] = 'pending'): DeliveryOutboxEntry {
    worktrees += 1;
    const worktree = attemptWorktree(origin, join(root, 'mirror.git'), join(root, `attempt-${worktrees}`));
    const commit = commitAttempt(worktree, jobId, position, 'src/calculator.js');
    return {
      record: {
        jobId,
        deliveryJobId: FIRST_JOB,
        generation: position.generation,
        attempt: position.attempt,
        repoAlias: 'payments',
        baseRef: 'main',
        baseCommit,
        commit,
        branch: `airlock/${FIRST_JOB}`,
        state,
        failureCode: state === 'pending' ? 'BRANCH_PROTECTED' : null,
        mergeRequest: null,
      },
      worktree,
      mergeRequest: { title: 'Fix add', body: '## Ticket\n\n**Fix add**' },
      signal: new AbortController().signal,
    };
  }
  const keyDirectory = () => join(root, 'outbox', FIRST_JOB);
  /** The entry directories written so far: one per branch once a write is done. */
  const entries = () => readdirSync(join(root, 'outbox', '.entries'));
  const keptRecord = () => JSON.parse(readFileSync(join(keyDirectory(), DELIVERY_OUTBOX_FILES.record), 'utf8')) as DeliveryOutboxRecord;

  it('keeps the change as a bundle, a patch, the merge request and its record, readable by the operator only', async () => {
    const entry = entryFor({ generation: 0, attempt: 1 });
    const put = await outbox.put(entry);
    const directory = keyDirectory();
    expect(put).toEqual({ kept: true, directory });
    expect(readdirSync(directory).sort()).toEqual(Object.values(DELIVERY_OUTBOX_FILES).sort());
    for (const path of [join(root, 'outbox'), join(root, 'outbox', '.entries'), realpathSync(directory)]) expect(statSync(path).mode & 0o777).toBe(0o700);
    for (const file of readdirSync(directory)) expect(statSync(join(directory, file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(join(directory, DELIVERY_OUTBOX_FILES.record), 'utf8'))).toEqual({ version: 1, ...entry.record, createdAt: '2026-11-02T09:30:00.000Z' });
    expect(readFileSync(join(directory, DELIVERY_OUTBOX_FILES.mergeRequest), 'utf8')).toBe('# Fix add\n\n## Ticket\n\n**Fix add**');
    expect(outbox.list()).toEqual([{ key: FIRST_JOB, directory, record: { version: 1, ...entry.record, createdAt: '2026-11-02T09:30:00.000Z' } }]);
  });

  it('restores the commit with `git fetch <bundle> HEAD:<branch>` and applies the patch with `git am`, in fresh clones', async () => {
    const entry = entryFor({ generation: 0, attempt: 1 });
    const put = await outbox.put(entry);
    if (!put.kept) throw new Error('the entry was not kept');
    const fetched = join(root, 'fetched');
    git(root, 'clone', '--quiet', origin, fetched);
    git(fetched, 'fetch', '--quiet', join(put.directory, DELIVERY_OUTBOX_FILES.bundle), `HEAD:refs/heads/airlock/${FIRST_JOB}`);
    expect(git(fetched, 'rev-parse', `airlock/${FIRST_JOB}`).trim()).toBe(entry.record.commit);
    const applied = join(root, 'applied');
    git(root, 'clone', '--quiet', origin, applied);
    execFileSync('git', ['am', '--quiet', join(put.directory, DELIVERY_OUTBOX_FILES.patch)], { cwd: applied, env: { ...process.env, GIT_COMMITTER_NAME: 'r', GIT_COMMITTER_EMAIL: 'r@r' } });
    expect(readFileSync(join(applied, 'src/calculator.js'), 'utf8')).toBe('the fix of generation 0, attempt 1\n');
    expect(git(applied, 'log', '-1', '--format=%an%n%B').trim()).toBe(git(entry.worktree, 'log', '-1', '--format=%an%n%B').trim());
  });

  it("replaces an earlier attempt's entry with a later one's, and never the other way round", async () => {
    await outbox.put(entryFor({ generation: 0, attempt: 1 }));
    const second = entryFor({ generation: 0, attempt: 2 });
    await outbox.put(second);
    expect(keptRecord()).toMatchObject({ attempt: 2, commit: second.record.commit });
    expect(entries()).toHaveLength(1);
    await expect(outbox.put(entryFor({ generation: 0, attempt: 1 }))).resolves.toEqual({ kept: false, newer: { generation: 0, attempt: 2 } });
    expect(entries()).toHaveLength(1);
    expect(outbox.list().map((listing) => listing.record?.commit)).toEqual([second.record.commit]);
  });

  it("lets a re-run's first attempt replace the first job's third, and finds the entry by either job", async () => {
    await outbox.put(entryFor({ generation: 0, attempt: 3 }));
    const rerun = entryFor({ generation: 1, attempt: 1 }, RERUN_JOB);
    await outbox.put(rerun);
    expect(keptRecord()).toMatchObject({ jobId: RERUN_JOB, generation: 1, attempt: 1 });
    expect(entries()).toHaveLength(1);
    expect(outbox.find(RERUN_JOB)?.record?.commit).toBe(rerun.record.commit);
    expect(outbox.find(FIRST_JOB)?.record?.commit).toBe(rerun.record.commit);
    expect(outbox.find('5e5e5e5e-5d3c-4f0e-9a57-1c2d3e4f5a6b')).toBeUndefined();
  });

  it('shows no half-written entry after a crash, and clears what the crash left at the next write of the branch', async () => {
    const kept = entryFor({ generation: 0, attempt: 1 });
    await outbox.put(kept);
    // A crash mid-write: part of a later attempt's entry, and a link that was never renamed over the key.
    const crashed = join(root, 'outbox', '.entries', `${FIRST_JOB}.crashed`);
    mkdirSync(crashed);
    writeFileSync(join(crashed, DELIVERY_OUTBOX_FILES.patch), 'From 1234');
    symlinkSync(join('.entries', `${FIRST_JOB}.crashed`), join(root, 'outbox', `.link-${FIRST_JOB}.crashed`));
    expect(outbox.list().map((listing) => listing.record?.commit)).toEqual([kept.record.commit]);
    const later = entryFor({ generation: 0, attempt: 2 });
    await outbox.put(later);
    expect(keptRecord().commit).toBe(later.record.commit);
    expect(entries()).toHaveLength(1);
    expect(readdirSync(join(root, 'outbox')).sort()).toEqual(['.entries', FIRST_JOB]);
  });

  it('lists nothing when there is no outbox yet, and names an entry whose record cannot be read', async () => {
    expect(outbox.list()).toEqual([]);
    await outbox.put(entryFor({ generation: 0, attempt: 1 }));
    writeFileSync(join(keyDirectory(), DELIVERY_OUTBOX_FILES.record), '{"version": 1}');
    expect(outbox.list()).toEqual([
      { key: FIRST_JOB, directory: keyDirectory(), problem: `${join(keyDirectory(), DELIVERY_OUTBOX_FILES.record)} cannot be read: a field is missing or invalid` },
    ]);
  });

  it('refuses a delivery key that is not a job id, writing nothing', async () => {
    const entry = entryFor({ generation: 0, attempt: 1 });
    await expect(outbox.put({ ...entry, record: { ...entry.record, deliveryJobId: '../escape' } })).rejects.toThrow(RangeError);
    expect(readdirSync(root)).not.toContain('outbox');
  });
});
