import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { APP_CONFIG, type AppConfig } from '../config/app-config';

const COOKIE_NAME = 'airlock_session';
/**
 * Over https the cookie takes the `__Host-` prefix: browsers then accept it only with
 * Secure, Path=/ and no Domain, so no other host (a sibling subdomain) can set or shadow it.
 */
const SECURE_COOKIE_NAME = `__Host-${COOKIE_NAME}`;
const SESSION_SECRET = /^[A-Za-z0-9_-]{43}$/;
/** Separates the CSRF token from any other value ever derived from a session secret. */
const CSRF_DERIVATION_LABEL = 'airlock/v1/csrf-token';
/** Hosts that mean "every interface": no browser reaches the control plane by that name. */
const WILDCARD_HOSTS: ReadonlySet<string> = new Set(['0.0.0.0', '::', '[::]']);

/** A fresh session secret: 32 random bytes as 43 base64url characters. Only its SHA-256 is stored. */
export function generateSessionSecret(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * The session's CSRF token: an HMAC of a fixed label keyed by the session secret. It needs
 * no column, the browser can fetch it again after a reload, and knowing it reveals nothing
 * of the secret, which only the HttpOnly cookie holds.
 */
export function csrfTokenFor(sessionSecret: string): string {
  return createHmac('sha256', sessionSecret).update(CSRF_DERIVATION_LABEL, 'utf8').digest('base64url');
}

/** Whether `presented` is the session's CSRF token, compared in constant time. */
export function isCsrfTokenOf(sessionSecret: string, presented: string): boolean {
  const expected = Buffer.from(csrfTokenFor(sessionSecret), 'utf8');
  const given = Buffer.from(presented, 'utf8');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The slice of the HTTP server this reads: the port it listens on. */
interface ListeningServer {
  address(): { port: number } | string | null;
}

/**
 * The session cookie as this control plane writes and reads it, which depends on its public
 * URL: over https `__Host-airlock_session` and Secure, otherwise `airlock_session`. Always
 * HttpOnly (scripts never see the secret), SameSite=Lax (other sites' requests do not carry
 * it, but a link to the dashboard still opens logged in) and Path=/.
 */
@Injectable()
export class SessionCookies implements OnModuleInit {
  private readonly logger = new Logger(SessionCookies.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  onModuleInit(): void {
    if (this.config.publicUrl === undefined && WILDCARD_HOSTS.has(this.config.http.host)) {
      // Browsers send the name they reached it by as Origin, never 0.0.0.0: every dashboard write would be refused.
      this.logger.warn({ event: 'public_url_unset', message: 'AIRLOCK_PUBLIC_URL is not set while listening on every interface: set it to the URL browsers use, or the dashboard cannot change anything (CSRF_REJECTED)' });
    }
  }

  /** The origin browsers reach the control plane at, as they send it in the Origin header. */
  publicOrigin(): string {
    if (this.config.publicUrl) return this.config.publicUrl;
    const server = this.adapterHost.httpAdapter?.getHttpServer() as ListeningServer | undefined;
    const address = server?.address();
    const port = address && typeof address === 'object' ? address.port : this.config.http.port;
    const host = this.config.http.host.includes(':') ? `[${this.config.http.host}]` : this.config.http.host;
    return new URL(`http://${host}:${port}`).origin;
  }

  name(): string {
    return this.isSecure() ? SECURE_COOKIE_NAME : COOKIE_NAME;
  }

  /** The session secret the request's cookie holds, or null when it holds none of the right shape. */
  read(headers: Record<string, string | string[] | undefined>): string | null {
    const header = headers['cookie'];
    if (typeof header !== 'string') return null;
    const name = this.name();
    for (const pair of header.split(';')) {
      const separator = pair.indexOf('=');
      if (separator < 0 || pair.slice(0, separator).trim() !== name) continue;
      const value = pair.slice(separator + 1).trim();
      if (SESSION_SECRET.test(value)) return value;
    }
    return null;
  }

  /** The Set-Cookie value that hands a session's secret to the browser until the session's end. */
  issue(sessionSecret: string, expiresAt: Date, now: Date): string {
    const maxAgeSeconds = Math.max(0, Math.floor((expiresAt.getTime() - now.getTime()) / 1_000));
    return this.serialize(sessionSecret, maxAgeSeconds);
  }

  /** The Set-Cookie value that makes the browser drop the cookie. */
  clear(): string {
    return this.serialize('', 0);
  }

  private serialize(value: string, maxAgeSeconds: number): string {
    return [`${this.name()}=${value}`, 'Path=/', `Max-Age=${maxAgeSeconds}`, 'HttpOnly', 'SameSite=Lax', ...(this.isSecure() ? ['Secure'] : [])].join('; ');
  }

  private isSecure(): boolean {
    return this.publicOrigin().startsWith('https:');
  }
}
