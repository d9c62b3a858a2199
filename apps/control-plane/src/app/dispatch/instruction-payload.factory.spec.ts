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

  it('builds a review with one target, and an index with its ref, each as the worker validates it', () => {
    const claim = (task: DispatchTask) => ({ jobId: randomUUID(), tenantId, attempt: 1, task });
    const byNumber = buildInstructionPayload(claim({ kind: 'REVIEW', repoAlias: 'demo', target: { mergeRequest: 42 } }), randomUUID(), now, 600_000);
    expect(byNumber.review).toEqual({ repoAlias: 'demo', mergeRequest: 42 });
    expect(byNumber.fix).toBeUndefined();
    const byBranch = buildInstructionPayload(claim({ kind: 'REVIEW', repoAlias: 'demo', target: { branch: 'feature/login' } }), randomUUID(), now, 600_000);
    expect(byBranch.review).toEqual({ repoAlias: 'demo', branch: 'feature/login' });
    expect(buildInstructionPayload(claim({ kind: 'INDEX', repoAlias: 'demo', ref: 'release/2.0' }), randomUUID(), now, 600_000).index).toEqual({ repoAlias: 'demo', ref: 'release/2.0' });
  });

  it('passes review and index tasks a worker would accept, and names the API field of one it would refuse', () => {
    const review = (target: { mergeRequest: number } | { branch: string }, repoAlias = 'demo'): JobTask => ({ kind: 'REVIEW', repoAlias, target });
    const index = (ref: string, repoAlias = 'demo'): JobTask => ({ kind: 'INDEX', repoAlias, ref });
    expect(undispatchableTaskProblem(review({ mergeRequest: 1 }), tenantId, now, 600_000)).toBeNull();
    expect(undispatchableTaskProblem(review({ mergeRequest: WIRE_LIMITS.maxMergeRequestNumber }), tenantId, now, 600_000)).toBeNull();
    expect(undispatchableTaskProblem(review({ branch: 'feature/login' }), tenantId, now, 600_000)).toBeNull();
    expect(undispatchableTaskProblem(index('main'), tenantId, now, 600_000)).toBeNull();

    expect(undispatchableTaskProblem(review({ mergeRequest: 0 }), tenantId, now, 600_000)?.field).toBe('mergeRequest');
    expect(undispatchableTaskProblem(review({ branch: 'a..b' }), tenantId, now, 600_000)).toEqual({ field: 'branch', expected: 'a git ref name of at most 200 characters' });
    expect(undispatchableTaskProblem(review({ branch: 'main' }, 'Not An Alias'), tenantId, now, 600_000)?.field).toBe('repoAlias');
    expect(undispatchableTaskProblem(index('-main'), tenantId, now, 600_000)).toEqual({ field: 'ref', expected: 'a git ref name of at most 200 characters' });
    expect(undispatchableTaskProblem(index('main', ''), tenantId, now, 600_000)?.field).toBe('repoAlias');
  });

  it('treats a problem outside the task as a bug, not as bad input', () => {
    expect(() => undispatchableTaskProblem({ kind: 'NOOP' }, 'not-a-tenant-id', now, 600_000)).toThrow(/payload\.tenantId/);
  });
});
