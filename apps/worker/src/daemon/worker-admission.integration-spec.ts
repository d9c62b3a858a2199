import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FailureCode, JobOutcome, Phase, type InstructionPayload, type WorkerFrame__Output } from '@airlock/protocol';
import { stringify } from 'yaml';
import { FakeControlPlane } from '../testing/fake-control-plane.mock';
import { FakeInferenceServer } from '../testing/fake-inference-server.mock';
import { createBareRepo, git } from '../testing/git-fixture.mock';
import { launchProgram, type ManagedProcess } from '@airlock/local-stack';
import { runWorkerCli } from '../testing/worker-process.mock';
import { REFUSAL_BUDGET } from './instruction.admission';
import { LEASE_CONFIRM_WAIT_MS } from './job.slots';

jest.setTimeout(120_000);

const TOKEN = `aet_${'B'.repeat(43)}`;
const FIX = `The bug is in add.\n\n\`\`\`js\nsrc/calculator.js\n<<<<<<< SEARCH\n  return a - b;\n=======\n  return a + b;\n>>>>>>> REPLACE\n\`\`\`\n`;

/**
 * What a control plane can make a capacity-1 worker do, and what it cannot: every refusal
 * answered with a code and its credit given back, nothing run twice, nothing delivered
 * without a lease, and no more refusals written than the budget allows.
 */
