import {
  HISTOGRAM_CEILING_MS,
  HISTOGRAM_FLOOR_MS,
  HISTOGRAM_MAX_ESTIMATE_FACTOR,
  histogramPercentileMs,
  histogramsByMetric,
  HOURS_SAVED_KINDS,
  nextDay,
  type AnalyticsAggregates,
  type AnalyticsSettingsValues,
  type CohortSlice,
  type JobKind,
  type MergeRequestCounts,
  type PolicyDecisionCounts,
  type ReviewCounts,
} from '@airlock/data-access';
import { jobKindName } from '../jobs/dto/create-job.dto';
import type {
  AnalyticsReportResponse,
  DailyPointResponse,
  ModelUsageSliceResponse,
  PercentilesResponse,
  PhasePercentilesResponse,
  PolicyRuleSliceResponse,
  SuccessSliceResponse,
} from './dto/analytics-report.response';

/** What one report is built from: the sums of its scope, the tenant's settings and the time it is read at. */
export interface AnalyticsReportInput {
  readonly range: { readonly from: string; readonly to: string };
  readonly filters: { readonly repoAlias?: string; readonly pool?: string; readonly kind?: JobKind };
  readonly aggregates: AnalyticsAggregates;
  readonly settings: AnalyticsSettingsValues;
  readonly now: Date;
}

/** The label of the slice that merges the ones smaller than the tenant's minimum group size. */
export const OTHER_SLICE = '(other)';

// The order a fix job runs its phases in; phases a newer worker reports come after, by name.
const PHASE_ORDER = ['PHASE_VERIFY', 'PHASE_WORKSPACE', 'PHASE_SETUP', 'PHASE_BASELINE', 'PHASE_CONTEXT', 'PHASE_INFERENCE', 'PHASE_APPLY', 'PHASE_TEST', 'PHASE_DELIVER'];
const TIME_TO_CHANGE_METRIC = 'ttc';
const QUEUE_WAIT_METRIC = 'qw';
const HOUR_MS = 3_600_000;
const TRAILING_DAYS = 7;

/** The UTC days the tenant-wide spend is read for: this month so far and the 7 whole days before today. */
export function spendWindow(now: Date): { spendFrom: string; spendTo: string } {
  const today = dayOf(now);
  const monthStart = `${today.slice(0, 7)}-01`;
  const trailingStart = addDays(today, -TRAILING_DAYS);
  return { spendFrom: trailingStart < monthStart ? trailingStart : monthStart, spendTo: today };
}

/**
 * The report of one scope. Pure: the JSON route and the CSV export both render what this
 * returns, so they cannot disagree.
 */
