import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkerIdentityStore, WorkerNotEnrolledError } from './worker-identity.store';

describe('WorkerIdentityStore (real files in a temp state directory)', () => {
  const workerId = randomUUID();
  const tenantId = randomUUID();
  let stateDir: string;
  let store: WorkerIdentityStore;

  beforeEach(() => {
    stateDir = mkdtempSync(join(tmpdir(), 'airlock-identity-'));
    store = new WorkerIdentityStore(stateDir);
  });

  afterEach(() => rmSync(stateDir, { recursive: true, force: true }));

  /** Writes identity.json as some worker version did, with a key beside it. */
  const writeIdentityFile = (content: Record<string, unknown>) => {
    writeFileSync(store.identityFile, JSON.stringify(content));
    writeFileSync(store.keyFile, 'key');
  };

  it('stores the pool the enrollment token named with the identity, and loads it back', () => {
    store.savePendingPrivateKey('key');
    store.saveIdentity(workerId, tenantId, 'gpu');
    expect(JSON.parse(readFileSync(store.identityFile, 'utf8'))).toEqual({ workerId, tenantId, pool: 'gpu' });
    expect(store.load()).toEqual({ workerId, tenantId, pool: 'gpu', privateKeyPem: 'key' });
  });

  it('stores no pool as null when the token named none', () => {
    store.savePendingPrivateKey('key');
    store.saveIdentity(workerId, tenantId, null);
    expect(store.load()).toEqual({ workerId, tenantId, pool: null, privateKeyPem: 'key' });
  });

  it('loads an identity file written before enrollment carried a pool: no enrolled pool', () => {
    writeIdentityFile({ workerId, tenantId });
    expect(store.load()).toEqual({ workerId, tenantId, pool: null, privateKeyPem: 'key' });
  });

  it('refuses a pool that is not a pool label, naming the file and the field', () => {
    for (const pool of ['GPU', 'secret project', '', 7]) {
      writeIdentityFile({ workerId, tenantId, pool });
      expect(() => store.load()).toThrow(WorkerNotEnrolledError);
      expect(() => store.load()).toThrow(`${store.identityFile}: pool: expected null or a pool label`);
    }
  });
});
