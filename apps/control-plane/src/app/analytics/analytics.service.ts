import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataAccess, type AnalyticsScope, type AnalyticsSettingsView, type AuditActor } from '@airlock/data-access';
import { CLOCK, type Clock } from '../common/clock';
import { storedJobKind } from '../jobs/dto/create-job.dto';
import { InvalidRequestError } from '../common/invalid-request.error';
import { addDays, buildAnalyticsReport, dayOf, daysBetween, spendWindow } from './analytics-report';
import type { AnalyticsQuery } from './dto/analytics-query';
import type { AnalyticsReportResponse } from './dto/analytics-report.response';
import type { AnalyticsSettingsDto, AnalyticsSettingsResponse } from './dto/analytics-settings.dto';

/** The longest range a report covers: from and to at most this many days apart. */
export const MAX_RANGE_DAYS = 400;
/** The default range: the last 30 days, today included. */
export const DEFAULT_RANGE_DAYS = 30;

/**
 * Analytics for managers: the report of a tenant's jobs for a range and filter, read from
 * the rollups only, and the settings (prices, budget, hours saved, minimum group size) the
 * figures are computed with.
 */
@Injectable()
export class AnalyticsService {
  private readonly logger = new Logger(AnalyticsService.name);

  constructor(
    private readonly data: DataAccess,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async report(tenantId: string, query: AnalyticsQuery): Promise<AnalyticsReportResponse> {
    const now = this.clock.now();
    const range = resolveRange(query, now);
    const filters = {
      ...(query.repoAlias !== undefined ? { repoAlias: query.repoAlias } : {}),
      ...(query.pool !== undefined ? { pool: query.pool } : {}),
      ...(query.kind !== undefined ? { kind: storedJobKind(query.kind) } : {}),
    };
    const scope: AnalyticsScope = { tenantId, ...range, ...filters };
    const [settings, aggregates] = await Promise.all([this.data.analytics.getSettings(tenantId), this.data.analytics.aggregate(scope, { now, ...spendWindow(now) })]);
    return buildAnalyticsReport({ range, filters, aggregates, settings, now });
  }

  async getSettings(tenantId: string): Promise<AnalyticsSettingsResponse> {
    return toSettingsResponse(await this.data.analytics.getSettings(tenantId));
  }

  async putSettings(tenantId: string, actor: AuditActor, body: AnalyticsSettingsDto): Promise<AnalyticsSettingsResponse> {
    const change = await this.data.analytics.putSettings({
      tenantId,
      actor,
      now: this.clock.now(),
      settings: {
        currency: body.currency,
        pricePer1kTokens: body.pricePer1kTokens,
        modelPrices: body.modelPrices.map((price) => ({ model: price.model, pricePer1kTokens: price.pricePer1kTokens })),
        monthlyBudget: body.monthlyBudget,
        hoursSavedPerDeliveredChange: { FIX: body.hoursSavedPerDeliveredChange.fix, NOOP: body.hoursSavedPerDeliveredChange.noop },
        minimumGroupSize: body.minimumGroupSize,
      },
    });
    if (change.changedFields.length > 0) {
      this.logger.log({ event: 'analytics_settings_changed', tenantId, changedFields: change.changedFields, actorKind: actor.kind, actorId: actor.id });
    }
    return toSettingsResponse(change.settings);
  }
}

/**
 * The range a query asks for: `to` defaults to today (UTC) and `from` to 29 days before
 * `to`; `from` must not come after `to`, nor more than MAX_RANGE_DAYS before it. The error
 * names the field the caller gave (the other was a default).
 */
export function resolveRange(query: Pick<AnalyticsQuery, 'from' | 'to'>, now: Date): { from: string; to: string } {
  const to = query.to ?? dayOf(now);
  const from = query.from ?? addDays(to, -(DEFAULT_RANGE_DAYS - 1));
  const blamed = query.to !== undefined ? 'to' : 'from';
  if (from > to) {
    throw new InvalidRequestError([blamed === 'to' ? `to: expected a date on or after from (${from})` : `from: expected a date on or before to (${to})`]);
  }
  if (daysBetween(from, to) > MAX_RANGE_DAYS) {
    throw new InvalidRequestError([
      blamed === 'to' ? `to: expected at most ${MAX_RANGE_DAYS} days after from (${from})` : `from: expected at most ${MAX_RANGE_DAYS} days before to (${to})`,
    ]);
  }
  return { from, to };
}

function toSettingsResponse(settings: AnalyticsSettingsView): AnalyticsSettingsResponse {
  return {
    currency: settings.currency,
    pricePer1kTokens: settings.pricePer1kTokens,
    modelPrices: settings.modelPrices.map((price) => ({ model: price.model, pricePer1kTokens: price.pricePer1kTokens })),
    monthlyBudget: settings.monthlyBudget,
    hoursSavedPerDeliveredChange: { fix: settings.hoursSavedPerDeliveredChange.FIX, noop: settings.hoursSavedPerDeliveredChange.NOOP },
    minimumGroupSize: settings.minimumGroupSize,
    updatedAt: settings.updatedAt === null ? null : settings.updatedAt.toISOString(),
  };
}
