import { DIGEST_PREFIX_CHARS, type TicketView } from './job-ticket';

/**
 * A job's ticket where its title would be: never its text (the control plane returns none),
 * "Ticket by reference" with the start of the worker's digest once a result brought one.
 */
export function TicketLabel({ ticket }: { readonly ticket: TicketView }) {
  if (ticket.kind === 'none') return <>—</>;
  if (ticket.kind === 'typed') return <span className="muted">Typed in</span>;
  return (
    <>
      Ticket by reference
      {ticket.digest !== null ? (
        <>
          {' · '}
          <span className="mono" title={`The worker's keyed digest of the reference: its first ${DIGEST_PREFIX_CHARS} hex characters`}>
            {ticket.digest}
          </span>
        </>
      ) : null}
    </>
  );
}
