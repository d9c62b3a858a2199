import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { LocalKeyEncryptionKeys, localKekId, type KeyEncryptionKeys } from './key-encryption-keys';
import {
  SealedSecretError,
  SealedValueMalformedError,
  SealedValueTamperedError,
  UnknownKekError,
  WrongPurposeError,
} from './sealed-secret.errors';
import { SecretSealer, isSealedValue, sealedHeader } from './secret-sealer';

const SECRET = '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIBq0123456789abcdefghijklmnopqrstuv\n-----END PRIVATE KEY-----\n';
const PURPOSE = 'signing-key:sk_0123456789abcdef';

async function errorOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection, but it resolved');
}

describe('SecretSealer', () => {
  const kek = randomBytes(32);
  const sealer = new SecretSealer(new LocalKeyEncryptionKeys(kek));

  it('seals into the self-describing v1 format and opens it again', async () => {
    const sealed = await sealer.seal(PURPOSE, SECRET);

    expect(sealed).toMatch(/^airlock-sealed:v1:kek_[0-9a-f]{16}:[A-Za-z0-9_-]+:[A-Za-z0-9_-]+:[A-Za-z0-9_-]+$/);
    expect(isSealedValue(sealed)).toBe(true);
    expect(sealedHeader(sealed)).toEqual({ version: 'v1', kekId: localKekId(kek) });
    expect(sealed).not.toContain('PRIVATE KEY');
    expect(await sealer.unsealText(PURPOSE, sealed)).toBe(SECRET);
  });

  it('uses a fresh data key and IV for every value', async () => {
    const [a, b] = [await sealer.seal(PURPOSE, SECRET), await sealer.seal(PURPOSE, SECRET)];
    const fieldsOf = (sealed: string) => sealed.split(':');

    expect(a).not.toBe(b);
    expect(fieldsOf(a)[4]).not.toBe(fieldsOf(b)[4]);
    expect(fieldsOf(a)[5]).not.toBe(fieldsOf(b)[5]);
  });

  it('refuses a value sealed for another purpose, naming the purpose expected', async () => {
    const sealed = await sealer.seal(PURPOSE, SECRET);

    const error = await errorOf(sealer.unseal('signing-key:sk_fedcba9876543210', sealed));

    expect(error).toBeInstanceOf(WrongPurposeError);
    expect(error.message).toContain('signing-key:sk_fedcba9876543210');
    expect(error.message).not.toContain(SECRET.slice(28, 60));
  });

  it('refuses a value whose purpose tag was forged to match: the purpose is authenticated, not only tagged', async () => {
    const sealed = await sealer.seal('a', SECRET);
    const forTarget = (await sealer.seal('b', 'x')).split(':');
    const moved = sealed.split(':');
    moved[3] = forTarget[3] as string;

    await expect(sealer.unseal('b', moved.join(':'))).rejects.toBeInstanceOf(SealedValueTamperedError);
  });

  it('refuses every single-bit flip in the wrapped data key and the payload', async () => {
    const sealed = await sealer.seal(PURPOSE, 'tok_abc');
    const fields = sealed.split(':');
    for (const index of [4, 5]) {
      const bytes = Buffer.from(fields[index] as string, 'base64url');
      for (let bit = 0; bit < bytes.length * 8; bit += 1) {
        const flipped = Buffer.from(bytes);
        flipped[bit >> 3] = (flipped[bit >> 3] as number) ^ (1 << (bit & 7));
        const altered = [...fields];
        altered[index] = flipped.toString('base64url');
        await expect(sealer.unseal(PURPOSE, altered.join(':'))).rejects.toBeInstanceOf(SealedValueTamperedError);
      }
    }
  });

  it('refuses every one-character edit anywhere in the value, base64url spellings of the same bytes included', async () => {
    const sealed = await sealer.seal(PURPOSE, 'tok_abc');
    for (let position = 0; position < sealed.length; position += 1) {
      const replacement = sealed[position] === 'A' ? 'B' : 'A';
      const altered = sealed.slice(0, position) + replacement + sealed.slice(position + 1);
      await expect(sealer.unseal(PURPOSE, altered)).rejects.toBeInstanceOf(SealedSecretError);
    }
  });

  it('says what is malformed without quoting the value', async () => {
    const sealed = await sealer.seal(PURPOSE, SECRET);

    await expect(sealer.unseal(PURPOSE, 'tok_plain')).rejects.toBeInstanceOf(SealedValueMalformedError);
    await expect(sealer.unseal(PURPOSE, sealed.replace(':v1:', ':v9:'))).rejects.toThrow(/version v1; this one says "v9"/);
    const truncated = await errorOf(sealer.unseal(PURPOSE, sealed.split(':').slice(0, 5).join(':')));
    expect(truncated).toBeInstanceOf(SealedValueMalformedError);
    expect(truncated.message).not.toContain(sealed.split(':')[4]);
  });

  it('names an unknown KEK and the ones configured', async () => {
    const other = new SecretSealer(new LocalKeyEncryptionKeys(randomBytes(32)));
    const sealed = await other.seal(PURPOSE, SECRET);

    const error = await errorOf(sealer.unseal(PURPOSE, sealed));

    expect(error).toBeInstanceOf(UnknownKekError);
    expect(error.message).toContain(sealedHeader(sealed).kekId);
    expect(error.message).toContain(localKekId(kek));
  });

  it('refuses a header that names another KEK it holds', async () => {
    const [k1, k2] = [randomBytes(32), randomBytes(32)];
    const both = new SecretSealer(new LocalKeyEncryptionKeys(k1, [k2]));
    const sealed = await both.seal(PURPOSE, SECRET);

    await expect(both.unseal(PURPOSE, sealed.replace(localKekId(k1), localKekId(k2)))).rejects.toBeInstanceOf(SealedValueTamperedError);
  });

  describe('rotation', () => {
    const [oldKek, newKek] = [randomBytes(32), randomBytes(32)];
    const before = new SecretSealer(new LocalKeyEncryptionKeys(oldKek));
    const during = new SecretSealer(new LocalKeyEncryptionKeys(newKek, [oldKek]));
    const after = new SecretSealer(new LocalKeyEncryptionKeys(newKek));

    it('opens values under a previous KEK, seals new ones under the active KEK', async () => {
      const old = await before.seal(PURPOSE, SECRET);

      expect(await during.unsealText(PURPOSE, old)).toBe(SECRET);
      expect(sealedHeader(await during.seal(PURPOSE, SECRET)).kekId).toBe(localKekId(newKek));
      expect(during.needsRewrap(old)).toBe(true);
    });

    it('rewraps only the data key: the payload stays byte for byte, and the old KEK can go', async () => {
      const old = await before.seal(PURPOSE, SECRET);

      const rewrapped = await during.rewrap(PURPOSE, old);

      expect(sealedHeader(rewrapped).kekId).toBe(localKekId(newKek));
      expect(rewrapped.split(':')[5]).toBe(old.split(':')[5]);
      expect(rewrapped.split(':')[4]).not.toBe(old.split(':')[4]);
      expect(during.needsRewrap(rewrapped)).toBe(false);
      expect(await during.rewrap(PURPOSE, rewrapped)).toBe(rewrapped);
      expect(await after.unsealText(PURPOSE, rewrapped)).toBe(SECRET);
      await expect(after.unseal(PURPOSE, old)).rejects.toBeInstanceOf(UnknownKekError);
    });

    it('refuses to rewrap a value for another purpose', async () => {
      const old = await before.seal(PURPOSE, SECRET);

      await expect(during.rewrap('other', old)).rejects.toBeInstanceOf(WrongPurposeError);
    });
  });

  it('works with any provider of the interface, as a KMS would be', async () => {
    const calls: string[] = [];
    const local = new LocalKeyEncryptionKeys(kek);
    const kms: KeyEncryptionKeys = {
      activeKekId: 'arn.aws.kms.eu-west-1.key-1',
      kekIds: ['arn.aws.kms.eu-west-1.key-1'],
      async wrap(dataKey, context) {
        calls.push('wrap');
        return { kekId: 'arn.aws.kms.eu-west-1.key-1', wrappedKey: (await local.wrap(dataKey, context)).wrappedKey };
      },
      async unwrap(_kekId, wrappedKey, context) {
        calls.push('unwrap');
        return local.unwrap(local.activeKekId, wrappedKey, context);
      },
    };
    const viaKms = new SecretSealer(kms);

    const sealed = await viaKms.seal(PURPOSE, SECRET);

    expect(sealed.startsWith('airlock-sealed:v1:arn.aws.kms.eu-west-1.key-1:')).toBe(true);
    expect(await viaKms.unsealText(PURPOSE, sealed)).toBe(SECRET);
    expect(calls).toEqual(['wrap', 'unwrap']);
  });
});

describe('LocalKeyEncryptionKeys', () => {
  it('never shows its keys when logged or serialised', () => {
    const kek = randomBytes(32);
    const keys = new LocalKeyEncryptionKeys(kek);
    const shown = `${JSON.stringify(keys)} ${inspect(keys, { depth: 10, showHidden: true })}`;

    expect(shown).toContain(localKekId(kek));
    for (const encoding of ['hex', 'base64'] as const) expect(shown).not.toContain(kek.toString(encoding).slice(0, 16));
    expect(shown).not.toMatch(/<Buffer/);
  });
});
