/** A ticket reference, FixTask.ticket_ref, in its two parts. Local only: only its keyed MAC crosses to the control plane. */
export interface TicketReference {
  /** The tracker's name in the worker's catalog. */
  readonly tracker: string;
  /** The ticket's key there; each tracker's client checks its own shape of key. */
  readonly key: string;
}

/**
 * Splits `<tracker>:<key>` at its first colon (a tracker name has none). The instruction's
 * validation held the reference to the wire's pattern; a key the tracker could never hold is
 * its client's to refuse.
 */
export function parseTicketReference(reference: string): TicketReference {
  const colon = reference.indexOf(':');
  return colon === -1 ? { tracker: reference, key: '' } : { tracker: reference.slice(0, colon), key: reference.slice(colon + 1) };
}
