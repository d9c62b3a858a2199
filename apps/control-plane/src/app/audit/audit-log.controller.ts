import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { DataAccess } from '@airlock/data-access';
import { CurrentPrincipal, RequireScope, type Principal } from '../auth/principal';
import { ErrorResponse } from '../common/error.response';
import { AuditEntryResponse, AuditLogQuery, AuditVerificationResponse } from './audit-log.dto';

const DEFAULT_PAGE_SIZE = 100;

/** The tenant's admin audit log: append-only in the database, hash-chained so that any rewrite shows. */
@ApiTags('audit-log')
@ApiBearerAuth()
@ApiForbiddenResponse({ type: ErrorResponse, description: 'Needs the audit:read scope (FORBIDDEN)' })
@RequireScope('audit:read')
@Controller('audit-log')
export class AuditLogController {
  constructor(private readonly data: DataAccess) {}

  @Get()
  @ApiOperation({ summary: 'Admin actions, oldest first', description: 'Page with afterSeq: the seq of the last entry read.' })
  @ApiOkResponse({ type: [AuditEntryResponse] })
  async list(@CurrentPrincipal() principal: Principal, @Query() query: AuditLogQuery): Promise<AuditEntryResponse[]> {
    const entries = await this.data.audit.list(principal.tenantId, { afterSeq: query.afterSeq ?? 0, limit: query.limit ?? DEFAULT_PAGE_SIZE });
    return entries.map((entry) => ({ ...entry }));
  }

  @Get('verify')
  @ApiOperation({ summary: 'Recompute the hash chain', description: 'Checks every entry of the tenant: its sequence number, its link to the previous hash and its own hash.' })
  @ApiOkResponse({ type: AuditVerificationResponse })
  verify(@CurrentPrincipal() principal: Principal): Promise<AuditVerificationResponse> {
    return this.data.audit.verify(principal.tenantId);
  }
}
