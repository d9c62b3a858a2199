import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ControlFrameRefusal } from '@airlock/envelope';
import { FailureCode, JobOutcome, POLICY_BUNDLE_FAILURE_CODES, Phase, REJECTION_FAILURE_CODES, type JobResult__Output, type WorkerFrame__Output } from '@airlock/protocol';

/** Every member of the upstream frame's oneof: the values `airlock_worker_frames_sent_total{type}` takes. */
export const WORKER_FRAME_TYPES = ['hello', 'credit', 'ack', 'rejected', 'progress', 'heartbeat', 'result', 'policyAck', 'deliveryOutcome'] as const;
// Fails to compile when the proto gains a frame this list lacks.
const EVERY_FRAME_LISTED: [Exclude<NonNullable<WorkerFrame__Output['frame']>, (typeof WORKER_FRAME_TYPES)[number]>] extends [never] ? true : never = true;
void EVERY_FRAME_LISTED;

/** `outcome` of a finished job: JobOutcome without its prefix (SUCCEEDED, FAILED, CANCELLED). */
export const JOB_OUTCOMES: readonly string[] = Object.keys(JobOutcome)
  .filter((outcome) => outcome !== JobOutcome.JOB_OUTCOME_UNSPECIFIED)
  .map((outcome) => outcome.replace(/^JOB_OUTCOME_/, ''));
/** `phase`: the Phase enum without its prefix (WORKSPACE … DELIVER, TICKET). */
export const PHASES: readonly string[] = Object.keys(Phase)
  .filter((phase) => phase !== Phase.PHASE_UNSPECIFIED)
  .map((phase) => phase.replace(/^PHASE_/, ''));
/** The label of a job that ended without a failure code (it succeeded). */
export const NO_FAILURE_CODE = 'NONE';
/** `failure_code`: a FailureCode of airlock.v1, or NONE. */
export const JOB_FAILURE_CODES: ReadonlySet<string> = new Set([...Object.keys(FailureCode).filter((code) => code !== FailureCode.FAILURE_CODE_UNSPECIFIED), NO_FAILURE_CODE]);
/** What a value outside a label's closed set is counted as; never the value itself. */
export const OUT_OF_SET = 'OTHER';

/** Why a sandboxed command was stopped: a `sandbox.limits` entry, or its own timeout. */
export const SANDBOX_KILL_LIMITS = ['cpu', 'memory', 'processes', 'disk', 'timeout'] as const;
export type SandboxKillLimit = (typeof SANDBOX_KILL_LIMITS)[number];

/** Why a signed kind of control frame was dropped (ControlFrameVerifier.refusalOf). */
export const CONTROL_FRAME_REFUSALS = ['MISSING', 'UNKNOWN_KEY', 'BAD_SIGNATURE'] as const satisfies readonly ControlFrameRefusal[];

/**
 * Seconds a phase took. A result reports phase durations in 100 ms steps at the `minimal`
 * level, so nothing finer than 0.1 s; a workspace from a warm mirror or a cached setup takes
 * about a second, inference and tests minutes, and nothing outlives `limits.jobTimeout`
 * (30 minutes by default): the top bucket, an hour, covers a raised timeout.
 */
export const PHASE_DURATION_BUCKETS = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600];

/** What the gauges read at each scrape: the daemon's own state (WorkerDaemon.health). */
export interface WorkerMetricsState {
  readonly connected: boolean;
  readonly running: number;
  readonly capacity: number;
  readonly egressAuditHealthy: boolean;
}

export interface WorkerMetricsOptions {
  /** Adds prom-client's process_* and nodejs_* metrics: once per process, by the running daemon. */
  readonly defaultMetrics?: boolean;
}

/**
 * The worker's Prometheus metrics, served on its health listener (GET /metrics) inside the
 * customer's network, on a registry of their own so that tests and several daemons in one
 * process never share one. They carry nothing a `minimal` JobResult would not: every label
 * is an enum of the wire contract (refusal and failure codes, outcome, phase, frame type) or
 * of the worker's own sandbox limits, never a repository alias, path, branch, host, model
 * name or job id, and a value outside its set is counted as OTHER. Each event is counted by
 * one method here, called from the one place it happens (docs/operations/metrics.md).
 */
export class WorkerMetrics {
  readonly registry = new Registry();
  private readonly instructionsRefused: Counter<'code'>;
  private readonly bundlesRefused: Counter<'code'>;
  private readonly framesUnauthenticated: Counter<'reason'>;
  private readonly jobsFinished: Counter<'outcome' | 'failure_code'>;
  private readonly phaseDuration: Histogram<'phase'>;
  private readonly framesSent: Counter<'type'>;
  private readonly framesRefused: Counter;
  private readonly auditFailures: Counter;
  private readonly sandboxKills: Counter<'limit'>;
  private state: (() => WorkerMetricsState) | undefined;

