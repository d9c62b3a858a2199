import { randomUUID } from 'node:crypto';
import type { DispatchTask, JobTask } from '@airlock/data-access';
import { WIRE_LIMITS } from '@airlock/protocol';
import { buildInstructionPayload, undispatchableTaskProblem } from './instruction-payload.factory';

const tenantId = randomUUID();
const now = new Date('2026-06-01T12:00:00.000Z');
type FixTask = Extract<JobTask, { kind: 'FIX' }>;
const fix = (ticket: { ticketTitle?: string; ticketDescription?: string }, refs: { repoAlias?: string; baseRef?: string } = {}): FixTask => ({
  kind: 'FIX',
  repoAlias: refs.repoAlias ?? 'demo',
  baseRef: refs.baseRef ?? 'main',
  ticketTitle: ticket.ticketTitle ?? 'Fix the off-by-one',
  ticketDescription: ticket.ticketDescription ?? '',
  ticketRef: null,
});
/** A fix task whose ticket is named by reference: no text with it. */
const byReference = (ticketRef: string): FixTask => ({ ...fix({ ticketTitle: '' }), ticketRef });

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

  it('passes a ticket named by reference with the protocol\'s pattern, and names ticketRef when it breaks it', () => {
    expect(undispatchableTaskProblem(byReference('jira:PROJ-123'), tenantId, now, 600_000)).toBeNull();
    expect(undispatchableTaskProblem(byReference('gitlab:group/app#42'), tenantId, now, 600_000)).toBeNull();
    for (const malformed of ['PROJ-123', 'Jira:PROJ-123', 'jira:', 'jira:PROJ 123', `jira:${'x'.repeat(129)}`]) {
      expect(undispatchableTaskProblem(byReference(malformed), tenantId, now, 600_000)).toEqual({
        field: 'ticketRef',
        expected: 'a ticket reference <tracker>:<key>, such as jira:PROJ-123',
      });
    }
    // A reference travels alone: text beside it is refused, not dropped.
    expect(undispatchableTaskProblem({ ...fix({}), ticketRef: 'jira:PROJ-123' }, tenantId, now, 600_000)?.field).toBe('ticket');
  });

  it('puts the reference, and no ticket text, in the instruction of a task named by reference', () => {
    const task: DispatchTask = { ...byReference('jira:PROJ-123'), deliveryJobId: randomUUID(), deliveryGeneration: 0 };
    const claim = { jobId: randomUUID(), tenantId, attempt: 1, task };
    expect(buildInstructionPayload(claim, randomUUID(), now, 600_000).fix).toMatchObject({ ticketRef: 'jira:PROJ-123', ticket: { title: '', description: '' } });
    const typed = { ...claim, task: { ...fix({}), deliveryJobId: claim.jobId, deliveryGeneration: 0 } };
    expect(buildInstructionPayload(typed, randomUUID(), now, 600_000).fix).toMatchObject({ ticketRef: '', ticket: { title: 'Fix the off-by-one' } });
  });

  it('treats a problem outside the task as a bug, not as bad input', () => {
    expect(() => undispatchableTaskProblem({ kind: 'NOOP' }, 'not-a-tenant-id', now, 600_000)).toThrow(/payload\.tenantId/);
  });
});
