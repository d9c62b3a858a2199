import { Body, Controller, Get, HttpCode, HttpStatus, Post, Req, Res, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { AuditActor } from '@airlock/data-access';
import { ErrorResponse } from '../common/error.response';
import { AuthProvidersResponse, BootstrapDto, ChangePasswordDto, LoginDto, SessionResponse } from './auth.dto';
import { AuthService } from './auth.service';
import { LoginRateLimitGuard } from './login-rate-limiter';
import { Authenticated, CurrentActor, CurrentPrincipal, Public, type AuthenticatedRequest, type Principal } from './principal';
import { SessionService, type SessionDescription } from './session.service';
import { UnauthenticatedError } from './unauthenticated.error';

/** The slice of the platform response these routes use. */
interface HeaderResponse {
  setHeader(name: string, value: string): unknown;
}

function toSessionResponse(session: SessionDescription): SessionResponse {
  return { user: { ...session.user }, scopes: [...session.scopes], csrfToken: session.csrfToken, expiresAt: session.expiresAt };
}

/** Answers carrying a session's CSRF token or cookie are never to be kept by a cache. */
function noStore(response: HeaderResponse): void {
  response.setHeader('Cache-Control', 'no-store');
}

const MALFORMED = { type: ErrorResponse, description: 'The request is malformed; the message names each field and what was expected (INVALID_REQUEST)' };

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly sessions: SessionService,
  ) {}

  @Get('providers')
  @Public()
  @ApiOperation({ summary: 'How one can log in', description: 'Public. needsBootstrap: the default organisation has no person yet (create the first admin with POST /auth/bootstrap).' })
  @ApiOkResponse({ type: AuthProvidersResponse })
  providers(): Promise<AuthProvidersResponse> {
    return this.auth.providers();
  }

  @Post('login')
  @Public()
  @UseGuards(LoginRateLimitGuard)
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Log in with email and password',
    description:
      'Public. Sets the session cookie (HttpOnly) and answers the session with its CSRF token. At most 10 login and bootstrap attempts a minute ' +
      'per source address; 5 wrong passwords in a row lock the account for 15 minutes.',
  })
  @ApiOkResponse({ type: SessionResponse, description: 'Logged in; Set-Cookie carries the session' })
  @ApiBadRequestResponse(MALFORMED)
  @ApiUnauthorizedResponse({ type: ErrorResponse, description: 'Unknown email or wrong password, alike (INVALID_CREDENTIALS); or the account is disabled (ACCOUNT_DISABLED)' })
  @ApiResponse({ status: HttpStatus.LOCKED, type: ErrorResponse, description: 'Too many wrong passwords (ACCOUNT_LOCKED); the message and Retry-After say how long' })
  @ApiTooManyRequestsResponse({ type: ErrorResponse, description: 'Too many attempts from this address (RATE_LIMITED); Retry-After says when to try again' })
  async login(@Body() body: LoginDto, @Req() request: AuthenticatedRequest, @Res({ passthrough: true }) response: HeaderResponse): Promise<SessionResponse> {
    const opened = await this.auth.login(body.email, body.password, request);
    response.setHeader('Set-Cookie', opened.setCookie);
    noStore(response);
    return toSessionResponse(opened.description);
  }

  @Post('bootstrap')
  @Public()
  @UseGuards(LoginRateLimitGuard)
  @ApiOperation({
    summary: 'Create the first admin with the bootstrap token',
    description:
      'Public, rate-limited like login. Works only while the bootstrap token\'s organisation has no person at all: creates an ADMIN (audited as ' +
      'user.created, the token as actor) and logs them in.',
  })
  @ApiCreatedResponse({ type: SessionResponse, description: 'The first admin exists and is logged in; Set-Cookie carries the session' })
  @ApiBadRequestResponse(MALFORMED)
  @ApiUnauthorizedResponse({ type: ErrorResponse, description: 'Not a live API token holding people:write (INVALID_BOOTSTRAP_TOKEN)' })
  @ApiConflictResponse({ type: ErrorResponse, description: 'The organisation has a person already (ALREADY_BOOTSTRAPPED), or the email is taken (EMAIL_TAKEN)' })
  @ApiTooManyRequestsResponse({ type: ErrorResponse, description: 'Too many attempts from this address (RATE_LIMITED)' })
  async bootstrap(@Body() body: BootstrapDto, @Req() request: AuthenticatedRequest, @Res({ passthrough: true }) response: HeaderResponse): Promise<SessionResponse> {
    const opened = await this.auth.bootstrap(body, request);
    response.setHeader('Set-Cookie', opened.setCookie);
    noStore(response);
    return toSessionResponse(opened.description);
  }

  @Get('session')
  @Authenticated()
  @ApiOperation({ summary: 'The session of the cookie', description: 'Who is logged in, their scopes, the CSRF token to send with writes, and when the session ends.' })
  @ApiOkResponse({ type: SessionResponse })
  @ApiUnauthorizedResponse({ type: ErrorResponse, description: 'No live session (UNAUTHENTICATED); API tokens are refused too' })
  async session(@Req() request: AuthenticatedRequest, @Res({ passthrough: true }) response: HeaderResponse): Promise<SessionResponse> {
    const session = await this.sessions.current(request);
    if (!session) throw new UnauthenticatedError();
    noStore(response);
    return toSessionResponse(session);
  }

  @Post('logout')
  @Authenticated()
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'End the session', description: 'Revokes the session and clears the cookie. Needs X-CSRF-Token.' })
  @ApiNoContentResponse({ description: 'Logged out' })
  @ApiUnauthorizedResponse({ type: ErrorResponse, description: 'No live session (UNAUTHENTICATED)' })
  @ApiForbiddenResponse({ type: ErrorResponse, description: 'Missing or wrong X-CSRF-Token, or another Origin (CSRF_REJECTED)' })
  async logout(@CurrentPrincipal() principal: Principal, @Res({ passthrough: true }) response: HeaderResponse): Promise<void> {
    response.setHeader('Set-Cookie', await this.auth.logout(principal));
  }

  @Post('password')
  @Authenticated()
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({
    summary: 'Change your password',
    description: 'Needs the current password; ends every other session of the account (this one stays). Audited as user.password-changed. Needs X-CSRF-Token.',
  })
  @ApiNoContentResponse({ description: 'Changed' })
  @ApiBadRequestResponse({ type: ErrorResponse, description: 'A field is malformed (INVALID_REQUEST), or currentPassword is wrong (INVALID_CURRENT_PASSWORD)' })
  @ApiUnauthorizedResponse({ type: ErrorResponse, description: 'No live session (UNAUTHENTICATED)' })
  @ApiForbiddenResponse({ type: ErrorResponse, description: 'Missing or wrong X-CSRF-Token, or another Origin (CSRF_REJECTED)' })
  @ApiResponse({ status: HttpStatus.LOCKED, type: ErrorResponse, description: 'Too many wrong passwords (ACCOUNT_LOCKED)' })
  async changePassword(@CurrentPrincipal() principal: Principal, @CurrentActor() actor: AuditActor, @Body() body: ChangePasswordDto): Promise<void> {
    await this.auth.changePassword(principal, actor, body.currentPassword, body.newPassword);
  }
}
