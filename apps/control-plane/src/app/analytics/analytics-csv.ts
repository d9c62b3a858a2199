import { csvRow, type CsvValue } from '../common/csv';
import type { AnalyticsReportResponse } from './dto/analytics-report.response';

/** One table of the export: its title, its header and its rows. */
export interface CsvSection {
  readonly title: string;
  readonly columns: readonly string[];
  readonly rows: readonly (readonly CsvValue[])[];
}

/**
 * The report's tables, as the CSV export writes them. Everything comes from the report the
 * JSON route returns, so the two cannot disagree.
 */
export function analyticsCsvSections(report: AnalyticsReportResponse): CsvSection[] {
  const { range, filters, leftOut, funnel, successRate, time, models, cost, budget, policy, hoursSaved, fleet, secondary, mergeRequests, reviews } = report;
  return [
    {
      title: 'report',
      columns: ['generatedAt', 'from', 'to', 'days', 'repoAlias', 'pool', 'kind', 'currency', 'minimumGroupSize', 'implausibleCreated', 'implausibleFinished'],
      rows: [
        [report.generatedAt, range.from, range.to, range.days, filters.repoAlias, filters.pool, filters.kind, report.currency, report.minimumGroupSize, leftOut.implausibleCreated, leftOut.implausibleFinished],
      ],
    },
    {
      title: 'funnel',
      columns: ['attribution', 'created', 'ran', 'testsPassed', 'delivered', 'deliveredWithoutTestsPassed', 'notYetDispatched'],
      rows: [[funnel.attribution, funnel.created, funnel.ran, funnel.testsPassed, funnel.delivered, funnel.deliveredWithoutTestsPassed, funnel.notYetDispatched]],
    },
    {
      title: 'success rate',
      columns: ['breakdown', 'key', 'other', 'mergedSlices', 'jobs', 'ran', 'delivered', 'successRate'],
      rows: [
        ['all', '', false, 1, funnel.created, successRate.ran, successRate.delivered, successRate.successRate],
        ...(
          [
            ['repository', successRate.byRepository],
            ['pool', successRate.byPool],
            ['model', successRate.byModel],
          ] as const
        ).flatMap(([breakdown, slices]) =>
          slices.map((slice) => [breakdown, slice.key, slice.other, slice.mergedSlices, slice.jobs, slice.ran, slice.delivered, slice.successRate]),
        ),
      ],
    },
    {
      title: 'time',
      columns: ['measure', 'count', 'p50Ms', 'p90Ms'],
      rows: [
        ['timeToChange', time.timeToChange.count, time.timeToChange.p50Ms, time.timeToChange.p90Ms],
        ['queueWait', time.queueWait.count, time.queueWait.p50Ms, time.queueWait.p90Ms],
        ...time.phases.map((phase) => [phase.phase, phase.count, phase.p50Ms, phase.p90Ms]),
      ],
    },
    {
      title: 'model usage',
      columns: ['endpoint', 'model', 'other', 'mergedSlices', 'jobs', 'requests', 'promptTokens', 'completionTokens', 'cost'],
      rows: models.usage.map((slice) => [slice.endpoint, slice.model, slice.other, slice.mergedSlices, slice.jobs, slice.requests, slice.promptTokens, slice.completionTokens, slice.cost]),
    },
    {
      title: 'fallback',
      columns: ['jobsWithModelUsage', 'jobsWithFallback', 'rate'],
      rows: [[models.fallback.jobsWithModelUsage, models.fallback.jobsWithFallback, models.fallback.rate]],
    },
    {
      title: 'cost',
      columns: ['currency', 'total', 'jobsFinished', 'perJob', 'deliveredChanges', 'perDeliveredChange', 'pricePer1kTokens', 'modelPriceOverrides'],
      rows: [[cost.currency, cost.total, cost.jobsFinished, cost.perJob, cost.deliveredChanges, cost.perDeliveredChange, cost.pricePer1kTokens, cost.modelPriceOverrides]],
    },
    {
      title: 'budget',
      columns: ['currency', 'monthlyBudget', 'month', 'spentThisMonth', 'remaining', 'trailing7DayDailySpend', 'daysLeft'],
      rows: [[budget.currency, budget.monthlyBudget, budget.month, budget.spentThisMonth, budget.remaining, budget.trailing7DayDailySpend, budget.daysLeft]],
    },
    {
      title: 'policy',
      columns: ['rule', 'other', 'mergedSlices', 'jobs', 'blockedMandatory', 'blockedAdvisory', 'recorded', 'corrected', 'shadowWouldBlock'],
      rows: policy.rules.map((rule) => [rule.rule, rule.other, rule.mergedSlices, rule.jobs, rule.blockedMandatory, rule.blockedAdvisory, rule.recorded, rule.corrected, rule.shadowWouldBlock]),
    },
    {
      title: 'hours saved',
      columns: ['kind', 'deliveredChanges', 'hoursPerDeliveredChange', 'hours', 'assumption'],
      rows: [
        ...hoursSaved.byKind.map((kind) => [kind.kind, kind.deliveredChanges, kind.hoursPerDeliveredChange, kind.hours, '']),
        ['all', hoursSaved.deliveredChanges, '', hoursSaved.hours, hoursSaved.assumption],
      ],
    },
    {
      title: 'fleet',
      columns: ['filtersApplied', 'onlineSlotHours', 'busySlotHours', 'idleSlotHours', 'utilisation'],
      rows: [[fleet.filtersApplied.join(' '), fleet.onlineSlotHours, fleet.busySlotHours, fleet.idleSlotHours, fleet.utilisation]],
    },
    {
      title: 'secondary',
      columns: ['deliveredChanges', 'linesAdded', 'linesRemoved', 'filesChanged'],
      rows: [[secondary.deliveredChanges, secondary.linesAdded, secondary.linesRemoved, secondary.filesChanged]],
    },
    {
      title: 'merge requests',
      columns: [
        'attribution',
        'reported',
        'open',
        'merged',
        'closedUnmerged',
        'reverted',
        'withFigures',
        'reworkedByPeople',
        'firstReviewCount',
        'firstReviewP50S',
        'firstReviewP90S',
        'mergeCount',
        'mergeP50S',
        'mergeP90S',
      ],
      rows: [
        [
          mergeRequests.attribution,
          mergeRequests.reported,
          mergeRequests.open,
          mergeRequests.merged,
          mergeRequests.closedUnmerged,
          mergeRequests.reverted,
          mergeRequests.withFigures,
          mergeRequests.reworkedByPeople,
          mergeRequests.timeToFirstReview.count,
          mergeRequests.timeToFirstReview.p50S,
          mergeRequests.timeToFirstReview.p90S,
          mergeRequests.timeToMerge.count,
          mergeRequests.timeToMerge.p50S,
          mergeRequests.timeToMerge.p90S,
        ],
      ],
    },
    {
      title: 'reviews',
      columns: ['attribution', 'finished', 'succeeded', 'withCounts', 'critical', 'major', 'minor', 'info', 'dropped'],
      rows: [
        [
          reviews.attribution,
          reviews.finished,
          reviews.succeeded,
          reviews.withCounts,
          reviews.commentsPosted.critical,
          reviews.commentsPosted.major,
          reviews.commentsPosted.minor,
          reviews.commentsPosted.info,
          reviews.commentsDropped,
        ],
      ],
    },
    {
      title: 'daily',
      columns: ['date', 'created', 'delivered', 'cost', 'busySlotHours', 'idleSlotHours'],
      rows: report.daily.map((point) => [point.date, point.created, point.delivered, point.cost, point.busySlotHours, point.idleSlotHours]),
    },
    { title: 'notes', columns: ['note'], rows: report.notes.map((note) => [note]) },
  ];
}

/**
 * The report as CSV (RFC 4180, CRLF): one section per table, each a title line, a header
 * and its rows, sections separated by an empty line. Empty cells are nulls.
 */
export function renderAnalyticsCsv(report: AnalyticsReportResponse): string {
  return analyticsCsvSections(report)
    .map((section) => [csvRow([section.title]), csvRow(section.columns), ...section.rows.map((row) => csvRow(row))].join(''))
    .join('\r\n');
}
