import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDataAccess, type DataAccess } from '@airlock/data-access';
import { LocalKeyEncryptionKeys, SecretSealer, isSealedValue, localKekId, sealedHeader } from '@airlock/sealed-secrets';
import { createDatabase, startPostgresCluster, type PostgresCluster } from '@airlock/testing';
import { systemClock } from '../common/clock';
import { loadAppConfig } from '../config/app-config';
import { startControlPlane } from '../control-plane';
import { SigningKeyService, signingKeyPurpose } from '../signing/signing-key.service';

jest.setTimeout(60_000);

let cluster: PostgresCluster;
const opened: DataAccess[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  cluster = await startPostgresCluster();
});

afterAll(async () => {
  for (const data of opened) await data.close();
  await cluster?.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const freshDatabase = async (name: string): Promise<{ url: string; data: DataAccess }> => {
  const url = await createDatabase(cluster.url, `${name}_${randomBytes(3).toString('hex')}`);
  const data = await openDataAccess({ kind: 'url', url });
  opened.push(data);
  return { url, data };
};

const sealerOf = (active: Buffer, ...previous: Buffer[]) => new SecretSealer(new LocalKeyEncryptionKeys(active, previous));

/** A replica's start: its own service over the shared database, with the KEKs it was configured with. */
const boot = async (data: DataAccess, sealer: SecretSealer | null): Promise<SigningKeyService> => {
  const service = new SigningKeyService(data, { instructionTtlMs: 600_000, platformTenantName: 'default' }, systemClock, sealer);
  await service.load();
  return service;
};

const storedKeys = async (data: DataAccess) => data.signingKeys.listStoredPrivateKeys();

describe('signing private keys at rest', () => {
  it('seals a key stored unsealed before, at boot, keeping the very same key, and does it once', async () => {
    const { data } = await freshDatabase('seal_existing');
    const before = (await boot(data, null)).currentSigner();
    const [plain] = await storedKeys(data);
    expect(plain?.privateKeyPem).toBe(before.privateKeyPem);
    expect(plain?.privateKeyPem).toContain('BEGIN PRIVATE KEY');

    const kek = randomBytes(32);
    const after = (await boot(data, sealerOf(kek))).currentSigner();

    expect(after).toEqual(before);
    const [sealed] = await storedKeys(data);
    expect(isSealedValue(sealed?.privateKeyPem ?? '')).toBe(true);
    expect(sealed?.privateKeyPem).not.toContain('PRIVATE KEY');
    expect(sealedHeader(sealed?.privateKeyPem ?? '').kekId).toBe(localKekId(kek));
    // A second boot finds nothing to do.
    await boot(data, sealerOf(kek));
    expect((await storedKeys(data))[0]?.privateKeyPem).toBe(sealed?.privateKeyPem);
  });

  it('seals the first key on a fresh database before it is ever stored', async () => {
    const { data } = await freshDatabase('seal_first');
    const kek = randomBytes(32);

    const signer = (await boot(data, sealerOf(kek))).currentSigner();

    const [row] = await storedKeys(data);
    expect(row?.keyId).toBe(signer.keyId);
    expect(await sealerOf(kek).unsealText(signingKeyPurpose(signer.keyId), row?.privateKeyPem ?? '')).toBe(signer.privateKeyPem);
  });

  it('lets several replicas boot at once on unsealed rows: one value wins, every replica signs with the same key', async () => {
    const { url, data } = await freshDatabase('seal_replicas');
    const before = (await boot(data, null)).currentSigner();
    const kek = randomBytes(32);
    const replicas = await Promise.all(
      Array.from({ length: 4 }, async () => {
        const own = await openDataAccess({ kind: 'url', url });
        opened.push(own);
        return boot(own, sealerOf(kek));
      }),
    );

    for (const replica of replicas) expect(replica.currentSigner()).toEqual(before);
    const [row] = await storedKeys(data);
    expect(await sealerOf(kek).unsealText(signingKeyPurpose(before.keyId), row?.privateKeyPem ?? '')).toBe(before.privateKeyPem);
  });

  it('rotates the KEK without downtime: add the new key, make it active, rewrap, retire the old one', async () => {
    const { data } = await freshDatabase('rotate');
    const [oldKek, newKek] = [randomBytes(32), randomBytes(32)];
    const signer = (await boot(data, sealerOf(oldKek))).currentSigner();
    const underOld = (await storedKeys(data))[0]?.privateKeyPem ?? '';

    // Step 1: every replica learns the new KEK as a previous one; nothing is rewritten.
    await boot(data, sealerOf(oldKek, newKek));
    expect((await storedKeys(data))[0]?.privateKeyPem).toBe(underOld);

    // Step 2: the new KEK becomes active; a booting replica rewraps the data key only.
    expect((await boot(data, sealerOf(newKek, oldKek))).currentSigner()).toEqual(signer);
    const underNew = (await storedKeys(data))[0]?.privateKeyPem ?? '';
    expect(sealedHeader(underNew).kekId).toBe(localKekId(newKek));
    expect(underNew.split(':').at(-1)).toBe(underOld.split(':').at(-1));
    // A replica not yet rolled to step 2 still reads it.
    expect(await sealerOf(oldKek, newKek).unsealText(signingKeyPurpose(signer.keyId), underNew)).toBe(signer.privateKeyPem);

    // Step 3: the old KEK is removed from the configuration.
    expect((await boot(data, sealerOf(newKek))).currentSigner()).toEqual(signer);
    // Whereas a replica that only knows the old key is told which key it lacks.
    await expect(boot(data, sealerOf(oldKek))).rejects.toThrow(
      new RegExp(`control-plane/signing-key/${signer.keyId}/private-key: the sealed value was sealed under the key-encryption key ${localKekId(newKek)}, which is not configured`),
    );
  });

  it('refuses to start without a KEK once keys are sealed, naming the KEK and the variable', async () => {
    const { data } = await freshDatabase('no_kek');
    const kek = randomBytes(32);
    await boot(data, sealerOf(kek));

    await expect(boot(data, null)).rejects.toThrow(new RegExp(`sealed under the key-encryption key ${localKekId(kek)}, but no KEK is configured: set AIRLOCK_KEK_FILE`));
  });

  it('serves a control plane whose key is sealed under AIRLOCK_KEK_FILE, and signs with it', async () => {
    const { url, data } = await freshDatabase('kek_file');
    const dir = mkdtempSync(join(tmpdir(), 'airlock-kek-'));
    dirs.push(dir);
    const kek = randomBytes(32);
    writeFileSync(join(dir, 'kek'), kek.toString('hex'), { mode: 0o600 });
    const controlPlane = await startControlPlane(
      loadAppConfig({ DATABASE_URL: url, AIRLOCK_DATA_DIR: join(dir, 'data'), AIRLOCK_KEK_FILE: join(dir, 'kek'), AIRLOCK_HTTP_PORT: '0', AIRLOCK_GRPC_PORT: '0', AIRLOCK_METRICS_PORT: '0', LOG_LEVEL: 'fatal' }),
    );
    try {
      const signer = controlPlane.app.get(SigningKeyService).currentSigner();
      const [row] = await storedKeys(data);
      expect(sealedHeader(row?.privateKeyPem ?? '').kekId).toBe(localKekId(kek));
      expect(await sealerOf(kek).unsealText(signingKeyPurpose(signer.keyId), row?.privateKeyPem ?? '')).toBe(signer.privateKeyPem);
    } finally {
      await controlPlane.stop();
    }
  });

});