export function buildAnalyticsReport(input: AnalyticsReportInput): AnalyticsReportResponse {
  const { aggregates, settings, range, filters, now } = input;
  const minimum = settings.minimumGroupSize;
  const priceOf = pricing(settings);
  const cohort = sumCohort(aggregates.cohortByDay);
  const outcome = aggregates.outcome;

  const usageSlices = modelUsageSlices(aggregates, priceOf);
  const totalCost = aggregates.tokens.reduce((sum, row) => sum + costOf(row.promptTokens + row.completionTokens, priceOf(row.model)), 0);
  const deliveredByKind = new Map(aggregates.deliveredByKind.map((row) => [row.kind, row.delivered]));
  const hoursByKind = HOURS_SAVED_KINDS.map((kind) => {
    const deliveredChanges = deliveredByKind.get(kind) ?? 0;
    const hoursPerDeliveredChange = settings.hoursSavedPerDeliveredChange[kind];
    return { kind: jobKindName(kind), deliveredChanges, hoursPerDeliveredChange, hours: round(deliveredChanges * hoursPerDeliveredChange, 2) };
  });
  const daily = dailyPoints(input, priceOf);
  const onlineMs = aggregates.fleet.reduce((sum, day) => sum + day.onlineSlotMs, 0);
  const busyMs = aggregates.fleet.reduce((sum, day) => sum + day.busyMs, 0);
  const idleMs = aggregates.fleet.reduce((sum, day) => sum + Math.max(0, day.onlineSlotMs - day.busyMs), 0);

  return {
    generatedAt: now.toISOString(),
    range: { from: range.from, to: range.to, days: daysBetween(range.from, range.to) + 1 },
    filters: {
      repoAlias: filters.repoAlias ?? null,
      pool: filters.pool ?? null,
      kind: filters.kind === undefined ? null : jobKindName(filters.kind),
    },
    currency: settings.currency,
    minimumGroupSize: minimum,
    leftOut: { implausibleCreated: cohort.implausible, implausibleFinished: outcome.implausible },
    funnel: {
      attribution: 'creation-day',
      created: cohort.created,
      ran: cohort.ran,
      testsPassed: cohort.testsPassed,
      delivered: cohort.delivered,
      deliveredWithoutTestsPassed: cohort.deliveredUntested,
      notYetDispatched: aggregates.cohortByPool.find((slice) => slice.key === '(not dispatched)')?.created ?? 0,
    },
    successRate: {
      attribution: 'creation-day',
      ran: cohort.ran,
      delivered: cohort.delivered,
      successRate: ratio(cohort.delivered, cohort.ran),
      byRepository: successSlices(aggregates.cohortByRepository, minimum),
      byPool: successSlices(aggregates.cohortByPool, minimum),
      byModel: successSlices(aggregates.cohortByModel, minimum),
    },
    time: timeFigures(aggregates.histogram),
    models: {
      attribution: 'finish-day',
      usage: mergeSmallSlices(usageSlices, minimum, mergeUsage).map(withoutKey),
      fallback: { jobsWithModelUsage: outcome.jobsWithModelUsage, jobsWithFallback: outcome.jobsWithFallback, rate: ratio(outcome.jobsWithFallback, outcome.jobsWithModelUsage) },
    },
    cost: {
      attribution: 'finish-day',
      currency: settings.currency,
      total: money(totalCost),
      jobsFinished: outcome.finished,
      perJob: outcome.finished > 0 ? money(totalCost / outcome.finished) : null,
      deliveredChanges: outcome.delivered,
      perDeliveredChange: outcome.delivered > 0 ? money(totalCost / outcome.delivered) : null,
      pricePer1kTokens: settings.pricePer1kTokens,
      modelPriceOverrides: settings.modelPrices.length,
    },
    budget: budgetFigures(input, priceOf),
    policy: policyFigures(aggregates.policy, minimum),
    hoursSaved: {
      attribution: 'finish-day',
      hours: round(
        hoursByKind.reduce((sum, kind) => sum + kind.deliveredChanges * kind.hoursPerDeliveredChange, 0),
        2,
      ),
      deliveredChanges: outcome.delivered,
      byKind: hoursByKind,
      assumption: `${hoursByKind.map((kind) => `${kind.kind}: ${kind.hoursPerDeliveredChange} h per delivered change`).join('; ')} (set in the analytics settings)`,
    },
    fleet: {
      attribution: 'slot-time-day',
      filtersApplied: ['pool'],
      onlineSlotHours: round(onlineMs / HOUR_MS, 2),
      busySlotHours: round(busyMs / HOUR_MS, 2),
      idleSlotHours: round(idleMs / HOUR_MS, 2),
      utilisation: onlineMs > 0 ? round(busyMs / onlineMs, 4) : null,
    },
    secondary: { deliveredChanges: outcome.delivered, linesAdded: outcome.linesAdded, linesRemoved: outcome.linesRemoved, filesChanged: outcome.filesChanged },
    mergeRequests: mergeRequestFigures(aggregates.mergeRequests),
    reviews: reviewFigures(aggregates.reviews),
    daily,
    notes: notesFor(input),
  };
}

function mergeRequestFigures(counts: MergeRequestCounts): AnalyticsReportResponse['mergeRequests'] {
  return {
    attribution: 'creation-day',
    reported: counts.reported,
    open: counts.open,
    merged: counts.merged,
    closedUnmerged: counts.closedUnmerged,
    reverted: counts.reverted,
    withFigures: counts.withFigures,
    reworkedByPeople: counts.reworkedByPeople,
    timeToFirstReview: { count: counts.reviewed, p50S: counts.firstReviewP50S, p90S: counts.firstReviewP90S },
    timeToMerge: { count: counts.mergedWithFigures, p50S: counts.mergeP50S, p90S: counts.mergeP90S },
  };
}

function reviewFigures(counts: ReviewCounts): AnalyticsReportResponse['reviews'] {
  return {
    attribution: 'finish-day',
    finished: counts.finished,
    succeeded: counts.succeeded,
    withCounts: counts.withCounts,
    commentsPosted: { critical: counts.critical, major: counts.major, minor: counts.minor, info: counts.info },
    commentsDropped: counts.dropped,
  };
}

