import { ApiPropertyOptional, ApiProperty } from '@nestjs/swagger';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

export class CreateEnrollmentTokenDto {
  @ApiPropertyOptional({ minimum: 60, maximum: 86_400, default: 3_600, description: 'How long the token stays usable, in seconds' })
  @IsOptional()
  @IsInt()
  @Min(60)
  @Max(86_400)
  ttlSeconds?: number;
}

export class EnrollmentTokenResponse {
  @ApiProperty({ description: 'The one-time token (aet_…). Shown once; only its hash is stored.' })
  token!: string;

  @ApiProperty()
  expiresAt!: Date;
}
