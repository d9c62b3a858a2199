import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataAccess, type AuditActor } from '@airlock/data-access';
import { FirstStartService } from '../bootstrap/first-start.service';
import { CLOCK, type Clock } from '../common/clock';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { EmailTakenError } from '../people/email-taken.error';
import { AccountDisabledError } from './account-disabled.error';
import { AccountLockedError } from './account-locked.error';
import { AlreadyBootstrappedError } from './already-bootstrapped.error';
import { InvalidBootstrapTokenError } from './invalid-bootstrap-token.error';
import { InvalidCredentialsError } from './invalid-credentials.error';
import { InvalidCurrentPasswordError } from './invalid-current-password.error';
import { PasswordHasher } from './password-hasher';
import { sourceIpOf, type AuthenticatedRequest, type Principal } from './principal';
import { hashSecretToken } from './secret-token';
import { SessionService, type OpenedSession } from './session.service';
import { UnauthenticatedError } from './unauthenticated.error';

/** Where the login page's single sign-on button leads (OidcController). */
export const OIDC_LOGIN_PATH = '/api/v1/auth/oidc/login';

/** Wrong passwords in a row that lock an account, and for how long (kept in the database, so across replicas). */
export const ACCOUNT_LOCKOUT = { maxFailures: 5, lockMs: 15 * 60_000 } as const;

/** The login providers the login page offers. */
export interface AuthProviders {
  readonly password: true;
  /** The identity provider's button, when single sign-on is configured (AIRLOCK_OIDC_ISSUER); null otherwise. */
  readonly oidc: { readonly displayName: string; readonly loginUrl: string } | null;
  readonly needsBootstrap: boolean;
}

/**
 * Logins by email and password, the first admin made with the bootstrap token, and a
 * person's own password change. Logs name accounts by id only: never an email that failed,
 * a password, a token or a session secret.
 */
@Injectable()
export class AuthService {
  private readonly logger = new Logger('Auth');
  /** Once the default tenant has a person it always will (people are disabled, never deleted). */
  private defaultTenantBootstrapped = false;

