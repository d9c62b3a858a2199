import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FailureCode, JobOutcome, POLICY_BUNDLE_FAILURE_CODES, REJECTION_FAILURE_CODES } from '@airlock/protocol';
import { launchProgram, type ManagedProcess } from '@airlock/local-stack';
import { stringify } from 'yaml';
import { FakeControlPlane } from '../testing/fake-control-plane.mock';
import { FakeInferenceServer } from '../testing/fake-inference-server.mock';
import { createBareRepo } from '../testing/git-fixture.mock';
import { parsePrometheusText, sampleValue, type PrometheusSample } from '@airlock/testing';
import { runWorkerCli as cli } from '../testing/worker-process.mock';
import { CONTROL_FRAME_REFUSALS, JOB_FAILURE_CODES, JOB_OUTCOMES, PHASES, SANDBOX_KILL_LIMITS, WORKER_FRAME_TYPES } from './worker-metrics';

jest.setTimeout(180_000);

/**
 * A real daemon (real gRPC, git, inference server, bubblewrap) runs real jobs — one that
 * succeeds, one whose tests time out, one whose tests run into the sandbox's disk limit — and
 * refuses instructions, with a canary in the ticket, the repository's files and file names,
 * the model's answers, the model's name and a repository alias it was asked for. Its
 * /metrics must count all of it, every label must come from its closed set, and the canary,
 * the aliases, the inference endpoint and model names and the job ids must be nowhere in it.
 */
const CANARY = `zqxmetrics${randomBytes(6).toString('hex')}`;
const TOKEN = `aet_${'M'.repeat(43)}`;
const MODEL = `${CANARY}-model`;
const ENDPOINT = `${CANARY}-endpoint`;
const ALIASES = { fixed: `${CANARY}-fixed`, slow: `${CANARY}-slow`, big: `${CANARY}-big` };

const editBlock = (replacement: string) => `src/calculator.js\n<<<<<<< SEARCH\n  return a - b;\n=======\n${replacement}\n>>>>>>> REPLACE\n`;