function notesFor(input: AnalyticsReportInput): string[] {
  const { filters } = input;
  const notes = [
    'The funnel and success rates count each job on the day it was created; time, models, cost, policy, hours saved and lines count it on the day it finished; fleet figures count slot time on the day it was spent (docs/analytics.md).',
    'The budget is tenant-wide: no filter applies to it.',
    "Merge requests count each re-run chain once, on the day its first job was created, as its workers last reported it; the minimal metadata level reports states only, so rework and times count the chains reported with figures.",
  ];
  if (filters.pool !== undefined) {
    notes.push(`Pool ${filters.pool}: a job has a pool once a worker took it, so "created" counts only jobs a worker of this pool took; jobs no worker took yet are left out.`);
  }
  if (input.aggregates.histogram === null) {
    notes.push('Durations are kept per repository and per pool, not per pair: with both filters no percentile is given; drop one of them.');
  }
  if (filters.kind === undefined) {
    notes.push('The funnel and success rates count fix and noop jobs: review and index jobs deliver no change by design, and count there only when the kind filter asks for them.');
  }
  if (filters.kind === 'NOOP') notes.push('Durations are of fix jobs: a noop job is a probe without phases.');
  if (filters.kind === 'REVIEW' || filters.kind === 'INDEX') notes.push(`Durations and delivered changes are of fix jobs: ${filters.kind === 'REVIEW' ? 'a review' : 'an index'} job changes nothing.`);
  if (filters.repoAlias !== undefined || filters.kind !== undefined) {
    notes.push('Fleet utilisation is not filtered by repository or job kind: slot time belongs to workers.');
  }
  const implausibleCreated = sumCohort(input.aggregates.cohortByDay).implausible;
  const implausibleFinished = input.aggregates.outcome.implausible;
  if (implausibleCreated + implausibleFinished > 0) {
    notes.push(`Jobs whose result is implausible are left out of every figure: ${implausibleCreated} created and ${implausibleFinished} finished in the range.`);
  }
  return notes;
}

type PriceOf = (model: string) => number;

function pricing(settings: AnalyticsSettingsValues): PriceOf {
  const overrides = new Map(settings.modelPrices.map((price) => [price.model, price.pricePer1kTokens]));
  return (model) => overrides.get(model) ?? settings.pricePer1kTokens;
}

const costOf = (tokens: number, pricePer1kTokens: number): number => (tokens / 1_000) * pricePer1kTokens;

function sumCohort(days: AnalyticsAggregates['cohortByDay']): Omit<CohortSlice, 'key'> {
  const total = { created: 0, ran: 0, testsPassed: 0, delivered: 0, deliveredUntested: 0, implausible: 0 };
  for (const day of days) {
    total.created += day.created;
    total.ran += day.ran;
    total.testsPassed += day.testsPassed;
    total.delivered += day.delivered;
    total.deliveredUntested += day.deliveredUntested;
    total.implausible += day.implausible;
  }
  return total;
}

/** A slice of a breakdown before merging: its key, its size in jobs, and its figures. */
interface Sized {
  readonly jobs: number;
  readonly key: string;
}

/**
 * Keeps the slices with at least `minimum` jobs and merges the others into one "(other)"
 * slice. Merging a single slice would show it alone under another name, so then the
 * smallest kept slice joins it. Largest first; "(other)" last.
 */
