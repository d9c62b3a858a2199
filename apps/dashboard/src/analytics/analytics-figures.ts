import type { Schemas } from '../api/client';
import { formatCount, formatDuration, humanize } from '../ui/format';

export type AnalyticsReport = Schemas['AnalyticsReportResponse'];
export type SuccessSlice = Schemas['SuccessSliceResponse'];
export type ModelUsageSlice = Schemas['ModelUsageSliceResponse'];
export type PolicyRuleSlice = Schemas['PolicyRuleSliceResponse'];
export type Percentiles = Schemas['PercentilesResponse'];

/** The label the API gives the slice that merges those smaller than the minimum group size. */
export const OTHER_SLICE = '(other)';

/**
 * An amount in the tenant's currency. Costs per job are often fractions of a cent, and the
 * API keeps 4 decimals of them: under 1 they are shown to 4 decimals, not rounded to nothing.
 */
export function formatMoney(amount: number, currency: string): string {
  const fractionDigits = amount !== 0 && Math.abs(amount) < 1 ? 4 : 2;
  try {
    return new Intl.NumberFormat('en-US', { style: 'currency', currency, minimumFractionDigits: 2, maximumFractionDigits: fractionDigits }).format(amount);
  } catch {
    // A code this browser's ICU does not know: the number and the code still say it.
    return `${amount.toFixed(fractionDigits)} ${currency}`;
  }
}

/** A rate of 0..1 as a percentage to one decimal ("83.3%"); "—" when there was nothing to divide by. */
export function formatRate(rate: number | null): string {
  if (rate === null) return '—';
  const percent = Math.round(rate * 1_000) / 10;
  return `${Number.isInteger(percent) ? percent.toFixed(0) : percent.toFixed(1)}%`;
}

/** Hours as the settings speak of them: "2.0 h", "2.25 h", "1,234.5 h". */
export function formatHours(hours: number): string {
  const digits = Number.isInteger(Math.round(hours * 100) / 10) ? 1 : 2;
  return `${hours.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })} h`;
}

/** A percentile duration, or "—" when none was counted. */
export function formatPercentile(ms: number | null): string {
  return ms === null ? '—' : formatDuration(ms);
}

/** "3 jobs", "1 job". */
export function countOf(count: number, noun: string, plural = `${noun}s`): string {
  return `${formatCount(count)} ${count === 1 ? noun : plural}`;
}

/** A stage of the job funnel with its conversions. */
export interface FunnelStage {
  readonly stage: string;
  readonly count: number;
  /** Share of the stage before it; null for the first stage, or when the one before is empty. */
  readonly ofPrevious: number | null;
  /** Share of the jobs created; null when none were. */
  readonly ofCreated: number | null;
}

const share = (part: number, whole: number): number | null => (whole > 0 ? part / whole : null);

/** Created → ran → tests passed → delivered, each with the share of the stage before it and of all created. */
export function funnelStages(funnel: AnalyticsReport['funnel']): readonly FunnelStage[] {
  const counts: readonly (readonly [string, number])[] = [
    ['Created', funnel.created],
    ['Ran', funnel.ran],
    ['Tests passed', funnel.testsPassed],
    ['Delivered', funnel.delivered],
  ];
  return counts.map(([stage, count], index) => {
    const previous = index > 0 ? counts[index - 1]?.[1] : undefined;
    return { stage, count, ofPrevious: previous === undefined ? null : share(count, previous), ofCreated: share(count, funnel.created) };
  });
}

/** The funnel in one sentence, for the chart's text summary. */
export function describeFunnel(funnel: AnalyticsReport['funnel']): string {
  if (funnel.created === 0) return 'No job was created in this range.';
  const delivered = formatRate(share(funnel.delivered, funnel.created));
  return (
    `Of ${countOf(funnel.created, 'job')} created, ${formatCount(funnel.ran)} ran, ${formatCount(funnel.testsPassed)} passed their tests ` +
    `and ${formatCount(funnel.delivered)} delivered a change (${delivered} of those created).`
  );
}

/** What a breakdown splits by: the same special key means a different thing in each. */
export type Breakdown = 'repository' | 'pool' | 'model' | 'endpoint' | 'rule';

