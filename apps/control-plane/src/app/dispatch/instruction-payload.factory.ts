import { randomBytes } from 'node:crypto';
import type { DispatchClaim } from '@airlock/data-access';
import { WIRE_LIMITS, type InstructionPayload } from '@airlock/protocol';

/**
 * The payload the control plane signs for one attempt: bound to the worker (audience) and
 * tenant, valid for `ttlMs` from `now`, with a fresh nonce the worker remembers.
 */
export function buildInstructionPayload(claim: DispatchClaim, workerId: string, now: Date, ttlMs: number): InstructionPayload {
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
  if (claim.task.kind === 'NOOP') return { ...base, noop: {} };
  const { repoAlias, baseRef, ticketTitle, ticketDescription } = claim.task;
  return { ...base, fix: { repoAlias, baseRef, ticket: { title: ticketTitle, description: ticketDescription } } };
}
