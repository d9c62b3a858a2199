import { ticketOf } from './job-ticket';

const job = { kind: 'fix' as const, ticketByReference: true, ticketRef: 'jira:PROJ-123', ticketRefMac: null };

describe('ticketOf', () => {
  it('shows a reference while the job holds it, then the first 12 hex characters of the digest', () => {
    expect(ticketOf(job)).toEqual({ kind: 'reference', reference: 'jira:PROJ-123', digest: null });
    expect(ticketOf({ ...job, ticketRef: null, ticketRefMac: '0123456789abcdef'.repeat(4) })).toEqual({ kind: 'reference', reference: null, digest: '0123456789ab' });
    // Ended without a digest (cancelled, or the minimal metadata level): the reference is gone, nothing replaces it.
    expect(ticketOf({ ...job, ticketRef: null })).toEqual({ kind: 'reference', reference: null, digest: null });
  });

  it('tells a typed ticket from none at all', () => {
    expect(ticketOf({ ...job, ticketByReference: false, ticketRef: null })).toEqual({ kind: 'typed' });
    expect(ticketOf({ ...job, kind: 'noop', ticketByReference: false, ticketRef: null })).toEqual({ kind: 'none' });
  });
});
