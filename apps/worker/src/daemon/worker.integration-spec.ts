import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FailureCode, JobOutcome, Phase, PhaseState, PolicyRule, ResultDisposition, type WorkerFrame__Output } from '@airlock/protocol';
import { stringify } from 'yaml';
import { frameToJson } from '../audit/frame-json';
import { FakeControlPlane } from '../testing/fake-control-plane.mock';
import { FakeInferenceServer } from '../testing/fake-inference-server.mock';
import { keyedMac } from '../jobs/job-result.builder';
import { createBareRepo, git } from '../testing/git-fixture.mock';
import { launchProgram, type ManagedProcess } from '@airlock/local-stack';
import { runWorkerCli as cli } from '../testing/worker-process.mock';

jest.setTimeout(120_000);

const CANARY = `zqxcanary${randomBytes(6).toString('hex')}`;
const TOKEN = `aet_${'A'.repeat(43)}`;

const editBlock = (replacement: string) =>
  `The bug is in add.\n\n\`\`\`js\nsrc/calculator.js\n<<<<<<< SEARCH\n  return a - b;\n=======\n${replacement}\n>>>>>>> REPLACE\n\`\`\`\n`;

describe('worker daemon against a real gRPC control plane, inference server and git', () => {
  const controlPlane = new FakeControlPlane();
  const inference = new FakeInferenceServer('test-model', (chat) =>
    (chat.messages[1]?.content ?? '').includes('WRONG') ? editBlock('  return a * b;') : editBlock(`  return a + b; // ${CANARY}`),
  );
  const origin = createBareRepo({
    'src/calculator.js': `// ${CANARY}\nfunction add(a, b) {\n  return a - b;\n}\nmodule.exports = { add };\n`,
    [`src/${CANARY}.txt`]: 'notes\n',
    'src/unrelated.js': 'module.exports = { hello: () => "hi" };\n',
    'check.js': "const { add } = require('./src/calculator');\nif (add(2, 3) !== 5) { console.error('add is broken'); process.exit(1); }\n",
    '.airlock.yml': 'version: 1\ntest:\n  command: [node, check.js]\n  timeout: 30s\n',
  });
  const dir = mkdtempSync(join(tmpdir(), 'airlock-worker-it-'));
  const configFile = join(dir, 'worker.yml');
  const stateDir = join(dir, 'state');
  let worker: ManagedProcess | undefined;
  let deliveredJobId = '';

  const writeConfig = (trustedSigningKeys: unknown[]) =>
    writeFileSync(
      configFile,
      stringify({
        controlPlane: { address: controlPlane.address, insecure: true, trustedSigningKeys },
        stateDir: './state',
        workspaceDir: './workspace',
        concurrency: 2,
        allowNoop: true,
        inference: { endpoints: [{ name: 'sim', baseUrl: inference.baseUrl, model: 'test-model', timeout: '10s' }] },
        repositories: [{ alias: 'demo', cloneUrl: origin, pushUrl: origin }],
      }),
    );

  const resultFor = (jobId: string, from = 0) => controlPlane.waitFor((f) => f.frame === 'result' && f.result?.attempt?.jobId === jobId, from);
  const fixTask = (title: string) => ({ fix: { repoAlias: 'demo', baseRef: 'main', ticket: { title, description: 'add(2, 3) returns -1 instead of 5 in src/calculator.js' } } });

  beforeAll(async () => {
    await controlPlane.start();
    await inference.start();
  });

  afterAll(async () => {
    worker?.signal('SIGKILL');
    controlPlane.stop();
    await inference.stop();
  });

  it('enrolls: key generated locally (0600), identity stored, signing keys printed as YAML with a warning', async () => {
    writeConfig([]);
    const result = await cli('enroll', '--config', configFile, '--token', TOKEN);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`keyId: ${controlPlane.signingKey.keyId}`);
    expect(result.stdout).toContain(controlPlane.signingKey.publicKey.toString('base64'));
    expect(result.stderr).toMatch(/none of these signing keys is pinned/);
    expect(statSync(join(stateDir, 'worker-key.pem')).mode & 0o777).toBe(0o600);
    expect(statSync(join(stateDir, 'mac.key')).size).toBe(32);
    expect(JSON.parse(readFileSync(join(stateDir, 'identity.json'), 'utf8'))).toEqual({ workerId: controlPlane.workerId, tenantId: controlPlane.tenantId, pool: null });
    expect((await cli('enroll', '--config', configFile, '--token', TOKEN)).status).toBe(3);
  });

  it('connects, answers the challenge and grants credits equal to its capacity', async () => {
    writeConfig([{ keyId: controlPlane.signingKey.keyId, publicKey: controlPlane.signingKey.publicKey.toString('base64') }]);
    worker = launchProgram({ program: 'worker', args: ['run', '--config', configFile], logDir: dir });
    const ready = await worker.waitForEvent((e) => e.event === 'worker-ready', 60_000);
    expect(ready['workerId']).toBe(controlPlane.workerId);
    expect(controlPlane.helloVerdicts).toEqual([true]);
    const hello = controlPlane.frames[0];
    expect(hello?.frame).toBe('hello');
    expect(hello?.hello?.capacity).toBe(2);
    expect(hello?.hello?.localPolicyDigest).toHaveLength(32);
    const credit = await controlPlane.waitFor((f) => f.frame === 'credit');
    expect(credit.credit?.credits).toBe(2);
  });

  it('rejects a tampered instruction with INSTRUCTION_BAD_SIGNATURE, grants the credit back and touches nothing', async () => {
    const from = controlPlane.frames.length;
    const { signed, jobId } = controlPlane.instruction(fixTask('Fix add in calculator'));
    const payload = Buffer.from(signed.payload);
    const at = payload.indexOf('Fix add');
    payload[at] = 'G'.charCodeAt(0);
    controlPlane.send({ instruction: { ...signed, payload } });
    const rejected = await controlPlane.waitFor((f) => f.frame === 'rejected', from);
    expect(rejected.rejected).toEqual({ attempt: { jobId, attempt: 1 }, failureCode: FailureCode.INSTRUCTION_BAD_SIGNATURE, rules: [] });
    const credit = await controlPlane.waitFor((f) => f.frame === 'credit', from);
    expect(credit.credit?.credits).toBe(1);
    expect(controlPlane.frames.indexOf(credit)).toBeGreaterThan(controlPlane.frames.indexOf(rejected));
    expect(readdirSync(join(dir, 'workspace', 'mirrors'))).toEqual([]);
    expect(inference.chats).toHaveLength(0);
  });

  it('runs a fix job end to end: branch pushed with the change, SUCCEEDED with sane counts', async () => {
    const from = controlPlane.frames.length;
    const { signed, jobId } = controlPlane.instruction(fixTask('Fix add in calculator'));
    controlPlane.send({ instruction: signed });
    const result = (await resultFor(jobId, from)).result!;
    expect(result.outcome).toBe(JobOutcome.JOB_OUTCOME_SUCCEEDED);
    expect(result.failureCode).toBe(FailureCode.FAILURE_CODE_UNSPECIFIED);
    expect(result.change).toEqual({ filesChanged: 1, linesAdded: 1, linesRemoved: 1, editsProposed: 1, editsApplied: 1 });
    expect(result.tokens).toEqual({ requests: 1, promptTokens: 321, completionTokens: 54 });
    expect(result.modelUsage).toEqual([{ endpointIndex: 0, endpoint: 'sim', model: 'test-model', requests: 1, promptTokens: 321, completionTokens: 54 }]);
    expect(result.verification).toMatchObject({ baseTestsRan: true, baseTestExitCode: 1, testsRan: true, testExitCode: 0 });
    expect(result.contextFiles).toBeGreaterThanOrEqual(1);
    expect(result.phaseDurations.map((d) => d.phase)).toEqual([Phase.PHASE_WORKSPACE, Phase.PHASE_SETUP, Phase.PHASE_BASELINE, Phase.PHASE_CONTEXT, Phase.PHASE_INFERENCE, Phase.PHASE_APPLY, Phase.PHASE_TEST, Phase.PHASE_DELIVER]);
    const macKey = readFileSync(join(stateDir, 'mac.key'));
    expect(result.deliveryMac).toEqual(keyedMac(macKey, 'delivery', `refs/heads/airlock/${jobId}`));
    expect(result.changeMac).toHaveLength(32);
    const frames = controlPlane.frames.slice(from);
    expect(frames.find((f) => f.frame === 'ack')?.ack?.attempt).toEqual({ jobId, attempt: 1 });
    expect(frames.filter((f) => f.frame === 'progress' && f.progress?.state === PhaseState.PHASE_STATE_COMPLETED)).toHaveLength(8);
    expect(git(origin, 'show', `airlock/${jobId}:src/calculator.js`)).toContain('return a + b;');
    expect(git(origin, 'log', '-1', '--format=%an <%ae>|%s', `airlock/${jobId}`).trim()).toBe('Airlock <airlock@localhost>|Fix add in calculator');
    await controlPlane.waitFor((f) => f.frame === 'credit' && f.credit?.credits === 1, frames.indexOf(frames.find((f) => f.frame === 'result')!) + from);
    expect(readdirSync(join(dir, 'workspace', 'jobs'))).toEqual([]);
    deliveredJobId = jobId;
  });

  it.each([
    ["the worker's own pushed branch (a model wrote it)", () => `airlock/${deliveredJobId}`],
    ['a branch outside the catalog (default baseRefs: main, master)', () => 'develop'],
    ["a fork's pull-request ref", () => 'refs/pull/1/head'],
  ])('refuses a fix based on %s with TASK_FORBIDDEN_BY_POLICY, before any ack', async (_what, baseRef) => {
    const from = controlPlane.frames.length;
    const chatsBefore = inference.chats.length;
    const { signed, jobId } = controlPlane.instruction({ fix: { ...fixTask('Fix add in calculator').fix, baseRef: baseRef() } });
    controlPlane.send({ instruction: signed });
    const rejected = await controlPlane.waitFor((f) => f.frame === 'rejected', from);
    expect(rejected.rejected).toEqual({ attempt: { jobId, attempt: 1 }, failureCode: FailureCode.TASK_FORBIDDEN_BY_POLICY, rules: [PolicyRule.RULE_BASE_REFS] });
    await controlPlane.waitFor((f) => f.frame === 'credit', from);
    expect(controlPlane.frames.slice(from).some((f) => f.frame === 'ack' || f.frame === 'progress' || f.frame === 'result')).toBe(false);
    expect(inference.chats).toHaveLength(chatsBefore);
    expect(readdirSync(join(dir, 'workspace', 'jobs'))).toEqual([]);
  });

  it('reports TESTS_FAILED and pushes nothing when the change breaks the tests', async () => {
    const from = controlPlane.frames.length;
    const { signed, jobId } = controlPlane.instruction(fixTask('WRONG fix for add'));
    controlPlane.send({ instruction: signed });
    const result = (await resultFor(jobId, from)).result!;
    expect(result.outcome).toBe(JobOutcome.JOB_OUTCOME_FAILED);
    expect(result.failureCode).toBe(FailureCode.TESTS_FAILED);
    expect(result.failedPhase).toBe(Phase.PHASE_TEST);
    expect(result.verification).toMatchObject({ baseTestsRan: true, baseTestExitCode: 1, testsRan: true, testExitCode: 1 });
    expect(result.deliveryMac).toHaveLength(0);
    expect(git(origin, 'ls-remote', origin, `refs/heads/airlock/${jobId}`).trim()).toBe('');
  });

  it('keeps an unacknowledged result in the outbox and re-sends it after reconnecting', async () => {
    controlPlane.autoAckResults = false;
    const from = controlPlane.frames.length;
    const { signed, jobId } = controlPlane.instruction({ noop: {} });
    controlPlane.send({ instruction: signed });
    const first = (await resultFor(jobId, from)).result!;
    expect(first.outcome).toBe(JobOutcome.JOB_OUTCOME_SUCCEEDED);
    expect(readdirSync(join(stateDir, 'outbox'))).toEqual([`${jobId}-1.json`]);
    const beforeDrop = controlPlane.frames.length;
    controlPlane.dropStream();
    await controlPlane.waitFor((f) => f.frame === 'hello', beforeDrop);
    expect(controlPlane.helloVerdicts).toEqual([true, true]);
    const resent = await resultFor(jobId, beforeDrop);
    expect(resent.result).toEqual(first);
    controlPlane.autoAckResults = true;
    controlPlane.send({ resultAck: { attempt: { jobId, attempt: 1 }, disposition: ResultDisposition.RESULT_DISPOSITION_RECORDED } });
    const deadline = Date.now() + 10_000;
    while (readdirSync(join(stateDir, 'outbox')).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(readdirSync(join(stateDir, 'outbox'))).toEqual([]);
  });

  it('never sends the canary (planted in file content, file name and model answer) upstream', () => {
    expect(inference.chats.some((chat) => JSON.stringify(chat).includes(CANARY))).toBe(true);
    const upstream = controlPlane.frames.map((frame: WorkerFrame__Output) => frameToJson(frame)).join('\n');
    expect(upstream.length).toBeGreaterThan(1000);
    expect(upstream.toLowerCase()).not.toContain(CANARY);
    expect(upstream).not.toContain(Buffer.from(CANARY).toString('hex'));
    expect(upstream).not.toContain('calculator');
  });

  it('serves /healthz and stops cleanly (exit 0) on SIGTERM', async () => {
    const listening = await worker!.waitForEvent((e) => e.event === 'health-listening', 60_000);
    const health = (await (await fetch(String(listening['url']))).json()) as Record<string, unknown>;
    expect(health).toMatchObject({ state: 'READY', connected: true, running: 0, capacity: 2, refusedFrames: 0, egressAuditHealthy: true });
    worker!.signal('SIGTERM');
    await worker!.waitForExit();
    expect(worker!.exitCode).toBe(0);
    expect(worker!.allEvents().some((line) => line.event === 'stopped')).toBe(true);
  });

  it('warns on a Welcome that deprecates its version, and stops at once when its version is refused: exit 6, naming the version to upgrade to', async () => {
    const welcome = controlPlane.welcome;
    controlPlane.welcome = { ...welcome, versionNotice: { status: 'VERSION_STATUS_DEPRECATED', recommendedVersion: '0.9.0', endOfSupportAtS: 1_900_000_000 } };
    try {
      worker = launchProgram({ program: 'worker', args: ['run', '--config', configFile], logDir: dir });
      const deprecated = await worker.waitForEvent((e) => e.event === 'worker-version-deprecated', 60_000);
      expect(deprecated).toMatchObject({ level: 'warn', recommendedVersion: '0.9.0', endOfSupport: new Date(1_900_000_000_000).toISOString() });
      const hellos = controlPlane.helloVerdicts.length;
      controlPlane.refuseWorkerVersion({ versionStatus: 'too-old', supportedVersions: '>=0.9.0 <1.0.0', upgradeTo: '0.9.0' });
      const refused = await worker.waitForEvent((e) => e.event === 'worker-version-refused', 30_000);
      expect(refused).toMatchObject({ level: 'error', version: deprecated['version'], versionStatus: 'too-old', supportedVersions: '>=0.9.0 <1.0.0', upgradeTo: '0.9.0' });
      const fatal = await worker.waitForEvent((e) => e.event === 'fatal', 30_000);
      expect(fatal).toMatchObject({ exitCode: 6, error: { name: 'WorkerVersionRefusedError', message: expect.stringMatching(/refused this worker's version .* as too old: it supports >=0\.9\.0 <1\.0\.0\. Upgrade the worker to 0\.9\.0/) } });
      await worker.waitForExit();
      expect(worker.exitCode).toBe(6);
      // It gave up on the refusal itself, without trying the control plane again.
      expect(controlPlane.helloVerdicts).toHaveLength(hellos);
    } finally {
      controlPlane.welcome = welcome;
      controlPlane.versionRefusal = undefined;
    }
  });

  it('stops at once when the control plane revokes it: exit 5, and a log line telling the operator to enroll it anew', async () => {
    worker = launchProgram({ program: 'worker', args: ['run', '--config', configFile], logDir: dir });
    await worker.waitForEvent((e) => e.event === 'welcomed', 60_000);
    const hellos = controlPlane.helloVerdicts.length;
    controlPlane.revokeWorker();
    const revoked = await worker.waitForEvent((e) => e.event === 'worker-revoked', 30_000);
    expect(revoked).toMatchObject({ workerId: controlPlane.workerId, action: expect.stringMatching(/enroll/) });
    const fatal = await worker.waitForEvent((e) => e.event === 'fatal', 30_000);
    expect(fatal).toMatchObject({ exitCode: 5, error: { name: 'WorkerIdentityRefusedError', message: expect.stringMatching(/revoked this worker \(PERMISSION_DENIED\).*enroll it anew/) } });
    await worker.waitForExit();
    expect(worker.exitCode).toBe(5);
    // It gave up on the refusal itself, without trying the control plane again.
    expect(controlPlane.helloVerdicts).toHaveLength(hellos);
  });

  it('audit verify passes on the real log and names the first broken line after tampering', async () => {
    const ok = await cli('audit', 'verify', '--config', configFile);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/^PASS egress audit log: \d+ frames/);
    const file = join(stateDir, 'egress-audit.jsonl');
    const lines = readFileSync(file, 'utf8').split('\n');
    expect(lines.length).toBeGreaterThan(10);
    lines[4] = (lines[4] as string).replace(/"time":"[^"]+"/, '"time":"2000-01-01T00:00:00.000Z"');
    writeFileSync(file, lines.join('\n'));
    const broken = await cli('audit', 'verify', '--config', configFile);
    expect(broken.status).toBe(1);
    expect(broken.stdout).toMatch(/^FAIL egress audit log: .*broken at line 5/);
    expect(existsSync(join(dir, 'workspace', 'mirrors', 'demo.git'))).toBe(true);
  });

});
