import type { Schemas } from '../api/client';

export type EnrollmentToken = Schemas['EnrollmentTokenSummaryResponse'];
export type EnrollmentTokenState = Schemas['EnrollmentTokenState'];

/**
 * The lifetimes the form offers. The API takes 60 s to one day (86,400 s): a token is meant to
 * be handed to the worker's operator and used soon, so nothing longer is offered.
 */
export const TOKEN_LIFETIMES = [
  { seconds: 900, label: '15 minutes' },
  { seconds: 3_600, label: '1 hour' },
  { seconds: 86_400, label: '24 hours (the longest allowed)' },
] as const;

export const DEFAULT_TOKEN_LIFETIME_SECONDS = 3_600;

export function isTokenLifetime(seconds: number): boolean {
  return TOKEN_LIFETIMES.some((lifetime) => lifetime.seconds === seconds);
}

/** The command the worker's operator runs on its host, as docs/worker.md gives it. */
export function enrollCommand(token: string, configFile = 'worker.yml'): string {
  return `airlock-worker enroll --config ${configFile} --token ${token}`;
}

export const TOKEN_STATE_LABEL: Readonly<Record<EnrollmentTokenState, string>> = { ACTIVE: 'Active', USED: 'Used', EXPIRED: 'Expired', REVOKED: 'Revoked' };

export const TOKEN_STATE_TONE: Readonly<Record<EnrollmentTokenState, 'good' | 'bad' | 'neutral' | 'active'>> = {
  ACTIVE: 'active',
  USED: 'good',
  EXPIRED: 'neutral',
  REVOKED: 'bad',
};

/** The create form's body: the pool only when one was typed, trimmed. */
export function createTokenBody(ttlSeconds: number, pool: string): { ttlSeconds: number; pool?: string } {
  const trimmed = pool.trim();
  return trimmed ? { ttlSeconds, pool: trimmed } : { ttlSeconds };
}
