import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ensureKekFile, fileKeyEncryptionKeys, kekFromEnvironment, parseKek, readKekFile } from './kek-sources';
import { localKekId } from './key-encryption-keys';
import { InvalidKekError } from './sealed-secret.errors';

describe('KEK sources', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'sealed-secrets-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a KEK as 32 raw bytes, as hex, or as base64 and base64url', () => {
    const key = randomBytes(32);

    expect(parseKek(key, 'f')).toEqual(key);
    expect(parseKek(Buffer.from(`${key.toString('hex')}\n`), 'f')).toEqual(key);
    expect(parseKek(Buffer.from(`  ${key.toString('base64')}\n`), 'f')).toEqual(key);
    expect(parseKek(Buffer.from(key.toString('base64url')), 'f')).toEqual(key);
  });

  it('refuses anything else, naming the file and never its content', () => {
    const file = path.join(dir, 'kek');
    const short = randomBytes(16).toString('hex');
    writeFileSync(file, short);

    expect(() => readKekFile(file)).toThrow(InvalidKekError);
    expect(() => readKekFile(file)).toThrow(new RegExp(`^${file}: expected a key-encryption key of 32 random bytes`));
    try {
      readKekFile(file);
    } catch (error) {
      expect((error as Error).message).not.toContain(short);
    }
    expect(() => readKekFile(path.join(dir, 'missing'))).toThrow(/expected a readable key-encryption key file \(ENOENT: /);
  });

  it('reads a KEK from an environment variable, naming only the variable when it is wrong', () => {
    const key = randomBytes(32);

    expect(kekFromEnvironment('AIRLOCK_KEK', key.toString('hex'))).toEqual(key);
    expect(() => kekFromEnvironment('AIRLOCK_KEK', 'not-a-key')).toThrow(/^AIRLOCK_KEK: expected a key-encryption key/);
    expect(() => kekFromEnvironment('AIRLOCK_KEK', 'not-a-key')).not.toThrow(/not-a-key/);
    expect(() => kekFromEnvironment('AIRLOCK_KEK', undefined)).toThrow(/not set/);
  });

  it('builds the provider from the active file and the previous ones', () => {
    const [active, previous] = [randomBytes(32), randomBytes(32)];
    writeFileSync(path.join(dir, 'active'), active.toString('hex'));
    writeFileSync(path.join(dir, 'previous'), previous);

    const keys = fileKeyEncryptionKeys(path.join(dir, 'active'), [path.join(dir, 'previous'), path.join(dir, 'active')]);

    expect(keys.activeKekId).toBe(localKekId(active));
    expect(keys.kekIds).toEqual([localKekId(active), localKekId(previous)]);
  });

  it('creates a KEK file once (mode 0600), and later calls and racing processes get the same key', () => {
    const file = path.join(dir, 'sub', 'kek');

    const first = ensureKekFile(file);
    const again = ensureKekFile(file);

    expect(first.created).toBe(true);
    expect(again.created).toBe(false);
    expect(again.key).toEqual(first.key);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(path.dirname(file))).toEqual(['kek']);
  });
});