export function mergeSmallSlices<T extends Sized>(slices: readonly T[], minimum: number, merge: (members: readonly T[]) => T): (T & { other: boolean; mergedSlices: number })[] {
  const bySize = [...slices].sort((a, b) => b.jobs - a.jobs || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const kept = bySize.filter((slice) => slice.jobs >= minimum);
  const merged = bySize.filter((slice) => slice.jobs < minimum);
  if (merged.length === 1 && kept.length > 0) merged.unshift(kept.pop() as T);
  return [
    ...kept.map((slice) => ({ ...slice, other: false, mergedSlices: 1 })),
    ...(merged.length > 0 ? [{ ...merge(merged), other: true, mergedSlices: merged.length }] : []),
  ];
}

function successSlices(slices: readonly CohortSlice[], minimum: number): SuccessSliceResponse[] {
  const sized = slices.map((slice) => ({ key: slice.key, jobs: slice.created, ran: slice.ran, delivered: slice.delivered }));
  return mergeSmallSlices(sized, minimum, (members) => ({
    key: OTHER_SLICE,
    jobs: sum(members, (member) => member.jobs),
    ran: sum(members, (member) => member.ran),
    delivered: sum(members, (member) => member.delivered),
  })).map((slice) => ({
    key: slice.key,
    other: slice.other,
    mergedSlices: slice.mergedSlices,
    jobs: slice.jobs,
    ran: slice.ran,
    delivered: slice.delivered,
    successRate: ratio(slice.delivered, slice.ran),
  }));
}

type UsageSlice = Omit<ModelUsageSliceResponse, 'other' | 'mergedSlices'> & { readonly key: string };

function modelUsageSlices(aggregates: AnalyticsAggregates, priceOf: PriceOf): UsageSlice[] {
  const slices = new Map<string, { endpoint: string; model: string; jobs: number; requests: number; promptTokens: number; completionTokens: number; cost: number }>();
  for (const row of aggregates.tokens) {
    const key = `${row.endpoint}\u0000${row.model}`;
    const slice = slices.get(key) ?? { endpoint: row.endpoint, model: row.model, jobs: 0, requests: 0, promptTokens: 0, completionTokens: 0, cost: 0 };
    slice.jobs += row.jobs;
    slice.requests += row.requests;
    slice.promptTokens += row.promptTokens;
    slice.completionTokens += row.completionTokens;
    slice.cost += costOf(row.promptTokens + row.completionTokens, priceOf(row.model));
    slices.set(key, slice);
  }
  return [...slices.entries()].map(([key, slice]) => ({ key, ...slice, cost: money(slice.cost) }));
}

function mergeUsage(members: readonly UsageSlice[]): UsageSlice {
  return {
    key: OTHER_SLICE,
    endpoint: OTHER_SLICE,
    model: OTHER_SLICE,
    jobs: sum(members, (member) => member.jobs),
    requests: sum(members, (member) => member.requests),
    promptTokens: sum(members, (member) => member.promptTokens),
    completionTokens: sum(members, (member) => member.completionTokens),
    cost: money(sum(members, (member) => member.cost)),
  };
}

function timeFigures(histogram: Readonly<Record<string, number>> | null): AnalyticsReportResponse['time'] {
  const byMetric = histogramsByMetric(histogram ?? {});
  const percentiles = (buckets: ReadonlyMap<number, number> | undefined): PercentilesResponse => {
    const counts = buckets ?? new Map<number, number>();
    return { count: [...counts.values()].reduce((total, count) => total + count, 0), p50Ms: histogramPercentileMs(counts, 0.5), p90Ms: histogramPercentileMs(counts, 0.9) };
  };
  const phaseNames = [...byMetric.keys()].filter((metric) => metric.startsWith('PHASE_'));
  const rank = (phase: string): number => {
    const index = PHASE_ORDER.indexOf(phase);
    return index === -1 ? PHASE_ORDER.length : index;
  };
  phaseNames.sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
  const phases: PhasePercentilesResponse[] = phaseNames.map((phase) => ({ phase, ...percentiles(byMetric.get(phase)) }));
  return {
    attribution: 'finish-day',
    percentilesAvailable: histogram !== null,
    resolution: {
      bucketFactor: round(2 ** (1 / 4), 4),
      maxRelativeError: round(HISTOGRAM_MAX_ESTIMATE_FACTOR - 1, 4),
      floorMs: HISTOGRAM_FLOOR_MS,
      ceilingMs: HISTOGRAM_CEILING_MS,
    },
    timeToChange: percentiles(byMetric.get(TIME_TO_CHANGE_METRIC)),
    queueWait: percentiles(byMetric.get(QUEUE_WAIT_METRIC)),
    phases,
  };
}

function policyFigures(rows: readonly PolicyDecisionCounts[], minimum: number): AnalyticsReportResponse['policy'] {
  type RuleSlice = Omit<PolicyRuleSliceResponse, 'other' | 'mergedSlices'> & { readonly key: string };
  const rules = new Map<string, RuleSlice>();
  for (const row of rows) {
    const slice = rules.get(row.rule) ?? { key: row.rule, rule: row.rule, jobs: 0, blockedMandatory: 0, blockedAdvisory: 0, recorded: 0, corrected: 0, shadowWouldBlock: 0 };
    rules.set(row.rule, {
      ...slice,
      jobs: slice.jobs + row.ruleJobs,
      blockedMandatory: slice.blockedMandatory + (row.outcome === 'BLOCKED' && row.level === 'MANDATORY' ? row.decisions : 0),
      blockedAdvisory: slice.blockedAdvisory + (row.outcome === 'BLOCKED' && row.level !== 'MANDATORY' ? row.decisions : 0),
      recorded: slice.recorded + (row.outcome === 'RECORDED' ? row.decisions : 0),
      corrected: slice.corrected + (row.outcome === 'CORRECTED' ? row.decisions : 0),
      shadowWouldBlock: slice.shadowWouldBlock + (row.outcome === 'SHADOW_WOULD_BLOCK' ? row.decisions : 0),
    });
  }
  const slices = mergeSmallSlices([...rules.values()], minimum, (members) => ({
    key: OTHER_SLICE,
    rule: OTHER_SLICE,
    jobs: sum(members, (member) => member.jobs),
    blockedMandatory: sum(members, (member) => member.blockedMandatory),
    blockedAdvisory: sum(members, (member) => member.blockedAdvisory),
    recorded: sum(members, (member) => member.recorded),
    corrected: sum(members, (member) => member.corrected),
    shadowWouldBlock: sum(members, (member) => member.shadowWouldBlock),
  }));
  return {
    attribution: 'finish-day',
    rules: slices.map(withoutKey),
    totals: {
      blocked: sum(slices, (slice) => slice.blockedMandatory + slice.blockedAdvisory),
      recorded: sum(slices, (slice) => slice.recorded),
      corrected: sum(slices, (slice) => slice.corrected),
      shadowWouldBlock: sum(slices, (slice) => slice.shadowWouldBlock),
    },
  };
}

function budgetFigures(input: AnalyticsReportInput, priceOf: PriceOf): AnalyticsReportResponse['budget'] {
  const { settings, aggregates, now } = input;
  const today = dayOf(now);
  const monthStart = `${today.slice(0, 7)}-01`;
  const trailingStart = addDays(today, -TRAILING_DAYS);
  let spent = 0;
  let trailing = 0;
  for (const row of aggregates.spendTokens) {
    const cost = costOf(row.tokens, priceOf(row.model));
    if (row.day >= monthStart && row.day <= today) spent += cost;
    if (row.day >= trailingStart && row.day < today) trailing += cost;
  }
  const dailySpend = trailing / TRAILING_DAYS;
  const budget = settings.monthlyBudget;
  const remaining = budget === null ? null : budget - spent;
  let daysLeft: number | null = null;
  if (remaining !== null) daysLeft = remaining <= 0 ? 0 : dailySpend > 0 ? Math.floor((remaining / dailySpend) * 10) / 10 : null;
  return {
    currency: settings.currency,
    monthlyBudget: budget,
    month: today.slice(0, 7),
    spentThisMonth: money(spent),
    remaining: remaining === null ? null : money(remaining),
    trailing7DayDailySpend: money(dailySpend),
    daysLeft,
  };
}

function dailyPoints(input: AnalyticsReportInput, priceOf: PriceOf): DailyPointResponse[] {
  const { aggregates, range } = input;
  const created = new Map(aggregates.cohortByDay.map((day) => [day.day, day.created]));
  const delivered = new Map(aggregates.deliveredByDay.map((day) => [day.day, day.delivered]));
  const cost = new Map<string, number>();
  for (const row of aggregates.tokens) cost.set(row.day, (cost.get(row.day) ?? 0) + costOf(row.promptTokens + row.completionTokens, priceOf(row.model)));
  const fleet = new Map(aggregates.fleet.map((day) => [day.day, day]));
  const points: DailyPointResponse[] = [];
  for (let day = range.from; day <= range.to; day = nextDay(day)) {
    const slots = fleet.get(day);
    points.push({
      date: day,
      created: created.get(day) ?? 0,
      delivered: delivered.get(day) ?? 0,
      cost: money(cost.get(day) ?? 0),
      busySlotHours: round((slots?.busyMs ?? 0) / HOUR_MS, 2),
      idleSlotHours: round(Math.max(0, (slots?.onlineSlotMs ?? 0) - (slots?.busyMs ?? 0)) / HOUR_MS, 2),
    });
  }
  return points;
}

/** A merged slice as the response shows it: its sorting key is not a field of the response. */
function withoutKey<T extends { readonly key: string }>(slice: T): Omit<T, 'key'> {
  return Object.fromEntries(Object.entries(slice).filter(([field]) => field !== 'key')) as Omit<T, 'key'>;
}

const sum = <T>(items: readonly T[], value: (item: T) => number): number => items.reduce((total, item) => total + value(item), 0);

function round(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}

const money = (value: number): number => round(value, 4);

const ratio = (part: number, whole: number): number | null => (whole > 0 ? round(part / whole, 4) : null);

/** The UTC day of an instant, `YYYY-MM-DD`. */
export function dayOf(instant: Date): string {
  return instant.toISOString().slice(0, 10);
}

export function addDays(day: string, days: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}
