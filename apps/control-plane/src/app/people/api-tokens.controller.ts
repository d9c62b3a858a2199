import { Body, Controller, Get, HttpCode, HttpStatus, Param, Post } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBearerAuth, ApiCreatedResponse, ApiForbiddenResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { AuditActor } from '@airlock/data-access';
import { CurrentActor, CurrentPrincipal, RequireScope, type Principal } from '../auth/principal';
import { ErrorResponse } from '../common/error.response';
import { uuidParam } from '../common/request-validation';
import { ApiTokenResponse, CreateApiTokenDto, CreatedApiTokenResponse } from './api-token.dto';
import { ApiTokensService, MAX_API_TOKENS_LISTED } from './api-tokens.service';

/** The organisation's API tokens. Reads need people:read, changes people:write (ADMIN). */
@ApiTags('people')
@ApiBearerAuth()
@Controller('api-tokens')
export class ApiTokensController {
  constructor(private readonly tokens: ApiTokensService) {}

  @Get()
  @RequireScope('people:read')
  @ApiOperation({ summary: 'The API tokens of the organisation', description: `Newest first, at most ${MAX_API_TOKENS_LISTED}, revoked and expired ones included. Never the tokens themselves.` })
  @ApiOkResponse({ type: [ApiTokenResponse] })
  @ApiForbiddenResponse({ type: ErrorResponse, description: 'Needs the people:read scope (FORBIDDEN)' })
  list(@CurrentPrincipal() principal: Principal): Promise<ApiTokenResponse[]> {
    return this.tokens.list(principal.tenantId);
  }

  @Post()
  @RequireScope('people:write')
  @ApiOperation({
    summary: 'Create an API token',
    description: 'The token is in this answer only; only its hash is stored. It holds the scopes given, each of which you must hold, and expires. Audited as api-token.created.',
  })
  @ApiCreatedResponse({ type: CreatedApiTokenResponse })
  @ApiBadRequestResponse({ type: ErrorResponse, description: 'The request is malformed; the message names each field and what was expected (INVALID_REQUEST)' })
  @ApiForbiddenResponse({ type: ErrorResponse, description: 'Needs the people:write scope (FORBIDDEN), or names a scope you do not hold (SCOPE_NOT_HELD)' })
  create(@CurrentPrincipal() principal: Principal, @CurrentActor() actor: AuditActor, @Body() body: CreateApiTokenDto): Promise<CreatedApiTokenResponse> {
    return this.tokens.create(principal, actor, body);
  }

  @Post(':id/revoke')
  @RequireScope('people:write')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Revoke an API token', description: 'It stops working at once. Revoking a revoked token changes nothing. Audited as api-token.revoked.' })
  @ApiOkResponse({ type: ApiTokenResponse })
  @ApiBadRequestResponse({ type: ErrorResponse, description: 'id is not a UUID (INVALID_REQUEST)' })
  @ApiForbiddenResponse({ type: ErrorResponse, description: 'Needs the people:write scope (FORBIDDEN)' })
  @ApiNotFoundResponse({ type: ErrorResponse, description: "No such token in the caller's organisation (API_TOKEN_NOT_FOUND)" })
  revoke(@CurrentPrincipal() principal: Principal, @CurrentActor() actor: AuditActor, @Param('id', uuidParam('id')) id: string): Promise<ApiTokenResponse> {
    return this.tokens.revoke(principal.tenantId, actor, id);
  }
}