/** Keys the API gives slices that are not a name (a repository, pool, model …), in words, per breakdown. */
const SPECIAL_SLICE_LABELS: Readonly<Record<Breakdown, Readonly<Record<string, string>>>> = {
  repository: { '(none)': 'No repository (noop jobs)' },
  pool: { '(not dispatched)': 'Not taken by a worker yet', '(none)': 'Worker without a pool' },
  model: { '(not finished)': 'Not finished yet', '(no result)': 'Ended without a result', '(unreported)': 'Model not reported' },
  endpoint: { '(unreported)': 'Not reported' },
  rule: {},
};

/** A breakdown slice's label: its key, or what a special key means; the merged slice says how many it stands for. */
export function sliceLabel(breakdown: Breakdown, key: string, other = false, mergedSlices = 1): string {
  if (other) return `Other (${countOf(mergedSlices, 'slice')} merged)`;
  return SPECIAL_SLICE_LABELS[breakdown][key] ?? key;
}

/** A model's usage row label: "primary · qwen-coder"; unreported and merged slices in words. */
export function usageLabel(slice: ModelUsageSlice): string {
  if (slice.other) return sliceLabel('model', slice.model, true, slice.mergedSlices);
  if (slice.endpoint === slice.model) return sliceLabel('model', slice.model);
  return `${sliceLabel('endpoint', slice.endpoint)} · ${sliceLabel('model', slice.model)}`;
}

/** A phase name as words: PHASE_INFERENCE → Inference. */
export function phaseLabel(phase: string): string {
  return humanize(phase, 'PHASE_');
}

/** The success slices in one sentence: the best and the worst by success rate, among those that ran. */
export function describeSuccessSlices(slices: readonly SuccessSlice[], what: Breakdown): string {
  const rated = slices.filter((slice): slice is SuccessSlice & { successRate: number } => slice.successRate !== null);
  if (rated.length === 0) return slices.length === 0 ? `No job was created in this range.` : `None of these jobs ran yet, so there is no success rate by ${what}.`;
  const sorted = [...rated].sort((a, b) => b.successRate - a.successRate);
  const best = sorted[0];
  const worst = sorted[sorted.length - 1];
  if (!best || !worst) return '';
  const name = (slice: SuccessSlice) => sliceLabel(what, slice.key, slice.other, slice.mergedSlices);
  if (best === worst) return `${name(best)}: ${formatRate(best.successRate)} of the ${countOf(best.ran, 'job')} that ran delivered a change.`;
  return `Highest: ${name(best)}, ${formatRate(best.successRate)} of ${formatCount(best.ran)} that ran. Lowest: ${name(worst)}, ${formatRate(worst.successRate)} of ${formatCount(worst.ran)}.`;
}

/**
 * The assumption behind the estimated hours saved, next to the figure: "2.0 h per delivered
 * fix, set by your manager". A kind that never delivered and is assumed to save nothing is
 * left out; with no assumption set at all, it says so rather than showing a silent zero.
 */
export function hoursSavedAssumption(byKind: readonly Schemas['HoursSavedByKindResponse'][]): string {
  const stated = byKind.filter((kind) => kind.hoursPerDeliveredChange > 0 || kind.deliveredChanges > 0);
  if (stated.length === 0 || stated.every((kind) => kind.hoursPerDeliveredChange === 0)) {
    return 'No hours per delivered change are set yet: a manager sets them in the analytics settings.';
  }
  return `${stated.map((kind) => `${formatHours(kind.hoursPerDeliveredChange)} per delivered ${kind.kind}`).join(', ')}, set by your manager.`;
}

/** What the budget cards say: this month's burn, and the days left at the recent pace (none without a budget). */
export interface BudgetWords {
  readonly burn: string;
  readonly burnNote: string;
  readonly daysLeft: string | null;
  readonly daysLeftNote: string | null;
}

