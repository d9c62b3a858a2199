import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JobOutcome } from '@airlock/protocol';
import { launchProgram, type ManagedProcess } from '@airlock/local-stack';
import { stringify } from 'yaml';
import { FakeControlPlane } from '../testing/fake-control-plane.mock';
import { FakeInferenceServer } from '../testing/fake-inference-server.mock';
import { createBareRepo } from '../testing/git-fixture.mock';
import { runWorkerCli as cli } from '../testing/worker-process.mock';

jest.setTimeout(120_000);

/**
 * The job record is the customer's, and it stays theirs: a real daemon runs real jobs
 * (real gRPC, git, inference server, sandboxed tests) with a canary planted in the ticket,
 * the repository and the model's answers. The canary must be in the local record — the
 * transcript and the patches, delivered and rejected — and nowhere in the egress audit log,
 * which holds every byte the worker sent.
 */
const CANARY = `zqxrecord${randomBytes(6).toString('hex')}`;
const TOKEN = `aet_${'B'.repeat(43)}`;

const editBlock = (replacement: string) => `src/calculator.js\n<<<<<<< SEARCH\n  return a - b;\n=======\n${replacement}\n>>>>>>> REPLACE\n`;

describe('job records through the daemon: kept locally, never sent', () => {
  const controlPlane = new FakeControlPlane();
  const inference = new FakeInferenceServer('test-model', (chat) =>
    (chat.messages[1]?.content ?? '').includes('WRONG') ? editBlock(`  return a * b; // ${CANARY}`) : editBlock(`  return a + b; // ${CANARY}`),
  );
  const origin = createBareRepo({
    'src/calculator.js': `// ${CANARY}\nfunction add(a, b) {\n  return a - b;\n}\nmodule.exports = { add };\n`,
    'check.js': "const { add } = require('./src/calculator');\nif (add(2, 3) !== 5) { console.error('add is broken'); process.exit(1); }\n",
    '.airlock.yml': 'version: 1\ntest:\n  command: [node, check.js]\n  timeout: 30s\n',
  });
  const dir = mkdtempSync(join(tmpdir(), 'airlock-records-it-'));
  const configFile = join(dir, 'worker.yml');
  const stateDir = join(dir, 'state');
  let worker: ManagedProcess | undefined;
  const jobIds: { delivered?: string; rejected?: string } = {};

  const writeConfig = (trustedSigningKeys: unknown[]) =>
    writeFileSync(
      configFile,
      stringify({
        controlPlane: { address: controlPlane.address, insecure: true, trustedSigningKeys },
        stateDir: './state',
        workspaceDir: './workspace',
        inference: { endpoints: [{ name: 'sim', baseUrl: inference.baseUrl, model: 'test-model', timeout: '10s' }] },
        repositories: [{ alias: 'demo', cloneUrl: origin, pushUrl: origin }],
      }),
    );
  const runJob = async (title: string) => {
    const from = controlPlane.frames.length;
    const { signed, jobId } = controlPlane.instruction({ fix: { repoAlias: 'demo', baseRef: 'main', ticket: { title, description: `add(2, 3) returns -1; see ${CANARY}` } } });
    controlPlane.send({ instruction: signed });
    const result = await controlPlane.waitFor((f) => f.frame === 'result' && f.result?.attempt?.jobId === jobId, from);
    return { jobId, outcome: result.result?.outcome };
  };
  const recordFiles = (jobId: string) => {
    const folder = join(stateDir, 'job-records', `${jobId}-1`);
    return {
      transcript: readFileSync(join(folder, 'transcript.jsonl'), 'utf8'),
      patch: readFileSync(join(folder, 'patches', '01.patch'), 'utf8'),
      record: JSON.parse(readFileSync(join(folder, 'record.json'), 'utf8')) as { state: string; patches: Array<{ verdict: string }> },
    };
  };

  beforeAll(async () => {
    await controlPlane.start();
    await inference.start();
    writeConfig([]);
    const enrolled = await cli('enroll', '--config', configFile, '--token', TOKEN);
    expect(enrolled.status).toBe(0);
    writeConfig([{ keyId: controlPlane.signingKey.keyId, publicKey: controlPlane.signingKey.publicKey.toString('base64') }]);
    worker = launchProgram({ program: 'worker', args: ['run', '--config', configFile], logDir: dir });
    await worker.waitForEvent((e) => e.event === 'worker-ready', 60_000);
  });

  afterAll(async () => {
    worker?.signal('SIGKILL');
    controlPlane.stop();
    await inference.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs a delivered and a rejected fix, each with a record holding the canary from the ticket, the repository and the answer', async () => {
    const delivered = await runJob(`Fix add ${CANARY}`);
    expect(delivered.outcome).toBe(JobOutcome.JOB_OUTCOME_SUCCEEDED);
    const rejected = await runJob(`WRONG fix for add ${CANARY}`);
    expect(rejected.outcome).toBe(JobOutcome.JOB_OUTCOME_FAILED);
    jobIds.delivered = delivered.jobId;
    jobIds.rejected = rejected.jobId;

    const kept = recordFiles(delivered.jobId);
    const lost = recordFiles(rejected.jobId);
    for (const files of [kept, lost]) {
      // The prompt carries the ticket and the file content, the answer the model's own canary.
      expect(files.transcript.split(CANARY).length - 1).toBeGreaterThanOrEqual(3);
      expect(files.patch).toContain(`// ${CANARY}`);
      expect(files.record.state).toBe('ended');
    }
    expect(kept.record.patches.map((patch) => patch.verdict)).toEqual(['delivered']);
    expect(lost.record.patches.map((patch) => patch.verdict)).toEqual([expect.stringMatching(/^TESTS_/)]);
    // The rejected patch outlived its worktree.
    expect(readdirSync(join(dir, 'workspace', 'jobs'))).toEqual([]);
  });

  it('reads the records with jobs list|show while the daemon runs', async () => {
    const listed = await cli('jobs', 'list', '--config', configFile, '--json');
    expect(listed.status).toBe(0);
    const rows = JSON.parse(listed.stdout) as Array<{ jobKey: string; state: string; patches: number }>;
    expect(rows.map((row) => [row.jobKey, row.state, row.patches])).toEqual([
      [`${jobIds.rejected}-1`, 'failed', 1],
      [`${jobIds.delivered}-1`, 'succeeded', 1],
    ]);
    const patch = await cli('jobs', 'show', '--config', configFile, jobIds.rejected!, '--patch', '1');
    expect(patch.status).toBe(0);
    expect(patch.stdout).toContain(`+  return a * b; // ${CANARY}`);
    const summary = await cli('jobs', 'show', '--config', configFile, jobIds.rejected!);
    expect(summary.stdout).toMatch(/^logs {9}.*\btest \(\d+ bytes\)/m);
    const log = await cli('jobs', 'show', '--config', configFile, jobIds.rejected!, '--log', 'test');
    expect(log.stdout).toContain('add is broken');
  });

  it('sent none of it: the canary is nowhere in the egress audit log, which holds every frame that left', async () => {
    worker!.signal('SIGTERM');
    await worker!.waitForExit();
    expect(worker!.exitCode).toBe(0);
    const auditFiles = readdirSync(stateDir).filter((name) => name.startsWith('egress-audit'));
    expect(auditFiles).toContain('egress-audit.jsonl');
    const audit = auditFiles.map((name) => readFileSync(join(stateDir, name), 'utf8')).join('\n');
    // Both results went through it: it is the log of what was sent, not an empty file.
    for (const jobId of [jobIds.delivered!, jobIds.rejected!]) expect(audit).toMatch(new RegExp(`"type":"result".*${jobId}`));
    expect(audit.toLowerCase()).not.toContain(CANARY);
    expect(audit).not.toContain(Buffer.from(CANARY).toString('hex'));
    expect(audit).not.toContain(Buffer.from(CANARY).toString('base64').slice(0, 12));
    expect(audit).not.toContain('calculator');
    expect(audit).not.toContain('add is broken');
  });
});
