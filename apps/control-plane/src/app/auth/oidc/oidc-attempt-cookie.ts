import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, type OidcConfig } from '../../config/app-config';
import { SessionCookies } from '../session-cookie';
import { OidcNotConfiguredError } from './oidc-not-configured.error';

/** How long a browser has between leaving for the identity provider and coming back. */
export const OIDC_ATTEMPT_LIFETIME_MS = 10 * 60_000;
/** The cookie is sent to the single sign-on routes only, never to the rest of the API or the dashboard. */
export const OIDC_ATTEMPT_COOKIE_PATH = '/api/v1/auth/oidc';
/**
 * How far in the future an attempt's start may lie: begun on one replica and completed on
 * another within moments (a provider that remembers the person answers at once), it meets
 * the small difference between the two machines' clocks.
 */
const CLOCK_SKEW_ALLOWANCE_MS = 60_000;
const COOKIE_NAME = 'airlock_oidc_attempt';
/**
 * Over https `__Secure-`: browsers then accept it only with Secure. (`__Host-` would also
 * demand Path=/, and this cookie is scoped to the single sign-on routes.)
 */
const SECURE_COOKIE_NAME = `__Secure-${COOKIE_NAME}`;
/** Separates this key from anything else ever derived from the client secret. */
const KEY_DERIVATION_LABEL = 'airlock/v1/oidc-attempt-cookie';
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** A sealed attempt is a few hundred characters; anything much longer is not one of ours. */
const MAX_SEALED_CHARS = 2_048;
const SEALED_VALUE = /^[A-Za-z0-9_-]+$/;
/** The longest `next` path an attempt keeps (the login query refuses longer ones). */
export const MAX_NEXT_PATH_LENGTH = 512;

/** One sign-in attempt: what the callback must match, and where the person goes afterwards. */
export interface OidcAttempt {
  readonly state: string;
  readonly nonce: string;
  readonly codeVerifier: string;
  /** A path of this site to land on after signing in; null: the dashboard's start page. */
  readonly next: string | null;
  /** When the attempt started (clock ms). */
  readonly startedAt: number;
}

function isAttempt(value: unknown): value is OidcAttempt {
  if (typeof value !== 'object' || value === null) return false;
  const fields = value as Record<string, unknown>;
  return (
    typeof fields['state'] === 'string' &&
    typeof fields['nonce'] === 'string' &&
    typeof fields['codeVerifier'] === 'string' &&
    (fields['next'] === null || (typeof fields['next'] === 'string' && fields['next'].length <= MAX_NEXT_PATH_LENGTH)) &&
    typeof fields['startedAt'] === 'number'
  );
}

/**
 * The sign-in attempt a browser carries to the identity provider and back, in a cookie
 * sealed with AES-256-GCM: it cannot be read (the PKCE verifier and nonce stay secret even
 * from the browser's other scripts and extensions that read cookies) nor changed without the
 * key. The key is derived (HKDF-SHA256) from the client secret, which every replica already
 * holds: an attempt started on one replica completes on any other, with no table and no new
 * setting. Rotating the client secret only fails the attempts under way (10 minutes at most);
 * and whoever knows the client secret can forge no more than the identity provider itself can,
 * since the provider already vouches for who signs in. HttpOnly, SameSite=Lax (the callback is
 * a top-level GET from the provider's site, which Lax lets carry it), Path=/api/v1/auth/oidc,
 * Max-Age 10 minutes, Secure with the `__Secure-` prefix when the public URL is https.
 */
@Injectable()
export class OidcAttemptCookies {
  private key: Buffer | null = null;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly sessionCookies: SessionCookies,
  ) {}

  name(): string {
    return this.isSecure() ? SECURE_COOKIE_NAME : COOKIE_NAME;
  }

  /** The Set-Cookie value that hands the attempt to the browser. */
  issue(attempt: OidcAttempt): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.sealingKey(), iv);
    cipher.setAAD(Buffer.from(this.name(), 'utf8'));
    const sealed = Buffer.concat([iv, cipher.update(JSON.stringify(attempt), 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return this.serialize(sealed.toString('base64url'), Math.floor(OIDC_ATTEMPT_LIFETIME_MS / 1_000));
  }

  /**
   * The attempt the request's cookie holds, or null when there is none, or it was sealed
   * with another key, changed, or started more than OIDC_ATTEMPT_LIFETIME_MS before `now`
   * (or, beyond what clocks may differ by, after it).
   */
  read(headers: Record<string, string | string[] | undefined>, now: Date): OidcAttempt | null {
    const header = headers['cookie'];
    if (typeof header !== 'string') return null;
    const name = this.name();
    for (const pair of header.split(';')) {
      const separator = pair.indexOf('=');
      if (separator < 0 || pair.slice(0, separator).trim() !== name) continue;
      const attempt = this.unseal(pair.slice(separator + 1).trim());
      if (attempt && attempt.startedAt <= now.getTime() + CLOCK_SKEW_ALLOWANCE_MS && now.getTime() - attempt.startedAt < OIDC_ATTEMPT_LIFETIME_MS) return attempt;
    }
    return null;
  }

  /** The Set-Cookie value that makes the browser drop the attempt: each is used once. */
  clear(): string {
    return this.serialize('', 0);
  }

  private unseal(value: string): OidcAttempt | null {
    if (value.length > MAX_SEALED_CHARS || !SEALED_VALUE.test(value)) return null;
    const sealed = Buffer.from(value, 'base64url');
    if (sealed.length <= IV_BYTES + TAG_BYTES) return null;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.sealingKey(), sealed.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(this.name(), 'utf8'));
      decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
      const plain = Buffer.concat([decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)), decipher.final()]);
      const parsed: unknown = JSON.parse(plain.toString('utf8'));
      return isAttempt(parsed) ? parsed : null;
    } catch {
      // A wrong tag (changed, or sealed under another client secret) or not our JSON: no attempt.
      return null;
    }
  }

  private sealingKey(): Buffer {
    if (this.key) return this.key;
    const oidc: OidcConfig | undefined = this.config.oidc;
    if (!oidc) throw new OidcNotConfiguredError();
    // The issuer and client id are in the derivation, so an attempt never carries over to another provider setup.
    const info = `${KEY_DERIVATION_LABEL}\u0000${oidc.issuer}\u0000${oidc.clientId}`;
    this.key = Buffer.from(hkdfSync('sha256', oidc.clientSecret, Buffer.alloc(0), info, 32));
    return this.key;
  }

  private serialize(value: string, maxAgeSeconds: number): string {
    return [`${this.name()}=${value}`, `Path=${OIDC_ATTEMPT_COOKIE_PATH}`, `Max-Age=${maxAgeSeconds}`, 'HttpOnly', 'SameSite=Lax', ...(this.isSecure() ? ['Secure'] : [])].join('; ');
  }

  private isSecure(): boolean {
    return this.sessionCookies.publicOrigin().startsWith('https:');
  }
}
