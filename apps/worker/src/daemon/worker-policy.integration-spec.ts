import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signPolicyBundle } from '@airlock/envelope';
import { FailureCode, PolicyAckStatus, PolicyRule, type PolicyBundlePayload, type SignedPolicyBundle__Output, type WorkerFrame__Output } from '@airlock/protocol';
import { launchProgram, type ManagedProcess } from '@airlock/local-stack';
import { stringify } from 'yaml';
import { POLICY_BUNDLE_FILE } from '../policy/central-policy.store';
import { FakeControlPlane } from '../testing/fake-control-plane.mock';
import { FakeInferenceServer } from '../testing/fake-inference-server.mock';
import { createBareRepo } from '../testing/git-fixture.mock';
import { runWorkerCli } from '../testing/worker-process.mock';

jest.setTimeout(120_000);

const TOKEN = `aet_${'P'.repeat(43)}`;

/**
 * Central policy end to end: the real worker daemon, started as the CLI starts it, against
 * a real gRPC server that pushes signed bundles — applied and acknowledged, refused with
 * the right code while the revision in force keeps deciding admission, and still in force
 * after a restart.
 */
describe('worker daemon receiving policy bundles from a real gRPC control plane', () => {
  const controlPlane = new FakeControlPlane();
  const inference = new FakeInferenceServer('test-model', () => 'no change');
  const origin = createBareRepo({ 'README.md': 'demo\n', '.airlock.yml': 'version: 1\ntest:\n  command: [node, -e, "0"]\n' });
  const dir = mkdtempSync(join(tmpdir(), 'airlock-policy-it-'));
  const configFile = join(dir, 'worker.yml');
  let worker: ManagedProcess | undefined;
  let runs = 0;

  /** A tenant layer that allows only `demo` and the `web*` aliases, and 100 changed files; the catalog holds demo and legacy, the config allows 25 files. */
  const layersAllowing = (aliases: string[], version: number) =>
    JSON.stringify({
      layers: [
        { scope: 'tenant', policyId: randomUUID(), version, mode: 'enforce', document: { schemaVersion: 1, rules: { repositories: { allowed: aliases }, 'max-files-changed': { max: 100 } } } },
        { scope: 'pool', key: 'gpu', policyId: randomUUID(), version: 1, mode: 'enforce', document: { schemaVersion: 1, rules: { 'max-lines-changed': { max: 500 } } } },
      ],
    });
  const bundle = (revision: number, aliases = ['demo', 'web*'], overrides: Partial<PolicyBundlePayload> = {}): SignedPolicyBundle__Output => {
    const now = Date.now();
    return signPolicyBundle(
      { tenantId: controlPlane.tenantId, audience: controlPlane.workerId, revision, issuedAtMs: now, expiresAtMs: now + 15 * 60_000, layersJson: layersAllowing(aliases, revision), ...overrides },
      controlPlane.signingKey,
    );
  };
  /** Pushes a bundle and resolves with the worker's acknowledgement of it. */
  const push = async (policyBundle: SignedPolicyBundle__Output) => {
    const from = controlPlane.frames.length;
    controlPlane.send({ policyBundle });
    return (await controlPlane.waitFor((f) => f.frame === 'policyAck', from)).policyAck!;
  };
  /** Sends a fix on `repoAlias` and resolves with what the worker answered first: an ack or a rejection. */
  const fixOn = async (repoAlias: string): Promise<WorkerFrame__Output> => {
    const from = controlPlane.frames.length;
    const { signed, jobId } = controlPlane.instruction({ fix: { repoAlias, baseRef: 'main', ticket: { title: 'Fix it', description: 'it is broken' } } });
    controlPlane.send({ instruction: signed });
    return controlPlane.waitFor((f) => (f.frame === 'rejected' && f.rejected?.attempt?.jobId === jobId) || (f.frame === 'ack' && f.ack?.attempt?.jobId === jobId), from);
  };
  const startWorker = async () => {
    runs += 1;
    const from = controlPlane.frames.length;
    worker = launchProgram({ program: 'worker', args: ['run', '--config', configFile], logDir: dir, label: `worker-${runs}` });
    await worker.waitForEvent((e) => e.event === 'worker-ready', 60_000);
    return (await controlPlane.waitFor((f) => f.frame === 'hello', from)).hello!;
  };

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
        labels: ['gpu'],
        inference: { endpoints: [{ name: 'sim', baseUrl: inference.baseUrl, model: 'test-model', timeout: '10s' }] },
        repositories: [
          { alias: 'demo', cloneUrl: origin, pushUrl: origin },
          { alias: 'legacy', cloneUrl: origin, pushUrl: origin },
        ],
      }),
    );
    expect((await runWorkerCli('enroll', '--config', configFile, '--token', TOKEN)).status).toBe(0);
  });

  afterAll(async () => {
    worker?.signal('SIGKILL');
    controlPlane.stop();
    await inference.stop();
  });

  it('says in its Hello which pools it is in and that no bundle is in force yet', async () => {
    const hello = await startWorker();
    expect(hello).toMatchObject({ labels: ['gpu'], policyRevision: 0 });
  });

  it('applies a pushed bundle and acknowledges it with the rules its local config keeps stricter', async () => {
    const ack = await push(bundle(1));
    // `web*` reaches beyond the catalog and 100 files beyond the local 25; the pool's 500 lines is stricter than local, so not narrowed.
    expect(ack).toEqual({ revision: 1, status: PolicyAckStatus.POLICY_ACK_STATUS_APPLIED, failureCode: FailureCode.FAILURE_CODE_UNSPECIFIED, narrowed: [PolicyRule.RULE_REPOSITORIES, PolicyRule.RULE_MAX_FILES_CHANGED] });
    expect(existsSync(join(dir, 'state', POLICY_BUNDLE_FILE))).toBe(true);
    await worker!.waitForEvent((e) => e.event === 'policy-bundle-applied' && e['revision'] === 1, 10_000);
  });

  it('refuses, before any ack, an instruction for an alias the central policy forbids, naming the rule', async () => {
    const answer = await fixOn('legacy');
    expect(answer.rejected).toMatchObject({ failureCode: FailureCode.TASK_FORBIDDEN_BY_POLICY, rules: [PolicyRule.RULE_REPOSITORIES] });
  });

  it('refuses a tampered bundle with BAD_SIGNATURE, and the revision in force still decides the next admission', async () => {
    const genuine = bundle(2, ['demo', 'legacy']);
    const payload = Buffer.from(genuine.payload);
    // Inside the layers' JSON: the payload still decodes, only the signature no longer matches.
    const at = payload.indexOf('"legacy"') + 2;
    payload[at] = 'L'.charCodeAt(0);
    const ack = await push({ ...genuine, payload });
    expect(ack).toEqual({ revision: 2, status: PolicyAckStatus.POLICY_ACK_STATUS_REFUSED, failureCode: FailureCode.POLICY_BUNDLE_BAD_SIGNATURE, narrowed: [] });
    const answer = await fixOn('legacy');
    expect(answer.rejected).toMatchObject({ failureCode: FailureCode.TASK_FORBIDDEN_BY_POLICY, rules: [PolicyRule.RULE_REPOSITORIES] });
    await worker!.waitForEvent((e) => e.event === 'policy-bundle-refused' && e['failureCode'] === FailureCode.POLICY_BUNDLE_BAD_SIGNATURE && e['inForce'] === 1, 10_000);
  });

  it('refuses a replay of the bundle in force and an older one as STALE', async () => {
    expect(await push(bundle(1))).toMatchObject({ revision: 1, status: PolicyAckStatus.POLICY_ACK_STATUS_REFUSED, failureCode: FailureCode.POLICY_BUNDLE_STALE });
    const second = bundle(2);
    expect(await push(bundle(3))).toMatchObject({ revision: 3, status: PolicyAckStatus.POLICY_ACK_STATUS_APPLIED });
    expect(await push(second)).toMatchObject({ revision: 2, status: PolicyAckStatus.POLICY_ACK_STATUS_REFUSED, failureCode: FailureCode.POLICY_BUNDLE_STALE });
  });

  it('refuses a bundle addressed to another worker with WRONG_AUDIENCE', async () => {
    expect(await push(bundle(4, ['demo', 'legacy'], { audience: randomUUID() }))).toEqual({
      revision: 4,
      status: PolicyAckStatus.POLICY_ACK_STATUS_REFUSED,
      failureCode: FailureCode.POLICY_BUNDLE_WRONG_AUDIENCE,
      narrowed: [],
    });
    expect((await fixOn('legacy')).rejected).toMatchObject({ failureCode: FailureCode.TASK_FORBIDDEN_BY_POLICY, rules: [PolicyRule.RULE_REPOSITORIES] });
  });

  it('keeps the bundle in force across a restart: the Hello carries its revision, and it still decides admission', async () => {
    worker!.signal('SIGTERM');
    await worker!.waitForExit();
    expect(worker!.exitCode).toBe(0);
    const hello = await startWorker();
    expect(hello).toMatchObject({ labels: ['gpu'], policyRevision: 3 });
    expect(worker!.allEvents().some((e) => e.event === 'policy-bundle-loaded' && e['revision'] === 3)).toBe(true);
    expect((await fixOn('legacy')).rejected).toMatchObject({ failureCode: FailureCode.TASK_FORBIDDEN_BY_POLICY, rules: [PolicyRule.RULE_REPOSITORIES] });
  });

  it('sends every policy frame through its outbound gate: each acknowledgement is in the egress audit log', async () => {
    const verify = await runWorkerCli('audit', 'verify', '--config', configFile);
    expect(verify.status).toBe(0);
    const received = controlPlane.frames.filter((f) => f.frame === 'policyAck').map((f) => f.policyAck);
    const audited = readFileSync(join(dir, 'state', 'egress-audit.jsonl'), 'utf8')
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => JSON.parse(line) as { type: string; frame: WorkerFrame__Output })
      .filter((line) => line.type === 'policyAck')
      .map((line) => line.frame.policyAck);
    expect(received).toHaveLength(6);
    expect(audited).toEqual(received);
  });
});
