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
