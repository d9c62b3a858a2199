import { randomBytes } from 'node:crypto';
import { LocalKeyEncryptionKeys, SecretSealer, isSealedValue, sealedHeader } from '@airlock/sealed-secrets';
import { sealAtRest, type StoredSecret } from './sealed-at-rest';
import { SecretsAtRestError } from './secrets-at-rest.error';

const purposeOf = (id: string) => `test/${id}`;

/** Rows in memory with the repository's compare-and-set; `interloper` writes first, as another replica would. */
function fakeTable(rows: Record<string, string>, interloper?: (id: string) => string | undefined) {
  return {
    rows,
    list: (): StoredSecret[] => Object.entries(rows).map(([id, stored]) => ({ id, stored })),
    replace: async (id: string, expected: string, next: string): Promise<boolean> => {
      const first = interloper?.(id);
      if (first !== undefined) rows[id] = first;
      if (rows[id] !== expected) return false;
      rows[id] = next;
      return true;
    },
  };
}

describe('sealAtRest', () => {
  const kek = randomBytes(32);
  const sealer = new SecretSealer(new LocalKeyEncryptionKeys(kek));

  it('seals plain rows, opens sealed ones, and reports counts only', async () => {
    const table = fakeTable({ a: 'secret-a', b: await sealer.seal(purposeOf('b'), 'secret-b') });

    const { plaintext, report } = await sealAtRest(table.list(), sealer, purposeOf, table.replace);

    expect(Object.fromEntries(plaintext)).toEqual({ a: 'secret-a', b: 'secret-b' });
    expect(report).toEqual({ sealed: 1, rewrapped: 0, alreadyCurrent: 1 });
    expect(isSealedValue(table.rows['a'] ?? '')).toBe(true);
    expect(await sealer.unsealText(purposeOf('a'), table.rows['a'] ?? '')).toBe('secret-a');
  });

  it('keeps what another replica wrote first, and still returns the secret', async () => {
    let theirs: string | undefined = await sealer.seal(purposeOf('a'), 'secret-a');
    const table = fakeTable({ a: 'secret-a' }, () => {
      const first = theirs;
      theirs = undefined;
      return first;
    });
    const before = table.rows['a'];

    const { plaintext, report } = await sealAtRest(table.list(), sealer, purposeOf, table.replace);

    expect(plaintext.get('a')).toBe('secret-a');
    expect(report.sealed).toBe(0);
    expect(table.rows['a']).not.toBe(before);
    expect(await sealer.unsealText(purposeOf('a'), table.rows['a'] ?? '')).toBe('secret-a');
  });

  it('rewraps rows under a previous KEK', async () => {
    const newKek = randomBytes(32);
    const table = fakeTable({ a: await sealer.seal(purposeOf('a'), 'secret-a') });
    const rotated = new SecretSealer(new LocalKeyEncryptionKeys(newKek, [kek]));

    const { report } = await sealAtRest(table.list(), rotated, purposeOf, table.replace);

    expect(report).toEqual({ sealed: 0, rewrapped: 1, alreadyCurrent: 0 });
    expect(sealedHeader(table.rows['a'] ?? '').kekId).toBe(rotated.activeKekId);
  });

  it('leaves plain rows alone without a sealer, and refuses a sealed one naming the row and the KEK', async () => {
    const sealed = await sealer.seal(purposeOf('b'), 'secret-b');
    const table = fakeTable({ a: 'secret-a' });
    expect((await sealAtRest(table.list(), null, purposeOf, table.replace)).plaintext.get('a')).toBe('secret-a');
    expect(table.rows['a']).toBe('secret-a');

    const withSealed = fakeTable({ b: sealed });
    const refusal = sealAtRest(withSealed.list(), null, purposeOf, withSealed.replace);
    await expect(refusal).rejects.toThrow(SecretsAtRestError);
    await expect(sealAtRest(withSealed.list(), null, purposeOf, withSealed.replace)).rejects.toThrow(`test/b is sealed under the key-encryption key ${sealer.activeKekId}`);
  });

  it('names the row of a value that does not open, and never its content', async () => {
    const table = fakeTable({ b: await sealer.seal(purposeOf('a'), 'secret-b') });

    const error = await sealAtRest(table.list(), sealer, purposeOf, table.replace).catch((caught: Error) => caught);

    expect(error).toBeInstanceOf(SecretsAtRestError);
    expect((error as Error).message).toMatch(/^test\/b: the sealed value was not sealed for "test\/b"/);
    expect((error as Error).message).not.toContain('secret-b');
  });
});
