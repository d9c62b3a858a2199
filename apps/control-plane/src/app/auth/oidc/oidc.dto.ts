import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsString, Matches, MaxLength } from 'class-validator';
import { OptionalProperty } from '../../common/request-validation';
import { MAX_NEXT_PATH_LENGTH } from './oidc-attempt-cookie';

/**
 * A path of this site: one leading slash (never `//` or `/\`, which browsers read as another
 * host), then visible ASCII without backslashes, so the redirect after signing in can only
 * stay on the control plane's origin.
 */
export const SAME_ORIGIN_PATH = /^\/(?![/\\])[\x21-\x5b\x5d-\x7e]*$/;

export class OidcLoginQuery {
  @ApiPropertyOptional({
    maxLength: MAX_NEXT_PATH_LENGTH,
    pattern: SAME_ORIGIN_PATH.source,
    example: '/jobs',
    description: 'Where to land once signed in: a path of this site (default /)',
  })
  @OptionalProperty()
  @IsString({ message: 'expected a path of this site, such as /jobs' })
  @MaxLength(MAX_NEXT_PATH_LENGTH, { message: `expected at most ${MAX_NEXT_PATH_LENGTH} characters` })
  @Matches(SAME_ORIGIN_PATH, { message: 'expected a path of this site, such as /jobs (one leading slash, no backslash, no spaces)' })
  next?: string;
}
