import { Body, Controller, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiForbiddenResponse, ApiTags } from '@nestjs/swagger';
import type { AuditActor } from '@airlock/data-access';
import { CurrentActor, CurrentPrincipal, RequireScope, type Principal } from '../auth/principal';
import { ErrorResponse } from '../common/error.response';
import { CreateEnrollmentTokenDto, EnrollmentTokenResponse } from './create-enrollment-token.dto';
import { EnrollmentService } from './enrollment.service';

@ApiTags('workers')
@ApiBearerAuth()
@Controller('enrollment-tokens')
export class EnrollmentTokensController {
  constructor(private readonly enrollment: EnrollmentService) {}

  /**
   * Creates a one-time token a worker exchanges for its identity (`airlock-worker enroll`).
   * ADMIN only: a worker joins the fleet that central policy governs. Audited as
   * enrollment-token.created.
   */
  @Post()
  @RequireScope('fleet:write')
  @ApiCreatedResponse({ type: EnrollmentTokenResponse })
  @ApiForbiddenResponse({ type: ErrorResponse, description: 'Needs the fleet:write scope (FORBIDDEN)' })
  create(@CurrentPrincipal() principal: Principal, @CurrentActor() actor: AuditActor, @Body() body: CreateEnrollmentTokenDto): Promise<EnrollmentTokenResponse> {
    return this.enrollment.createToken(principal.tenantId, actor, body.ttlSeconds);
  }
}
