import { FailureCode, type InstructionPayload__Output, type SignedInstruction__Output, type WorkerFrame__Output } from '@airlock/protocol';
import type { AttemptLedger } from '../instructions/attempt-ledger';
import type { InstructionGatekeeper } from '../instructions/instruction.gatekeeper';
import type { FailureCodeName } from '../jobs/job-result.builder';
import type { Logger } from '../logging/json-logger';
import type { WorkerMetrics } from '../metrics/worker-metrics';
import type { JobPolicy } from '../policy/job-policy';
import type { WirePolicyRule } from '../policy/worker-policy';
import type { CreditLedger } from './credit.ledger';
import type { DaemonClock } from './daemon.clock';
import type { JobSlots } from './job.slots';
import type { RunningAttempt } from './session.loop';
import { TokenBucket } from './token.bucket';

/**
 * Refusals (each an audit-log line and a credit grant) a control plane can cause: a burst,
 * then one every few seconds. Past that the worker drops the stream and backs off.
 */
export const REFUSAL_BUDGET = { burst: 20, perSecond: 1 / 3 };

/** What admission needs of the stream it answers on. */
export interface AdmissionSession {
  send(frame: WorkerFrame__Output): boolean;
  /** Hangs up for exceeding the refusal budget (a hang-up that does not reset the backoff). */
  throttle(reason: string): void;
  /** Whether the current stream is being hung up for exceeding the budget. */
  readonly throttled: boolean;
}

/** An admitted instruction: its payload, and the policy it was admitted under and runs under. */
export interface AdmittedInstruction {
  readonly payload: InstructionPayload__Output;
  readonly policy: JobPolicy;
}

/** Everything admission is built from. */
export interface InstructionAdmissionDependencies {
  readonly gatekeeper: Pick<InstructionGatekeeper, 'check'>;
  /** Every attempt accepted here, so none runs twice (see AttemptLedger). */
  readonly attempts: Pick<AttemptLedger, 'has' | 'record'>;
  readonly slots: Pick<JobSlots, 'has' | 'isFull'>;
  readonly credits: Pick<CreditLedger, 'spend'>;
  readonly session: AdmissionSession;
  /** Whether the lifecycle takes work now (not starting, draining or stopped). */
  readonly acceptsWork: () => boolean;
  /** Grants the slots that are free and not yet promised. */
  readonly topUpCredits: () => void;
  /** Whether the egress audit log takes writes. */
  readonly auditHealthy: () => boolean;
  readonly clock: Pick<DaemonClock, 'monotonicNow'>;
  readonly logger: Logger;
  /** Counts each refusal by code; absent, nothing is counted. */
  readonly metrics?: Pick<WorkerMetrics, 'instructionRefused'>;
}

/**
 * Decides what becomes of each instruction, in the order of docs/worker-protocol.md: the
 * envelope and local policy (the gatekeeper), then ATTEMPT_ALREADY_SEEN (running here or in
 * the attempt ledger), then WORKER_AT_CAPACITY (it came without a credit, or the worker is
 * draining). An accepted attempt is written to the attempt ledger before it is acked, so it
 * can never run twice. Every refusal is answered with a code and gives the credit back —
 * within a refusal budget, past which the worker hangs up instead of writing without bound.
 */
export class InstructionAdmission {
  private readonly refusals: TokenBucket;

  constructor(private readonly deps: InstructionAdmissionDependencies) {
    this.refusals = new TokenBucket(REFUSAL_BUDGET.burst, REFUSAL_BUDGET.perSecond, () => deps.clock.monotonicNow());
  }

  /** Returns what to run once it is acked, or undefined when the instruction was refused or dropped. */
  admit(instruction: SignedInstruction__Output): AdmittedInstruction | undefined {
    const { deps } = this;
    deps.credits.spend();
    let decision;
    try {
      decision = deps.gatekeeper.check(instruction);
    } catch (error) {
      // The nonce store could not record the nonce: running it could allow a replay later.
      deps.logger.error('instruction-check-failed', { error: error as Error });
      deps.topUpCredits();
      return undefined;
    }
    if (!decision.ok) {
      this.refuse(decision.failureCode, decision.attempt, decision.rules);
      return undefined;
    }
    const { jobId, attempt } = decision.payload;
    const ref = { jobId, attempt };
    // Running or finished here already: a duplicate, or a re-run of work that was delivered.
    if (deps.slots.has(jobId, attempt) || deps.attempts.has(jobId, attempt)) {
      this.refuse(FailureCode.ATTEMPT_ALREADY_SEEN, ref);
      return undefined;
    }
    if (deps.slots.isFull || !deps.acceptsWork()) {
      // Sent without a credit (or while draining): running it would overcommit the host.
      this.refuse(FailureCode.WORKER_AT_CAPACITY, ref);
      return undefined;
    }
    try {
      deps.attempts.record(jobId, attempt);
    } catch (error) {
      // Unrecorded, a repeat of it could run after a restart; its lease will hand it on.
      deps.logger.error('attempt-ledger-write-failed', { jobId, attempt, error: error as Error });
      deps.topUpCredits();
      return undefined;
    }
    if (!deps.session.send({ frame: 'ack', ack: { attempt: ref } }) && !deps.auditHealthy()) {
      // Nothing about this attempt could be reported, so it does not start; its lease expires
      // and the control plane queues it again.
      deps.logger.error('instruction-dropped', { jobId, attempt, failureCode: FailureCode.AUDIT_LOG_UNAVAILABLE });
      deps.topUpCredits();
      return undefined;
    }
    return { payload: decision.payload, policy: decision.policy };
  }

  /** An instruction frame failed validation: it came on a credit like any instruction, so it gives it back like any refusal. */
  refuseMalformed(): void {
    this.deps.credits.spend();
    this.refuse(FailureCode.INSTRUCTION_MALFORMED, undefined);
  }

  /** Refuses an instruction with a code (and the policy rules that refused it) and gives its credit back, within the refusal budget. */
  private refuse(failureCode: FailureCodeName, attempt: RunningAttempt | undefined, rules: readonly WirePolicyRule[] = []): void {
    const { deps } = this;
    // Counted whatever follows: refused is refused, whether the answer is sent, budgeted away or dropped.
    deps.metrics?.instructionRefused(failureCode);
    // Hanging up already: what the control plane still sends until the stream ends is dropped unlogged.
    if (deps.session.throttled) return;
    deps.logger.warn('instruction-rejected', { failureCode, jobId: attempt?.jobId, attempt: attempt?.attempt, ...(rules.length > 0 ? { rules } : {}) });
    if (!this.refusals.tryTake()) {
      // A control plane sending bad instructions faster than the budget would fill the audit
      // log: stop listening to it for a while instead of writing without bound.
      deps.logger.error('refusal-budget-exceeded', { burst: REFUSAL_BUDGET.burst, perSecond: REFUSAL_BUDGET.perSecond });
      deps.session.throttle('refusal-budget-exceeded');
      return;
    }
    deps.session.send({ frame: 'rejected', rejected: { attempt: attempt ?? null, failureCode, rules: [...rules] } });
    deps.topUpCredits();
  }
}
