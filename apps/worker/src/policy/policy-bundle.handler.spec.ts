import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PolicyBundleVerifier, generateSigningKeyPair, signPolicyBundle } from '@airlock/envelope';
import { localEffectivePolicy } from '@airlock/policy';
import type { PolicyBundlePayload } from '@airlock/protocol';
import { CapturedLog } from '../daemon/captured-log.mock';
import { CentralPolicyStore, POLICY_BUNDLE_FILE } from './central-policy.store';
import { PolicyBundleFileInvalidError } from './policy-bundle-file-invalid.error';
import { PolicyBundleHandler } from './policy-bundle.handler';
import { WorkerPolicy } from './worker-policy';

const NOW_MS = 1_700_000_000_000;

describe('PolicyBundleHandler and CentralPolicyStore, on real files', () => {
  const signer = generateSigningKeyPair();
  const workerId = randomUUID();
  const tenantId = randomUUID();
  const local = localEffectivePolicy({
    allowedTaskKinds: ['fix'],
    repoAliases: ['payments', 'web'],
    baseRefRules: new Map([['payments', { allowed: ['main'], forbiddenPrefixes: ['airlock/'] }]]),
    endpointNames: ['local'],
    maxChangedFiles: 25,
    maxChangedLines: 2_000,
    maxJobTokens: 500_000,
    agentTimeoutMs: 1_200_000,
  });
  let nowMs: number;
  let stateDir: string;
  let file: string;
  let log: CapturedLog;
  let verifier: PolicyBundleVerifier;
  let store: CentralPolicyStore;
  let handler: PolicyBundleHandler;

  const verifierFor = (keys = new Map([[signer.keyId, signer.publicKey]])) =>
    new PolicyBundleVerifier({ trustedKeys: keys, workerId, tenantId, clock: () => nowMs, maxClockSkewMs: 30_000, maxValidityWindowMs: 24 * 3_600_000 });

  /** Opens the store as a (re)started worker does, and a handler on it. */
  const start = (keys?: Map<string, Buffer>) => {
    verifier = verifierFor(keys);
    store = CentralPolicyStore.open(file, verifier);
    handler = new PolicyBundleHandler({ verifier, store, policy: new WorkerPolicy({ local, labels: ['gpu'], maxFixRetries: 2, bundles: store }), logger: log.logger });
  };

  const tenantLayer = (rules: Record<string, unknown>, version = 1) => ({ scope: 'tenant', policyId: randomUUID(), version, mode: 'enforce', document: { schemaVersion: 1, rules } });
  const bundle = (revision: number, layers: unknown[] = [tenantLayer({ 'max-files-changed': { max: 10 } })], overrides: Partial<PolicyBundlePayload> = {}) =>
    signPolicyBundle({ tenantId, audience: workerId, revision, issuedAtMs: nowMs, expiresAtMs: nowMs + 15 * 60_000, layersJson: JSON.stringify({ layers }), ...overrides }, signer);
  const refused = (revision: number, failureCode: string) => ({ revision, status: 'POLICY_ACK_STATUS_REFUSED', failureCode, narrowed: [] });

  beforeEach(() => {
    nowMs = NOW_MS;
    stateDir = mkdtempSync(join(tmpdir(), 'airlock-policy-'));
    file = join(stateDir, POLICY_BUNDLE_FILE);
    log = new CapturedLog(() => nowMs);
    start();
  });

  afterEach(() => rmSync(stateDir, { recursive: true, force: true }));

  it('starts with no bundle in force when none was ever applied', () => {
    expect(store.current).toBeUndefined();
    expect(handler.revision).toBe(0);
  });

  it('applies a bundle: stored, in force, acknowledged with the rules local policy keeps stricter for this worker', () => {
    const layers = [
      // A glob reaches beyond the finite catalog, and 100 files is more than the local 25: local policy narrows both.
      tenantLayer({ repositories: { allowed: ['pay*', 'web'] }, 'max-files-changed': { max: 100 } }),
      // Stricter than local: narrows nothing.
      { scope: 'pool', key: 'gpu', policyId: randomUUID(), version: 1, mode: 'enforce', document: { schemaVersion: 1, rules: { 'max-lines-changed': { max: 50 } } } },
      // Other pools and repository layers are not this worker's as a whole.
      { scope: 'pool', key: 'cpu', policyId: randomUUID(), version: 1, mode: 'enforce', document: { schemaVersion: 1, rules: { 'inference-token-budget': { max: 99_000_000 } } } },
      { scope: 'repository', key: 'payments', policyId: randomUUID(), version: 1, mode: 'enforce', document: { schemaVersion: 1, rules: { 'min-tests-run': { min: 0, level: 'advisory' } } } },
    ];
    expect(handler.receive(bundle(4, layers))).toEqual({ revision: 4, status: 'POLICY_ACK_STATUS_APPLIED', failureCode: 'FAILURE_CODE_UNSPECIFIED', narrowed: ['RULE_REPOSITORIES', 'RULE_MAX_FILES_CHANGED'] });
    expect(store.current).toMatchObject({ revision: 4, keyId: signer.keyId, issuedAtMs: NOW_MS, expiresAtMs: NOW_MS + 15 * 60_000 });
    expect(store.current?.layers.layers).toHaveLength(4);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ payload: expect.any(String), signature: expect.any(String), keyId: signer.keyId });
    expect(log.events('policy-bundle-applied')).toEqual([expect.objectContaining({ revision: 4, narrowed: ['repositories', 'max-files-changed'] })]);
  });

  it.each([
    ['MALFORMED', () => ({ ...bundle(3), signature: Buffer.alloc(10) }), 3],
    ['UNKNOWN_KEY', () => signPolicyBundle({ tenantId, audience: workerId, revision: 3, issuedAtMs: NOW_MS, expiresAtMs: NOW_MS + 60_000, layersJson: '{"layers":[]}' }, generateSigningKeyPair()), 3],
    ['BAD_SIGNATURE', () => {
      const genuine = bundle(3);
      const payload = Buffer.from(genuine.payload);
      payload[payload.length - 3] = (payload[payload.length - 3] ?? 0) ^ 0x01;
      return { ...genuine, payload };
    }, 3],
    ['WRONG_AUDIENCE', () => bundle(3, undefined, { audience: randomUUID() }), 3],
    ['WRONG_TENANT', () => bundle(3, undefined, { tenantId: randomUUID() }), 3],
    ['NOT_YET_VALID', () => bundle(3, undefined, { issuedAtMs: NOW_MS + 60_000, expiresAtMs: NOW_MS + 120_000 }), 3],
    ['EXPIRED', () => bundle(3, undefined, { issuedAtMs: NOW_MS - 3_600_000, expiresAtMs: NOW_MS - 60_000 }), 3],
    ['INVALID', () => bundle(3, [tenantLayer({ 'max-files-changed': { max: 0 } })]), 3],
    ['INVALID', () => bundle(3, undefined, { layersJson: '{"layers": [' }), 3],
  ])('refuses POLICY_BUNDLE_%s and keeps the revision in force', (code, make, revision) => {
    handler.receive(bundle(2));
    const before = readFileSync(file);
    expect(handler.receive(make())).toEqual(refused(revision, `POLICY_BUNDLE_${code}`));
    expect(store.revision).toBe(2);
    expect(readFileSync(file)).toEqual(before);
    expect(log.events('policy-bundle-refused')).toEqual([expect.objectContaining({ revision, failureCode: `POLICY_BUNDLE_${code}`, inForce: 2 })]);
  });

  it('refuses a replay of the bundle in force and an older one as STALE, and a malformed frame under revision 0', () => {
    const second = bundle(2);
    expect(handler.receive(bundle(1))?.status).toBe('POLICY_ACK_STATUS_APPLIED');
    expect(handler.receive(second)?.status).toBe('POLICY_ACK_STATUS_APPLIED');
    expect(handler.receive(second)).toEqual(refused(2, 'POLICY_BUNDLE_STALE'));
    expect(handler.receive(bundle(1))).toEqual(refused(1, 'POLICY_BUNDLE_STALE'));
    expect(handler.refuseMalformed()).toEqual(refused(0, 'POLICY_BUNDLE_MALFORMED'));
    expect(store.revision).toBe(2);
  });

  it('keeps the bundle in force across a restart, past its expiry: a worker restarting offline does not fall back', () => {
    handler.receive(bundle(5));
    nowMs += 7 * 24 * 3_600_000;
    start();
    expect(store.current).toMatchObject({ revision: 5, expiresAtMs: NOW_MS + 15 * 60_000 });
    // Still the bar for what comes next.
    expect(handler.receive(bundle(5))).toEqual(refused(5, 'POLICY_BUNDLE_STALE'));
    expect(handler.receive(bundle(6))?.status).toBe('POLICY_ACK_STATUS_APPLIED');
  });

  it('keeps the old bundle in force when the new one cannot be written, and acknowledges nothing', () => {
    handler.receive(bundle(1));
    const before = readFileSync(file);
    // The write's temporary file cannot be created: the failure a full or broken disk gives.
    mkdirSync(`${file}.tmp`);
    expect(handler.receive(bundle(2))).toBeUndefined();
    expect(store.revision).toBe(1);
    expect(readFileSync(file)).toEqual(before);
    expect(log.events('policy-bundle-not-stored')).toEqual([expect.objectContaining({ revision: 2, inForce: 1 })]);
    rmSync(`${file}.tmp`, { recursive: true });
    start();
    expect(store.revision).toBe(1);
    expect(handler.receive(bundle(2))?.status).toBe('POLICY_ACK_STATUS_APPLIED');
  });

  it('keeps the old bundle after a crash in the middle of writing the new one', () => {
    handler.receive(bundle(1));
    // What a crash before the rename leaves: the new bundle's temporary file, cut short.
    writeFileSync(`${file}.tmp`, readFileSync(file).subarray(0, 40));
    start();
    expect(store.revision).toBe(1);
    expect(handler.receive(bundle(2))?.status).toBe('POLICY_ACK_STATUS_APPLIED');
    start();
    expect(store.revision).toBe(2);
  });

  it('refuses to start on a persisted bundle that no longer verifies, naming the file', () => {
    handler.receive(bundle(1));
    expect(() => start(new Map())).toThrow(PolicyBundleFileInvalidError);
    expect(() => start(new Map())).toThrow(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}.*POLICY_BUNDLE_UNKNOWN_KEY`));
    const stored = JSON.parse(readFileSync(file, 'utf8')) as { payload: string };
    const payload = Buffer.from(stored.payload, 'base64');
    payload[payload.length - 3] = (payload[payload.length - 3] ?? 0) ^ 0x01;
    writeFileSync(file, JSON.stringify({ ...stored, payload: payload.toString('base64') }));
    expect(() => start()).toThrow(/POLICY_BUNDLE_BAD_SIGNATURE/);
    writeFileSync(file, 'not json');
    expect(() => start()).toThrow(/not a stored signed bundle/);
  });
});
