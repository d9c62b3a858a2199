import { ApiProperty } from '@nestjs/swagger';
import { IsDefined, IsString, Matches } from 'class-validator';
import type { Role } from '@airlock/data-access';
import { DisplayNameField, EmailField, PasswordField } from '../people/person-fields';
import { ROLES, SCOPES, type Scope } from './access';
import { API_TOKEN_PREFIX } from './secret-token';

export class LoginDto {
  @EmailField('The email the account was created with (case does not matter)')
  email!: string;

  // Any length the rules ever allowed: a login is no place to tell the password rules.
  @PasswordField('The account\'s password', 1)
  password!: string;
}

export class BootstrapDto {
  @ApiProperty({ pattern: `^${API_TOKEN_PREFIX}[A-Za-z0-9_-]{43}$`, description: 'The bootstrap admin token the first start wrote to its file (AIRLOCK_BOOTSTRAP_TOKEN_FILE)' })
  @Matches(new RegExp(`^${API_TOKEN_PREFIX}[A-Za-z0-9_-]{43}$`), { message: `expected an API token (${API_TOKEN_PREFIX} and 43 base64url characters)` })
  @IsString({ message: 'expected an API token' })
  @IsDefined({ message: 'expected an API token (required)' })
  bootstrapToken!: string;

  @EmailField('The first admin\'s email, their login')
  email!: string;

  @DisplayNameField({ required: true })
  displayName!: string;

  @PasswordField('The first admin\'s password')
  password!: string;
}

export class ChangePasswordDto {
  @PasswordField('The password the account has now', 1)
  currentPassword!: string;

  @PasswordField('The new password')
  newPassword!: string;
}

export class SessionUserResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'email' }) email!: string;
  @ApiProperty() displayName!: string;
  @ApiProperty({ enum: ROLES, enumName: 'Role' }) role!: Role;
}

export class SessionResponse {
  @ApiProperty({ type: SessionUserResponse }) user!: SessionUserResponse;

  /**
   * What the session may do: the scopes of the person's role. Not said in the ApiProperty:
   * @nestjs/swagger would hoist that description onto the shared Scope enum schema.
   */
  @ApiProperty({ enum: SCOPES, enumName: 'Scope', isArray: true })
  scopes!: Scope[];

  @ApiProperty({ description: 'Send it as X-CSRF-Token on every request that changes something (any method but GET, HEAD, OPTIONS)' })
  csrfToken!: string;

  @ApiProperty({ description: 'When the session ends at the latest (it ends sooner when idle)' })
  expiresAt!: Date;
}

export class OidcProviderResponse {
  @ApiProperty({ example: 'Okta', description: 'The identity provider\'s name, as the button says "Sign in with …" (AIRLOCK_OIDC_DISPLAY_NAME)' }) displayName!: string;
  @ApiProperty({ example: '/api/v1/auth/oidc/login', description: 'Where the browser goes to start a single sign-on; add ?next=<path> to land there afterwards' }) loginUrl!: string;
}

export class AuthProvidersResponse {
  @ApiProperty({ description: 'Whether email and password logins are offered (always true)' })
  password!: boolean;

  @ApiProperty({ type: OidcProviderResponse, nullable: true, description: 'The single sign-on provider; null while none is configured (listed also while it cannot be reached)' })
  oidc!: OidcProviderResponse | null;

  @ApiProperty({ description: 'True until the first admin is created with POST /api/v1/auth/bootstrap' })
  needsBootstrap!: boolean;
}
