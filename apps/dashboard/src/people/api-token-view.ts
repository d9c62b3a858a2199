import type { Schemas } from '../api/client';

export type ApiToken = Schemas['ApiTokenResponse'];
export type CreatedApiToken = Schemas['CreatedApiTokenResponse'];

export type ApiTokenState = 'active' | 'expired' | 'revoked';

/** Revoked outranks expired: the revocation is what someone did about it. */
export function apiTokenState(token: Pick<ApiToken, 'revokedAt' | 'expiresAt'>, nowMs: number): ApiTokenState {
  if (token.revokedAt !== null) return 'revoked';
  return token.expiresAt !== null && Date.parse(token.expiresAt) <= nowMs ? 'expired' : 'active';
}

export const API_TOKEN_STATE_LABEL: Readonly<Record<ApiTokenState, string>> = { active: 'Active', expired: 'Expired', revoked: 'Revoked' };
export const API_TOKEN_STATE_TONE: Readonly<Record<ApiTokenState, 'good' | 'bad' | 'neutral'>> = { active: 'good', expired: 'bad', revoked: 'neutral' };

/** The API's bounds for `expiresInDays`. */
export const MIN_EXPIRY_DAYS = 1;
export const MAX_EXPIRY_DAYS = 365;
export const EXPIRY_PRESET_DAYS: readonly number[] = [7, 30, 90, 365];
export const DEFAULT_EXPIRY_DAYS = 30;

/** The number of days typed, when it is a whole number the API accepts; null otherwise. */
export function parseExpiryDays(text: string): number | null {
  if (!/^\s*\d+\s*$/.test(text)) return null;
  const days = Number(text);
  return days >= MIN_EXPIRY_DAYS && days <= MAX_EXPIRY_DAYS ? days : null;
}

/** The command a new token's holder can try it with: the jobs list, which needs jobs:read. */
export function curlExample(origin: string, token: string): string {
  return `curl -H "Authorization: Bearer ${token}" ${origin}/api/v1/jobs`;
}

/** The created token as the list shows it: the secret itself left behind, so only the dialog holds it. */
export function withoutSecret(created: CreatedApiToken): ApiToken {
  const { token: _secret, ...listed } = created;
  return listed;
}