describe('worker admission against a real gRPC control plane', () => {
  const controlPlane = new FakeControlPlane();
  const inference = new FakeInferenceServer('test-model', () => FIX);
  const origin = createBareRepo({
    'src/calculator.js': 'function add(a, b) {\n  return a - b;\n}\nmodule.exports = { add };\n',
    'check.js': "const { add } = require('./src/calculator');\nif (add(2, 3) !== 5) process.exit(1);\n",
    '.airlock.yml': 'version: 1\ntest:\n  command: [node, check.js]\n  timeout: 30s\n',
  });
  const dir = mkdtempSync(join(tmpdir(), 'airlock-admission-it-'));
  const configFile = join(dir, 'worker.yml');
  let worker: ManagedProcess;

  const fixTask = (title: string) => ({ fix: { repoAlias: 'demo', baseRef: 'main', ticket: { title, description: 'add(2, 3) returns -1 in src/calculator.js' } } });
  const framesFrom = (from: number) => controlPlane.frames.slice(from);
  const resultFor = (jobId: string, from: number) => controlPlane.waitFor((f) => f.frame === 'result' && f.result?.attempt?.jobId === jobId, from);
  const rejectionFor = (jobId: string, from: number) => controlPlane.waitFor((f) => f.frame === 'rejected' && f.rejected?.attempt?.jobId === jobId, from);
  const creditAfter = (frame: WorkerFrame__Output) => controlPlane.waitFor((f) => f.frame === 'credit', controlPlane.frames.indexOf(frame) + 1);
  const branchOf = (jobId: string) => git(origin, 'for-each-ref', '--format=%(objectname)', `refs/heads/airlock/${jobId}`).trim();

  beforeAll(async () => {
    await controlPlane.start();
    await inference.start();
    writeFileSync(
      configFile,
      stringify({
        controlPlane: {
          address: controlPlane.address,
          insecure: true,
          trustedSigningKeys: [{ keyId: controlPlane.signingKey.keyId, publicKey: controlPlane.signingKey.publicKey.toString('base64') }],
        },
        stateDir: './state',
        workspaceDir: './workspace',
        concurrency: 1,
        allowNoop: true,
        inference: { endpoints: [{ name: 'sim', baseUrl: inference.baseUrl, model: 'test-model', timeout: '30s' }] },
        repositories: [{ alias: 'demo', cloneUrl: origin, pushUrl: origin }],
      }),
    );
    expect((await runWorkerCli('enroll', '--config', configFile, '--token', TOKEN)).status).toBe(0);
    worker = launchProgram({ program: 'worker', args: ['run', '--config', configFile], logDir: dir });
    await worker.waitForEvent((e) => e.event === 'worker-ready', 60_000);
    await controlPlane.waitFor((f) => f.frame === 'credit');
  });

  afterAll(async () => {
    worker?.signal('SIGKILL');
    controlPlane.stop();
    await inference.stop();
  });

  it('gives the credit back after refusing an instruction that fails frame validation, so a capacity-1 worker does not starve', async () => {
    const from = controlPlane.frames.length;
    const { signed } = controlPlane.instruction({ noop: {} });
    controlPlane.send({ instruction: { ...signed, signature: Buffer.alloc(0) } });
    const rejected = await controlPlane.waitFor((f) => f.frame === 'rejected', from);
    expect(rejected.rejected).toEqual({ attempt: null, failureCode: FailureCode.INSTRUCTION_MALFORMED, rules: [] });
    expect((await creditAfter(rejected)).credit?.credits).toBe(1);
    // The credit is real: the next instruction runs.
    const next = controlPlane.instruction({ noop: {} });
    controlPlane.send({ instruction: next.signed });
    const result = await resultFor(next.jobId, from);
    expect(result.result?.outcome).toBe(JobOutcome.JOB_OUTCOME_SUCCEEDED);
    await creditAfter(result);
  });

  it('refuses an instruction that arrives while every slot is busy with WORKER_AT_CAPACITY, naming its attempt', async () => {
    inference.delayMs = 3_000;
    const from = controlPlane.frames.length;
    const busy = controlPlane.instruction(fixTask('Fix add'));
    const extra = controlPlane.instruction(fixTask('Fix add again'));
    controlPlane.send({ instruction: busy.signed });
    await controlPlane.waitFor((f) => f.frame === 'ack' && f.ack?.attempt?.jobId === busy.jobId, from);
    controlPlane.send({ instruction: extra.signed });
    const rejected = await rejectionFor(extra.jobId, from);
    expect(rejected.rejected).toEqual({ attempt: { jobId: extra.jobId, attempt: 1 }, failureCode: FailureCode.WORKER_AT_CAPACITY, rules: [] });
    // It came without a credit, so none is given back for it: the next credit follows the busy job's result.
    const result = await resultFor(busy.jobId, from);
    expect(result.result?.outcome).toBe(JobOutcome.JOB_OUTCOME_SUCCEEDED);
    const between = controlPlane.frames.slice(controlPlane.frames.indexOf(rejected), controlPlane.frames.indexOf(result));
    expect(between.some((f) => f.frame === 'credit')).toBe(false);
    expect((await creditAfter(result)).credit?.credits).toBe(1);
    inference.delayMs = 0;
  });

  it('refuses to run a finished attempt again, even signed anew with a fresh nonce: no inference, no push', async () => {
    const from = controlPlane.frames.length;
    const first = controlPlane.instruction(fixTask('Fix add once'));
    controlPlane.send({ instruction: first.signed });
    expect((await resultFor(first.jobId, from)).result?.outcome).toBe(JobOutcome.JOB_OUTCOME_SUCCEEDED);
    const pushed = branchOf(first.jobId);
    const chats = inference.chats.length;
    const again = controlPlane.instruction(fixTask('Fix add once'), { jobId: first.jobId, attempt: 1 } satisfies Partial<InstructionPayload>);
    controlPlane.send({ instruction: again.signed });
    const rejected = await rejectionFor(first.jobId, from);
    expect(rejected.rejected?.failureCode).toBe(FailureCode.ATTEMPT_ALREADY_SEEN);
    expect((await creditAfter(rejected)).credit?.credits).toBe(1);
    expect(inference.chats).toHaveLength(chats);
    expect(branchOf(first.jobId)).toBe(pushed);
    expect(framesFrom(controlPlane.frames.indexOf(rejected)).some((f) => f.frame === 'ack' || f.frame === 'progress')).toBe(false);
  });

  it('refuses a duplicate of the attempt it is running with ATTEMPT_ALREADY_SEEN, and runs it once', async () => {
    inference.delayMs = 2_000;
    const from = controlPlane.frames.length;
    const job = controlPlane.instruction(fixTask('Fix add in flight'));
    controlPlane.send({ instruction: job.signed });
    await controlPlane.waitFor((f) => f.frame === 'ack' && f.ack?.attempt?.jobId === job.jobId, from);
    controlPlane.send({ instruction: controlPlane.instruction(fixTask('Fix add in flight'), { jobId: job.jobId, attempt: 1 }).signed });
    expect((await rejectionFor(job.jobId, from)).rejected?.failureCode).toBe(FailureCode.ATTEMPT_ALREADY_SEEN);
    await resultFor(job.jobId, from);
    expect(framesFrom(from).filter((f) => f.frame === 'ack')).toHaveLength(1);
    expect(framesFrom(from).filter((f) => f.frame === 'result')).toHaveLength(1);
    inference.delayMs = 0;
  });

  it('delivers nothing when no lease renewal shows the attempt still owns the job: LEASE_UNCONFIRMED at DELIVER', async () => {
    controlPlane.renewLeases = false;
    const from = controlPlane.frames.length;
    const job = controlPlane.instruction(fixTask('Fix add without a lease'));
    controlPlane.send({ instruction: job.signed });
    const result = (await resultFor(job.jobId, from)).result!;
    expect(result).toMatchObject({ outcome: JobOutcome.JOB_OUTCOME_FAILED, failureCode: FailureCode.LEASE_UNCONFIRMED, failedPhase: Phase.PHASE_DELIVER });
    expect(result.verification?.testsRan).toBe(true);
    expect(result.deliveryMac).toHaveLength(0);
    expect(branchOf(job.jobId)).toBe('');
    // It asked for a renewal at once rather than waiting for the next heartbeat, then gave up after the wait.
    const deliverStarted = framesFrom(from).findIndex((f) => f.frame === 'progress' && f.progress?.phase === Phase.PHASE_DELIVER);
    expect(framesFrom(from).slice(deliverStarted).some((f) => f.frame === 'heartbeat' && f.heartbeat?.running.some((ref) => ref.jobId === job.jobId))).toBe(true);
    expect(worker.allEvents().some((e) => e.event === 'lease-unconfirmed' && e['jobId'] === job.jobId)).toBe(true);
    expect(LEASE_CONFIRM_WAIT_MS).toBeLessThan(30_000);
    controlPlane.renewLeases = true;
  });

  it('drops a stream that floods it with bad instructions after the refusal budget', async () => {
    const from = controlPlane.frames.length;
    const hellosBefore = controlPlane.helloVerdicts.length;
    for (let i = 0; i < REFUSAL_BUDGET.burst + 10; i += 1) {
      const { signed } = controlPlane.instruction({ noop: {} });
      controlPlane.send({ instruction: { ...signed, signature: Buffer.alloc(64) } });
    }
    await worker.waitForEvent((e) => e.event === 'refusal-budget-exceeded', 60_000);
    await controlPlane.waitFor((f) => f.frame === 'hello', from);
    const refusals = framesFrom(from).filter((f) => f.frame === 'rejected');
    expect(refusals.length).toBeLessThanOrEqual(REFUSAL_BUDGET.burst);
    expect(refusals.length).toBeGreaterThanOrEqual(REFUSAL_BUDGET.burst - 4);
    expect(controlPlane.helloVerdicts.length).toBe(hellosBefore + 1);
  });

  it('heartbeats no more often than its floor, whatever interval the Welcome asks for', async () => {
    controlPlane.welcome = { heartbeatIntervalMs: 100, leaseTtlMs: 5_000 };
    const beforeDrop = controlPlane.frames.length;
    controlPlane.dropStream();
    await controlPlane.waitFor((f) => f.frame === 'hello', beforeDrop);
    const from = controlPlane.frames.length;
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const heartbeats = framesFrom(from).filter((f) => f.frame === 'heartbeat').length;
    // 100 ms would be ~30; the 500 ms floor allows about 6.
    expect(heartbeats).toBeGreaterThanOrEqual(3);
    expect(heartbeats).toBeLessThanOrEqual(8);
    controlPlane.welcome = { heartbeatIntervalMs: 500, leaseTtlMs: 5_000 };
  });

  it('refuses to run with a pinned key id not derived from its key: exit 2 naming the field, and doctor fails the config', async () => {
    const badConfig = join(dir, 'bad-key-id.yml');
    writeFileSync(badConfig, readFileSync(configFile, 'utf8').replace(controlPlane.signingKey.keyId, 'sk_0123456789abcdef'));
    const run = await runWorkerCli('run', '--config', badConfig);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('controlPlane.trustedSigningKeys[0].keyId: the id derived from publicKey');
    const doctor = await runWorkerCli('doctor', '--config', badConfig);
    expect(doctor.status).toBe(1);
    expect(doctor.stdout).toMatch(/^FAIL config: .*trustedSigningKeys\[0\]\.keyId/m);
  });
});
