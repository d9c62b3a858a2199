import { createHmac, hkdfSync } from 'node:crypto';
import { Delivery, FailureCode, JobOutcome, MetadataLevel, Phase, type JobResult__Output } from '@airlock/protocol';
import { PolicyDecisions } from './governance/policy-decisions';
import { EndpointUsageTally } from './inference/endpoint-usage.tally';

/** A phase name as the wire carries it. */
export type PhaseName = (typeof Phase)[keyof typeof Phase];
/** A failure code as the wire carries it. */
export type FailureCodeName = (typeof FailureCode)[keyof typeof FailureCode];
/** A delivery kind as the wire carries it. */
export type DeliveryName = (typeof Delivery)[keyof typeof Delivery];

/** What a keyed MAC in a result stands for: the change (JobResult.change_mac), the delivered ref (delivery_mac), the ticket reference (ticket_ref_mac). */
export type MacPurpose = 'change' | 'delivery' | 'ticket-ref';

/**
 * HMAC-SHA256 under a key derived from the worker's local key for one purpose only (HKDF-SHA256,
 * its info naming the purpose): lets the customer match a result to a patch, ref or ticket
 * without revealing it, while a MAC of one kind can never be compared with one of another
 * kind (a branch name that happens to equal a patch's text gives unrelated MACs).
 */
export function keyedMac(key: Buffer, purpose: MacPurpose, data: Buffer | string): Buffer {
  const purposeKey = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), `airlock/v1/${purpose}-mac`, 32));
  return createHmac('sha256', purposeKey).update(data).digest();
}

const clampExitCode = (code: number) => Math.max(0, Math.min(255, code));
const clampUint32 = (value: number) => Math.max(0, Math.min(0xffff_ffff, Math.round(value)));

/**
 * Accumulates the metadata of one attempt — and nothing else: the fields here are exactly
 * the JobResult's closed schema, so there is no place for content to slip in. The policy
 * decisions keep their local detail here, but the result carries only rule, level and
 * outcome. What it builds is exact (standard level): the pipeline reduces it to the job's
 * metadata level on the way out, and the local record keeps it exact.
 */
export class JobResultBuilder {
  private readonly durations: Array<{ phase: PhaseName; durationMs: number }> = [];
  /** Requests and tokens per inference endpoint; the result's `tokens` are its totals, so the two always agree. */
  readonly modelUsage = new EndpointUsageTally();
  readonly change = { filesChanged: 0, linesAdded: 0, linesRemoved: 0, editsProposed: 0, editsApplied: 0 };
  readonly verification = {
    testsRan: false,
    testExitCode: 0,
    baseTestsRan: false,
    baseTestExitCode: 0,
    baseReportRead: false,
    reportRead: false,
    testsBefore: 0,
    failingBefore: 0,
    testsAfter: 0,
    failingAfter: 0,
    testsFixed: 0,
    testsRegressed: 0,
    agentTestRuns: 0,
    reproductionAdded: false,
  };
  contextFiles = 0;
  changeMac: Buffer = Buffer.alloc(0);
  deliveryMac: Buffer = Buffer.alloc(0);
  /** The keyed MAC of the ticket reference, when the ticket was named by one. */
  ticketRefMac: Buffer = Buffer.alloc(0);
  /** A review task's comments by severity; null for every other task. */
  review: { critical: number; major: number; minor: number; info: number; dropped: number } | null = null;
  /** Where DELIVER put the change: set once it is in the outbox, pushed, or in a merge request. */
  delivery: DeliveryName = Delivery.DELIVERY_UNSPECIFIED;
  /** The rules that fired on the attempt, with their local details. */
  readonly decisions = new PolicyDecisions();
  /** The revisions the attempt runs under; the result reports no policy until they are set. */
  private revisions: { readonly revision: number; readonly shadowRevision: number } | undefined;

  constructor(
    private readonly jobId: string,
    private readonly attempt: number,
  ) {}

  /** Says which policy revisions (0: local policy alone; shadow 0: none) the attempt runs under, so the result reports them and its decisions. */
  underPolicy(revision: number, shadowRevision: number): void {
    this.revisions = { revision, shadowRevision };
  }

  recordDuration(phase: PhaseName, durationMs: number): void {
    this.durations.push({ phase, durationMs: clampUint32(durationMs) });
  }

  succeeded(): JobResult__Output {
    return this.build(JobOutcome.JOB_OUTCOME_SUCCEEDED, FailureCode.FAILURE_CODE_UNSPECIFIED, Phase.PHASE_UNSPECIFIED);
  }

  failed(failureCode: FailureCodeName, failedPhase: PhaseName): JobResult__Output {
    const outcome = failureCode === FailureCode.CANCELLED || failureCode === FailureCode.WORKER_SHUTDOWN ? JobOutcome.JOB_OUTCOME_CANCELLED : JobOutcome.JOB_OUTCOME_FAILED;
    return this.build(outcome, failureCode, failedPhase);
  }

  private build(outcome: JobResult__Output['outcome'], failureCode: FailureCodeName, failedPhase: PhaseName): JobResult__Output {
    return {
      attempt: { jobId: this.jobId, attempt: this.attempt },
      outcome,
      failureCode,
      failedPhase,
      phaseDurations: [...this.durations],
      tokens: this.modelUsage.totals,
      change: { ...this.change },
      verification: {
        ...this.verification,
        testExitCode: clampExitCode(this.verification.testExitCode),
        baseTestExitCode: clampExitCode(this.verification.baseTestExitCode),
      },
      contextFiles: this.contextFiles,
      changeMac: this.changeMac,
      deliveryMac: this.deliveryMac,
      policy: this.revisions === undefined ? null : this.decisions.toWire(this.revisions.revision, this.revisions.shadowRevision),
      metadataLevel: MetadataLevel.METADATA_LEVEL_STANDARD,
      modelUsage: this.modelUsage.entries(),
      delivery: this.delivery,
      ticketRefMac: this.ticketRefMac,
      review: this.review && { ...this.review },
    };
  }
}
