import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { generateSigningKeyPair } from '@airlock/envelope';
import {
  DEMO_BRANCH_BASE,
  DEMO_REPO_ALIAS,
  DEMO_TICKET,
  createDemoRepository,
  launchProgram,
  startGitServer,
  writeDemoScenarios,
  type GitServer,
  type ManagedProcess,
} from '@airlock/local-stack';
import { RogueControlPlane } from './support/rogue-control-plane';

/**
 * A real worker process faces a control plane that sends bad instructions. Each is refused
 * with its failure code, the worker stays up, gives the credit back, and runs nothing:
 * no clone, no inference call.
 */
describe('the worker refuses bad instructions and runs nothing', () => {
  const baseDir = mkdtempSync(join(tmpdir(), 'airlock-e2e-refusal-'));
  const logs = join(baseDir, 'logs');
  const workspaceDir = join(baseDir, 'worker', 'workspace');
  const rogue = new RogueControlPlane();
  let gitServer: GitServer;
  let inference: ManagedProcess;
  let inferenceUrl: string;
  let worker: ManagedProcess;

  const inferenceRequests = async (): Promise<number> => {
    const response = await fetch(`${inferenceUrl}/sim/requests`);
    return ((await response.json()) as { count: number }).count;
  };

  beforeAll(async () => {
    for (const dir of [logs, join(baseDir, 'git'), join(baseDir, 'scenarios'), join(baseDir, 'worker')]) mkdirSync(dir, { recursive: true });
    createDemoRepository(join(baseDir, 'git'), 'demo-billing', { canary: 'unused' });
    gitServer = await startGitServer(join(baseDir, 'git'), logs);
    writeDemoScenarios(join(baseDir, 'scenarios'), { canary: 'unused' });
    inference = launchProgram({ program: 'inference-sim', args: ['--port', '0', '--scenarios', join(baseDir, 'scenarios')], logDir: logs });
    inferenceUrl = String((await inference.waitForEvent((e) => e.event === 'listening', 60_000))['url']);
    await rogue.start();

    const configPath = join(baseDir, 'worker', 'worker.yaml');
    writeFileSync(
      configPath,
      stringify({
        controlPlane: {
          address: rogue.address,
          insecure: true,
          trustedSigningKeys: [{ keyId: rogue.signingKey.keyId, publicKey: rogue.signingKey.publicKey.toString('base64') }],
        },
        stateDir: join(baseDir, 'worker', 'state'),
        workspaceDir,
        concurrency: 2,
        allowNoop: true,
        inference: { endpoints: [{ name: 'local-sim', baseUrl: inferenceUrl, model: 'airlock-sim-coder' }] },
        repositories: [{ alias: DEMO_REPO_ALIAS, cloneUrl: gitServer.urlOf('demo-billing.git'), pushUrl: gitServer.urlOf('demo-billing.git') }],
      }),
    );
    const enroll = launchProgram({ program: 'worker', args: ['enroll', '--config', configPath, '--token', `aet_${'a'.repeat(43)}`], logDir: logs, label: 'worker-enroll' });
    await enroll.waitForExit();
    expect(enroll.exitCode).toBe(0);
    worker = launchProgram({ program: 'worker', args: ['run', '--config', configPath], logDir: logs });
    await worker.waitForEvent((e) => e.event === 'worker-ready', 60_000);
    await rogue.waitForFrames('credit', 1);
  });

  afterAll(async () => {
    await worker?.stop();
    await inference?.stop();
    await gitServer?.stop();
    await rogue.stop();
    rmSync(baseDir, { recursive: true, force: true });
  });

  it('runs a valid noop instruction (the control case)', async () => {
    rogue.send(rogue.sign(rogue.validPayload({ noop: {} })));
    await rogue.waitForFrames('result', 1);
    expect(rogue.framesOf('result')[0]).toMatchObject({ outcome: 'JOB_OUTCOME_SUCCEEDED' });
  });

  it.each([
    [
      'a tampered signature',
      'INSTRUCTION_BAD_SIGNATURE',
      () => {
        const signed = rogue.sign(rogue.validPayload({ fix: { repoAlias: DEMO_REPO_ALIAS, baseRef: DEMO_BRANCH_BASE, ticket: DEMO_TICKET } }));
        const signature = Buffer.from(signed.signature as Buffer);
        signature[0] = (signature[0] ?? 0) ^ 0xff;
        return { ...signed, signature };
      },
    ],
    [
      'an expired instruction',
      'INSTRUCTION_EXPIRED',
      () =>
        rogue.sign({
          ...rogue.validPayload({ fix: { repoAlias: DEMO_REPO_ALIAS, baseRef: DEMO_BRANCH_BASE, ticket: DEMO_TICKET } }),
          issuedAtMs: Date.now() - 2 * 3_600_000,
          expiresAtMs: Date.now() - 3_600_000,
        }),
    ],
    [
      'a wrong audience',
      'INSTRUCTION_WRONG_AUDIENCE',
      () => rogue.sign({ ...rogue.validPayload({ fix: { repoAlias: DEMO_REPO_ALIAS, baseRef: DEMO_BRANCH_BASE, ticket: DEMO_TICKET } }), audience: randomUUID() }),
    ],
    [
      'an unknown repository alias',
      'REPO_ALIAS_UNKNOWN',
      () => rogue.sign(rogue.validPayload({ fix: { repoAlias: 'not-in-the-catalog', baseRef: DEMO_BRANCH_BASE, ticket: DEMO_TICKET } })),
    ],
    [
      "a base ref under the worker's own branch prefix (a branch a model wrote)",
      'TASK_FORBIDDEN_BY_POLICY',
      () => rogue.sign(rogue.validPayload({ fix: { repoAlias: DEMO_REPO_ALIAS, baseRef: `airlock/${randomUUID()}`, ticket: DEMO_TICKET } })),
    ],
    [
      "a base ref outside the catalog's baseRefs (a fork's pull-request ref)",
      'TASK_FORBIDDEN_BY_POLICY',
      () => rogue.sign(rogue.validPayload({ fix: { repoAlias: DEMO_REPO_ALIAS, baseRef: 'refs/pull/1/head', ticket: DEMO_TICKET } })),
    ],
    [
      'a key the customer never pinned',
      'INSTRUCTION_UNKNOWN_KEY',
      () => rogue.sign(rogue.validPayload({ fix: { repoAlias: DEMO_REPO_ALIAS, baseRef: DEMO_BRANCH_BASE, ticket: DEMO_TICKET } }), generateSigningKeyPair()),
    ],
  ])('refuses %s with %s', async (_what, failureCode, makeInstruction) => {
    const before = rogue.framesOf('rejected').length;
    const creditsBefore = rogue.framesOf('credit').length;
    rogue.send(makeInstruction());
    await rogue.waitForFrames('rejected', before + 1);
    expect(rogue.framesOf('rejected')[before]).toMatchObject({ failureCode });
    await rogue.waitForFrames('credit', creditsBefore + 1);
  });

  it('refuses a replayed instruction with INSTRUCTION_REPLAYED', async () => {
    const instruction = rogue.sign(rogue.validPayload({ noop: {} }));
    const resultsBefore = rogue.framesOf('result').length;
    rogue.send(instruction);
    await rogue.waitForFrames('result', resultsBefore + 1);
    const before = rogue.framesOf('rejected').length;
    rogue.send(instruction);
    await rogue.waitForFrames('rejected', before + 1);
    expect(rogue.framesOf('rejected')[before]).toMatchObject({ failureCode: 'INSTRUCTION_REPLAYED' });
  });

  it('ran nothing for any refused instruction and is still up', async () => {
    expect(await inferenceRequests()).toBe(0);
    const mirrors = join(workspaceDir, 'mirrors');
    expect(existsSync(mirrors) ? readdirSync(mirrors) : []).toEqual([]);
    expect(rogue.framesOf('ack')).toHaveLength(2);
    expect(worker.hasExited).toBe(false);
  });

  describe('policy bundles from a compromised control plane', () => {
    const tenantLayer = (allowed: string[]) => ({
      layers: [{ scope: 'tenant', policyId: randomUUID(), version: 1, mode: 'enforce', document: { schemaVersion: 1, rules: { repositories: { allowed } } } }],
    });
    const fixOnDemo = () => rogue.sign(rogue.validPayload({ fix: { repoAlias: DEMO_REPO_ALIAS, baseRef: DEMO_BRANCH_BASE, ticket: DEMO_TICKET } }));
    const sendAndWaitForAck = async (bundle: ReturnType<typeof rogue.signBundle>) => {
      const before = rogue.framesOf('policyAck').length;
      rogue.sendBundle(bundle);
      await rogue.waitForFrames('policyAck', before + 1);
      return rogue.framesOf('policyAck')[before];
    };
    const expectDemoFixRefusedByRepositories = async () => {
      const before = rogue.framesOf('rejected').length;
      rogue.send(fixOnDemo());
      await rogue.waitForFrames('rejected', before + 1);
      expect(rogue.framesOf('rejected')[before]).toMatchObject({ failureCode: 'TASK_FORBIDDEN_BY_POLICY', rules: ['RULE_REPOSITORIES'] });
    };
    let applied: ReturnType<typeof rogue.signBundle>;

    it('applies a signed bundle and reports the rules its own config narrowed', async () => {
      applied = rogue.signBundle(rogue.bundlePayload(2, tenantLayer(['ledger-*'])));
      expect(await sendAndWaitForAck(applied)).toMatchObject({ revision: 2, status: 'POLICY_ACK_STATUS_APPLIED', narrowed: ['RULE_REPOSITORIES'] });
      // The bundle narrows the catalog to ledger-* aliases: the demo repository is no longer allowed.
      await expectDemoFixRefusedByRepositories();
    });

    it.each([
      [
        'a tampered signature',
        'POLICY_BUNDLE_BAD_SIGNATURE',
        () => {
          const signed = rogue.signBundle(rogue.bundlePayload(3, tenantLayer(['*'])));
          const signature = Buffer.from(signed.signature as Buffer);
          signature[0] = (signature[0] ?? 0) ^ 0xff;
          return { ...signed, signature };
        },
      ],
      ['a replay of the bundle in force', 'POLICY_BUNDLE_STALE', () => applied],
      ['an older revision, properly signed', 'POLICY_BUNDLE_STALE', () => rogue.signBundle(rogue.bundlePayload(1, tenantLayer(['*'])))],
      ['a key the customer never pinned', 'POLICY_BUNDLE_UNKNOWN_KEY', () => rogue.signBundle(rogue.bundlePayload(4, tenantLayer(['*'])), generateSigningKeyPair())],
      ['another worker\'s bundle', 'POLICY_BUNDLE_WRONG_AUDIENCE', () => rogue.signBundle({ ...rogue.bundlePayload(5, tenantLayer(['*'])), audience: randomUUID() })],
      ['layers that break the policy schema', 'POLICY_BUNDLE_INVALID', () => rogue.signBundle(rogue.bundlePayload(6, { layers: [{ scope: 'tenant', mode: 'enforce' }] }))],
    ])('refuses %s with %s and keeps the revision in force', async (_what, failureCode, makeBundle) => {
      expect(await sendAndWaitForAck(makeBundle())).toMatchObject({ status: 'POLICY_ACK_STATUS_REFUSED', failureCode });
      await expectDemoFixRefusedByRepositories();
    });

    it('ran nothing under any of those bundles and is still up', async () => {
      expect(await inferenceRequests()).toBe(0);
      expect(worker.hasExited).toBe(false);
    });
  });
});
