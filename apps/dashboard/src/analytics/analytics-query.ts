import type { paths } from '../api/schema';
import type { Schemas } from '../api/client';

export type AnalyticsQuery = NonNullable<paths['/api/v1/analytics']['get']['parameters']['query']>;

/** The ranges offered as one click: the last N days, today (UTC) included. */
export const RANGE_PRESET_DAYS = [7, 30, 90, 365] as const;
export type RangePresetDays = (typeof RANGE_PRESET_DAYS)[number];
/** What the page shows with nothing in the address; the API's own default is the same 30 days. */
export const DEFAULT_RANGE_DAYS: RangePresetDays = 30;

export const ANALYTICS_KIND_OPTIONS = ['fix', 'review', 'index', 'noop'] as const satisfies readonly Schemas['JobKind'][];
type AnalyticsKindOption = (typeof ANALYTICS_KIND_OPTIONS)[number];

/**
 * A preset stays relative in the address (`days=90` is "the last 90 days" whenever the link is
 * opened); a custom range names its UTC days, either of which may be left to the API's default.
 */
export type AnalyticsRange = { readonly kind: 'preset'; readonly days: RangePresetDays } | { readonly kind: 'custom'; readonly from: string; readonly to: string };

/** The analytics screen's filters as the address holds them; an empty string means "all". */
export interface AnalyticsFilters {
  readonly range: AnalyticsRange;
  readonly repoAlias: string;
  readonly pool: string;
  readonly kind: AnalyticsKindOption | '';
}

export const DEFAULT_ANALYTICS_FILTERS: AnalyticsFilters = { range: { kind: 'preset', days: DEFAULT_RANGE_DAYS }, repoAlias: '', pool: '', kind: '' };

const DAY_SHAPE = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 86_400_000;

function isPresetDays(value: number): value is RangePresetDays {
  return (RANGE_PRESET_DAYS as readonly number[]).includes(value);
}

function isKindOption(value: string): value is AnalyticsKindOption {
  return (ANALYTICS_KIND_OPTIONS as readonly string[]).includes(value);
}

/** The UTC day of an instant, `YYYY-MM-DD`: the API's days are UTC days. */
export function utcDayOf(instant: Date): string {
  return instant.toISOString().slice(0, 10);
}

/** The UTC day `days` after (or before, when negative) `day`. */
export function addDays(day: string, days: number): string {
  return utcDayOf(new Date(Date.parse(`${day}T00:00:00Z`) + days * DAY_MS));
}

/**
 * The filters in a URL query. A day that is not even shaped like `YYYY-MM-DD` is dropped
 * rather than sent; a well-shaped impossible one (2026-02-30) goes to the API, whose 400
 * names it. Anything unreadable falls back to the default range.
 */
export function readAnalyticsSearch(search: URLSearchParams): AnalyticsFilters {
  const value = (key: string) => search.get(key)?.trim() ?? '';
  const from = DAY_SHAPE.test(value('from')) ? value('from') : '';
  const to = DAY_SHAPE.test(value('to')) ? value('to') : '';
  const days = Number(value('days'));
  const kind = value('kind');
  let range: AnalyticsRange = DEFAULT_ANALYTICS_FILTERS.range;
  if (from || to) range = { kind: 'custom', from, to };
  else if (isPresetDays(days)) range = { kind: 'preset', days };
  return { range, repoAlias: value('repoAlias'), pool: value('pool'), kind: isKindOption(kind) ? kind : '' };
}

/** The URL query for the filters: only what differs from the default, so the plain page has a plain address. */
export function writeAnalyticsSearch(filters: AnalyticsFilters): URLSearchParams {
  const search = new URLSearchParams();
  if (filters.range.kind === 'preset') {
    if (filters.range.days !== DEFAULT_RANGE_DAYS) search.set('days', String(filters.range.days));
  } else {
    if (filters.range.from) search.set('from', filters.range.from);
    if (filters.range.to) search.set('to', filters.range.to);
  }
  if (filters.repoAlias) search.set('repoAlias', filters.repoAlias);
  if (filters.pool) search.set('pool', filters.pool);
  if (filters.kind) search.set('kind', filters.kind);
  return search;
}

/** The GET /analytics query for the filters; a preset is counted back from `today` (a UTC day), which it includes. */
export function analyticsQuery(filters: AnalyticsFilters, today: string): AnalyticsQuery {
  const range =
    filters.range.kind === 'preset'
      ? { from: addDays(today, -(filters.range.days - 1)), to: today }
      : { ...(filters.range.from ? { from: filters.range.from } : {}), ...(filters.range.to ? { to: filters.range.to } : {}) };
  return {
    ...range,
    ...(filters.repoAlias ? { repoAlias: filters.repoAlias } : {}),
    ...(filters.pool ? { pool: filters.pool } : {}),
    ...(filters.kind ? { kind: filters.kind } : {}),
  };
}

/** The CSV export of the same figures: a plain link, so the browser downloads it with the session cookie. */
export function analyticsExportHref(filters: AnalyticsFilters, today: string): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(analyticsQuery(filters, today))) search.set(key, value);
  const query = search.toString();
  return `/api/v1/analytics/export.csv${query ? `?${query}` : ''}`;
}

/** The range in words, for the range picker's own summary: "Last 30 days", "2026-11-01 to 2026-11-30". */
export function describeRangeChoice(range: AnalyticsRange): string {
  if (range.kind === 'preset') return `Last ${range.days} days`;
  if (range.from && range.to) return `${range.from} to ${range.to}`;
  if (range.from) return `From ${range.from}`;
  // The API counts back its default number of days from `to`.
  return `${DEFAULT_RANGE_DAYS} days up to ${range.to}`;
}
