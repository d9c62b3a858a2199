import { ApiPropertyOptional, ApiProperty } from '@nestjs/swagger';
import { IsInt, Max, Min } from 'class-validator';
import { OptionalProperty } from '../common/request-validation';

const MIN_TTL_SECONDS = 60;
const MAX_TTL_SECONDS = 86_400;
const TTL_EXPECTATION = { message: `expected an integer number of seconds in ${MIN_TTL_SECONDS}..${MAX_TTL_SECONDS}` };

export class CreateEnrollmentTokenDto {
  @ApiPropertyOptional({ minimum: MIN_TTL_SECONDS, maximum: MAX_TTL_SECONDS, default: 3_600, description: 'How long the token stays usable, in seconds' })
  @Max(MAX_TTL_SECONDS, TTL_EXPECTATION)
  @Min(MIN_TTL_SECONDS, TTL_EXPECTATION)
  @IsInt(TTL_EXPECTATION)
  @OptionalProperty()
  ttlSeconds?: number;
}

export class EnrollmentTokenResponse {
  @ApiProperty({ description: 'The one-time token (aet_…). Shown once; only its hash is stored.' })
  token!: string;

  @ApiProperty()
  expiresAt!: Date;
}
