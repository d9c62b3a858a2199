import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { localKekId } from '@airlock/sealed-secrets';
import { WorkerConfigInvalidError } from '../config/worker-config-invalid.error';
import { loadWorkerConfig, readForgeToken } from '../config/worker-config.loader';
import { CliExitError } from './exit-codes';
import { secretsSealCommand } from './secrets-seal.command';

const TOKEN = 'glpat-0123456789abcdefghij';

const CONFIG_HEAD = `controlPlane:
  address: 127.0.0.1:7443
  insecure: true
stateDir: ./state
workspaceDir: ./workspace
inference:
  endpoints:
    - { name: local, baseUrl: 'http://127.0.0.1:8000/v1', model: qwen2.5-coder }
`;

const forgeRepository = (tokenFile: string) => `repositories:
  - alias: payments
    cloneUrl: ./payments.git
    pushUrl: ./payments.git
    forge: { type: gitlab, apiUrl: 'https://git.example.com/api/v4', project: team/payments, tokenFile: ${tokenFile} }
`;

describe('secrets seal and sealed token files', () => {
  let dir: string;
  let out: string;
  let err: string;
  const io = { out: (text: string) => void (out += text), err: (text: string) => void (err += text) };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'worker-sealed-token-'));
    out = '';
    err = '';
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const writeKek = (name: string): Buffer => {
    const kek = randomBytes(32);
    writeFileSync(join(dir, name), kek.toString('hex'), { mode: 0o600 });
    return kek;
  };
  const writeConfig = (body: string): string => {
    const file = join(dir, 'worker.yml');
    writeFileSync(file, CONFIG_HEAD + body);
    return file;
  };
  const seal = (config: string, token: string, file = 'forge.token.sealed', force = false) =>
    secretsSealCommand({ config, out: join(dir, file), force }, io, Readable.from([Buffer.from(`${token}\n`)]), {});

  it('seals the token read from stdin into a 0600 file that the worker opens at each request', async () => {
    const kek = writeKek('worker.kek');
    // The token file does not exist yet: only the secrets section is read to seal.
    const config = writeConfig(`secrets: { kekFile: ./worker.kek }\n${forgeRepository('./forge.token.sealed')}`);

    expect(await seal(config, TOKEN)).toBe(0);

    const sealedFile = join(dir, 'forge.token.sealed');
    const sealed = readFileSync(sealedFile, 'utf8');
    expect(sealed).toMatch(new RegExp(`^airlock-sealed:v1:${localKekId(kek)}:`));
    expect(sealed).not.toContain(TOKEN);
    expect(statSync(sealedFile).mode & 0o777).toBe(0o600);
    expect(out).toContain(localKekId(kek));
    expect(out + err).not.toContain(TOKEN);
    const forge = loadWorkerConfig(config, {}).repositories[0]?.forge;
    expect(await readForgeToken(forge!.token)).toBe(TOKEN);
  });

  it('refuses at start a sealed token file without a KEK, or under a KEK it was not given, naming the field and the key ids', async () => {
    const kek = writeKek('worker.kek');
    await seal(writeConfig('secrets: { kekFile: ./worker.kek }\n'), TOKEN);

    const withoutKek = refusal(() => loadWorkerConfig(writeConfig(forgeRepository('./forge.token.sealed')), {}));
    expect(withoutKek.problems).toEqual([{ path: 'repositories[0].forge.tokenFile', expected: `secrets.kekFile or secrets.kekEnv to be set, since ${join(dir, 'forge.token.sealed')} holds a sealed token` }]);

    const other = writeKek('other.kek');
    const underOther = refusal(() => loadWorkerConfig(writeConfig(`secrets: { kekFile: ./other.kek }\n${forgeRepository('./forge.token.sealed')}`), {}));
    expect(underOther.problems).toEqual([
      { path: 'repositories[0].forge.tokenFile', expected: `a token sealed under a configured key-encryption key (${localKekId(other)}); ${join(dir, 'forge.token.sealed')} is sealed under ${localKekId(kek)}` },
    ]);
  });

  it('rotates: a token sealed under a previous KEK still opens, and sealing again moves it to the active one', async () => {
    const oldKek = writeKek('old.kek');
    await seal(writeConfig('secrets: { kekFile: ./old.kek }\n'), TOKEN);
    const newKek = writeKek('new.kek');
    const config = writeConfig(`secrets: { kekFile: ./new.kek, previousKekFiles: [./old.kek] }\n${forgeRepository('./forge.token.sealed')}`);

    expect(await readForgeToken(loadWorkerConfig(config, {}).repositories[0]!.forge!.token)).toBe(TOKEN);
    expect(await seal(config, TOKEN, 'forge.token.sealed', true)).toBe(0);
    expect(readFileSync(join(dir, 'forge.token.sealed'), 'utf8')).toMatch(new RegExp(`^airlock-sealed:v1:${localKekId(newKek)}:`));
    const withoutOld = writeConfig(`secrets: { kekFile: ./new.kek }\n${forgeRepository('./forge.token.sealed')}`);
    expect(await readForgeToken(loadWorkerConfig(withoutOld, {}).repositories[0]!.forge!.token)).toBe(TOKEN);
    expect(localKekId(oldKek)).not.toBe(localKekId(newKek));
  });

  it('takes the KEK from an environment variable with kekEnv', async () => {
    const kek = randomBytes(32);
    const config = writeConfig(`secrets: { kekEnv: AIRLOCK_WORKER_KEK }\n${forgeRepository('./forge.token.sealed')}`);
    await secretsSealCommand({ config, out: join(dir, 'forge.token.sealed') }, io, Readable.from([`${TOKEN}\n`]), { AIRLOCK_WORKER_KEK: kek.toString('base64') });

    const token = loadWorkerConfig(config, { AIRLOCK_WORKER_KEK: kek.toString('hex') }).repositories[0]!.forge!.token;

    expect(await readForgeToken(token)).toBe(TOKEN);
    expect(refusal(() => loadWorkerConfig(config, { AIRLOCK_WORKER_KEK: 'short' })).problems).toContainEqual({
      path: 'secrets.kekEnv',
      expected: expect.stringMatching(/^the environment variable AIRLOCK_WORKER_KEK to hold a key-encryption key of 32 random bytes/),
    });
  });

  it('refuses an empty or multi-line stdin, an existing file without --force, and a config without secrets', async () => {
    writeKek('worker.kek');
    const config = writeConfig('secrets: { kekFile: ./worker.kek }\n');

    await expect(seal(config, '')).rejects.toThrow(CliExitError);
    await expect(seal(config, 'one\ntwo')).rejects.toThrow(/one token on one line/);
    await seal(config, TOKEN);
    await expect(seal(config, TOKEN)).rejects.toThrow(/exists: pass --force/);
    await expect(seal(writeConfig(''), TOKEN, 'x')).rejects.toThrow(/secrets: secrets.kekFile or secrets.kekEnv/);
    await expect(seal(writeConfig('secrets: { kekFile: ./missing.kek }\n'), TOKEN, 'y')).rejects.toThrow(/secrets.kekFile: a readable file \(ENOENT/);
  });
});

function refusal(load: () => unknown): WorkerConfigInvalidError {
  try {
    load();
  } catch (error) {
    if (error instanceof WorkerConfigInvalidError) return error;
    throw error;
  }
  throw new Error('expected the config to be refused');
}
