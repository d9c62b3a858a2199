import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { attemptWorktree, commitAttempt } from '../delivery/delivery-fixture.mock';
import { DELIVERY_OUTBOX_FILES, DeliveryOutbox, type DeliveryOutboxRecord } from '../delivery/delivery-outbox';
import { GitRunner } from '../git/git-runner';
import { createBareRepo, git } from '../testing/git-fixture.mock';
import { EXIT_CODES } from './exit-codes';
import { runWorkerCli } from './worker.cli';

jest.setTimeout(30_000);

const host = { path: process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin', lang: 'C.UTF-8' };
const PROTECTED_JOB = '11111111-1111-4111-8111-111111111111';
const FIRST_JOB = '22222222-2222-4222-8222-222222222222';
const RERUN_JOB = '33333333-3333-4333-8333-333333333333';
const MR_URL = 'https://gitlab.corp.example/payments/calculator/-/merge_requests/7';

describe('airlock-worker outbox list|show (the CLI entry, real entries in the default outboxDir)', () => {
  let directory: string;
  let origin: string;
  let configFile: string;
  let outboxDir: string;
  let baseCommit: string;
  let clock: number;
  let attempts = 0;
  const outbox = async (...args: string[]): Promise<{ exitCode: number; out: string; err: string }> => {
    let out = '';
    let err = '';
    const exitCode = await runWorkerCli(['node', 'airlock-worker', 'outbox', ...args], { out: (text) => (out += text), err: (text) => (err += text) });
    return { exitCode, out, err };
  };

  /** Puts an attempt's committed change in the outbox as DELIVER would. */
  async function keep(record: Pick<DeliveryOutboxRecord, 'jobId' | 'deliveryJobId' | 'generation' | 'attempt' | 'state' | 'failureCode' | 'mergeRequest'>): Promise<void> {
    attempts += 1;
    const worktree = attemptWorktree(origin, join(directory, 'mirror.git'), join(directory, `attempt-${attempts}`));
    const commit = commitAttempt(worktree, record.jobId, record);
    const writer = new DeliveryOutbox(outboxDir, new GitRunner(host), () => clock);
    await writer.put({
      record: { ...record, repoAlias: 'payments', baseRef: 'main', baseCommit, commit, branch: `airlock/${record.deliveryJobId}` },
      worktree,
      mergeRequest: { title: 'Fix add', body: 'the body' },
      signal: new AbortController().signal,
    });
    clock += 60_000;
  }

  beforeEach(async () => {
    directory = mkdtempSync(join(tmpdir(), 'airlock-outbox-cli-'));
    origin = createBareRepo({ 'README.md': '# payments\n' });
    baseCommit = git(origin, 'rev-parse', 'main').trim();
    configFile = join(directory, 'worker.yml');
    writeFileSync(
      configFile,
      ['controlPlane: { address: 127.0.0.1:7443, insecure: true }', 'stateDir: ./state', 'workspaceDir: ./workspace', 'inference:', '  endpoints:', '    - { name: local, baseUrl: http://127.0.0.1:8000/v1, model: m }', ''].join('\n'),
    );
    outboxDir = join(directory, 'state', 'delivery-outbox');
    clock = Date.parse('2026-11-02T09:00:00.000Z');
    await keep({ jobId: PROTECTED_JOB, deliveryJobId: PROTECTED_JOB, generation: 0, attempt: 1, state: 'pending', failureCode: 'BRANCH_PROTECTED', mergeRequest: null });
    await keep({ jobId: RERUN_JOB, deliveryJobId: FIRST_JOB, generation: 1, attempt: 2, state: 'pushed', failureCode: 'FORGE_RATE_LIMITED', mergeRequest: { number: 7, webUrl: MR_URL } });
  });

  afterEach(() => {
    rmSync(directory, { recursive: true, force: true });
    rmSync(dirname(origin), { recursive: true, force: true });
  });

  it('lists the entries newest first: job, generation, attempt, repository, state, failure, created, merge request', async () => {
    const { exitCode, out, err } = await outbox('list', '--config', configFile);
    expect({ exitCode, err }).toEqual({ exitCode: EXIT_CODES.ok, err: '' });
    expect(out.split('\n').map((line) => line.split(/\s{2,}/))).toEqual([
      ['JOB', 'GEN', 'ATTEMPT', 'REPO', 'STATE', 'FAILURE', 'CREATED', 'MERGE REQUEST'],
      [RERUN_JOB, '1', '2', 'payments', 'pushed', 'FORGE_RATE_LIMITED', '2026-11-02T09:01:00.000Z', MR_URL],
      [PROTECTED_JOB, '0', '1', 'payments', 'pending', 'BRANCH_PROTECTED', '2026-11-02T09:00:00.000Z', '-'],
      [''],
    ]);
  });

  it('prints JSON with --json, with each entry directory', async () => {
    const { exitCode, out } = await outbox('list', '--config', configFile, '--json');
    expect(exitCode).toBe(EXIT_CODES.ok);
    expect(JSON.parse(out)).toEqual([
      expect.objectContaining({ jobId: RERUN_JOB, deliveryJobId: FIRST_JOB, generation: 1, attempt: 2, state: 'pushed', mergeRequest: MR_URL, directory: join(outboxDir, FIRST_JOB) }),
      expect.objectContaining({ jobId: PROTECTED_JOB, deliveryJobId: PROTECTED_JOB, failureCode: 'BRANCH_PROTECTED', mergeRequest: null, directory: join(outboxDir, PROTECTED_JOB) }),
    ]);
  });

  it('lists an entry whose record cannot be read as corrupt, names it on stderr, and exits 1', async () => {
    const record = join(outboxDir, PROTECTED_JOB, DELIVERY_OUTBOX_FILES.record);
    writeFileSync(record, 'not json');
    const { exitCode, out, err } = await outbox('list', '--config', configFile);
    expect(exitCode).toBe(EXIT_CODES.failed);
    expect(out.split('\n')[2]?.split(/\s{2,}/)).toEqual([PROTECTED_JOB, '-', '-', '-', 'corrupt', '-', '-', '-']);
    expect(err).toContain(`${record} cannot be read`);
  });

  it("shows the entry of a job's branch, found by the job or by its re-run chain's first job, with the paths of its files", async () => {
    const { exitCode, out, err } = await outbox('show', RERUN_JOB, '--config', configFile);
    expect({ exitCode, err }).toEqual({ exitCode: EXIT_CODES.ok, err: '' });
    const entry = join(outboxDir, FIRST_JOB);
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toBe(`job            ${RERUN_JOB} attempt 2, generation 1 of job ${FIRST_JOB}'s branch`);
    expect(lines[1]).toBe('state          pushed FORGE_RATE_LIMITED');
    expect(lines).toContain(`merge request  7 ${MR_URL}`);
    expect(lines).toContain(`bundle         ${join(entry, 'change.bundle')}  (git fetch <bundle> HEAD:airlock/${FIRST_JOB})`);
    expect(lines).toContain(`patch          ${join(entry, 'change.patch')}  (git am <patch>)`);
    expect(lines).toContain(`request text   ${join(entry, 'merge-request.md')}`);
    expect((await outbox('show', FIRST_JOB, '--config', configFile)).out).toBe(out);
  });

  it('exits 1 for a job without an entry, and 2 for an argument that is not a job id', async () => {
    const unknown = await outbox('show', '44444444-4444-4444-8444-444444444444', '--config', configFile);
    expect(unknown).toEqual({ exitCode: EXIT_CODES.failed, out: '', err: `the delivery outbox ${outboxDir} has no entry for job 44444444-4444-4444-8444-444444444444\n` });
    const invalid = await outbox('show', '../state', '--config', configFile);
    expect(invalid.exitCode).toBe(EXIT_CODES.configInvalid);
  });

  it('says the outbox is empty when it holds nothing', async () => {
    rmSync(outboxDir, { recursive: true, force: true });
    expect(await outbox('list', '--config', configFile)).toEqual({ exitCode: EXIT_CODES.ok, out: `no entries in the delivery outbox ${outboxDir}\n`, err: '' });
  });
});