export function describeBudget(budget: AnalyticsReport['budget']): BudgetWords {
  const money = (amount: number) => formatMoney(amount, budget.currency);
  const spent = `${money(budget.spentThisMonth)} spent in ${budget.month}`;
  if (budget.monthlyBudget === null) {
    return { burn: 'No budget set', burnNote: `${spent}. A manager can set a monthly budget in the analytics settings.`, daysLeft: null, daysLeftNote: null };
  }
  const over = budget.remaining !== null && budget.remaining < 0 ? `, ${money(-budget.remaining)} over` : '';
  const burn = { burn: `${formatRate(share(budget.spentThisMonth, budget.monthlyBudget))} of ${money(budget.monthlyBudget)}`, burnNote: `${spent}${over}. The budget covers the whole organisation: no filter applies to it.` };
  if (budget.daysLeft === null) return { ...burn, daysLeft: '—', daysLeftNote: 'Nothing was spent in the last 7 days, so there is no pace to project from.' };
  if (budget.daysLeft === 0) return { ...burn, daysLeft: 'None', daysLeftNote: "This month's budget is spent." };
  return {
    ...burn,
    daysLeft: `${budget.daysLeft.toLocaleString('en-US', { maximumFractionDigits: 1 })} days`,
    daysLeftNote: `At ${money(budget.trailing7DayDailySpend)} a day, the pace of the last 7 days, ${money(budget.remaining ?? 0)} lasts about this long.`,
  };
}

/** The merge requests card's words: the median wait for a first review up front, the rest as shares of what was reported. */
export interface MergeRequestWords {
  /** The median wait from opening to a person's first review, or "—" when no request was reviewed. */
  readonly firstReviewWait: string;
  readonly firstReviewNote: string;
  /** One line per outcome: what it is and how many of the reported requests. */
  readonly outcomes: readonly { readonly label: string; readonly value: string }[];
  readonly mergeNote: string;
}

/** A wait in seconds, as the analytics show durations. */
const formatSeconds = (seconds: number | null): string => formatPercentile(seconds === null ? null : seconds * 1_000);

export function describeMergeRequests(mergeRequests: AnalyticsReport['mergeRequests']): MergeRequestWords {
  const { reported, withFigures, timeToFirstReview: review, timeToMerge: merge } = mergeRequests;
  const ofReported = (count: number) => `${formatCount(count)} (${formatRate(share(count, reported))})`;
  let firstReviewNote: string;
  if (reported === 0) firstReviewNote = 'No worker reported on a merge request of the jobs created in this range.';
  else if (review.count === 0) firstReviewNote = `None of the ${countOf(withFigures, 'request')} reported with times was reviewed by a person yet.`;
  else firstReviewNote = `Median from opening to a person's first review, over ${countOf(review.count, 'reviewed request')}; 90th percentile ${formatSeconds(review.p90S)}.`;
  const minimalOnly = reported - withFigures;
  return {
    firstReviewWait: formatSeconds(review.p50S),
    firstReviewNote: minimalOnly > 0 ? `${firstReviewNote} ${countOf(minimalOnly, 'request')} reported at the minimal level, without times or counts.` : firstReviewNote,
    outcomes: [
      { label: 'Reported', value: formatCount(reported) },
      { label: 'Still open', value: ofReported(mergeRequests.open) },
      { label: 'Merged', value: ofReported(mergeRequests.merged) },
      { label: 'Closed unmerged', value: ofReported(mergeRequests.closedUnmerged) },
      { label: 'Reverted after merging', value: ofReported(mergeRequests.reverted) },
      { label: 'Reworked by people', value: `${formatCount(mergeRequests.reworkedByPeople)} of ${formatCount(withFigures)} with counts` },
    ],
    mergeNote: merge.count === 0 ? 'No merge with a reported time in this range.' : `Median time to merge ${formatSeconds(merge.p50S)}, over ${countOf(merge.count, 'merged request')}.`,
  };
}

/** The review jobs of the range in words: how many ran, and what their comments said by severity. */
export interface ReviewWords {
  readonly summary: string;
  /** Comments by severity, then those not posted. */
  readonly figures: readonly { readonly label: string; readonly value: string }[];
  /** What the counts cover, when not every review reported them. */
  readonly note: string | null;
}

