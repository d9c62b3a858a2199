import { randomBytes } from 'node:crypto';
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { WorkerConfigInvalidError, type ConfigProblem } from '../config/worker-config-invalid.error';
import { WORKER_TOKEN_PURPOSE, openWorkerSealer, workerSecretsSchema } from '../config/worker-secrets';
import { readWorkerConfigText } from '../config/worker-config.loader';
import { CliExitError, EXIT_CODES } from './exit-codes';
import type { CliIo } from './worker.cli';

export interface SecretsSealOptions {
  readonly config: string;
  readonly out: string;
  readonly force?: boolean;
}

/** A token longer than this is not a token: refused rather than sealed. */
const MAX_TOKEN_BYTES = 16 * 1024;

/**
 * `secrets seal`: reads one token from stdin (never from the command line, where `ps` and shell
 * history would keep it), seals it with the KEK of the config's `secrets` section and writes
 * it to `out` (0600), ready to be named as a `tokenFile`. Only `secrets` is read from the
 * config, so a token file the rest of the config names need not exist yet.
 */
export async function secretsSealCommand(options: SecretsSealOptions, io: CliIo, stdin: NodeJS.ReadableStream & { isTTY?: boolean } = process.stdin, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const configFile = resolve(options.config);
  const sealer = openSealerOfConfig(configFile, env);
  const out = resolve(options.out);
  if (existsSync(out) && !options.force) throw new CliExitError(EXIT_CODES.configInvalid, `${out} exists: pass --force to replace it`);
  if (stdin.isTTY) io.err('paste the token, then press Enter and Ctrl-D (a terminal echoes it: prefer a pipe or a redirect)\n');
  const token = (await readAll(stdin)).toString('utf8').trim();
  if (token === '' || /[\r\n]/.test(token)) throw new CliExitError(EXIT_CODES.configInvalid, `expected one token on one line on stdin, 1..${MAX_TOKEN_BYTES} bytes`);
  const sealed = await sealer.seal(WORKER_TOKEN_PURPOSE, token);
  // Written beside its destination and renamed: a reader never sees half a file.
  const partial = `${out}.${randomBytes(6).toString('hex')}.partial`;
  writeFileSync(partial, `${sealed}\n`, { mode: 0o600, flag: 'wx' });
  renameSync(partial, out);
  io.out(`sealed the token from stdin under ${sealer.activeKekId} into ${out} (0600); name it as a tokenFile\n`);
  return EXIT_CODES.ok;
}

function openSealerOfConfig(configFile: string, env: NodeJS.ProcessEnv) {
  const document = parseDocument(readWorkerConfigText(configFile), { prettyErrors: false });
  const root: unknown = document.errors.length > 0 ? undefined : document.toJS();
  const secrets = typeof root === 'object' && root !== null ? (root as Record<string, unknown>)['secrets'] : undefined;
  if (secrets === undefined) throw new WorkerConfigInvalidError(configFile, [{ path: 'secrets', expected: 'secrets.kekFile or secrets.kekEnv: the key-encryption key to seal with' }]);
  const parsed = workerSecretsSchema.safeParse(secrets);
  if (!parsed.success) {
    throw new WorkerConfigInvalidError(configFile, parsed.error.issues.map((issue) => ({ path: ['secrets', ...issue.path].join('.'), expected: issue.message })));
  }
  const problems: ConfigProblem[] = [];
  const sealer = openWorkerSealer(parsed.data, dirname(configFile), env, problems);
  if (!sealer || problems.length > 0) throw new WorkerConfigInvalidError(configFile, problems);
  return sealer;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += bytes.length;
    if (size > MAX_TOKEN_BYTES) throw new CliExitError(EXIT_CODES.configInvalid, `expected one token on one line on stdin, 1..${MAX_TOKEN_BYTES} bytes`);
    chunks.push(bytes);
  }
  return Buffer.concat(chunks);
}
