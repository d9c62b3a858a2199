import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { KEK_BYTES, LocalKeyEncryptionKeys } from './key-encryption-keys';
import { InvalidKekError } from './sealed-secret.errors';

/** What a KEK file or variable must hold, for messages. */
export const KEK_EXPECTATION = `${KEK_BYTES} random bytes: raw, or as 64 hex characters, or as base64 (e.g. \`openssl rand -hex 32\`)`;

/**
 * Decodes a KEK as written by an operator: exactly 32 raw (binary) bytes, or (surrounding whitespace
 * removed) 64 hex characters or the base64/base64url of 32 bytes. `where` names the file or
 * variable in the error, which never quotes the content.
 */
export function parseKek(content: Buffer, where: string): Buffer {
  // Raw bytes are told from text by content: 32 random bytes are all printable with odds of
  // about 1 in 10^13, while a 32-character password is not a key and must not pass for one.
  if (content.length === KEK_BYTES && !/^[\x20-\x7e\t\r\n]*$/.test(content.toString('latin1'))) return Buffer.from(content);
  const text = content.toString('latin1').trim();
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(text)) {
    const key = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (key.length === KEK_BYTES) return key;
  }
  throw new InvalidKekError(`${where}: expected a key-encryption key of ${KEK_EXPECTATION}`);
}

/** Reads a KEK file; errors name the file and what it should hold, never its content. */
export function readKekFile(file: string, label = file): Buffer {
  let content: Buffer;
  try {
    content = readFileSync(file);
  } catch (error) {
    throw new InvalidKekError(`${label}: expected a readable key-encryption key file (${(error as NodeJS.ErrnoException).code ?? 'unreadable'}: ${file})`);
  }
  return parseKek(content, label === file ? file : `${label} (${file})`);
}

/** A KEK from an environment variable's value (hex or base64); errors name the variable only. */
export function kekFromEnvironment(variable: string, value: string | undefined): Buffer {
  if (value === undefined || value === '') throw new InvalidKekError(`${variable}: expected a key-encryption key of ${KEK_EXPECTATION}, but it is not set`);
  return parseKek(Buffer.from(value, 'latin1'), variable);
}

/** The KEKs of a deployment: the active one's file, and the files of the ones rotated out that still unseal. */
export function fileKeyEncryptionKeys(activeFile: string, previousFiles: readonly string[] = []): LocalKeyEncryptionKeys {
  return new LocalKeyEncryptionKeys(
    readKekFile(activeFile),
    previousFiles.map((file) => readKekFile(file)),
  );
}

/**
 * Returns the KEK in `file`, first creating it (32 random bytes as hex, mode 0600) if there is
 * none. Several processes starting together agree on one key: the key is written to a file of
 * its own and then linked into place, which fails for all but the first.
 */
export function ensureKekFile(file: string): { readonly key: Buffer; readonly created: boolean } {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const candidate = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(candidate, `${randomBytes(KEK_BYTES).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  let created = true;
  try {
    linkSync(candidate, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    created = false;
  } finally {
    unlinkSync(candidate);
  }
  return { key: readKekFile(file), created };
}
