import type { InstructionVerifier } from '@airlock/envelope';
import { evaluateTaskAdmission } from '@airlock/policy';
import type { InstructionPayload__Output, SignedInstruction__Output } from '@airlock/protocol';
import type { FailureCodeName } from '../jobs/job-result.builder';
import type { JobPolicy } from '../policy/job-policy';
import { wireRulesOf, type WirePolicyRule, type WorkerPolicy } from '../policy/worker-policy';

/**
 * An instruction's verdict: run this payload under this policy, or refuse with a code
 * (naming the attempt when known, and with TASK_FORBIDDEN_BY_POLICY the rules that refused it).
 */
export type InstructionDecision =
  | { readonly ok: true; readonly payload: InstructionPayload__Output; readonly policy: JobPolicy }
  | {
      readonly ok: false;
      readonly failureCode: FailureCodeName;
      readonly attempt?: { readonly jobId: string; readonly attempt: number };
      readonly rules?: readonly WirePolicyRule[];
    };

/**
 * Decides whether an instruction runs: first the envelope (key, signature, audience,
 * tenant, validity window, nonce), then the effective policy — local config merged with
 * the central bundle in force for this worker and the task's repository (catalog alias,
 * central repositories rule, task kind, base ref) — in the order of
 * docs/worker-protocol.md. Nothing runs — not even an ack is sent — unless both pass.
 */
export class InstructionGatekeeper {
  constructor(
    private readonly verifier: Pick<InstructionVerifier, 'verify'>,
    private readonly policy: Pick<WorkerPolicy, 'forJob'>,
  ) {}

  check(instruction: SignedInstruction__Output): InstructionDecision {
    const verified = this.verifier.verify(instruction);
    if (!verified.ok) return verified;
    const { payload } = verified;
    // One snapshot: the policy admission decides by is the policy the job runs under,
    // whatever bundle arrives while it runs.
    const policy = this.policy.forJob(repoAliasOf(payload));
    const admission = evaluateTaskAdmission(payload, policy.enforced);
    if (!admission.allowed) {
      return { ok: false, failureCode: admission.failureCode, attempt: { jobId: payload.jobId, attempt: payload.attempt }, rules: wireRulesOf(admission.rules) };
    }
    return { ok: true, payload, policy };
  }
}

/** The repository a task names, whose layers of central policy apply to it; none for a noop. */
export function repoAliasOf(payload: InstructionPayload__Output): string | undefined {
  switch (payload.task) {
    case 'fix':
      return payload.fix?.repoAlias;
    case 'review':
      return payload.review?.repoAlias;
    case 'index':
      return payload.index?.repoAlias;
    default:
      return undefined;
  }
}