  constructor(options: WorkerMetricsOptions = {}) {
    const registers = [this.registry];
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry });
    this.instructionsRefused = new Counter({ name: 'airlock_worker_instructions_refused_total', help: 'Instructions this worker refused (InstructionRejected), by refusal code.', labelNames: ['code'], registers });
    this.bundlesRefused = new Counter({ name: 'airlock_worker_policy_bundles_refused_total', help: 'Central policy bundles this worker refused (PolicyAck REFUSED), by code.', labelNames: ['code'], registers });
    this.framesUnauthenticated = new Counter({
      name: 'airlock_worker_control_frames_unauthenticated_total',
      help: 'Cancel, ResultAck, Drain and LeaseRenewal frames dropped because their signature was missing, by an unpinned key, or wrong.',
      labelNames: ['reason'],
      registers,
    });
    this.jobsFinished = new Counter({ name: 'airlock_worker_jobs_finished_total', help: 'Job attempts that ended on this worker, by outcome and failure code (NONE when it succeeded), as the result reports them.', labelNames: ['outcome', 'failure_code'], registers });
    this.phaseDuration = new Histogram({
      name: 'airlock_worker_phase_duration_seconds',
      help: "Seconds each phase of a job took, as the result's phase durations report it.",
      labelNames: ['phase'],
      buckets: PHASE_DURATION_BUCKETS,
      registers,
    });
    this.framesSent = new Counter({ name: 'airlock_worker_frames_sent_total', help: 'Frames written to the stream after the egress audit log committed their line, by frame type.', labelNames: ['type'], registers });
    this.framesRefused = new Counter({ name: 'airlock_worker_frames_refused_total', help: "Frames the outbound gate's closed-schema check refused (not sent, not audited as sent): a bug, never expected.", registers });
    this.auditFailures = new Counter({ name: 'airlock_worker_egress_audit_failures_total', help: 'Frames not sent because the egress audit log could not record them (e.g. a full disk).', registers });
    this.sandboxKills = new Counter({
      name: 'airlock_worker_sandbox_kills_total',
      help: 'Setup and test commands stopped by a sandbox.limits entry (cpu, memory, processes, disk) or by their timeout, the model\'s own test runs included.',
      labelNames: ['limit'],
      registers,
    });
    const state = () => this.state?.();
    new Gauge({
      name: 'airlock_worker_connected',
      help: '1 while the stream to the control plane is welcomed, else 0.',
      registers,
      collect() {
        const now = state();
        if (now) this.set(now.connected ? 1 : 0);
      },
    });
    new Gauge({
      name: 'airlock_worker_jobs_running',
      help: 'Jobs running in this worker now.',
      registers,
      collect() {
        const now = state();
        if (now) this.set(now.running);
      },
    });
    new Gauge({
      name: 'airlock_worker_capacity',
      help: 'Job slots this worker has (concurrency).',
      registers,
      collect() {
        const now = state();
        if (now) this.set(now.capacity);
      },
    });
    new Gauge({
      name: 'airlock_worker_egress_audit_healthy',
      help: '1 while the egress audit log takes writes, 0 while it refuses them (nothing can be sent then).',
      registers,
      collect() {
        const now = state();
        if (now) this.set(now.egressAuditHealthy ? 1 : 0);
      },
    });
    // Present at 0 from the start, so that increase() sees the first one of each.
    for (const code of REJECTION_FAILURE_CODES) this.instructionsRefused.inc({ code }, 0);
    for (const code of POLICY_BUNDLE_FAILURE_CODES) this.bundlesRefused.inc({ code }, 0);
    for (const reason of CONTROL_FRAME_REFUSALS) this.framesUnauthenticated.inc({ reason }, 0);
    for (const type of WORKER_FRAME_TYPES) this.framesSent.inc({ type }, 0);
    for (const limit of SANDBOX_KILL_LIMITS) this.sandboxKills.inc({ limit }, 0);
  }

  /** Where the gauges read the daemon's state from; the daemon hands it over when it is built. */
  observe(state: () => WorkerMetricsState): void {
    this.state = state;
  }

  /** The text exposition format of every metric, as GET /metrics serves it. */
  exposition(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The worker refused an instruction with this code. */
  instructionRefused(code: string): void {
    this.instructionsRefused.inc({ code: inSet(code, REJECTION_FAILURE_CODES) });
  }

  /** The worker refused a central policy bundle with this code. */
  policyBundleRefused(code: string): void {
    this.bundlesRefused.inc({ code: inSet(code, POLICY_BUNDLE_FAILURE_CODES) });
  }

  /** A signed kind of control frame was dropped unobeyed. */
  controlFrameUnauthenticated(reason: ControlFrameRefusal): void {
    this.framesUnauthenticated.inc({ reason: inSet(reason, CONTROL_FRAME_REFUSALS) });
  }

  /** An attempt ended with this result: its outcome and code, and the duration of each phase it ran, from the result itself. */
  jobFinished(result: Pick<JobResult__Output, 'outcome' | 'failureCode' | 'phaseDurations'>): void {
    const outcome = String(result.outcome).replace(/^JOB_OUTCOME_/, '');
    const code = result.failureCode === FailureCode.FAILURE_CODE_UNSPECIFIED ? NO_FAILURE_CODE : String(result.failureCode);
    this.jobsFinished.inc({ outcome: inSet(outcome, JOB_OUTCOMES), failure_code: inSet(code, JOB_FAILURE_CODES) });
    for (const { phase, durationMs } of result.phaseDurations) {
      this.phaseDuration.observe({ phase: inSet(String(phase).replace(/^PHASE_/, ''), PHASES) }, durationMs / 1000);
    }
  }

  /** The outbound gate wrote a frame of this type to the stream. */
  frameSent(type: string): void {
    this.framesSent.inc({ type: inSet(type, WORKER_FRAME_TYPES) });
  }

  /** The outbound gate's schema check refused a frame. */
  frameRefused(): void {
    this.framesRefused.inc();
  }

  /** `frames` were not sent because the egress audit log could not record them. */
  auditFailed(frames: number): void {
    this.auditFailures.inc(frames);
  }

  /** A sandboxed command was stopped at a limit or its timeout. */
  sandboxKilled(limit: SandboxKillLimit): void {
    this.sandboxKills.inc({ limit: inSet(limit, SANDBOX_KILL_LIMITS) });
  }
}

/** The value when it belongs to the set, else OUT_OF_SET. */
function inSet(value: string, set: ReadonlySet<string> | readonly string[]): string {
  return (set instanceof Set ? set.has(value) : (set as readonly string[]).includes(value)) ? value : OUT_OF_SET;
}

