import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signPolicyBundle } from '@airlock/envelope';
import { FailureCode, PolicyAckStatus, PolicyRule, type SignedPolicyBundle__Output, type WorkerFrame__Output } from '@airlock/protocol';
import { launchProgram, type ManagedProcess } from '@airlock/local-stack';
import { stringify } from 'yaml';
import { EXIT_CODES } from '../cli/exit-codes';
import { FakeControlPlane } from '../testing/fake-control-plane.mock';
import { FakeInferenceServer } from '../testing/fake-inference-server.mock';
import { createBareRepo } from '../testing/git-fixture.mock';
import { runWorkerCli } from '../testing/worker-process.mock';

jest.setTimeout(120_000);

const TOKEN = `aet_${'G'.repeat(43)}`;

/**
 * The pool an enrollment token names, end to end: the real worker CLI enrolls against a real
 * gRPC server answering pool `gpu`, stores it with its identity, and — with no `labels` in
 * its config — names `gpu` in its Hello and applies the `gpu` pool layer of a pushed bundle
 * exactly as it would a configured label's.
 */
describe('a worker enrolled into a pool its config does not list', () => {
  const controlPlane = new FakeControlPlane();
  const inference = new FakeInferenceServer('test-model', () => 'no change');
  const origin = createBareRepo({ 'README.md': 'demo\n', '.airlock.yml': 'version: 1\ntest:\n  command: [node, -e, "0"]\n' });
  const dir = mkdtempSync(join(tmpdir(), 'airlock-enrolled-pool-it-'));
  const configFile = join(dir, 'worker.yml');
  const identityFile = join(dir, 'state', 'identity.json');
  let worker: ManagedProcess | undefined;

  /**
   * A bundle whose only layers are pool layers: `gpu` allows `demo` and the `web*` aliases,
   * `eu` (a pool this worker is not in) allows nothing. Whatever the bundle changes here, the
   * `gpu` layer changed.
   */
  const poolBundle = (revision: number): SignedPolicyBundle__Output => {
    const now = Date.now();
    const layersJson = JSON.stringify({
      layers: [
        { scope: 'pool', key: 'gpu', policyId: randomUUID(), version: 1, mode: 'enforce', document: { schemaVersion: 1, rules: { repositories: { allowed: ['demo', 'web*'] } } } },
        { scope: 'pool', key: 'eu', policyId: randomUUID(), version: 1, mode: 'enforce', document: { schemaVersion: 1, rules: { repositories: { allowed: [] } } } },
      ],
    });
    return signPolicyBundle({ tenantId: controlPlane.tenantId, audience: controlPlane.workerId, revision, issuedAtMs: now, expiresAtMs: now + 15 * 60_000, layersJson }, controlPlane.signingKey);
  };
  /** Sends a fix on `repoAlias` and resolves with what the worker answered first: an ack or a rejection. */
  const fixOn = async (repoAlias: string): Promise<WorkerFrame__Output> => {
    const from = controlPlane.frames.length;
    const { signed, jobId } = controlPlane.instruction({ fix: { repoAlias, baseRef: 'main', ticket: { title: 'Fix it', description: 'it is broken' } } });
    controlPlane.send({ instruction: signed });
    return controlPlane.waitFor((f) => (f.frame === 'rejected' && f.rejected?.attempt?.jobId === jobId) || (f.frame === 'ack' && f.ack?.attempt?.jobId === jobId), from);
  };

  beforeAll(async () => {
    await controlPlane.start();
    await inference.start();
    controlPlane.enrolledPool = 'gpu';
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
        inference: { endpoints: [{ name: 'sim', baseUrl: inference.baseUrl, model: 'test-model', timeout: '10s' }] },
        repositories: [
          { alias: 'demo', cloneUrl: origin, pushUrl: origin },
          { alias: 'legacy', cloneUrl: origin, pushUrl: origin },
        ],
      }),
    );
  });

  afterAll(async () => {
    worker?.signal('SIGKILL');
    controlPlane.stop();
    await inference.stop();
  });

  it('stores the pool the enrollment answered with its identity, and says so', async () => {
    const enrolled = await runWorkerCli('enroll', '--config', configFile, '--token', TOKEN);
    expect(enrolled.status).toBe(EXIT_CODES.ok);
    expect(enrolled.stdout).toContain('# Enrolled into pool gpu');
    expect(JSON.parse(readFileSync(identityFile, 'utf8'))).toEqual({ workerId: controlPlane.workerId, tenantId: controlPlane.tenantId, pool: 'gpu' });
  });

  it('names the enrolled pool in its Hello though its config lists no labels', async () => {
    worker = launchProgram({ program: 'worker', args: ['run', '--config', configFile], logDir: dir, label: 'worker' });
    await worker.waitForEvent((e) => e.event === 'worker-ready', 60_000);
    const hello = (await controlPlane.waitFor((f) => f.frame === 'hello')).hello!;
    expect(hello).toMatchObject({ labels: ['gpu'], policyRevision: 0 });
  });

  it("applies the enrolled pool's layer, not another pool's, and local policy still wins where stricter", async () => {
    const from = controlPlane.frames.length;
    controlPlane.send({ policyBundle: poolBundle(1) });
    const ack = (await controlPlane.waitFor((f) => f.frame === 'policyAck', from)).policyAck!;
    // `web*` reaches beyond the local catalog, so local policy keeps the repositories rule stricter than the gpu layer.
    expect(ack).toEqual({ revision: 1, status: PolicyAckStatus.POLICY_ACK_STATUS_APPLIED, failureCode: FailureCode.FAILURE_CODE_UNSPECIFIED, narrowed: [PolicyRule.RULE_REPOSITORIES] });
    expect((await fixOn('legacy')).rejected).toMatchObject({ failureCode: FailureCode.TASK_FORBIDDEN_BY_POLICY, rules: [PolicyRule.RULE_REPOSITORIES] });
  });

  it('shows the enrolled pool and the effect of its layer alone in `policy show`', async () => {
    const shown = await runWorkerCli('policy', 'show', '--config', configFile);
    expect(shown.status).toBe(EXIT_CODES.ok);
    expect(shown.stdout).toContain('Pools (their pool layers apply here): gpu (enrolled)\n');
    // The gpu layer forbids legacy; had the eu layer applied too, demo would be forbidden as well.
    expect(shown.stdout).toContain('Effective policy of the worker (tenant and pool layers)\n  job-kinds: fix, review, index\n  repositories: demo\n');
    const view = JSON.parse((await runWorkerCli('policy', 'show', '--config', configFile, '--json')).stdout) as { local: { labels: string[] }; enrolledPool: string | null; pools: string[] };
    expect(view).toMatchObject({ local: { labels: [] }, enrolledPool: 'gpu', pools: ['gpu'] });
  });

  it('refuses an enrollment answering a pool that is not a pool label, keeping the identity it has', async () => {
    worker!.signal('SIGTERM');
    await worker!.waitForExit();
    const before = readFileSync(identityFile, 'utf8');
    controlPlane.enrolledPool = 'GPU pool';
    const refused = await runWorkerCli('enroll', '--config', configFile, '--token', TOKEN, '--force');
    expect(refused.status).toBe(EXIT_CODES.controlPlane);
    expect(refused.stderr).toContain('enrollment answer malformed: pool: expected empty or a pool label');
    expect(readFileSync(identityFile, 'utf8')).toBe(before);
  });

  it('enrolled again with --force, drops the previous identity\'s policy bundle and runs', async () => {
    const bundleFile = join(dir, 'state', 'policy-bundle.json');
    expect(existsSync(bundleFile)).toBe(true);
    controlPlane.enrolledPool = 'gpu';
    controlPlane.workerId = randomUUID();
    const enrolled = await runWorkerCli('enroll', '--config', configFile, '--token', TOKEN, '--force');
    expect(enrolled.status).toBe(EXIT_CODES.ok);
    expect(enrolled.stdout).toContain('# Removed the central policy bundle of the previous identity');
    expect(existsSync(bundleFile)).toBe(false);
    // Kept, the bundle addressed to the old worker id stopped `run` with POLICY_BUNDLE_WRONG_AUDIENCE.
    worker = launchProgram({ program: 'worker', args: ['run', '--config', configFile], logDir: dir, label: 'worker-reenrolled' });
    await worker.waitForEvent((e) => e.event === 'worker-ready', 60_000);
    const from = controlPlane.frames.length;
    controlPlane.send({ policyBundle: poolBundle(2) });
    expect((await controlPlane.waitFor((f) => f.frame === 'policyAck', from)).policyAck!.status).toBe(PolicyAckStatus.POLICY_ACK_STATUS_APPLIED);
  });
});
