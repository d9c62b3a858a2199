import { Inject, Injectable } from '@nestjs/common';
import { DataAccess, type Role, type SessionGrant, type SessionMethod } from '@airlock/data-access';
import { CLOCK, type Clock } from '../common/clock';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { ROLE_SCOPES, type Scope } from './access';
import { CsrfRejectedError } from './csrf-rejected.error';
import { sourceIpOf, type AuthenticatedRequest, type Principal } from './principal';
import { hashSecretToken } from './secret-token';
import { csrfTokenFor, generateSessionSecret, isCsrfTokenOf, SessionCookies } from './session-cookie';

/** Methods that change nothing, by HTTP's rules and this API's: they need no CSRF token. */
const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/** A live session as the dashboard sees it (SessionResponse). */
export interface SessionDescription {
  readonly user: { readonly id: string; readonly email: string; readonly displayName: string; readonly role: Role };
  readonly scopes: readonly Scope[];
  readonly csrfToken: string;
  readonly expiresAt: Date;
}

/** A session just opened: what to answer and the Set-Cookie header that hands it over. */
export interface OpenedSession {
  readonly description: SessionDescription;
  readonly setCookie: string;
}

/** A request authenticated by its session cookie. */
export interface CookieAuthentication {
  readonly principal: Principal;
  readonly grant: SessionGrant;
  readonly secret: string;
}

/** The person a session is opened for. */
export interface SessionUser {
  readonly id: string;
  readonly tenantId: string;
  readonly email: string;
  readonly displayName: string;
  readonly role: Role;
}

/**
 * Dashboard sessions: opened by a login, carried by an HttpOnly cookie holding a random
 * secret (the database keeps its SHA-256), ended by logout, by their absolute lifetime
 * (AIRLOCK_SESSION_TTL), by idleness (AIRLOCK_SESSION_IDLE_TIMEOUT), by disabling the person
 * or by a password change.
 */
@Injectable()
export class SessionService {
  constructor(
    private readonly data: DataAccess,
    private readonly cookies: SessionCookies,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async open(user: SessionUser, method: SessionMethod, request: AuthenticatedRequest): Promise<OpenedSession> {
    const secret = generateSessionSecret();
    const now = this.clock.now();
    const userAgent = request.headers['user-agent'];
    const session = await this.data.sessions.create({
      tenantId: user.tenantId,
      userId: user.id,
      tokenHash: hashSecretToken(secret),
      method,
      now,
      expiresAt: new Date(now.getTime() + this.config.sessions.ttlMs),
      sourceIp: sourceIpOf(request),
      userAgent: typeof userAgent === 'string' ? userAgent : null,
    });
    return {
      description: describe(
        { sessionId: session.id, tenantId: user.tenantId, userId: user.id, email: user.email, displayName: user.displayName, role: user.role, expiresAt: session.expiresAt },
        secret,
      ),
      setCookie: this.cookies.issue(secret, session.expiresAt, now),
    };
  }

  /** The request's session, when its cookie names a live one. */
  async authenticate(request: AuthenticatedRequest): Promise<CookieAuthentication | null> {
    const secret = this.cookies.read(request.headers);
    if (!secret) return null;
    const grant = await this.data.sessions.authenticate(hashSecretToken(secret), this.clock.now(), this.config.sessions.idleTimeoutMs);
    if (!grant) return null;
    const principal: Principal = {
      kind: 'USER',
      id: grant.userId,
      name: grant.displayName,
      tenantId: grant.tenantId,
      role: grant.role,
      scopes: ROLE_SCOPES[grant.role],
      sessionId: grant.sessionId,
    };
    return { principal, grant, secret };
  }

  /** What the dashboard learns of the request's session: its person, scopes, CSRF token and end. */
  async current(request: AuthenticatedRequest): Promise<SessionDescription | null> {
    const authenticated = await this.authenticate(request);
    return authenticated ? describe(authenticated.grant, authenticated.secret) : null;
  }

  /**
   * Refuses a cookie-authenticated request that changes something unless it carries the
   * session's CSRF token and, when it names an Origin, comes from the public URL's origin.
   */
  checkCsrf(request: AuthenticatedRequest, secret: string): void {
    if (SAFE_METHODS.has((request.method ?? 'GET').toUpperCase())) return;
    const origin = request.headers['origin'];
    if (origin !== undefined && origin !== this.cookies.publicOrigin()) throw new CsrfRejectedError('the request comes from another origin');
    const token = request.headers['x-csrf-token'];
    if (typeof token !== 'string' || !isCsrfTokenOf(secret, token)) throw new CsrfRejectedError('the X-CSRF-Token header is missing or wrong');
  }

  async close(sessionId: string): Promise<string> {
    await this.data.sessions.revoke(sessionId, this.clock.now());
    return this.cookies.clear();
  }
}

function describe(grant: SessionGrant, secret: string): SessionDescription {
  return {
    user: { id: grant.userId, email: grant.email, displayName: grant.displayName, role: grant.role },
    scopes: ROLE_SCOPES[grant.role],
    csrfToken: csrfTokenFor(secret),
    expiresAt: grant.expiresAt,
  };
}