describe('worker /metrics after real jobs: closed label sets, no canary', () => {
  const controlPlane = new FakeControlPlane();
  const inference = new FakeInferenceServer(MODEL, () => editBlock(`  return a + b; // ${CANARY}`));
  const calculator = {
    'src/calculator.js': `// ${CANARY}\nfunction add(a, b) {\n  return a - b;\n}\nmodule.exports = { add };\n`,
    [`src/${CANARY}.txt`]: `${CANARY}\n`,
  };
  const repositories = {
    fixed: createBareRepo({
      ...calculator,
      'check.js': "const { add } = require('./src/calculator');\nif (add(2, 3) !== 5) { console.error('add is broken'); process.exit(1); }\n",
      '.airlock.yml': 'version: 1\ntest:\n  command: [node, check.js]\n  timeout: 30s\n',
    }),
    // Never ends by itself: its own timeout stops it at the base commit.
    slow: createBareRepo({ ...calculator, '.airlock.yml': "version: 1\ntest:\n  command: [node, -e, 'setTimeout(() => {}, 60000)']\n  timeout: 1s\n" }),
    // Writes 2 MiB where the sandbox allows 1.
    big: createBareRepo({ ...calculator, '.airlock.yml': `version: 1\ntest:\n  command: [node, -e, "require('fs').writeFileSync('${CANARY}.bin', Buffer.alloc(2 << 20, 1))"]\n  timeout: 30s\n` }),
  };
  const dir = mkdtempSync(join(tmpdir(), 'airlock-metrics-it-'));
  const configFile = join(dir, 'worker.yml');
  let worker: ManagedProcess | undefined;
  let metricsUrl = '';
  const jobIds: string[] = [];

  const writeConfig = (trustedSigningKeys: unknown[]) =>
    writeFileSync(
      configFile,
      stringify({
        controlPlane: { address: controlPlane.address, insecure: true, trustedSigningKeys },
        stateDir: './state',
        workspaceDir: './workspace',
        concurrency: 2,
        inference: { endpoints: [{ name: ENDPOINT, baseUrl: inference.baseUrl, model: MODEL, timeout: '10s' }] },
        sandbox: { limits: { diskMiB: 1 } },
        repositories: [
          { alias: ALIASES.fixed, cloneUrl: repositories.fixed, pushUrl: repositories.fixed },
          { alias: ALIASES.slow, cloneUrl: repositories.slow, pushUrl: repositories.slow },
          { alias: ALIASES.big, cloneUrl: repositories.big, pushUrl: repositories.big },
        ],
      }),
    );
  const fix = (repoAlias: string) => ({ fix: { repoAlias, baseRef: 'main', ticket: { title: `Fix add ${CANARY}`, description: `add(2, 3) returns -1; see ${CANARY}` } } });
  const runJob = async (repoAlias: string) => {
    const from = controlPlane.frames.length;
    const { signed, jobId } = controlPlane.instruction(fix(repoAlias));
    jobIds.push(jobId);
    controlPlane.send({ instruction: signed });
    const result = await controlPlane.waitFor((f) => f.frame === 'result' && f.result?.attempt?.jobId === jobId, from, 90_000);
    return result.result!;
  };
  const refused = async (instruction: ReturnType<FakeControlPlane['instruction']>) => {
    const from = controlPlane.frames.length;
    jobIds.push(instruction.jobId);
    controlPlane.send({ instruction: instruction.signed });
    return (await controlPlane.waitFor((f) => f.frame === 'rejected', from)).rejected!.failureCode;
  };
  const scrape = async (): Promise<{ text: string; samples: PrometheusSample[] }> => {
    const response = await fetch(metricsUrl);
    expect(response.status).toBe(200);
    const text = await response.text();
    return { text, samples: parsePrometheusText(text) };
  };

  beforeAll(async () => {
    await controlPlane.start();
    await inference.start();
    writeConfig([]);
    expect((await cli('enroll', '--config', configFile, '--token', TOKEN)).status).toBe(0);
    writeConfig([{ keyId: controlPlane.signingKey.keyId, publicKey: controlPlane.signingKey.publicKey.toString('base64') }]);
    worker = launchProgram({ program: 'worker', args: ['run', '--config', configFile], logDir: dir });
    const listening = await worker.waitForEvent((e) => e.event === 'health-listening', 60_000);
    metricsUrl = String(listening['url']).replace(/\/healthz$/, '/metrics');
    await worker.waitForEvent((e) => e.event === 'worker-ready', 60_000);
  });

  afterAll(async () => {
    worker?.signal('SIGKILL');
    controlPlane.stop();
    await inference.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('counts the jobs, phases, sandbox kills, refusals and frames it saw', async () => {
    const idle = await scrape();
    expect(sampleValue(idle.samples, 'airlock_worker_connected')).toBe(1);
    expect(sampleValue(idle.samples, 'airlock_worker_capacity')).toBe(2);
    expect(sampleValue(idle.samples, 'airlock_worker_egress_audit_healthy')).toBe(1);
    expect(sampleValue(idle.samples, 'process_resident_memory_bytes')).toBeGreaterThan(0);

    expect(await runJob(ALIASES.fixed)).toMatchObject({ outcome: JobOutcome.JOB_OUTCOME_SUCCEEDED });
    expect(await runJob(ALIASES.slow)).toMatchObject({ outcome: JobOutcome.JOB_OUTCOME_FAILED, failureCode: FailureCode.TESTS_TIMED_OUT });
    expect(await runJob(ALIASES.big)).toMatchObject({ outcome: JobOutcome.JOB_OUTCOME_FAILED, failureCode: FailureCode.SANDBOX_DISK_LIMIT });
    expect(await refused(controlPlane.instruction(fix(`${CANARY}-unknown`)))).toBe(FailureCode.REPO_ALIAS_UNKNOWN);
    expect(await refused(controlPlane.instruction(fix(ALIASES.fixed), { audience: randomUUID() }))).toBe(FailureCode.INSTRUCTION_WRONG_AUDIENCE);
    // A Cancel without the control plane's signature is dropped, and counted.
    controlPlane.sendUnsigned({ cancel: { attempt: { jobId: jobIds[0]!, attempt: 1 } } });

    const { samples } = await (async () => {
      for (const deadline = Date.now() + 10_000; ; ) {
        const scraped = await scrape();
        if (sampleValue(scraped.samples, 'airlock_worker_control_frames_unauthenticated_total', { reason: 'MISSING' }) === 1 || Date.now() > deadline) return scraped;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    expect(sampleValue(samples, 'airlock_worker_control_frames_unauthenticated_total', { reason: 'MISSING' })).toBe(1);
    expect(sampleValue(samples, 'airlock_worker_jobs_finished_total', { outcome: 'SUCCEEDED', failure_code: 'NONE' })).toBe(1);
    expect(sampleValue(samples, 'airlock_worker_jobs_finished_total', { outcome: 'FAILED', failure_code: 'TESTS_TIMED_OUT' })).toBe(1);
    expect(sampleValue(samples, 'airlock_worker_jobs_finished_total', { outcome: 'FAILED', failure_code: 'SANDBOX_DISK_LIMIT' })).toBe(1);
    expect(sampleValue(samples, 'airlock_worker_sandbox_kills_total', { limit: 'timeout' })).toBe(1);
    expect(sampleValue(samples, 'airlock_worker_sandbox_kills_total', { limit: 'disk' })).toBe(1);
    expect(sampleValue(samples, 'airlock_worker_instructions_refused_total', { code: 'REPO_ALIAS_UNKNOWN' })).toBe(1);
    expect(sampleValue(samples, 'airlock_worker_instructions_refused_total', { code: 'INSTRUCTION_WRONG_AUDIENCE' })).toBe(1);
    // Every job ran WORKSPACE and BASELINE; only the fixed one got as far as TEST.
    expect(sampleValue(samples, 'airlock_worker_phase_duration_seconds_count', { phase: 'WORKSPACE' })).toBe(3);
    expect(sampleValue(samples, 'airlock_worker_phase_duration_seconds_count', { phase: 'BASELINE' })).toBe(3);
    expect(sampleValue(samples, 'airlock_worker_phase_duration_seconds_count', { phase: 'TEST' })).toBe(1);
    // What left: three results, two refusals, an ack per job, and what the stream itself needs.
    expect(sampleValue(samples, 'airlock_worker_frames_sent_total', { type: 'result' })).toBe(3);
    expect(sampleValue(samples, 'airlock_worker_frames_sent_total', { type: 'rejected' })).toBe(2);
    expect(sampleValue(samples, 'airlock_worker_frames_sent_total', { type: 'ack' })).toBe(3);
    expect(sampleValue(samples, 'airlock_worker_frames_sent_total', { type: 'hello' })).toBe(1);
    expect(sampleValue(samples, 'airlock_worker_frames_sent_total', { type: 'progress' })).toBeGreaterThan(6);
    expect(sampleValue(samples, 'airlock_worker_frames_sent_total', { type: 'result' })).toBe(controlPlane.frames.filter((f) => f.frame === 'result').length);
    expect(sampleValue(samples, 'airlock_worker_frames_refused_total')).toBe(0);
    expect(sampleValue(samples, 'airlock_worker_jobs_running')).toBe(0);
  });

  it('labels every series from its closed set, and carries no canary, alias, endpoint, model or job id', async () => {
    const { text, samples } = await scrape();
    const allowed: Record<string, (value: string) => boolean> = {
      code: (value) => REJECTION_FAILURE_CODES.has(value) || POLICY_BUNDLE_FAILURE_CODES.has(value),
      reason: (value) => (CONTROL_FRAME_REFUSALS as readonly string[]).includes(value),
      outcome: (value) => JOB_OUTCOMES.includes(value),
      failure_code: (value) => JOB_FAILURE_CODES.has(value),
      phase: (value) => PHASES.includes(value),
      type: (value) => (WORKER_FRAME_TYPES as readonly string[]).includes(value),
      limit: (value) => (SANDBOX_KILL_LIMITS as readonly string[]).includes(value),
      le: (value) => value === '+Inf' || Number.isFinite(Number(value)),
    };
    const airlock = samples.filter((sample) => sample.name.startsWith('airlock_worker_'));
    expect(airlock.length).toBeGreaterThan(40);
    for (const sample of airlock) {
      for (const [label, value] of Object.entries(sample.labels)) {
        expect({ series: sample.name, label, value, known: allowed[label]?.(value) ?? false }).toEqual({ series: sample.name, label, value, known: true });
      }
    }
    // Only prom-client's own process and Node.js series besides ours.
    for (const sample of samples.filter((s) => !s.name.startsWith('airlock_worker_'))) expect(sample.name).toMatch(/^(process|nodejs)_/);
    const lower = text.toLowerCase();
    expect(lower).not.toContain(CANARY);
    expect(text).not.toContain(Buffer.from(CANARY).toString('hex'));
    expect(text).not.toContain(Buffer.from(CANARY).toString('base64').slice(0, 12));
    for (const jobId of jobIds) expect(lower).not.toContain(jobId);
    for (const leaked of ['calculator', 'add is broken', controlPlane.workerId, controlPlane.tenantId, dir]) expect(text).not.toContain(leaked);
    // The base branch every job named.
    expect(text).not.toMatch(/\bmain\b/);
  });
});
