import { randomBytes } from 'node:crypto';
import type { DispatchClaim, DispatchTask, JobTask } from '@airlock/data-access';
import {
  FrameValidationError,
  WIRE_LIMITS,
  decodeInstructionPayload,
  encodeInstructionPayload,
  validateInstructionPayload,
  type FrameViolation,
  type InstructionPayload,
} from '@airlock/protocol';

/**
 * The payload the control plane signs for one attempt: bound to the worker (audience) and
 * tenant, valid for `ttlMs` from `now`, with a fresh nonce the worker remembers.
 */
export function buildInstructionPayload(claim: Omit<DispatchClaim, 'pool' | 'createdAt'>, workerId: string, now: Date, ttlMs: number): InstructionPayload {
  const base = {
    jobId: claim.jobId,
    attempt: claim.attempt,
    tenantId: claim.tenantId,
    audience: workerId,
    issuedAtMs: now.getTime(),
    expiresAtMs: now.getTime() + ttlMs,
    nonce: randomBytes(WIRE_LIMITS.instructionNonceBytes),
    policyRef: '',
  };
  const task = claim.task;
  switch (task.kind) {
    case 'NOOP':
      return { ...base, noop: {} };
    case 'REVIEW':
      // One member of the target oneof, never both: the worker refuses a target it cannot tell.
      return { ...base, review: { repoAlias: task.repoAlias, ...task.target } };
    case 'INDEX':
      return { ...base, index: { repoAlias: task.repoAlias, ref: task.ref } };
    case 'FIX': {
      const { repoAlias, baseRef, ticketTitle, ticketDescription, ticketRef, deliveryJobId, deliveryGeneration } = task;
      // A ticket named by reference travels as the reference alone (its task has no text): the worker reads it from the tracker.
      const ticket = { title: ticketTitle, description: ticketDescription };
      return { ...base, fix: { repoAlias, baseRef, ticket, ticketRef: ticketRef ?? '', deliveryJobId, deliveryGeneration } };
    }
  }
}

// Stand-ins for what exists only at dispatch: the job's id and the worker it goes to.
const PLACEHOLDER_JOB_ID = '00000000-0000-4000-8000-000000000000';
const PLACEHOLDER_WORKER_ID = '00000000-0000-4000-8000-000000000001';

/** Where each task's fields sit in the instruction payload; below it, the API calls them the same. */
const TASK_FIELD_PREFIXES = ['payload.fix.', 'payload.review.', 'payload.index.'] as const;

/**
 * Instruction fields the API names otherwise: a review with no target lacks the merge request
 * number the API asks for unless a branch is given.
 */
const API_FIELD_OF: Readonly<Record<string, string>> = { target: 'mergeRequest' };

/** The API's name of a task field of the instruction, or null for a field outside the task. */
function apiFieldOf(instructionField: string): string | null {
  const prefix = TASK_FIELD_PREFIXES.find((candidate) => instructionField.startsWith(candidate));
  if (prefix === undefined) return null;
  const field = instructionField.slice(prefix.length);
  return API_FIELD_OF[field] ?? field;
}

/**
 * Builds the instruction the task would become at its first dispatch and runs it through
 * the same encode, size and validation steps as signing does, so a job that could never
 * be dispatched is refused when it is created rather than failing after every claim.
 * Returns the problem with the API's field name (`ticket.title`, `ticketRef`, `branch`, `ref`), or null.
 */
export function undispatchableTaskProblem(task: JobTask, tenantId: string, now: Date, ttlMs: number): FrameViolation | null {
  // A new job is the first of its chain: it delivers to its own branch.
  const dispatched: DispatchTask = task.kind === 'FIX' ? { ...task, deliveryJobId: PLACEHOLDER_JOB_ID, deliveryGeneration: 0 } : task;
  const payload = buildInstructionPayload({ jobId: PLACEHOLDER_JOB_ID, tenantId, attempt: 1, task: dispatched }, PLACEHOLDER_WORKER_ID, now, ttlMs);
  try {
    const bytes = encodeInstructionPayload(payload);
    if (bytes.length > WIRE_LIMITS.maxInstructionPayloadBytes) {
      return { field: 'ticket', expected: `an instruction of at most ${WIRE_LIMITS.maxInstructionPayloadBytes} bytes` };
    }
    validateInstructionPayload(decodeInstructionPayload(bytes));
    return null;
  } catch (error) {
    // Only the task's own fields come from the request; any other field failing is a bug here.
    if (error instanceof FrameValidationError) {
      const field = apiFieldOf(error.violation.field);
      if (field !== null) return { field, expected: error.violation.expected };
    }
    throw error;
  }
}
