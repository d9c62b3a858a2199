import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import * as openid from 'openid-client';
import { CLOCK, type Clock } from '../../common/clock';
import { APP_CONFIG, type AppConfig, type OidcConfig } from '../../config/app-config';
import { boundedFetch } from './bounded-fetch';
import { OidcFailedError } from './oidc-failed.error';
import { OidcNotConfiguredError } from './oidc-not-configured.error';
import { OidcUnavailableError } from './oidc-unavailable.error';

/** Each request to the identity provider (discovery, keys, token, userinfo) ends after this long. */
export const IDENTITY_PROVIDER_TIMEOUT_SECONDS = 10;
/** The largest answer read from the identity provider; discovery documents and key sets are a few KiB. */
export const MAX_IDENTITY_PROVIDER_RESPONSE_BYTES = 1_048_576;
/**
 * After a failed discovery, logins answer OIDC_UNAVAILABLE at once for this long before the
 * next attempt: a provider that is down is not asked again by every click, and each click does
 * not wait out a timeout.
 */
export const DISCOVERY_RETRY_DELAY_MS = 5_000;
/** What the control plane asks the identity provider for: who the person is, their email, their name. */
export const OIDC_SCOPE = 'openid email profile';

/** What a sign-in attempt proves it started with, checked against the identity provider's answer. */
export interface OidcChecks {
  readonly state: string;
  readonly nonce: string;
  readonly codeVerifier: string;
}

/**
 * Who the identity provider says signed in: the issuer and subject (the stable identity), and
 * the email, its verification and name as the provider gave them, not yet checked.
 */
export interface OidcClaims {
  readonly issuer: string;
  readonly subject: string;
  readonly email: unknown;
  readonly emailVerified: unknown;
  readonly name: unknown;
}

/**
 * This control plane as a client of the identity provider, through openid-client: the
 * provider's metadata is discovered on first use, not at start, so a provider that is down
 * does not stop the control plane; a failed discovery is tried again on a later login.
 * Confidential client (client_secret_basic), authorization code flow with PKCE (S256),
 * state and nonce. Logs never carry the client secret, a code, a verifier or a token.
 */
@Injectable()
export class OidcClient implements OnModuleInit {
  private readonly logger = new Logger('Oidc');
  private discovery: Promise<openid.Configuration> | null = null;
  /** When the last discovery failed (clock ms); null while none has failed since the last success. */
  private discoveryFailedAt: number | null = null;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  onModuleInit(): void {
    const oidc = this.config.oidc;
    if (!oidc) return;
    // What an operator registers at the provider; the client secret is never logged.
    this.logger.log({ event: 'oidc_configured', issuer: oidc.issuer, clientId: oidc.clientId, redirectUri: oidc.redirectUri, newUserRole: oidc.newUserRole });
  }

  /** The URL of the identity provider's authorization endpoint for one sign-in attempt. */
  async authorizationUrl(checks: OidcChecks): Promise<URL> {
    const oidc = this.settings();
    const configuration = await this.discovered(oidc);
    return openid.buildAuthorizationUrl(configuration, {
      redirect_uri: oidc.redirectUri,
      scope: OIDC_SCOPE,
      response_type: 'code',
      state: checks.state,
      nonce: checks.nonce,
      code_challenge: await openid.calculatePKCECodeChallenge(checks.codeVerifier),
      code_challenge_method: 'S256',
    });
  }

  /**
   * Redeems the callback's code (checking state, nonce and the PKCE verifier) and reads the
   * person's claims: from the userinfo endpoint when the provider has one, else from the ID
   * token. `callbackQuery` is the query string the browser brought back.
   */
  async redeem(callbackQuery: URLSearchParams, checks: OidcChecks): Promise<OidcClaims> {
    const oidc = this.settings();
    const configuration = await this.discovered(oidc);
    // The configured redirect URI, not the request's own URL: behind a proxy the two differ, and the token request must name the registered one.
    const callbackUrl = new URL(oidc.redirectUri);
    callbackUrl.search = callbackQuery.toString();
    let tokens: openid.TokenEndpointResponse & openid.TokenEndpointResponseHelpers;
    try {
      tokens = await openid.authorizationCodeGrant(configuration, callbackUrl, {
        expectedState: checks.state,
        expectedNonce: checks.nonce,
        pkceCodeVerifier: checks.codeVerifier,
        idTokenExpected: true,
      });
    } catch (error) {
      throw this.failure('token', error);
    }
    const idToken = tokens.claims();
    if (!idToken) throw new OidcFailedError('the token answer holds no ID token');
    let profile: Readonly<Record<string, unknown>> = idToken;
    if (configuration.serverMetadata().userinfo_endpoint) {
      try {
        const userInfo = await openid.fetchUserInfo(configuration, tokens.access_token, idToken.sub);
        // The email and its verification come as a pair from one source, never mixed.
        profile = userInfo.email === undefined ? { ...userInfo, email: idToken['email'], email_verified: idToken['email_verified'] } : userInfo;
      } catch (error) {
        throw this.failure('userinfo', error);
      }
    }
    return { issuer: idToken.iss, subject: idToken.sub, email: profile['email'], emailVerified: profile['email_verified'], name: profile['name'] ?? idToken['name'] };
  }