export function describeReviews(reviews: AnalyticsReport['reviews']): ReviewWords {
  const { finished, succeeded, withCounts, commentsPosted: posted } = reviews;
  const total = posted.critical + posted.major + posted.minor + posted.info;
  const summary =
    finished === 0
      ? 'No review job finished in this range.'
      : `${countOf(finished, 'review')} finished, ${formatCount(succeeded)} of them posting ${countOf(total, 'comment')} on merge requests.`;
  const withoutCounts = finished - withCounts;
  return {
    summary,
    figures: [
      { label: 'Critical', value: formatCount(posted.critical) },
      { label: 'Major', value: formatCount(posted.major) },
      { label: 'Minor', value: formatCount(posted.minor) },
      { label: 'Info', value: formatCount(posted.info) },
      { label: 'Not posted', value: formatCount(reviews.commentsDropped) },
    ],
    note: withoutCounts > 0 ? `${countOf(withoutCounts, 'review')} reported no counts (the minimal metadata level, or a review that failed): the comments are of the other ${formatCount(withCounts)}.` : null,
  };
}

/** How many results were left out for being implausible: said even when none were, so the reader knows it was checked. */
export function describeLeftOut(leftOut: AnalyticsReport['leftOut']): string {
  if (leftOut.implausibleCreated + leftOut.implausibleFinished === 0) return 'No implausible result was left out of these figures.';
  return (
    `Left out as implausible: ${countOf(leftOut.implausibleCreated, 'job')} created and ${countOf(leftOut.implausibleFinished, 'job')} finished in this range, ` +
    'whose results report figures no worker could have measured.'
  );
}

/** Whether any breakdown of the report merged small slices into "other". */
export function anySliceMerged(report: AnalyticsReport): boolean {
  const slices = [...report.successRate.byRepository, ...report.successRate.byPool, ...report.successRate.byModel, ...report.models.usage, ...report.policy.rules];
  return slices.some((slice) => slice.other);
}

/** The rule for small slices, stated with the tenant's size, and whether this report applied it. */
export function describeGrouping(report: AnalyticsReport): string {
  const rule = `Breakdowns merge any repository, pool, model or rule with fewer than ${countOf(report.minimumGroupSize, 'job')} into “Other”, so no small group can be singled out (minimum group size ${report.minimumGroupSize}, set in the analytics settings).`;
  return anySliceMerged(report) ? `${rule} Some slices below were merged.` : `${rule} No slice needed merging here.`;
}

/** The filters the report covers, in words: "all repositories · pool build · fix jobs". */
export function describeReportFilters(filters: AnalyticsReport['filters']): string {
  return [
    filters.repoAlias ? `repository ${filters.repoAlias}` : 'all repositories',
    filters.pool ? `pool ${filters.pool}` : 'all pools',
    filters.kind ? `${filters.kind} jobs` : 'all job kinds',
  ].join(' · ');
}

/** Whether any token of the range costs anything: with no price set, costs read zero rather than missing. */
export function pricesSet(cost: AnalyticsReport['cost']): boolean {
  return cost.pricePer1kTokens > 0 || cost.modelPriceOverrides > 0;
}

/** The largest value of a series and where it is, for a chart's summary; null when every value is zero. */
export function peakOf<Point>(points: readonly Point[], value: (point: Point) => number): { readonly point: Point; readonly value: number } | null {
  let peak: { point: Point; value: number } | null = null;
  for (const point of points) {
    const current = value(point);
    if (current > 0 && (peak === null || current > peak.value)) peak = { point, value: current };
  }
  return peak;
}

/** The sum of a series. */
export function totalOf<Point>(points: readonly Point[], value: (point: Point) => number): number {
  return points.reduce((sum, point) => sum + value(point), 0);
}

/** A day on a chart's axis: 2026-11-05 → 11-05 (the range and the table carry the year). */
export function shortDay(day: string): string {
  return day.slice(5);
}

/** A label cut to fit an axis; the table beside the chart has it whole. */
export function truncateLabel(label: string, maxChars = 28): string {
  return label.length > maxChars ? `${label.slice(0, maxChars - 1)}…` : label;
}

/**
 * How long to wait before reading the report again after a job ended: at once when the
 * last read is at least `minimumGapMs` old, else until it is — so a burst of finishing jobs
 * costs one read, and the figures never lag by more than the gap.
 */
export function refreshDelayMs(lastReadAtMs: number | null, nowMs: number, minimumGapMs: number): number {
  if (lastReadAtMs === null) return 0;
  return Math.max(0, lastReadAtMs + minimumGapMs - nowMs);
}

/** Job statuses after which a job's figures stop changing: the report is worth reading again. */
export const TERMINAL_JOB_STATUSES: ReadonlySet<string> = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);
