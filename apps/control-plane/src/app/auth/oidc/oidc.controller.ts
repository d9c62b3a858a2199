import { Controller, Get, Query, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import { ApiBadRequestResponse, ApiFoundResponse, ApiNotFoundResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ErrorResponse } from '../../common/error.response';
import { LoginRateLimitGuard } from '../login-rate-limiter';
import { Public, type AuthenticatedRequest } from '../principal';
import { OidcFailedError } from './oidc-failed.error';
import { OidcLoginService, type OidcRedirect } from './oidc-login.service';
import { OidcRedirectFilter } from './oidc-redirect.filter';
import { OidcLoginQuery } from './oidc.dto';

/** The slice of the platform response these routes use. */
interface RedirectResponse {
  setHeader(name: string, value: string | string[]): unknown;
  status(code: number): { end(): void };
}

/** The request as the callback reads it: its URL, for the query the identity provider sent back. */
interface CallbackRequest extends AuthenticatedRequest {
  url?: string;
}

/** The longest callback query read; a real one (code, state, iss, session_state) is a few hundred characters. */
const MAX_CALLBACK_QUERY_CHARS = 4_096;

const NOT_CONFIGURED = { type: ErrorResponse, description: 'Single sign-on is not set up on this control plane (OIDC_NOT_CONFIGURED)' };

function redirect(response: RedirectResponse, to: OidcRedirect): void {
  response.setHeader('Set-Cookie', [...to.setCookies]);
  // The answer carries a session cookie or a fresh attempt: never one for a cache to keep.
  response.setHeader('Cache-Control', 'no-store');
  // The callback's URL holds the code: the next page must not send it on as a Referer.
  response.setHeader('Referrer-Policy', 'no-referrer');
  response.setHeader('Location', to.location);
  response.status(302).end();
}

/**
 * Single sign-on with the organisation's OpenID Connect identity provider (docs/access.md):
 * the login page's button leads to /login, the provider sends the browser back to /callback.
 * Both are browser navigations: refusals redirect to `/login?error=<CODE>`.
 */
@ApiTags('auth')
@Controller('auth/oidc')
@UseFilters(OidcRedirectFilter)
export class OidcController {
  constructor(private readonly logins: OidcLoginService) {}

  @Get('login')
  @Public()
  @UseGuards(LoginRateLimitGuard)
  @ApiOperation({
    summary: 'Start a single sign-on',
    description:
      'Public, a browser navigation; counts against the login budget (10 a minute per address). Remembers the attempt (state, nonce, PKCE verifier) ' +
      'in a sealed HttpOnly cookie for 10 minutes and redirects to the identity provider. Refusals redirect to /login?error=<CODE>: ' +
      'OIDC_UNAVAILABLE (the provider cannot be reached), RATE_LIMITED.',
  })
  @ApiFoundResponse({ description: 'To the identity provider\'s authorization endpoint, or to /login?error=<CODE>' })
  @ApiBadRequestResponse({ type: ErrorResponse, description: 'next is not a path of this site (INVALID_REQUEST)' })
  @ApiNotFoundResponse(NOT_CONFIGURED)
  async login(@Query() query: OidcLoginQuery, @Res() response: RedirectResponse): Promise<void> {
    redirect(response, await this.logins.begin(query.next));
  }

  @Get('callback')
  @Public()
  @ApiOperation({
    summary: 'Where the identity provider sends the browser back',
    description:
      'Public, a browser navigation from the identity provider; register <AIRLOCK_PUBLIC_URL>/api/v1/auth/oidc/callback there. Opens a session ' +
      '(the session cookie, as a password login) and redirects to the page the sign-in started from (default /). Refusals redirect to ' +
      '/login?error=<CODE>: OIDC_STATE_MISMATCH, OIDC_FAILED, OIDC_NO_VERIFIED_EMAIL, OIDC_UNKNOWN_USER, OIDC_ACCOUNT_LINKED_ELSEWHERE, ' +
      'ACCOUNT_DISABLED, OIDC_UNAVAILABLE, RATE_LIMITED.',
  })
  @ApiFoundResponse({ description: 'Signed in: to the dashboard, with Set-Cookie carrying the session; or to /login?error=<CODE>' })
  @ApiNotFoundResponse(NOT_CONFIGURED)
  async callback(@Req() request: CallbackRequest, @Res() response: RedirectResponse): Promise<void> {
    const url = request.url ?? '';
    const queryStart = url.indexOf('?');
    const query = queryStart < 0 ? '' : url.slice(queryStart + 1);
    if (query.length > MAX_CALLBACK_QUERY_CHARS) throw new OidcFailedError(`the callback's query is longer than ${MAX_CALLBACK_QUERY_CHARS} characters`);
    redirect(response, await this.logins.complete(new URLSearchParams(query), request));
  }
}
