import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataAccess, type OidcAccount } from '@airlock/data-access';
import { FirstStartService } from '../../bootstrap/first-start.service';
import { CLOCK, type Clock } from '../../common/clock';
import { APP_CONFIG, type AppConfig, type OidcConfig } from '../../config/app-config';
import { AccountDisabledError } from '../account-disabled.error';
import { LoginRateLimiter } from '../login-rate-limiter';
import { sourceIpOf, type AuthenticatedRequest } from '../principal';
import { SessionService } from '../session.service';
import { OidcAccountLinkedElsewhereError } from './oidc-account-linked-elsewhere.error';
import { OidcAttemptCookies } from './oidc-attempt-cookie';
import { OidcClient } from './oidc-client';
import { OidcFailedError } from './oidc-failed.error';
import { parseOidcClaims, type OidcSignIn } from './oidc-identity';
import { OidcNoVerifiedEmailError } from './oidc-no-verified-email.error';
import { OidcNotConfiguredError } from './oidc-not-configured.error';
import { OidcStateMismatchError } from './oidc-state-mismatch.error';
import { OidcUnknownUserError } from './oidc-unknown-user.error';

/** Where a sign-in lands when the login page named no page to return to. */
const DEFAULT_LANDING_PATH = '/';
/**
 * Matching a sign-in to a person can lose a race with a concurrent sign-in of the same person
 * (both link, or both create): the loser matches again and finds what the winner made.
 */
const MAX_MATCH_ROUNDS = 2;

/** Where the browser goes next, and the cookies it gets on the way. */
export interface OidcRedirect {
  readonly location: string;
  readonly setCookies: readonly string[];
}

/** A fresh random value for state, nonce or the PKCE verifier: 32 bytes, 43 base64url characters. */
function randomCheckValue(): string {
  return randomBytes(32).toString('base64url');
}