  /**
   * What a failed request to the provider means for the person: the provider could not be
   * reached (no connection, no answer in time) is OIDC_UNAVAILABLE, anything it answered that
   * does not hold is OIDC_FAILED.
   */
  private failure(step: 'token' | 'userinfo', error: unknown): OidcUnavailableError | OidcFailedError {
    const described = describeLibraryError(error);
    if (isUnreachable(error)) {
      this.logger.warn({ event: 'oidc_provider_unreachable', step, error: described });
      return new OidcUnavailableError(Math.ceil(DISCOVERY_RETRY_DELAY_MS / 1_000));
    }
    return new OidcFailedError(`${step === 'token' ? 'the code was not redeemed' : 'userinfo was not read'}: ${described}`);
  }

  private settings(): OidcConfig {
    if (!this.config.oidc) throw new OidcNotConfiguredError();
    return this.config.oidc;
  }

  /** The provider's configuration, discovered once; after a failure, again once DISCOVERY_RETRY_DELAY_MS has passed. */
  private async discovered(oidc: OidcConfig): Promise<openid.Configuration> {
    const now = this.clock.now().getTime();
    if (this.discovery === null && this.discoveryFailedAt !== null && now - this.discoveryFailedAt < DISCOVERY_RETRY_DELAY_MS) {
      throw new OidcUnavailableError(Math.max(1, Math.ceil((this.discoveryFailedAt + DISCOVERY_RETRY_DELAY_MS - now) / 1_000)));
    }
    // One discovery at a time: concurrent logins share it.
    this.discovery ??= this.discover(oidc);
    try {
      return await this.discovery;
    } catch {
      throw new OidcUnavailableError(Math.ceil(DISCOVERY_RETRY_DELAY_MS / 1_000));
    }
  }

  private async discover(oidc: OidcConfig): Promise<openid.Configuration> {
    try {
      const configuration = await openid.discovery(new URL(oidc.issuer), oidc.clientId, undefined, openid.ClientSecretBasic(oidc.clientSecret), {
        // Plain http only for an issuer on a loopback address (tests, labs); app-config refuses any other.
        ...(oidc.insecureLoopbackIssuer ? { execute: [openid.allowInsecureRequests] } : {}),
        timeout: IDENTITY_PROVIDER_TIMEOUT_SECONDS,
        [openid.customFetch]: boundedFetch(MAX_IDENTITY_PROVIDER_RESPONSE_BYTES),
      });
      this.discoveryFailedAt = null;
      this.logger.log({ event: 'oidc_discovered', issuer: configuration.serverMetadata().issuer });
      return configuration;
    } catch (error) {
      this.discovery = null;
      this.discoveryFailedAt = this.clock.now().getTime();
      this.logger.warn({ event: 'oidc_discovery_failed', issuer: oidc.issuer, error: describeLibraryError(error), retryInMs: DISCOVERY_RETRY_DELAY_MS });
      throw error;
    }
  }
}

const SHORT_IDENTIFIER = /^[\w.:-]{1,64}$/;
/** Errors that mean no answer came: fetch's own failure (no connection), or the timeout's abort. */
const UNREACHABLE_ERROR_NAMES: ReadonlySet<string> = new Set(['TimeoutError', 'AbortError']);
/** How far down an error's causes a log looks: openid-client wraps fetch's error, which wraps the system's. */
const MAX_CAUSE_DEPTH = 3;

/** Whether the provider gave no answer at all, anywhere along the error's chain of causes. */
export function isUnreachable(error: unknown): boolean {
  let current: unknown = error;
  // Read by shape, not instanceof: a timeout is a DOMException, which need not be an Error of this realm.
  for (let depth = 0; depth < MAX_CAUSE_DEPTH && isErrorLike(current); depth += 1) {
    if (UNREACHABLE_ERROR_NAMES.has(current.name) || (current.name === 'TypeError' && current.message === 'fetch failed')) return true;
    current = current.cause;
  }
  return false;
}

function isErrorLike(value: unknown): value is { name: string; message: unknown; cause?: unknown } {
  return typeof value === 'object' && value !== null && typeof (value as { name?: unknown }).name === 'string';
}

/**
 * An error of openid-client or of the network, as a log may name it: the names and codes along
 * its chain of causes (ClientError OAUTH_RESPONSE_IS_NOT_CONFORM, TypeError, Error ECONNREFUSED)
 * and the OAuth error the provider answered (invalid_grant), never a message or a cause's other
 * fields, which can quote the callback's parameters (the code among them) or the provider's answer.
 */
export function describeLibraryError(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < MAX_CAUSE_DEPTH && current instanceof Error; depth += 1) {
    const fields = current as Error & { code?: unknown; error?: unknown; cause?: unknown };
    parts.push(SHORT_IDENTIFIER.test(current.name) ? current.name : 'Error');
    if (typeof fields.code === 'string' && SHORT_IDENTIFIER.test(fields.code)) parts.push(fields.code);
    if (typeof fields.error === 'string' && SHORT_IDENTIFIER.test(fields.error)) parts.push(fields.error);
    current = fields.cause;
  }
  return parts.length > 0 ? parts.join(' ') : typeof error;
}
