import type { InstructionVerifier } from '@airlock/envelope';
import { evaluateTask, type LocalPolicy } from '@airlock/policy';
import type { InstructionPayload__Output, SignedInstruction__Output } from '@airlock/protocol';
import type { WorkerConfig } from '../config/worker-config.loader';
import type { FailureCodeName } from '../jobs/job-result.builder';

/** An instruction's verdict: run this payload, or refuse with a code (naming the attempt when known). */
export type InstructionDecision =
  | { readonly ok: true; readonly payload: InstructionPayload__Output }
  | { readonly ok: false; readonly failureCode: FailureCodeName; readonly attempt?: { readonly jobId: string; readonly attempt: number } };

/** The local policy a worker config implies: it has the last word over anything the control plane asks. */
export function localPolicyOf(config: Pick<WorkerConfig, 'allowNoop' | 'repositories' | 'inference'>): LocalPolicy {
  return {
    allowedTaskKinds: config.allowNoop ? ['fix', 'noop'] : ['fix'],
    repoAliases: config.repositories.map((repo) => repo.alias),
    inferenceHosts: [...config.inference.allowedHosts],
    // The worker's own output (branchPrefix) is never a base, whatever baseRefs say.
    baseRefRules: new Map(config.repositories.map((repo) => [repo.alias, { allowed: [...repo.baseRefs], forbiddenPrefixes: [repo.branchPrefix] }])),
  };
}

/**
 * Decides whether an instruction runs: first the envelope (key, signature, audience,
 * tenant, validity window, nonce), then the local policy (catalog alias, task kind, base
 * ref), in the order of docs/worker-protocol.md. Nothing runs — not even an ack is sent —
 * unless both pass.
 */
export class InstructionGatekeeper {
  constructor(
    private readonly verifier: InstructionVerifier,
    private readonly policy: LocalPolicy,
  ) {}

  check(instruction: SignedInstruction__Output): InstructionDecision {
    const verified = this.verifier.verify(instruction);
    if (!verified.ok) return verified;
    const decision = evaluateTask(verified.payload, this.policy);
    if (!decision.allowed) {
      return { ok: false, failureCode: decision.failureCode, attempt: { jobId: verified.payload.jobId, attempt: verified.payload.attempt } };
    }
    return verified;
  }
}
