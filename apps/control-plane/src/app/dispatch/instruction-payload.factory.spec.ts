import { randomUUID } from 'node:crypto';
import type { JobTask } from '@airlock/data-access';
import { WIRE_LIMITS } from '@airlock/protocol';
import { undispatchableTaskProblem } from './instruction-payload.factory';

const tenantId = randomUUID();
const now = new Date('2026-06-01T12:00:00.000Z');
const fix = (ticket: { ticketTitle?: string; ticketDescription?: string }, refs: { repoAlias?: string; baseRef?: string } = {}): JobTask => ({
  kind: 'FIX',
  repoAlias: refs.repoAlias ?? 'demo',
  baseRef: refs.baseRef ?? 'main',
  ticketTitle: ticket.ticketTitle ?? 'Fix the off-by-one',
  ticketDescription: ticket.ticketDescription ?? '',
});

describe('undispatchableTaskProblem', () => {
  it('passes tasks whose instruction a worker would accept', () => {
    expect(undispatchableTaskProblem({ kind: 'NOOP' }, tenantId, now, 600_000)).toBeNull();
    expect(undispatchableTaskProblem(fix({ ticketDescription: 'x'.repeat(WIRE_LIMITS.maxTicketDescriptionBytes) }), tenantId, now, 600_000)).toBeNull();
  });

  it('names the request field whose instruction field breaks the wire contract', () => {
    // What a ticket sent as an array used to become: no title at all.
    expect(undispatchableTaskProblem(fix({ ticketTitle: '' }), tenantId, now, 600_000)).toEqual({
      field: 'ticket.title',
      expected: `one line of 1..${WIRE_LIMITS.maxTicketTitleChars} characters`,
    });
    expect(undispatchableTaskProblem(fix({}, { repoAlias: '' }), tenantId, now, 600_000)?.field).toBe('repoAlias');
    expect(undispatchableTaskProblem(fix({}, { baseRef: 'a..b' }), tenantId, now, 600_000)?.field).toBe('baseRef');
    expect(undispatchableTaskProblem(fix({ ticketDescription: 'é'.repeat(WIRE_LIMITS.maxTicketDescriptionBytes) }), tenantId, now, 600_000)?.field).toBe(
      'ticket.description',
    );
  });

  it('treats a problem outside the task as a bug, not as bad input', () => {
    expect(() => undispatchableTaskProblem({ kind: 'NOOP' }, 'not-a-tenant-id', now, 600_000)).toThrow(/payload\.tenantId/);
  });
});
