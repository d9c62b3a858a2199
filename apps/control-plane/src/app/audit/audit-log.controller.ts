import { type EventEmitter, once } from 'node:events';
import { Controller, Get, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { DataAccess, type AdminAuditEntryView, type AuditLogFilter } from '@airlock/data-access';
import { CurrentPrincipal, RequireScope, type Principal } from '../auth/principal';
import { csvRow } from '../common/csv';
import { ErrorResponse } from '../common/error.response';
import { AuditEntryResponse, AuditLogExportQuery, AuditLogQuery, AuditVerificationResponse, type AuditLogFilterQuery } from './audit-log.dto';

const DEFAULT_PAGE_SIZE = 100;
const EXPORT_PAGE_SIZE = 1_000;
const CSV_COLUMNS = ['seq', 'at', 'actorKind', 'actorId', 'actorName', 'action', 'target', 'details', 'sourceIp', 'prevHash', 'hash'] as const;

/** The slice of the platform response an export streams into. */
interface ExportResponse extends EventEmitter {
  readonly destroyed: boolean;
  setHeader(name: string, value: string): unknown;
  write(chunk: string): boolean;
  end(): unknown;
}

/** The tenant's admin audit log: append-only in the database, hash-chained so that any rewrite shows. */
@ApiTags('audit-log')
@ApiBearerAuth()
@ApiForbiddenResponse({ type: ErrorResponse, description: 'Needs the audit:read scope (FORBIDDEN)' })
@RequireScope('audit:read')
@Controller('audit-log')
export class AuditLogController {
  constructor(private readonly data: DataAccess) {}

  @Get()
  @ApiOperation({
    summary: 'Admin actions that match the filter',
    description: 'Oldest first (order=asc, page with afterSeq: the seq of the last entry read) or newest first (order=desc, page with beforeSeq).',
  })
  @ApiOkResponse({ type: [AuditEntryResponse] })
  async list(@CurrentPrincipal() principal: Principal, @Query() query: AuditLogQuery): Promise<AuditEntryResponse[]> {
    const order = query.order ?? 'asc';
    const entries = await this.data.audit.list(principal.tenantId, filterOf(query), {
      order,
      limit: query.limit ?? DEFAULT_PAGE_SIZE,
      ...(order === 'asc' ? { afterSeq: query.afterSeq ?? 0 } : query.beforeSeq !== undefined ? { beforeSeq: query.beforeSeq } : {}),
    });
    return entries.map((entry) => ({ ...entry }));
  }

  /**
   * Every matching entry, oldest first, streamed page by page so a long log never sits in
   * memory. JSON Lines keeps every field and hash, so an export can be re-verified offline.
   */
  @Get('export')
  @ApiOperation({ summary: 'Export matching entries as JSON Lines or CSV', description: 'Oldest first, every field including prevHash and hash.' })
  @ApiProduces('application/x-ndjson', 'text/csv')
  @ApiOkResponse({ description: 'One entry per line (JSON Lines) or per record (CSV with a header row)', schema: { type: 'string' } })
  async export(@CurrentPrincipal() principal: Principal, @Query() query: AuditLogExportQuery, @Res() response: ExportResponse): Promise<void> {
    const format = query.format ?? 'jsonl';
    const filter = filterOf(query);
    response.setHeader('Content-Type', format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8');
    response.setHeader('Content-Disposition', `attachment; filename="airlock-audit-log.${format}"`);
    if (format === 'csv' && !(await write(response, csvRow(CSV_COLUMNS)))) return;
    let afterSeq = 0;
    for (;;) {
      const page = await this.data.audit.list(principal.tenantId, filter, { order: 'asc', afterSeq, limit: EXPORT_PAGE_SIZE });
      for (const entry of page) {
        const line = format === 'csv' ? csvRow(csvValues(entry)) : `${JSON.stringify({ tenantId: principal.tenantId, ...entry })}\n`;
        // The client went away: stop reading pages for nobody.
        if (!(await write(response, line))) return;
      }
      const last = page.at(-1);
      if (!last || page.length < EXPORT_PAGE_SIZE) break;
      afterSeq = last.seq;
    }
    response.end();
  }

  @Get('verify')
  @ApiOperation({ summary: 'Recompute the hash chain', description: 'Checks every entry of the tenant: its sequence number, its link to the previous hash and its own hash.' })
  @ApiOkResponse({ type: AuditVerificationResponse })
  verify(@CurrentPrincipal() principal: Principal): Promise<AuditVerificationResponse> {
    return this.data.audit.verify(principal.tenantId);
  }
}

function filterOf(query: AuditLogFilterQuery): AuditLogFilter {
  return {
    ...(query.action !== undefined ? { action: query.action } : {}),
    ...(query.actorId !== undefined ? { actorId: query.actorId } : {}),
    ...(query.from !== undefined ? { from: query.from } : {}),
    ...(query.to !== undefined ? { to: query.to } : {}),
  };
}

function csvValues(entry: AdminAuditEntryView): (string | number | null)[] {
  const { seq, at, actorKind, actorId, actorName, action, target, details, sourceIp, prevHash, hash } = entry;
  return [seq, at.toISOString(), actorKind, actorId, actorName, action, target, JSON.stringify(details), sourceIp, prevHash, hash];
}

/** Writes a chunk, waiting for the socket to drain when its buffer is full; false once the client has gone. */
async function write(response: ExportResponse, chunk: string): Promise<boolean> {
  if (response.destroyed) return false;
  if (response.write(chunk)) return true;
  const stop = new AbortController();
  try {
    return await Promise.race([once(response, 'drain', { signal: stop.signal }).then(() => true), once(response, 'close', { signal: stop.signal }).then(() => false)]);
  } finally {
    stop.abort();
  }
}
