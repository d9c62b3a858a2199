import type { Schemas } from '../api/client';
import type { paths } from '../api/schema';

export type AuditEntry = Schemas['AuditEntryResponse'];
export type AuditListQuery = NonNullable<paths['/api/v1/audit-log']['get']['parameters']['query']>;
export type AuditExportFormat = NonNullable<NonNullable<paths['/api/v1/audit-log/export']['get']['parameters']['query']>['format']>;

/**
 * The actions the control plane writes to the admin audit log, by family (docs/access.md,
 * docs/fleet.md, docs/policy.md). The filter offers each family (`worker.`) and each action;
 * any other action can still be typed.
 */
export const AUDIT_ACTION_FAMILIES = [
  { family: 'user.', label: 'People', actions: ['user.created', 'user.updated', 'user.password-changed'] },
  { family: 'api-token.', label: 'API tokens', actions: ['api-token.created', 'api-token.revoked'] },
  { family: 'worker.', label: 'Workers', actions: ['worker.drained', 'worker.undrained', 'worker.revoked'] },
  { family: 'enrollment-token.', label: 'Enrollment tokens', actions: ['enrollment-token.created', 'enrollment-token.revoked'] },
  { family: 'policy.', label: 'Policies', actions: ['policy.created', 'policy.version.created', 'policy.published', 'policy.withdrawn'] },
  { family: 'analytics.', label: 'Analytics', actions: ['analytics.settings-changed'] },
  { family: 'dispatch.', label: 'Dispatch', actions: ['dispatch.limits-changed'] },
  { family: 'signing-key.', label: 'Signing keys', actions: ['signing-key.staged', 'signing-key.activated'] },
] as const;

const KNOWN_ACTIONS: ReadonlySet<string> = new Set(AUDIT_ACTION_FAMILIES.flatMap((family) => [family.family, ...family.actions]));

/** Whether the select can show this action (a family or a listed action); otherwise it goes in the free-text field. */
export function isListedAction(action: string): boolean {
  return KNOWN_ACTIONS.has(action);
}

/** The audit screen's filters as the URL holds them; an empty string means "any". */
export interface AuditFilters {
  /** An exact action, or a family ending in a dot. */
  readonly action: string;
  /** The user or API token that acted. */
  readonly actorId: string;
  /** ISO 8601 instants, as the API takes them: entries at or after `from`, and before `to`. */
  readonly from: string;
  readonly to: string;
}

export const NO_AUDIT_FILTERS: AuditFilters = { action: '', actorId: '', from: '', to: '' };

const FILTER_KEYS = ['action', 'actorId', 'from', 'to'] as const satisfies readonly (keyof AuditFilters)[];

/** The filters and the page (`before`: show entries with a lower seq; absent for the newest) from a URL query. */
export function readAuditSearch(search: URLSearchParams): { readonly filters: AuditFilters; readonly beforeSeq: number | null } {
  const value = (key: string) => search.get(key)?.trim() ?? '';
  const before = Number(value('before'));
  return {
    filters: { action: value('action'), actorId: value('actorId'), from: value('from'), to: value('to') },
    beforeSeq: Number.isInteger(before) && before > 0 ? before : null,
  };
}

/** The URL query for the filters (only those set) and the page. */
export function writeAuditSearch(filters: AuditFilters, beforeSeq: number | null = null): URLSearchParams {
  const search = new URLSearchParams();
  for (const key of FILTER_KEYS) if (filters[key]) search.set(key, filters[key]);
  if (beforeSeq !== null) search.set('before', String(beforeSeq));
  return search;
}

function filterQuery(filters: AuditFilters): Pick<AuditListQuery, 'action' | 'actorId' | 'from' | 'to'> {
  return {
    ...(filters.action ? { action: filters.action } : {}),
    ...(filters.actorId ? { actorId: filters.actorId } : {}),
    ...(filters.from ? { from: filters.from } : {}),
    ...(filters.to ? { to: filters.to } : {}),
  };
}

/** GET /audit-log, newest first: `limit` entries before `beforeSeq` (the newest when null). */
export function auditListQuery(filters: AuditFilters, beforeSeq: number | null, limit: number): AuditListQuery {
  return { order: 'desc', limit, ...filterQuery(filters), ...(beforeSeq !== null ? { beforeSeq } : {}) };
}

/** The export's address with the same filters: a plain link, so the browser downloads it with the session cookie. */
export function auditExportHref(filters: AuditFilters, format: AuditExportFormat): string {
  const search = new URLSearchParams({ format });
  for (const [key, value] of Object.entries(filterQuery(filters))) if (value) search.set(key, value);
  return `/api/v1/audit-log/export?${search.toString()}`;
}

/** Where a target (`worker:<id>`, `policy:<id>`) is shown in the dashboard, if it has a page. */
export function targetPath(target: string): string | null {
  const separator = target.indexOf(':');
  if (separator < 0) return null;
  const kind = target.slice(0, separator);
  const id = target.slice(separator + 1);
  if (!/^[0-9a-f-]{36}$/i.test(id)) return null;
  if (kind === 'worker') return `/fleet/workers/${id}`;
  if (kind === 'policy') return `/policies/${id}`;
  if (kind === 'enrollment-token') return '/fleet/enrollment-tokens';
  return null;
}

/** An entry's details as `name: value` pairs, in the order they were written; nested values as JSON, an empty text said so. */
export function describeDetails(details: unknown): ReadonlyArray<readonly [string, string]> {
  if (typeof details !== 'object' || details === null || Array.isArray(details)) return [];
  return Object.entries(details).map(([key, value]) => [key, value === '' ? '(empty)' : typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value))] as const);
}

export type AuditVerification = Schemas['AuditVerificationResponse'];

/** The result of a chain check, as a plain sentence. */
export function describeVerification(result: AuditVerification): string {
  const entries = `${result.entries.toLocaleString('en-US')} ${result.entries === 1 ? 'entry' : 'entries'}`;
  if (result.ok) return `The chain is intact: all ${entries} link to the one before and hash to their stored hash.`;
  const where = result.firstBrokenSeq !== undefined ? `at entry #${result.firstBrokenSeq}` : 'somewhere';
  return `The chain is broken ${where}: from there on, the log is not what was written. ${entries} checked.`;
}
