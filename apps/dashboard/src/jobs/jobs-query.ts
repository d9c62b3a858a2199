import type { paths } from '../api/schema';
import type { Schemas } from '../api/client';

export type JobListQuery = NonNullable<paths['/api/v1/jobs']['get']['parameters']['query']>;

export const JOB_STATUS_OPTIONS = ['QUEUED', 'DISPATCHED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'] as const satisfies readonly Schemas['JobStatus'][];
export const JOB_KIND_OPTIONS = ['fix', 'review', 'index', 'noop'] as const satisfies readonly Schemas['JobKind'][];

type JobStatusOption = (typeof JOB_STATUS_OPTIONS)[number];
type JobKindOption = (typeof JOB_KIND_OPTIONS)[number];

export function isOneOf<Option extends string>(options: readonly Option[], value: string): value is Option {
  return (options as readonly string[]).includes(value);
}

/** The jobs screen's filters as the URL holds them; an empty string means "any". */
export interface JobFilters {
  readonly status: JobStatusOption | '';
  readonly kind: JobKindOption | '';
  readonly repoAlias: string;
  /** ISO 8601 instants (with zone), as the API takes them. */
  readonly createdFrom: string;
  readonly createdTo: string;
}

export const NO_FILTERS: JobFilters = { status: '', kind: '', repoAlias: '', createdFrom: '', createdTo: '' };

const FILTER_KEYS = ['status', 'kind', 'repoAlias', 'createdFrom', 'createdTo'] as const satisfies readonly (keyof JobFilters)[];

/** The filters and the page (`before`: the cursor of the page, absent for the newest) in a URL query. */
export function readJobsSearch(search: URLSearchParams): { readonly filters: JobFilters; readonly before: string | null } {
  const value = (key: string) => search.get(key)?.trim() ?? '';
  const status = value('status');
  const kind = value('kind');
  return {
    filters: {
      status: isOneOf(JOB_STATUS_OPTIONS, status) ? status : '',
      kind: isOneOf(JOB_KIND_OPTIONS, kind) ? kind : '',
      repoAlias: value('repoAlias'),
      createdFrom: value('createdFrom'),
      createdTo: value('createdTo'),
    },
    before: search.get('before') || null,
  };
}

/** The URL query for the filters (only those set) and the page. */
export function writeJobsSearch(filters: JobFilters, before: string | null = null): URLSearchParams {
  const search = new URLSearchParams();
  for (const key of FILTER_KEYS) if (filters[key]) search.set(key, filters[key]);
  if (before) search.set('before', before);
  return search;
}

/** The GET /jobs query for the filters and the page. */
export function jobListQuery(filters: JobFilters, before: string | null, limit: number): JobListQuery {
  return {
    limit,
    ...(filters.status ? { status: filters.status } : {}),
    ...(filters.kind ? { kind: filters.kind } : {}),
    ...(filters.repoAlias ? { repoAlias: filters.repoAlias } : {}),
    ...(filters.createdFrom ? { createdFrom: filters.createdFrom } : {}),
    ...(filters.createdTo ? { createdTo: filters.createdTo } : {}),
    ...(before ? { before } : {}),
  };
}

const pad = (n: number) => String(n).padStart(2, '0');

/** An instant as a datetime-local input shows it, in the browser's zone ('' when unset or unreadable). */
export function toLocalInput(iso: string): string {
  const date = new Date(iso);
  if (!iso || Number.isNaN(date.getTime())) return '';
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** A datetime-local input's value (the browser's zone) as an ISO instant ('' when empty or unreadable). */
export function fromLocalInput(local: string): string {
  // Without an offset, a date-time string is read in the local zone.
  const date = new Date(local);
  return !local || Number.isNaN(date.getTime()) ? '' : date.toISOString();
}
