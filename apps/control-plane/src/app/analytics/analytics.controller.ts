import { Body, Controller, Get, Header, Put, Query, Res } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBearerAuth, ApiForbiddenResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { AuditActor } from '@airlock/data-access';
import { CurrentActor, CurrentPrincipal, RequireScope, type Principal } from '../auth/principal';
import { ErrorResponse } from '../common/error.response';
import { renderAnalyticsCsv } from './analytics-csv';
import { AnalyticsService } from './analytics.service';
import { AnalyticsQuery } from './dto/analytics-query';
import { AnalyticsReportResponse } from './dto/analytics-report.response';
import { AnalyticsSettingsDto, AnalyticsSettingsResponse } from './dto/analytics-settings.dto';

/** The slice of the platform response the export sets its headers on. */
interface HeaderResponse {
  setHeader(name: string, value: string): unknown;
}

const REPORT_DESCRIPTION =
  'Funnel, success rates, time to change, phase and queue durations, model tokens and cost, budget burn, policy friction, estimated hours saved, ' +
  'fleet utilisation and daily series, read from rollups kept current as jobs change (docs/analytics.md). Breakdown slices with fewer jobs ' +
  'than the tenant\'s minimum group size are merged into "(other)"; jobs with implausible results are left out and counted.';

@ApiTags('analytics')
@ApiBearerAuth()
@ApiBadRequestResponse({ type: ErrorResponse, description: 'The request is malformed; the message names each field and what was expected' })
@ApiForbiddenResponse({ type: ErrorResponse, description: 'Reading needs analytics:read, changing the settings analytics:write (FORBIDDEN)' })
@Controller('analytics')
export class AnalyticsController {
  constructor(private readonly analytics: AnalyticsService) {}

  @Get()
  @RequireScope('analytics:read')
  @ApiOperation({ summary: 'Analytics for a range of days', description: REPORT_DESCRIPTION })
  @ApiOkResponse({ type: AnalyticsReportResponse })
  report(@CurrentPrincipal() principal: Principal, @Query() query: AnalyticsQuery): Promise<AnalyticsReportResponse> {
    return this.analytics.report(principal.tenantId, query);
  }

  @Get('export.csv')
  @RequireScope('analytics:read')
  @Header('Content-Type', 'text/csv; charset=utf-8')
  @ApiOperation({
    summary: 'The same analytics as CSV',
    description: 'The report GET /analytics returns for the same query, as RFC 4180 CSV: one section per table (a title line, a header row, its rows), sections separated by an empty line.',
  })
  @ApiProduces('text/csv')
  @ApiOkResponse({ description: 'text/csv with a Content-Disposition filename', schema: { type: 'string' } })
  async export(@CurrentPrincipal() principal: Principal, @Query() query: AnalyticsQuery, @Res({ passthrough: true }) response: HeaderResponse): Promise<string> {
    const report = await this.analytics.report(principal.tenantId, query);
    response.setHeader('Content-Disposition', `attachment; filename="airlock-analytics-${report.range.from}-to-${report.range.to}.csv"`);
    return renderAnalyticsCsv(report);
  }

  @Get('settings')
  @RequireScope('analytics:read')
  @ApiOperation({ summary: 'The assumptions the figures use', description: 'Currency, prices per 1,000 tokens, monthly budget, hours saved per delivered change, minimum group size.' })
  @ApiOkResponse({ type: AnalyticsSettingsResponse })
  getSettings(@CurrentPrincipal() principal: Principal): Promise<AnalyticsSettingsResponse> {
    return this.analytics.getSettings(principal.tenantId);
  }

  @Put('settings')
  @RequireScope('analytics:write')
  @ApiOperation({
    summary: 'Replace the assumptions the figures use',
    description: 'Every field is required. Audited as analytics.settings-changed with the fields that changed; saving what is already there changes and audits nothing.',
  })
  @ApiOkResponse({ type: AnalyticsSettingsResponse })
  putSettings(@CurrentPrincipal() principal: Principal, @CurrentActor() actor: AuditActor, @Body() body: AnalyticsSettingsDto): Promise<AnalyticsSettingsResponse> {
    return this.analytics.putSettings(principal.tenantId, actor, body);
  }
}