/** Compares the callback's state with the attempt's in constant time (hashes first, so lengths may differ). */
function sameState(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * Single sign-on with the organisation's OpenID Connect identity provider (docs/access.md):
 * starts an attempt (state, nonce, PKCE verifier in a sealed cookie) and completes it at the
 * callback, matching the person by their identity at the provider, else by a verified email
 * (and linking them), else creating them when AIRLOCK_OIDC_NEW_USER_ROLE allows. A session
 * then opens exactly as a password login's does. Logs name accounts by id; never a code, a
 * token, a verifier, the client secret or an email that failed.
 */
@Injectable()
export class OidcLoginService {
  private readonly logger = new Logger('Oidc');
  /**
   * Callbacks per source address, apart from the login budget so that a sign-in costs one
   * attempt of it: each callback with a live attempt asks the identity provider to redeem a
   * code, so replaying one must not make the control plane call the provider without bound.
   */
  private readonly callbackLimiter: LoginRateLimiter;

  constructor(
    private readonly data: DataAccess,
    private readonly client: OidcClient,
    private readonly attempts: OidcAttemptCookies,
    private readonly sessions: SessionService,
    private readonly firstStart: FirstStartService,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.callbackLimiter = new LoginRateLimiter(clock);
  }

  /** Starts a sign-in: the identity provider's authorization URL, and the cookie that remembers the attempt. */
  async begin(next: string | undefined): Promise<OidcRedirect> {
    this.settings();
    const attempt = { state: randomCheckValue(), nonce: randomCheckValue(), codeVerifier: randomCheckValue(), next: next ?? null, startedAt: this.clock.now().getTime() };
    const authorizationUrl = await this.client.authorizationUrl(attempt);
    return { location: authorizationUrl.href, setCookies: [this.attempts.issue(attempt)] };
  }

  /**
   * Completes a sign-in at the callback: checks the attempt, redeems the code, matches the
   * person, opens their session and drops the attempt. `callbackQuery` is the query string.
   */
  async complete(callbackQuery: URLSearchParams, request: AuthenticatedRequest): Promise<OidcRedirect> {
    const oidc = this.settings();
    this.callbackLimiter.admit(sourceIpOf(request));
    const attempt = this.attempts.read(request.headers, this.clock.now());
    if (!attempt) throw new OidcStateMismatchError('no sign-in attempt is under way in this browser, or it is older than 10 minutes');
    const state = callbackQuery.get('state');
    if (state === null || !sameState(state, attempt.state)) throw new OidcStateMismatchError('the state differs from the attempt\'s');
    const providerError = callbackQuery.get('error');
    if (providerError !== null) throw new OidcFailedError(`the identity provider answered error=${/^[\w.-]{1,64}$/.test(providerError) ? providerError : 'unreadable'}`);
    const parsed = parseOidcClaims(await this.client.redeem(callbackQuery, attempt));
    if (!parsed.ok) throw new OidcFailedError(parsed.reason);
    const user = await this.match(parsed.signIn, oidc, sourceIpOf(request));
    if (user.disabledAt) {
      this.logger.log({ event: 'oidc_login_refused', reason: 'disabled', userId: user.id });
      throw new AccountDisabledError();
    }
    await this.data.users.recordOidcLogin(user.id, this.clock.now());
    const opened = await this.sessions.open(user, 'OIDC', request);
    this.logger.log({ event: 'login_succeeded', method: 'oidc', userId: user.id, tenantId: user.tenantId });
    return { location: attempt.next ?? DEFAULT_LANDING_PATH, setCookies: [opened.setCookie, this.attempts.clear()] };
  }

  /** The Set-Cookie value that drops the attempt, for answers that end it without a session. */
  clearAttempt(): string | null {
    return this.config.oidc ? this.attempts.clear() : null;
  }

  private settings(): OidcConfig {
    if (!this.config.oidc) throw new OidcNotConfiguredError();
    return this.config.oidc;
  }

  /** The person this sign-in is: by identity, else by verified email (then linked), else new when allowed. */
  private async match(signIn: OidcSignIn, oidc: OidcConfig, sourceIp: string | null): Promise<OidcAccount> {
    const identity = { issuer: signIn.issuer, subject: signIn.subject };
    for (let round = 1; round <= MAX_MATCH_ROUNDS; round += 1) {
      const linked = await this.data.users.findByOidcIdentity(identity);
      if (linked) return linked;
      // An unverified email could be anyone's: it neither links nor creates.
      if (signIn.verifiedEmail === null) throw new OidcNoVerifiedEmailError();
      const byEmail = await this.data.users.findOidcAccountByEmail(signIn.verifiedEmail);
      if (byEmail) {
        if (byEmail.oidcIssuer !== null || byEmail.oidcSubject !== null) {
          this.logger.warn({ event: 'oidc_login_refused', reason: 'linked_to_another_identity', userId: byEmail.id });
          throw new OidcAccountLinkedElsewhereError();
        }
        // A disabled person stays unlinked: the refusal follows in complete(), and nothing changes.
        if (byEmail.disabledAt) return byEmail;
        const outcome = await this.data.users.linkOidcIdentityAudited({ userId: byEmail.id, tenantId: byEmail.tenantId, identity, sourceIp, now: this.clock.now() });
        if (outcome.kind === 'LINKED') {
          this.logger.log({ event: 'oidc_linked', userId: outcome.user.id, tenantId: outcome.user.tenantId, issuer: identity.issuer });
          return outcome.user;
        }
        continue;
      }
      if (oidc.newUserRole === null) {
        this.logger.log({ event: 'oidc_login_refused', reason: 'unknown_user' });
        throw new OidcUnknownUserError();
      }
      const created = await this.data.users.createFromOidcAudited({
        tenantId: this.firstStart.defaultTenantId(),
        email: signIn.verifiedEmail,
        displayName: signIn.displayName,
        role: oidc.newUserRole,
        identity,
        sourceIp,
        now: this.clock.now(),
      });
      if (created.kind === 'CREATED') {
        this.logger.log({ event: 'user_created', method: 'oidc', userId: created.user.id, tenantId: created.user.tenantId, role: created.user.role });
        return created.user;
      }
    }
    throw new OidcFailedError('the account changed while signing in; try again');
  }
}
