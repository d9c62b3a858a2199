import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PolicyBundleVerifier, generateSigningKeyPair, signPolicyBundle } from '@airlock/envelope';
import { stringify } from 'yaml';
import { CentralPolicyStore, POLICY_BUNDLE_FILE, appliedBundleOf, parseLayersJson } from '../policy/central-policy.store';
import { EXIT_CODES } from './exit-codes';
import { runWorkerCli } from './worker.cli';

describe('airlock-worker policy show (the CLI entry, a real bundle file in a temp stateDir)', () => {
  const signer = generateSigningKeyPair();
  const workerId = randomUUID();
  const tenantId = randomUUID();
  let directory: string;
  let stateDir: string;
  let configFile: string;

  const policy = async (...args: string[]) => {
    let out = '';
    let err = '';
    const exitCode = await runWorkerCli(['node', 'airlock-worker', 'policy', 'show', '--config', configFile, ...args], { out: (text) => (out += text), err: (text) => (err += text) });
    return { exitCode, out, err };
  };

  /** Puts a bundle in force as the daemon does: verified, parsed, stored by the store. */
  const applyBundle = (revision: number, layers: unknown[]) => {
    const now = Date.now();
    const bundle = signPolicyBundle({ tenantId, audience: workerId, revision, issuedAtMs: now, expiresAtMs: now + 60_000, layersJson: JSON.stringify({ layers }) }, signer);
    const verifier = new PolicyBundleVerifier({ trustedKeys: new Map([[signer.keyId, signer.publicKey]]), workerId, tenantId, clock: Date.now, maxClockSkewMs: 0, maxValidityWindowMs: 3_600_000 });
    const verified = verifier.verify(bundle, 0);
    if (!verified.ok) throw new Error(`the test bundle does not verify: ${verified.failureCode}`);
    const parsed = parseLayersJson(verified.payload.layersJson);
    if (!parsed.ok) throw new Error('the test layers do not parse');
    CentralPolicyStore.open(join(stateDir, POLICY_BUNDLE_FILE), verifier).replace(bundle, appliedBundleOf(verified.payload, bundle.keyId, parsed.layers));
  };

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'airlock-policy-cli-'));
    stateDir = join(directory, 'state');
    mkdirSync(stateDir, { recursive: true });
    writeFileSync(join(stateDir, 'identity.json'), JSON.stringify({ workerId, tenantId }));
    writeFileSync(join(stateDir, 'worker-key.pem'), 'unused here');
    configFile = join(directory, 'worker.yml');
    writeFileSync(
      configFile,
      stringify({
        controlPlane: { address: '127.0.0.1:7443', insecure: true, trustedSigningKeys: [{ keyId: signer.keyId, publicKey: signer.publicKey.toString('base64') }] },
        stateDir: './state',
        workspaceDir: './workspace',
        labels: ['gpu'],
        inference: { endpoints: [{ name: 'local', baseUrl: 'http://127.0.0.1:8000/v1', model: 'm' }] },
        repositories: [
          { alias: 'payments', cloneUrl: './p.git', pushUrl: './p.git' },
          { alias: 'web', cloneUrl: './w.git', pushUrl: './w.git' },
        ],
        policy: { maxFixRetries: 1, rules: { 'max-files-changed': { max: 10 } } },
      }),
    );
  });

  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  it('shows local policy alone when no bundle was ever applied', async () => {
    const { exitCode, out } = await policy();
    expect(exitCode).toBe(EXIT_CODES.ok);
    expect(out).toContain('labels: gpu');
    expect(out).toContain('maxFixRetries: 1');
    expect(out).toContain('"max-files-changed":{"max":10,"level":"mandatory"}');
    expect(out).toContain('Central policy: no bundle in force (local policy alone)');
    expect(out).toContain('Effective policy for payments\n  job-kinds: fix, review, index\n  repositories: payments\n');
    expect(out).toContain('  max-files-changed (mandatory): 10');
  });

  it('shows the bundle in force, its layers, and the merge for the worker and each repository', async () => {
    const policyId = randomUUID();
    applyBundle(7, [
      { scope: 'tenant', policyId, version: 3, mode: 'enforce', document: { schemaVersion: 1, rules: { 'max-files-changed': { max: 5 } } } },
      { scope: 'repository', key: 'web', policyId, version: 1, mode: 'enforce', document: { schemaVersion: 1, rules: { repositories: { allowed: ['payments'] } } } },
      { scope: 'repository', key: 'payments', policyId, version: 2, mode: 'shadow', document: { schemaVersion: 1, rules: { 'max-lines-changed': { max: 40 } } } },
    ]);
    const { exitCode, out } = await policy();
    expect(exitCode).toBe(EXIT_CODES.ok);
    expect(out).toMatch(new RegExp(`Central policy: revision 7, signed by ${signer.keyId}, issued \\S+, expires \\S+\\n`));
    expect(out).toMatch(new RegExp(`  tenant +enforce +policy ${policyId} version 3\\n  repository web +enforce +policy ${policyId} version 1\\n  repository payments +shadow`));
    expect(out).toContain('Effective policy of the worker (tenant and pool layers)\n  job-kinds: fix, review, index\n  repositories: payments, web\n');
    expect(out).toContain('Effective policy for web\n  job-kinds: fix, review, index\n  repositories: (none)\n');
    expect(out).toContain('  max-files-changed (mandatory): 5');
    expect(out).toContain('  in shadow (revision 7, stops nothing):\n    max-lines-changed (mandatory): 40');

    const json = JSON.parse((await policy('--json')).out) as { bundle: { revision: number; layers: unknown[] }; effective: { repositories: Record<string, { revision: number; enforced: { maxFilesChanged: { max: number } } }> } };
    expect(json.bundle).toMatchObject({ revision: 7, layers: [{ scope: 'tenant', key: null, mode: 'enforce', version: 3 }, { scope: 'repository', key: 'web' }, { scope: 'repository', key: 'payments', mode: 'shadow' }] });
    expect(json.effective.repositories['payments']).toMatchObject({ revision: 7, shadowRevision: 7, enforced: { maxFilesChanged: { max: 5 } }, shadow: { maxLinesChanged: { max: 40 } } });
  });

  it('fails naming the file when the bundle in force no longer verifies with the pinned keys', async () => {
    applyBundle(2, []);
    const file = join(stateDir, POLICY_BUNDLE_FILE);
    const stored = JSON.parse(readFileSync(file, 'utf8')) as { signature: string };
    writeFileSync(file, JSON.stringify({ ...stored, signature: Buffer.alloc(64).toString('base64') }));
    const { exitCode, err } = await policy();
    expect(exitCode).toBe(EXIT_CODES.failed);
    expect(err).toContain(file);
    expect(err).toContain('POLICY_BUNDLE_BAD_SIGNATURE');
  });

  it("counts the pool the enrollment token named among the config's labels: its pool layer applies", async () => {
    // The identity file beforeEach writes has no pool, as every file before pools did; this one names one.
    writeFileSync(join(stateDir, 'identity.json'), JSON.stringify({ workerId, tenantId, pool: 'eu' }));
    const policyId = randomUUID();
    applyBundle(3, [
      { scope: 'pool', key: 'eu', policyId, version: 1, mode: 'enforce', document: { schemaVersion: 1, rules: { repositories: { allowed: ['payments'] } } } },
      { scope: 'pool', key: 'gpu', policyId, version: 1, mode: 'enforce', document: { schemaVersion: 1, rules: { 'max-files-changed': { max: 4 } } } },
      { scope: 'pool', key: 'us', policyId, version: 1, mode: 'enforce', document: { schemaVersion: 1, rules: { repositories: { allowed: [] } } } },
    ]);
    const { exitCode, out } = await policy();
    expect(exitCode).toBe(EXIT_CODES.ok);
    expect(out).toContain('  labels: gpu\n');
    expect(out).toContain('Pools (their pool layers apply here): gpu, eu (enrolled)\n');
    // eu (enrolled) and gpu (a label) both apply; us, a pool this worker is not in, does not.
    expect(out).toContain('Effective policy of the worker (tenant and pool layers)\n  job-kinds: fix, review, index\n  repositories: payments\n');
    expect(out).toContain('  max-files-changed (mandatory): 4');
    const json = JSON.parse((await policy('--json')).out) as { local: { labels: string[] }; enrolledPool: string | null; pools: string[] };
    expect(json).toMatchObject({ local: { labels: ['gpu'] }, enrolledPool: 'eu', pools: ['gpu', 'eu'] });
  });

  it('shows no enrolled pool for an identity file from before pools', async () => {
    const json = JSON.parse((await policy('--json')).out) as { enrolledPool: string | null; pools: string[] };
    expect(json).toMatchObject({ enrolledPool: null, pools: ['gpu'] });
    expect((await policy()).out).toContain('Pools (their pool layers apply here): gpu\n');
  });

  it('needs an enrolled worker, whose identity the bundle is checked against', async () => {
    rmSync(join(stateDir, 'identity.json'));
    expect((await policy()).exitCode).toBe(EXIT_CODES.enrollmentState);
  });
});
