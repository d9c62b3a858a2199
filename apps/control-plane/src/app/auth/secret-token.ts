import { createHash, randomBytes } from 'node:crypto';

/** Prefix of API tokens ("alt_" + 43 base64url characters). */
export const API_TOKEN_PREFIX = 'alt_';
/** Prefix of worker enrollment tokens ("aet_" + 43 base64url characters). */
export const ENROLLMENT_TOKEN_PREFIX = 'aet_';

/** A fresh bearer secret: the prefix and 32 random bytes as 43 base64url characters. */
export function generateSecretToken(prefix: string): string {
  return prefix + randomBytes(32).toString('base64url');
}

/** What is stored instead of a token: its SHA-256 as lowercase hex. */
export function hashSecretToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
