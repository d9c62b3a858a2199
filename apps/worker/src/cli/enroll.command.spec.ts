import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT_CODES } from './exit-codes';
import { runWorkerCli } from './worker.cli';

describe('airlock-worker enroll: where the token comes from', () => {
  let directory: string;
  let configFile: string;
  const TOKEN = `aet_${'A'.repeat(43)}`;

  const enroll = async (...args: string[]): Promise<{ exitCode: number; err: string }> => {
    let err = '';
    const exitCode = await runWorkerCli(['node', 'airlock-worker', 'enroll', '--config', configFile, ...args], { out: () => undefined, err: (text) => (err += text) });
    return { exitCode, err };
  };

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'airlock-enroll-cli-'));
    configFile = join(directory, 'worker.yml');
    // No control plane listens there: every case below is refused before any call.
    writeFileSync(configFile, ['controlPlane: { address: 127.0.0.1:1, insecure: true }', 'stateDir: ./state', 'workspaceDir: ./workspace', 'inference:', '  endpoints:', '    - { name: local, baseUrl: http://127.0.0.1:8000/v1, model: m }', ''].join('\n'));
  });

  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  it('wants exactly one of --token-file and --token', async () => {
    const tokenFile = join(directory, 'token');
    writeFileSync(tokenFile, `${TOKEN}\n`);
    expect(await enroll()).toEqual({ exitCode: EXIT_CODES.configInvalid, err: '--token-file: expected exactly one of --token-file or --token\n' });
    expect(await enroll('--token', TOKEN, '--token-file', tokenFile)).toEqual({ exitCode: EXIT_CODES.configInvalid, err: '--token-file: expected exactly one of --token-file or --token\n' });
  });

  it("refuses a token file that is missing, too long or not a token, never quoting what is in it", async () => {
    expect(await enroll('--token-file', join(directory, 'missing'))).toEqual({ exitCode: EXIT_CODES.configInvalid, err: `--token-file: expected a readable file (ENOENT: ${join(directory, 'missing')})\n` });
    const long = join(directory, 'long');
    writeFileSync(long, 'x'.repeat(2000));
    expect((await enroll('--token-file', long)).err).toBe(`--token-file: expected one enrollment token, not 2000 bytes (${long})\n`);
    const wrong = join(directory, 'wrong');
    writeFileSync(wrong, 'secret-looking-but-not-a-token\n');
    const refused = await enroll('--token-file', wrong);
    expect(refused).toEqual({ exitCode: EXIT_CODES.configInvalid, err: '--token-file: expected an enrollment token (aet_ followed by 43 base64url characters)\n' });
  });

  it('reads a well-formed token from the file, trimmed, and goes on to ask the control plane', async () => {
    const tokenFile = join(directory, 'token');
    writeFileSync(tokenFile, `  ${TOKEN}\n`);
    // Past the token checks: the call itself fails, as nothing listens on port 1.
    expect(await enroll('--token-file', tokenFile)).toMatchObject({ exitCode: EXIT_CODES.controlPlane, err: expect.stringMatching(/^enrollment failed: UNAVAILABLE/) });
  });
});
