import type { Schemas } from '../api/client';

/** Hex characters of the worker's digest shown: enough to tell tickets apart by eye. */
export const DIGEST_PREFIX_CHARS = 12;

/**
 * What the dashboard can say of a job's ticket. The control plane never returns a typed
 * ticket's text; a ticket named by reference has its reference while the job may still run,
 * then only the worker's digest of it, once a result brought one.
 */
export type TicketView =
  | { readonly kind: 'none' }
  | { readonly kind: 'typed' }
  | {
      readonly kind: 'reference';
      /** The reference while the control plane holds it; null once the job ended. */
      readonly reference: string | null;
      /** The first DIGEST_PREFIX_CHARS of the digest, or null before a result brought one. */
      readonly digest: string | null;
    };

export function ticketOf(job: Pick<Schemas['JobResponse'], 'kind' | 'ticketByReference' | 'ticketRef' | 'ticketRefMac'>): TicketView {
  if (job.kind !== 'fix') return { kind: 'none' };
  if (!job.ticketByReference) return { kind: 'typed' };
  return { kind: 'reference', reference: job.ticketRef, digest: job.ticketRefMac === null ? null : job.ticketRefMac.slice(0, DIGEST_PREFIX_CHARS) };
}

/** Where the new-fix-job form takes the ticket from: typed into it, or named by reference. */
export type TicketSource = 'typed' | 'reference';

/** What the new-fix-job form holds, by the names the API's 400 messages use. */
export interface FixJobFields {
  readonly repoAlias: string;
  readonly baseRef: string;
  readonly 'ticket.title': string;
  readonly 'ticket.description': string;
  readonly ticketRef: string;
}

/** The body of POST /jobs for the form: the ticket or its reference, never both (the API refuses both). */
export function fixJobRequest(fields: FixJobFields, source: TicketSource): Schemas['CreateJobDto'] {
  const target = { kind: 'fix' as const, repoAlias: fields.repoAlias.trim(), baseRef: fields.baseRef.trim() };
  if (source === 'reference') return { ...target, ticketRef: fields.ticketRef.trim() };
  return { ...target, ticket: { title: fields['ticket.title'], description: fields['ticket.description'] } };
}
