import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FailureCode, Phase } from '@airlock/protocol';
import { JobResultBuilder } from '../jobs/job-result.builder';
import { JOB_RECORDS_DIRECTORY, RECORD_FILE } from '../jobs/record/job-record';
import { JobRecordStore } from '../jobs/record/job-record.store';
import { JsonLogger } from '../logging/json-logger';
import { EXIT_CODES } from './exit-codes';
import { runWorkerCli } from './worker.cli';

const JOB_A = '11111111-1111-4111-8111-111111111111';
const JOB_B = '22222222-2222-4222-8222-222222222222';
const PATCH = 'diff --git a/src/add.js b/src/add.js\n--- a/src/add.js\n+++ b/src/add.js\n@@ -1 +1 @@\n-  return a - b;\n+  return a * b;\n';

describe('airlock-worker jobs list|show (the CLI entry, real records in a temp stateDir)', () => {
  let directory: string;
  let stateDir: string;
  let configFile: string;
  let clock: number;
  const jobs = async (...args: string[]): Promise<{ exitCode: number; out: string; err: string }> => {
    let out = '';
    let err = '';
    const exitCode = await runWorkerCli(['node', 'airlock-worker', 'jobs', ...args], { out: (text) => (out += text), err: (text) => (err += text) });
    return { exitCode, out, err };
  };

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'airlock-jobs-cli-'));
    stateDir = join(directory, 'state');
    mkdirSync(join(stateDir, 'job-logs'), { recursive: true });
    configFile = join(directory, 'worker.yml');
    writeFileSync(
      configFile,
      ['controlPlane: { address: 127.0.0.1:7443, insecure: true }', 'stateDir: ./state', 'workspaceDir: ./workspace', 'inference:', '  endpoints:', '    - { name: local, baseUrl: http://127.0.0.1:8000/v1, model: m }', ''].join('\n'),
    );
    clock = Date.parse('2026-11-01T10:00:00.000Z');
    const logger = new JsonLogger(() => undefined);
    const store = new JobRecordStore(stateDir, { maxAge: 720 * 3_600_000, maxBytes: 1024 ** 3 }, logger, { now: () => clock });

    // Job A, attempt 1: its patch broke the tests.
    const failed = store.openAttempt({ jobId: JOB_A, attempt: 1, repoAlias: 'payments', baseRef: 'main', ticketTitle: 'Fix add\u001b[31m in red' }, logger);
    failed.baseCommit('a'.repeat(40));
    failed.transcript({ kind: 'prompt', messages: [{ role: 'system', content: 'rules' }, { role: 'user', content: '# Ticket: Fix add' }] });
    failed.transcript({ kind: 'answer', endpoint: 'vllm', content: 'src/add.js\n<<<<<<< SEARCH', promptTokens: 321, completionTokens: 54 });
    failed.transcript({ kind: 'tool-call', callId: 'c1', tool: 'read_file', arguments: { path: 'src/add.js' } });
    failed.patch(PATCH);
    writeFileSync(join(stateDir, 'job-logs', `${JOB_A}-1.test.log`), 'add is broken\n');
    const builder = new JobResultBuilder(JOB_A, 1);
    builder.recordDuration(Phase.PHASE_TEST, 2500);
    clock += 12_300;
    failed.end(builder.failed(FailureCode.TESTS_FAILED, Phase.PHASE_TEST), {
      revision: 3,
      shadowRevision: 4,
      decisions: [
        { rule: 'tests-must-pass', level: 'mandatory', outcome: 'blocked', policy: 'enforced', detail: 'TESTS_FAILED: tests still fail (exit 1)' },
        { rule: 'protected-paths', level: 'mandatory', outcome: 'shadow-would-block', policy: 'shadow', detail: 'Jenkinsfile is protected by policy and may not be modified' },
      ],
    });

    // Job A, attempt 2, and job B: still running.
    clock += 60_000;
    store.openAttempt({ jobId: JOB_A, attempt: 2, repoAlias: 'payments', baseRef: 'main', ticketTitle: 'Fix add' }, logger);
    clock += 60_000;
    store.openAttempt({ jobId: JOB_B, attempt: 1, repoAlias: 'ledger', baseRef: 'main', ticketTitle: 'Fix total' }, logger);
  });

  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  it('lists the records newest first: key, state or outcome, failure code, repository, start, duration, patches', async () => {
    const { exitCode, out, err } = await jobs('list', '--config', configFile);
    expect({ exitCode, err }).toEqual({ exitCode: EXIT_CODES.ok, err: '' });
    expect(out.split('\n').map((line) => line.split(/\s{2,}/))).toEqual([
      ['KEY', 'STATE', 'FAILURE', 'REPO', 'STARTED', 'DURATION', 'PATCHES'],
      [`${JOB_B}-1`, 'running', '-', 'ledger', '2026-11-01T10:02:12.300Z', '-', '0'],
      [`${JOB_A}-2`, 'running', '-', 'payments', '2026-11-01T10:01:12.300Z', '-', '0'],
      [`${JOB_A}-1`, 'failed', 'TESTS_FAILED', 'payments', '2026-11-01T10:00:00.000Z', '12.3s', '1'],
      [''],
    ]);
  });

  it('prints JSON with --json and at most N rows with --limit N', async () => {
    const { exitCode, out } = await jobs('list', '--config', configFile, '--json', '--limit', '2');
    expect(exitCode).toBe(EXIT_CODES.ok);
    const rows = JSON.parse(out) as Array<Record<string, unknown>>;
    expect(rows.map((row) => row['jobKey'])).toEqual([`${JOB_B}-1`, `${JOB_A}-2`]);
    expect(rows[0]).toMatchObject({ jobId: JOB_B, attempt: 1, state: 'running', failureCode: null, repoAlias: 'ledger', endedAt: null, durationMs: null, patches: 0 });
    const table = await jobs('list', '--config', configFile, '--limit', '1');
    expect(table.out).toContain('(1 of 3 records shown; --limit N shows more)');
  });

  it('shows a job id as its newest attempt, and <jobId>-<attempt> as that attempt: metadata, patches with verdicts, logs', async () => {
    const newest = await jobs('show', '--config', configFile, JOB_A);
    expect(newest.out).toMatch(new RegExp(`^job {10}${JOB_A} attempt 2 `));
    const { exitCode, out, err } = await jobs('show', '--config', configFile, `${JOB_A}-1`);
    expect({ exitCode, err }).toEqual({ exitCode: EXIT_CODES.ok, err: '' });
    const lines = out.trimEnd().split('\n');
    expect(lines.slice(0, 6)).toEqual([
      `job          ${JOB_A} attempt 1 (${JOB_A}-1)`,
      'state        failed TESTS_FAILED in TEST',
      `repository   payments, base main at ${'a'.repeat(40)}`,
      // The escape sequence a ticket carried is shown, not sent to the terminal.
      'ticket       Fix add\\u{1b}[31m in red',
      'started      2026-11-01T10:00:00.000Z',
      'ended        2026-11-01T10:00:12.300Z (12.3s)',
    ]);
    expect(lines).toContain('phases       TEST 2.5s');
    expect(lines.find((line) => line.startsWith('transcript'))).toMatch(/^transcript {3}3 entries, \d+ bytes; --transcript prints it$/);
    expect(lines).toContain('patches      1; --patch N prints one');
    expect(lines.find((line) => line.startsWith('   1  '))).toMatch(/^ {3}1 {2}TESTS_FAILED +\d+ bytes {2}\[staged → TESTS_FAILED\]$/);
    expect(lines).toContain('logs         test (14 bytes); --log NAME prints one');
    // Every policy decision, with the local detail the result upstream never carries.
    const policy = lines.indexOf('policy       revision 3, shadow revision 4; 2 decisions');
    expect(policy).toBeGreaterThan(0);
    expect(lines.slice(policy + 1, policy + 3).map((line) => line.trim().split(/\s{2,}/))).toEqual([
      ['blocked', 'tests-must-pass (mandatory)', 'TESTS_FAILED: tests still fail (exit 1)'],
      ['shadow-would-block', 'protected-paths (mandatory, shadow)', 'Jenkinsfile is protected by policy and may not be modified'],
    ]);
  });

  it('prints the transcript, a patch byte for byte, and a log with --transcript, --patch N, --log NAME', async () => {
    const transcript = await jobs('show', '--config', configFile, `${JOB_A}-1`, '--transcript');
    expect(transcript.exitCode).toBe(EXIT_CODES.ok);
    expect(transcript.out).toMatch(/^── \S+ prompt ──\n\[system\]\nrules\n\[user\]\n# Ticket: Fix add\n── \S+ answer \(endpoint vllm\) 321 prompt \+ 54 completion tokens ──\nsrc\/add\.js\n<<<<<<< SEARCH\n── \S+ tool-call ──\n\{/);
    expect(transcript.out).toContain('"tool": "read_file"');
    expect(await jobs('show', '--config', configFile, `${JOB_A}-1`, '--patch', '1')).toEqual({ exitCode: EXIT_CODES.ok, out: PATCH, err: '' });
    expect(await jobs('show', '--config', configFile, `${JOB_A}-1`, '--log', 'test')).toEqual({ exitCode: EXIT_CODES.ok, out: 'add is broken\n', err: '' });
  });

  it('names what is wrong, with exit 1, for an unknown id, a missing patch or log, or a corrupt record.json', async () => {
    const unknown = await jobs('show', '--config', configFile, '33333333-3333-4333-8333-333333333333');
    expect(unknown.exitCode).toBe(EXIT_CODES.failed);
    expect(unknown.err).toMatch(/^no job record for "33333333-3333-4333-8333-333333333333" in .*job-records: /);
    expect(await jobs('show', '--config', configFile, `${JOB_A}-1`, '--patch', '2')).toMatchObject({ exitCode: EXIT_CODES.failed, err: `job record ${JOB_A}-1 has no patch 2 (it holds 1 to 1)\n` });
    expect(await jobs('show', '--config', configFile, `${JOB_A}-1`, '--log', 'setup')).toMatchObject({ exitCode: EXIT_CODES.failed, err: `job record ${JOB_A}-1 has no log "setup" (it has test)\n` });

    const recordFile = join(stateDir, JOB_RECORDS_DIRECTORY, `${JOB_B}-1`, RECORD_FILE);
    writeFileSync(recordFile, JSON.stringify({ version: 1, jobId: JOB_B }));
    const corrupt = await jobs('show', '--config', configFile, JOB_B);
    expect(corrupt).toMatchObject({ exitCode: EXIT_CODES.failed, out: '' });
    expect(corrupt.err).toBe(`job record ${recordFile} is corrupt: attempt: Invalid input: expected number, received undefined\n`);
    writeFileSync(recordFile, '{"version":1,');
    const listed = await jobs('list', '--config', configFile);
    expect(listed.exitCode).toBe(EXIT_CODES.failed);
    expect(listed.out).toMatch(new RegExp(`^${JOB_B}-1 +corrupt +- +- +\\S+ +- +0$`, 'm'));
    expect(listed.err).toMatch(new RegExp(`^job record ${recordFile} is corrupt: not JSON \\(`));
  });

  it('refuses a bad flag or id with exit 2 and a message naming it', async () => {
    const limit = await jobs('list', '--config', configFile, '--limit', '0');
    expect(limit.exitCode).toBe(EXIT_CODES.configInvalid);
    expect(limit.err).toContain('--limit: expected a whole number from 1 to 1000000');
    const patch = await jobs('show', '--config', configFile, JOB_A, '--patch', 'one');
    expect(patch.exitCode).toBe(EXIT_CODES.configInvalid);
    expect(patch.err).toContain('--patch: expected a whole number from 1 to 999');
    const unknownFlag = await jobs('list', '--config', configFile, '--newest');
    expect(unknownFlag.exitCode).toBe(EXIT_CODES.configInvalid);
    expect(unknownFlag.err).toContain("unknown option '--newest'");
    const traversal = await jobs('show', '--config', configFile, '../../etc');
    expect(traversal).toEqual({ exitCode: EXIT_CODES.configInvalid, out: '', err: 'jobs show: expected a job id or <jobId>-<attempt> (as `jobs list` prints them), got "../../etc"\n' });
  });
});