  constructor(
    private readonly data: DataAccess,
    private readonly passwords: PasswordHasher,
    private readonly sessions: SessionService,
    private readonly firstStart: FirstStartService,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * What the login page offers. Single sign-on is listed whenever it is configured, also while
   * the identity provider cannot be reached: its login then says so (OIDC_UNAVAILABLE).
   */
  async providers(): Promise<AuthProviders> {
    if (!this.defaultTenantBootstrapped) this.defaultTenantBootstrapped = await this.data.users.anyForTenant(this.firstStart.defaultTenantId());
    const oidc = this.config.oidc ? { displayName: this.config.oidc.displayName, loginUrl: OIDC_LOGIN_PATH } : null;
    return { password: true, oidc, needsBootstrap: !this.defaultTenantBootstrapped };
  }

  /**
   * Checks the email and password and opens a session. An unknown email and a wrong password
   * answer alike, and take alike (an unknown email is checked against a dummy hash). A locked
   * account is refused whatever the password; the fifth wrong password in a row locks it.
   */
  async login(email: string, password: string, request: AuthenticatedRequest): Promise<OpenedSession> {
    const user = await this.data.users.findCredentialsByEmail(email);
    if (!user || user.passwordHash === null) {
      await this.passwords.verifyDummy(password);
      this.logger.log({ event: 'login_failed', reason: 'unknown_account' });
      throw new InvalidCredentialsError();
    }
    const now = this.clock.now();
    if (user.lockedUntil && user.lockedUntil.getTime() > now.getTime()) {
      this.logger.log({ event: 'login_refused', reason: 'locked', userId: user.id });
      throw new AccountLockedError(user.lockedUntil, now);
    }
    if (!(await this.passwords.verify(user.passwordHash, password))) {
      await this.countWrongPassword(user.id, 'login_failed');
      throw new InvalidCredentialsError();
    }
    if (user.disabledAt) {
      this.logger.log({ event: 'login_refused', reason: 'disabled', userId: user.id });
      throw new AccountDisabledError();
    }
    await this.data.users.recordSuccessfulLogin(user.id, this.clock.now());
    this.logger.log({ event: 'login_succeeded', userId: user.id, tenantId: user.tenantId });
    return this.sessions.open(user, 'PASSWORD', request);
  }

  /**
   * Makes the first admin of the bootstrap token's tenant, audited as user.created with the
   * token as actor, and logs them in. Works only while the tenant has no person at all.
   */
  async bootstrap(input: { bootstrapToken: string; email: string; displayName: string; password: string }, request: AuthenticatedRequest): Promise<OpenedSession> {
    const grant = await this.data.apiTokens.authenticate(hashSecretToken(input.bootstrapToken), this.clock.now());
    if (!grant || !grant.scopes.includes('people:write')) throw new InvalidBootstrapTokenError();
    // Cheap early answer; the transaction below checks again under the tenant's lock.
    if (await this.data.users.anyForTenant(grant.tenantId)) throw new AlreadyBootstrappedError();
    const passwordHash = await this.passwords.hash(input.password);
    const actor: AuditActor = { kind: 'API_TOKEN', id: grant.tokenId, name: grant.name, sourceIp: sourceIpOf(request) };
    const now = this.clock.now();
    const outcome = await this.data.users.createFirstAdmin({ tenantId: grant.tenantId, email: input.email, displayName: input.displayName, passwordHash, actor, now });
    if (outcome.kind === 'ALREADY_BOOTSTRAPPED') throw new AlreadyBootstrappedError();
    if (outcome.kind === 'EMAIL_TAKEN') throw new EmailTakenError();
    const { user } = outcome;
    this.logger.log({ event: 'first_admin_created', userId: user.id, tenantId: user.tenantId, tokenId: grant.tokenId });
    await this.data.users.recordSuccessfulLogin(user.id, now);
    return this.sessions.open(user, 'PASSWORD', request);
  }

  /**
   * Changes the logged-in person's password once their current one is proven, and ends
   * their other sessions. A wrong current password counts towards the account's lock, so a
   * stolen session cannot be used to guess it.
   */
  async changePassword(principal: Principal, actor: AuditActor, currentPassword: string, newPassword: string): Promise<void> {
    if (principal.kind !== 'USER' || principal.sessionId === null) throw new UnauthenticatedError();
    const user = await this.data.users.findCredentials(principal.tenantId, principal.id);
    if (!user) throw new UnauthenticatedError();
    const now = this.clock.now();
    if (user.lockedUntil && user.lockedUntil.getTime() > now.getTime()) throw new AccountLockedError(user.lockedUntil, now);
    if (user.passwordHash === null) {
      await this.passwords.verifyDummy(currentPassword);
      throw new InvalidCurrentPasswordError();
    }
    if (!(await this.passwords.verify(user.passwordHash, currentPassword))) {
      await this.countWrongPassword(user.id, 'password_change_failed');
      throw new InvalidCurrentPasswordError();
    }
    const passwordHash = await this.passwords.hash(newPassword);
    const { revokedSessions } = await this.data.users.changePasswordAudited({
      tenantId: principal.tenantId,
      userId: user.id,
      passwordHash,
      keepSessionId: principal.sessionId,
      actor,
      now: this.clock.now(),
    });
    this.logger.log({ event: 'password_changed', userId: user.id, revokedSessions });
  }

  /** Ends the request's session; returns the Set-Cookie value that drops the cookie. */
  async logout(principal: Principal): Promise<string> {
    if (principal.sessionId === null) throw new UnauthenticatedError();
    const clearCookie = await this.sessions.close(principal.sessionId);
    this.logger.log({ event: 'logout', userId: principal.id });
    return clearCookie;
  }

  /** Counts a wrong password and throws ACCOUNT_LOCKED when it was the one that locked the account. */
  private async countWrongPassword(userId: string, event: string): Promise<void> {
    const now = this.clock.now();
    const lockedUntil = await this.data.users.recordFailedLogin(userId, now, ACCOUNT_LOCKOUT);
    this.logger.log({ event, reason: 'wrong_password', userId });
    if (lockedUntil) {
      this.logger.warn({ event: 'account_locked', userId, lockedUntil: lockedUntil.toISOString() });
      throw new AccountLockedError(lockedUntil, now);
    }
  }
}
