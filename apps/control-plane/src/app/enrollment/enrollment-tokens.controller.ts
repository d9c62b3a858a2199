import { Body, Controller, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiTags } from '@nestjs/swagger';
import type { ApiTokenPrincipal, AuditActor } from '@airlock/data-access';
import { CurrentActor, CurrentPrincipal } from '../auth/principal';
import { CreateEnrollmentTokenDto, EnrollmentTokenResponse } from './create-enrollment-token.dto';
import { EnrollmentService } from './enrollment.service';

@ApiTags('workers')
@ApiBearerAuth()
@Controller('enrollment-tokens')
export class EnrollmentTokensController {
  constructor(private readonly enrollment: EnrollmentService) {}

  /** Creates a one-time token a worker exchanges for its identity (`airlock-worker enroll`). Audited as enrollment-token.created. */
  @Post()
  @ApiCreatedResponse({ type: EnrollmentTokenResponse })
  create(@CurrentPrincipal() principal: ApiTokenPrincipal, @CurrentActor() actor: AuditActor, @Body() body: CreateEnrollmentTokenDto): Promise<EnrollmentTokenResponse> {
    return this.enrollment.createToken(principal.tenantId, actor, body.ttlSeconds);
  }
}
