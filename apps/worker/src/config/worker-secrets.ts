import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import {
  KEK_EXPECTATION,
  LocalKeyEncryptionKeys,
  SealedSecretError,
  SecretSealer,
  isSealedValue,
  kekFromEnvironment,
  parseKek,
  sealedHeader,
} from '@airlock/sealed-secrets';
import type { ConfigProblem } from './worker-config-invalid.error';

/**
 * What every sealed token of a worker is sealed for. One purpose for all of them: `secrets seal`
 * cannot know which field a token will go in, and what matters is that no other sealed value
 * (a control plane's key, another product's secret) opens as a worker token.
 */
export const WORKER_TOKEN_PURPOSE = 'airlock-worker/api-token';

const ENV_NAME = /^[A-Z_][A-Z0-9_]{0,127}$/;

/** The `secrets` section of the worker config: where the key-encryption key of sealed token files is. */
export const workerSecretsSchema = z
  .strictObject({
    kekFile: z
      .string()
      .min(1, 'expected a file path')
      .optional()
      .describe('File holding the key-encryption key that opens sealed token files: 32 random bytes, raw, hex or base64 (`openssl rand -hex 32`). Relative to this file; keep it 0600 and apart from the token files. Exactly one of kekFile, kekEnv.'),
    kekEnv: z
      .string()
      .regex(ENV_NAME, 'expected an environment variable name')
      .optional()
      .describe('Environment variable holding the key-encryption key, hex or base64, instead of kekFile.'),
    previousKekFiles: z
      .array(z.string().min(1, 'expected a file path'))
      .default([])
      .describe('Key-encryption keys rotated out that still open sealed token files until they are sealed again (default []).'),
  })
  .superRefine((secrets, ctx) => {
    if ((secrets.kekFile === undefined) === (secrets.kekEnv === undefined)) ctx.addIssue({ code: 'custom', path: ['kekFile'], message: 'expected exactly one of kekFile or kekEnv' });
  })
  .describe('Sealed token files (docs/worker.md#sealed-token-files): a tokenFile whose content is `airlock-sealed:v1:…` is opened with this key-encryption key.');

export type WorkerSecretsConfig = z.infer<typeof workerSecretsSchema>;

/**
 * The sealer of the configured KEKs, read now; undefined when the config has no `secrets`.
 * Problems name the field and the file or variable, never what is in it.
 */
export function openWorkerSealer(secrets: WorkerSecretsConfig | undefined, base: string, env: NodeJS.ProcessEnv, problems: ConfigProblem[]): SecretSealer | undefined {
  if (secrets === undefined) return undefined;
  const readFile = (path: string, file: string): Buffer | undefined => {
    const absolute = resolve(base, file);
    try {
      return parseKek(readFileSync(absolute), absolute);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      problems.push({ path, expected: error instanceof SealedSecretError ? `a key-encryption key of ${KEK_EXPECTATION} in ${absolute}` : `a readable file (${code ?? 'unreadable'}: ${absolute})` });
      return undefined;
    }
  };
  let active: Buffer | undefined;
  if (secrets.kekFile !== undefined) {
    active = readFile('secrets.kekFile', secrets.kekFile);
  } else if (secrets.kekEnv !== undefined) {
    try {
      active = kekFromEnvironment(secrets.kekEnv, env[secrets.kekEnv]);
    } catch {
      problems.push({ path: 'secrets.kekEnv', expected: `the environment variable ${secrets.kekEnv} to hold a key-encryption key of ${KEK_EXPECTATION}` });
    }
  }
  const previous = secrets.previousKekFiles.map((file, index) => readFile(`secrets.previousKekFiles[${index}]`, file));
  if (!active || previous.some((key) => key === undefined)) return undefined;
  return new SecretSealer(new LocalKeyEncryptionKeys(active, previous as Buffer[]));
}

/**
 * Whether a token as read (file content or variable) can be opened later: undefined when it is
 * not sealed or is sealed under a configured KEK, otherwise what is expected instead. It only
 * checks the header, so that a typo is a config error at start; opening is at each request.
 */
export function sealedTokenProblem(token: string, where: string, sealer: SecretSealer | undefined): string | undefined {
  if (!isSealedValue(token)) return undefined;
  if (!sealer) return `secrets.kekFile or secrets.kekEnv to be set, since ${where} holds a sealed token`;
  let kekId: string;
  try {
    kekId = sealedHeader(token).kekId;
  } catch (error) {
    return `a well-formed sealed token in ${where} (${(error as Error).message})`;
  }
  return sealer.kekIds.includes(kekId) ? undefined : `a token sealed under a configured key-encryption key (${sealer.kekIds.join(', ')}); ${where} is sealed under ${kekId}`;
}
