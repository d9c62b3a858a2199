import { evaluateTaskAdmission, type EffectivePolicy } from '@airlock/policy';
import type { InstructionPayload__Output } from '@airlock/protocol';
import type { AttemptContext } from './job-context';

/** An instruction's task, as admission reads it. */
export type AdmittedTask = Pick<InstructionPayload__Output, 'task' | 'fix' | 'review' | 'index'>;

/**
 * Whether the shadow policy would have let this task run at all: the enforced policy did (the
 * job was admitted), so each rule the shadow version refuses it by would have blocked.
 */
export function recordShadowAdmission(ctx: AttemptContext, shadow: EffectivePolicy, task: AdmittedTask): void {
  const { jobId, attempt } = ctx.request;
  // Admission reads the task only; the envelope's fields were checked when the instruction was.
  const payload: InstructionPayload__Output = { jobId, attempt, tenantId: '', audience: '', issuedAtMs: 0, expiresAtMs: 0, nonce: Buffer.alloc(0), policyRef: '', ...task };
  const admission = evaluateTaskAdmission(payload, shadow);
  if (admission.allowed) return;
  for (const rule of admission.rules) {
    ctx.report.decisions.add({ rule, level: 'mandatory', outcome: 'shadow-would-block', policy: 'shadow', detail: `the shadow policy would not have admitted this task (${admission.failureCode})` });
  }
}
