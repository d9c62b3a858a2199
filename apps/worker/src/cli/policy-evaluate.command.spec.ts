import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FailureCode, Phase } from '@airlock/protocol';
import { JobResultBuilder } from '../jobs/job-result.builder';
import { JobRecordStore } from '../jobs/record/job-record.store';
import { JsonLogger } from '../logging/json-logger';
import { EXIT_CODES } from './exit-codes';
import { runWorkerCli } from './worker.cli';

const JOBS = ['11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222', '33333333-3333-4333-8333-333333333333'];
const patchOf = (path: string, removed: string, added: string[]) =>
  `diff --git a/${path} b/${path}\nindex 1111111..2222222 100644\n--- a/${path}\n+++ b/${path}\n@@ -1,1 +1,${added.length} @@\n-${removed}\n${added.map((line) => `+${line}`).join('\n')}\n`;
const CREATED_MANIFEST = `diff --git a/tools/package.json b/tools/package.json\nnew file mode 100644\nindex 0000000..3333333\n--- /dev/null\n+++ b/tools/package.json\n@@ -0,0 +1,3 @@\n+{\n+  "dependencies": { "left-pad": "1.3.0" }\n+}\n`;

describe('airlock-worker policy evaluate (real job records in a temp stateDir; contacts nothing)', () => {
  let directory: string;
  let configFile: string;
  const evaluate = async (...args: string[]) => {
    let out = '';
    let err = '';
    const exitCode = await runWorkerCli(['node', 'airlock-worker', 'policy', 'evaluate', ...args], { out: (text) => (out += text), err: (text) => (err += text) });
    return { exitCode, out, err };
  };
  const candidate = (name: string, text: string) => {
    const file = join(directory, name);
    writeFileSync(file, text);
    return file;
  };
  /** The table's rows by rule: [evaluated, would block, would record]. */
  const table = (out: string) =>
    Object.fromEntries(
      out
        .split('\n')
        .map((line) => line.split(/\s{2,}/))
        .filter((cells) => cells.length === 4 && cells[0] !== 'RULE')
        .map(([rule, ...counts]) => [rule, counts.map(Number)]),
    );

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'airlock-policy-evaluate-'));
    const stateDir = join(directory, 'state');
    mkdirSync(join(stateDir, 'job-logs'), { recursive: true });
    configFile = join(directory, 'worker.yml');
    writeFileSync(
      configFile,
      [
        'controlPlane: { address: 127.0.0.1:7443, insecure: true }',
        'stateDir: ./state',
        'workspaceDir: ./workspace',
        'inference:',
        '  endpoints:',
        '    - { name: local, baseUrl: http://127.0.0.1:8000/v1, model: m }',
        'repositories:',
        '  - { alias: payments, cloneUrl: /srv/payments.git, pushUrl: /srv/payments.git, baseRefs: [main, release/*] }',
        // Denied packages only advisory on this worker: the one rule here a candidate can leave advisory.
        "policy: { rules: { denied-packages: { packages: [], level: advisory } } }",
        '',
      ].join('\n'),
    );
    let clock = Date.parse('2026-11-01T10:00:00.000Z');
    const logger = new JsonLogger(() => undefined);
    const store = new JobRecordStore(stateDir, { maxAge: 720 * 3_600_000, maxBytes: 1024 ** 3 }, logger, { now: () => clock });
    const ended = (jobId: string, baseRef: string, patch: string | undefined, verdict: 'tests-passed' | 'tests-failed' | undefined, tests: { testsAfter: number; reportRead: boolean }) => {
      const record = store.openAttempt({ jobId, attempt: 1, repoAlias: 'payments', baseRef, ticketTitle: 'Fix' }, logger);
      const builder = new JobResultBuilder(jobId, 1);
      if (patch !== undefined) record.patch(patch);
      if (verdict !== undefined) record.patchVerdict(1, verdict);
      Object.assign(builder.verification, { testsRan: verdict !== undefined, testExitCode: verdict === 'tests-failed' ? 1 : 0, ...tests });
      clock += 60_000;
      record.end(verdict === 'tests-passed' ? builder.succeeded() : builder.failed(FailureCode.TESTS_FAILED, Phase.PHASE_TEST));
    };
    // A fix that touched CI, on main, its tests passing with 4 tests read from the report.
    ended(JOBS[0]!, 'main', patchOf('.github/workflows/ci.yml', 'on: push', ['on: pull_request']), 'tests-passed', { testsAfter: 4, reportRead: true });
    // A fix on a release branch that created a manifest with a denied package; its tests failed.
    ended(JOBS[1]!, 'release/2.1', `${patchOf('src/add.js', '  return a - b;', ['  return a + b;'])}${CREATED_MANIFEST}`, 'tests-failed', { testsAfter: 0, reportRead: false });
    // An attempt that ended before any patch.
    ended(JOBS[2]!, 'main', undefined, undefined, { testsAfter: 0, reportRead: false });
  });

  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  it('counts, per rule, the jobs judged and how many the candidate would block or record', async () => {
    const file = candidate(
      'candidate.yml',
      [
        'schemaVersion: 1',
        'rules:',
        '  base-refs: { allowed: { payments: [main] } }',
        "  denied-packages: { packages: [left-pad], level: advisory }",
        '  min-tests-run: { min: 3 }',
        '  tests-must-pass: { required: true, level: advisory }',
        '',
      ].join('\n'),
    );
    const { exitCode, out, err } = await evaluate(file, '--config', configFile);
    expect({ exitCode, err }).toEqual({ exitCode: EXIT_CODES.ok, err: '' });
    expect(out).toContain('over the last 3 ended job records (2 with a final patch)');
    expect(table(out)).toMatchObject({
      // Every record's task: the release branch is outside the candidate's base refs.
      'job-kinds': [3, 0, 0],
      repositories: [3, 0, 0],
      'base-refs': [3, 1, 0],
      // Local policy protects CI workflows and forbids manifest changes, mandatory: the merge keeps that.
      'protected-paths': [2, 1, 0],
      'dependency-manifests': [2, 1, 0],
      // A manifest the patch creates is read whole from the patch; advisory on both sides, so recorded.
      'denied-packages': [2, 0, 1],
      'max-files-changed': [2, 0, 0],
      secrets: [2, 0, 0],
      // Local policy keeps tests-must-pass mandatory (the stricter wins): the failed run would block.
      'tests-must-pass': [2, 1, 0],
      // Four tests from a report pass min 3; a run without a report cannot show them.
      'min-tests-run': [2, 1, 0],
    });
    expect(out).toContain('The patch is all the change rules see here');
  });

  it('evaluates only the last N records with --last N', async () => {
    const file = candidate('candidate.json', JSON.stringify({ schemaVersion: 1, rules: {} }));
    const { exitCode, out } = await evaluate(file, '--config', configFile, '--last', '1');
    expect(exitCode).toBe(EXIT_CODES.ok);
    expect(out).toContain('over the last 1 ended job record (0 with a final patch)');
    expect(table(out)['protected-paths']).toEqual([0, 0, 0]);
    expect(table(out)['job-kinds']).toEqual([1, 0, 0]);
  });

  it('refuses an invalid candidate with exit 2, naming every field path that is wrong', async () => {
    const file = candidate('bad.yml', 'schemaVersion: 1\nrules:\n  max-files-changed: { max: 0 }\n  protected-paths: { paths: [../etc] }\n  unknown-rule: {}\n');
    const { exitCode, err } = await evaluate(file, '--config', configFile);
    expect(exitCode).toBe(EXIT_CODES.configInvalid);
    expect(err).toContain('is not a valid policy document');
    expect(err).toContain('rules.max-files-changed.max: expected at least 1');
    expect(err).toContain('rules.protected-paths.paths[0]');
    expect(err).toContain('unknown-rule');
    const missing = await evaluate(join(directory, 'nowhere.yml'), '--config', configFile);
    expect(missing.exitCode).toBe(EXIT_CODES.configInvalid);
    expect(missing.err).toContain('cannot read');
  });
});
