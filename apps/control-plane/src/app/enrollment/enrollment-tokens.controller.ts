import { Body, Controller, Get, HttpCode, HttpStatus, Param, Post, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { AuditActor, EnrollmentTokenView } from '@airlock/data-access';
import { CurrentActor, CurrentPrincipal, RequireScope, type Principal } from '../auth/principal';
import { ErrorResponse } from '../common/error.response';
import { uuidParam } from '../common/request-validation';
import {
  CreateEnrollmentTokenDto,
  DEFAULT_ENROLLMENT_TOKENS_LISTED,
  EnrollmentTokenResponse,
  EnrollmentTokenSummaryResponse,
  ListEnrollmentTokensQuery,
} from './create-enrollment-token.dto';
import { EnrollmentService } from './enrollment.service';

@ApiTags('workers')
@ApiBearerAuth()
@ApiBadRequestResponse({ type: ErrorResponse, description: 'The request is malformed; the message names each field and what was expected' })
@Controller('enrollment-tokens')
export class EnrollmentTokensController {
  constructor(private readonly enrollment: EnrollmentService) {}

  @Post()
  @RequireScope('fleet:write')
  @ApiOperation({
    summary: 'Create an enrollment token',
    description:
      'A one-time token a worker exchanges for its identity (`airlock-worker enroll`), optionally naming the pool the worker joins. ' +
      'The token is in this answer only. Audited as enrollment-token.created.',
  })
  @ApiCreatedResponse({ type: EnrollmentTokenResponse })
  @ApiForbiddenResponse({ type: ErrorResponse, description: 'Needs the fleet:write scope (FORBIDDEN)' })
  create(@CurrentPrincipal() principal: Principal, @CurrentActor() actor: AuditActor, @Body() body: CreateEnrollmentTokenDto): Promise<EnrollmentTokenResponse> {
    return this.enrollment.createToken(principal.tenantId, actor, {
      ...(body.ttlSeconds !== undefined ? { ttlSeconds: body.ttlSeconds } : {}),
      ...(body.pool !== undefined ? { pool: body.pool } : {}),
    });
  }

  @Get()
  @RequireScope('fleet:read')
  @ApiOperation({ summary: "The tenant's enrollment tokens", description: 'Newest first, with their state; never the token or its hash.' })
  @ApiOkResponse({ type: [EnrollmentTokenSummaryResponse] })
  async list(@CurrentPrincipal() principal: Principal, @Query() query: ListEnrollmentTokensQuery): Promise<EnrollmentTokenSummaryResponse[]> {
    const tokens = await this.enrollment.list(principal.tenantId, query.limit ?? DEFAULT_ENROLLMENT_TOKENS_LISTED);
    return tokens.map(toSummaryResponse);
  }

  @Post(':id/revoke')
  @RequireScope('fleet:write')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Revoke an unused enrollment token',
    description:
      'From now on the token enrolls nothing, as if it had expired. Revoking it again answers the same. Audited as enrollment-token.revoked.',
  })
  @ApiOkResponse({ type: EnrollmentTokenSummaryResponse, description: 'The token, now REVOKED' })
  @ApiForbiddenResponse({ type: ErrorResponse, description: 'Needs the fleet:write scope (FORBIDDEN)' })
  @ApiNotFoundResponse({ type: ErrorResponse, description: "No such token in the caller's tenant (ENROLLMENT_TOKEN_NOT_FOUND)" })
  @ApiConflictResponse({ type: ErrorResponse, description: 'The token already enrolled a worker (ENROLLMENT_TOKEN_ALREADY_USED): revoke the worker instead' })
  async revoke(@CurrentPrincipal() principal: Principal, @CurrentActor() actor: AuditActor, @Param('id', uuidParam('id')) id: string): Promise<EnrollmentTokenSummaryResponse> {
    return toSummaryResponse(await this.enrollment.revoke(principal.tenantId, actor, id));
  }
}

function toSummaryResponse(token: EnrollmentTokenView): EnrollmentTokenSummaryResponse {
  return {
    id: token.id,
    createdAt: token.createdAt,
    expiresAt: token.expiresAt,
    pool: token.pool,
    state: token.state,
    workerId: token.workerId,
    usedAt: token.usedAt,
    revokedAt: token.revokedAt,
    createdByName: token.createdByName,
  };
}
