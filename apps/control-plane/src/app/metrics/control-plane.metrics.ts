import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { JobStatus, LEASE_EXPIRED_FAILURE_CODE, LeaseExpiry } from '@airlock/data-access';
import { FailureCode, ID_PATTERNS, REJECTION_FAILURE_CODES, type WorkerFrame__Output } from '@airlock/protocol';

/** Every member of the upstream frame's oneof: the values `airlock_gateway_frames_received_total{type}` takes. */
export const WORKER_FRAME_TYPES = ['hello', 'credit', 'ack', 'rejected', 'progress', 'heartbeat', 'result', 'policyAck', 'deliveryOutcome'] as const;
type WorkerFrameType = NonNullable<WorkerFrame__Output['frame']>;
// Fails to compile when the proto gains a frame this list lacks.
const EVERY_FRAME_LISTED: [Exclude<WorkerFrameType, (typeof WORKER_FRAME_TYPES)[number]>] extends [never] ? true : never = true;
void EVERY_FRAME_LISTED;

/** How a job can end, as `airlock_jobs_finished_total{status}` counts it. */
export const JOB_END_STATUSES = ['SUCCEEDED', 'FAILED', 'CANCELLED'] as const satisfies readonly JobStatus[];
type JobEndStatus = (typeof JOB_END_STATUSES)[number];

const LEASE_EXPIRED: typeof LEASE_EXPIRED_FAILURE_CODE = 'LEASE_EXPIRED';
/** The label of a job that ended without a failure code (it succeeded). */
export const NO_FAILURE_CODE = 'NONE';
/** What a value outside a label's closed set is counted as; never the value itself. */
export const OUT_OF_SET = 'OTHER';

/** `failure_code` of a finished job: a FailureCode of airlock.v1, LEASE_EXPIRED, or NONE. */
export const JOB_FAILURE_CODES: ReadonlySet<string> = new Set([...Object.keys(FailureCode).filter((code) => code !== FailureCode.FAILURE_CODE_UNSPECIFIED), LEASE_EXPIRED, NO_FAILURE_CODE]);

/** What became of an attempt whose lease ran out (`airlock_lease_expiries_total{result}`). */
export const LEASE_EXPIRY_RESULTS = ['requeued', 'failed', 'cancelled', 'superseded'] as const;
type LeaseExpiryResult = (typeof LEASE_EXPIRY_RESULTS)[number];

/**
 * Why the gateway ended a stream before its Welcome (`airlock_gateway_handshakes_refused_total{reason}`):
 * `gateway_busy` too many handshakes at once, `hello_timeout` no Hello in time,
 * `unauthenticated` an unknown worker, a bad signature, a first frame that is not a Hello or a
 * refused client certificate, `revoked`, `version` outside the supported window,
 * `invalid_frame` a frame the closed schema refused, `too_many_frames` frames sent without
 * waiting, `internal` the control plane failed.
 */
export const HANDSHAKE_REFUSAL_REASONS = ['gateway_busy', 'hello_timeout', 'unauthenticated', 'revoked', 'version', 'invalid_frame', 'too_many_frames', 'internal'] as const;
export type HandshakeRefusalReason = (typeof HANDSHAKE_REFUSAL_REASONS)[number];

/**
 * Seconds from a job's creation to its first instruction written to a worker's stream. From
 * 5 ms (the product's dispatch goal) through what a replica measured under load (p50 0.13 s,
 * p99 0.27 s at 100 jobs/s, docs/scaling.md) up to 10 minutes, which a job waits when no
 * worker with a free slot is connected: the alerting bound (p99 above 30 s) falls on a bucket.
 */
export const DISPATCH_LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];
/** Seconds one claim statement takes: milliseconds when PostgreSQL is healthy, up to seconds under lock contention or a failover. */
export const CLAIM_DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** The most tenants `airlock_jobs_queued` names, those with the most queued jobs first: a bound on its series. */
export const MAX_TENANTS_IN_QUEUE_DEPTH = 1_000;
/** How long a scrape waits for the queue depth before it reports none (and counts a failure). */
export const QUEUE_DEPTH_TIMEOUT_MS = 2_000;

/** What the metrics read when scraped. */
export interface ControlPlaneMetricSources {
  /** Queued jobs per tenant, at most MAX_TENANTS_IN_QUEUE_DEPTH rows (JobRepository.countQueuedByTenant). */
  readonly queuedJobsByTenant?: () => Promise<readonly { readonly tenantId: string; readonly queued: number }[]>;
  /** The worker streams this process holds, and the credits of those that take work (WorkerSessionRegistry.counts). */
  readonly workerStreams?: () => { readonly streams: number; readonly freeCredits: number };
}

export interface ControlPlaneMetricsOptions extends ControlPlaneMetricSources {
  /** Adds prom-client's process_* and nodejs_* metrics: once per process, by the running app. */
  readonly defaultMetrics?: boolean;
}

/**
 * The control plane's Prometheus metrics, on a registry of their own (never prom-client's
 * global one), so that each control plane in a process — tests start several — and each
 * unit test has its own. Every event is counted by one method here, called from the one
 * place the event happens; label values come only from closed sets (enums, codes, tenant ids
 * the control plane issued), and a value outside its set is counted as OTHER, never as itself.
 * docs/operations/metrics.md lists every metric.
 */
export class ControlPlaneMetrics {
  readonly registry = new Registry();
  private readonly dispatchLatency: Histogram;
  private readonly claimDuration: Histogram;
  private readonly instructionsSent: Counter;
  private readonly instructionsRefused: Counter<'code'>;
  private readonly jobsFinished: Counter<'status' | 'failure_code'>;
  private readonly leaseExpiries: Counter<'result'>;
  private readonly framesReceived: Counter<'type'>;
  private readonly framesInvalid: Counter;
  private readonly handshakesRefused: Counter<'reason'>;

  constructor(options: ControlPlaneMetricsOptions = {}) {
    const registers = [this.registry];
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry });
    this.dispatchLatency = new Histogram({
      name: 'airlock_dispatch_latency_seconds',
      help: "Seconds from a job's creation (queued) to its first attempt's instruction written to a worker's stream, on the replica that sent it. Retries are not observed (see airlock_lease_expiries_total).",
      buckets: DISPATCH_LATENCY_BUCKETS,
      registers,
    });
    this.claimDuration = new Histogram({
      name: 'airlock_dispatch_claim_duration_seconds',
      help: "Seconds one claim statement took (PostgreSQL choosing and locking a worker's next jobs), failed claims included.",
      buckets: CLAIM_DURATION_BUCKETS,
      registers,
    });
    this.instructionsSent = new Counter({ name: 'airlock_instructions_sent_total', help: "Signed instructions written to a worker's stream by this replica, every attempt.", registers });
    this.instructionsRefused = new Counter({
      name: 'airlock_instructions_refused_total',
      help: 'Instructions workers refused (InstructionRejected), by refusal code: signature, key, audience, expiry and replay codes can mean tampering or a key rotation the workers have not pinned.',
      labelNames: ['code'],
      registers,
    });
    this.jobsFinished = new Counter({
      name: 'airlock_jobs_finished_total',
      help: 'Jobs that reached a terminal status through this replica, by status and failure code (NONE when it succeeded).',
      labelNames: ['status', 'failure_code'],
      registers,
    });
    this.leaseExpiries = new Counter({
      name: 'airlock_lease_expiries_total',
      help: "Attempts this replica's lease sweep found past their lease, by what became of the job: requeued, failed (its last attempt), cancelled, or superseded (the attempt no longer owned it).",
      labelNames: ['result'],
      registers,
    });
    this.framesReceived = new Counter({ name: 'airlock_gateway_frames_received_total', help: 'Frames workers sent that passed the closed-schema check, by frame type (the WorkerFrame oneof member).', labelNames: ['type'], registers });
    this.framesInvalid = new Counter({ name: 'airlock_gateway_frames_invalid_total', help: 'Frames workers sent that the closed-schema check refused; each ended its stream.', registers });
    this.handshakesRefused = new Counter({ name: 'airlock_gateway_handshakes_refused_total', help: 'Worker streams ended before their Welcome, by reason.', labelNames: ['reason'], registers });
    const { queuedJobsByTenant, workerStreams } = options;
    // The queue depth read of the scrape in progress. The registry collects its metrics in the
    // order they were registered, so the failure counter, registered after the gauge, waits
    // for the gauge's read and a scrape reports its own failure.
    let reading: Promise<void> = Promise.resolve();
    const queueDepthFailures = new Counter({
      name: 'airlock_queue_depth_query_failures_total',
      help: 'Scrapes for which the queued-jobs count failed or did not answer within 2 s (airlock_jobs_queued then has no series).',
      registers: [],
      collect: () => reading,
    });
    const queueDepth = new Gauge({
      name: 'airlock_jobs_queued',
      help: `Jobs QUEUED per tenant (the ${MAX_TENANTS_IN_QUEUE_DEPTH} tenants with the most), read from PostgreSQL at each scrape: every replica reports the same figures, so aggregate with max, not sum.`,
      labelNames: ['tenant_id'],
      registers: [],
      collect() {
        this.reset();
        if (!queuedJobsByTenant) return;
        reading = withTimeout(queuedJobsByTenant(), QUEUE_DEPTH_TIMEOUT_MS).then(
          (rows) => {
            for (const row of rows) if (ID_PATTERNS.uuid.test(row.tenantId)) this.set({ tenant_id: row.tenantId }, row.queued);
          },
          () => queueDepthFailures.inc(),
        );
        return reading;
      },
    });
    this.registry.registerMetric(queueDepth);
    this.registry.registerMetric(queueDepthFailures);
    new Gauge({
      name: 'airlock_gateway_connected_workers',
      help: 'Worker streams this replica holds (welcomed and not yet ended); sum over replicas for the fleet.',
      registers,
      collect() {
        if (workerStreams) this.set(workerStreams().streams);
      },
    });
    new Gauge({
      name: 'airlock_gateway_worker_free_credits',
      help: 'Credits (free slots offered) of the worker streams this replica holds that take work (not draining).',
      registers,
      collect() {
        if (workerStreams) this.set(workerStreams().freeCredits);
      },
    });
    // Present at 0 from the start, so that increase() sees the first one of each.
    for (const code of REJECTION_FAILURE_CODES) this.instructionsRefused.inc({ code }, 0);
    for (const result of LEASE_EXPIRY_RESULTS) this.leaseExpiries.inc({ result }, 0);
    for (const type of WORKER_FRAME_TYPES) this.framesReceived.inc({ type }, 0);
    for (const reason of HANDSHAKE_REFUSAL_REASONS) this.handshakesRefused.inc({ reason }, 0);
  }

  /** The text exposition format of every metric, as GET /metrics serves it. */
  exposition(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** One claim statement ran for `seconds` (BatchDispatch). */
  claimed(seconds: number): void {
    this.claimDuration.observe(seconds);
  }

  /** An attempt's instruction was written to a worker's stream; a first attempt's dispatch latency is observed from the job's creation. */
  instructionSent(attempt: number, createdAt: Date, sentAt: Date): void {
    this.instructionsSent.inc();
    if (attempt === 1) this.dispatchLatency.observe(Math.max(0, sentAt.getTime() - createdAt.getTime()) / 1000);
  }

  /** A worker refused an instruction with this code (InstructionRejected.failureCode). */
  instructionRefused(code: string): void {
    this.instructionsRefused.inc({ code: REJECTION_FAILURE_CODES.has(code) ? code : OUT_OF_SET });
  }

  /** A job reached `status` with `failureCode` (null when it succeeded); a status that is not terminal is ignored. */
  jobFinished(status: JobStatus, failureCode: string | null): void {
    if (!(JOB_END_STATUSES as readonly JobStatus[]).includes(status)) return;
    const code = failureCode ?? NO_FAILURE_CODE;
    this.jobsFinished.inc({ status: status as JobEndStatus, failure_code: JOB_FAILURE_CODES.has(code) ? code : OUT_OF_SET });
  }

  /**
   * An attempt ended early (its lease ran out, its worker was revoked or turned it away): the
   * job ended if it was the last attempt (`failureCode`) or a cancel was pending (CANCELLED).
   */
  attemptEnded(expiry: Pick<LeaseExpiry, 'requeued' | 'cancelled' | 'status'>, failureCode: string): void {
    const result = expiryResult(expiry);
    if (result === 'failed') this.jobFinished('FAILED', failureCode);
    if (result === 'cancelled') this.jobFinished('CANCELLED', FailureCode.CANCELLED);
  }

  /** The lease sweep expired an attempt: counted by what became of its job, which may have ended. */
  leaseExpired(expiry: Pick<LeaseExpiry, 'requeued' | 'cancelled' | 'status'>): void {
    this.leaseExpiries.inc({ result: expiryResult(expiry) });
    this.attemptEnded(expiry, LEASE_EXPIRED);
  }

  /** A worker's frame passed the closed-schema check. */
  frameReceived(type: string | null | undefined): void {
    this.framesReceived.inc({ type: (WORKER_FRAME_TYPES as readonly (string | null | undefined)[]).includes(type) ? (type as string) : OUT_OF_SET });
  }

  /** A worker's frame failed the closed-schema check (its stream ends). */
  frameInvalid(): void {
    this.framesInvalid.inc();
  }

  /** A stream ended before its Welcome. */
  handshakeRefused(reason: HandshakeRefusalReason): void {
    this.handshakesRefused.inc({ reason });
  }
}

/**
 * `failed`: the job is FAILED afterwards, its last attempt lost; `superseded`: the attempt was no
 * longer its job's current one (already fenced, or the job moved on), so the job did not change.
 */
function expiryResult(expiry: Pick<LeaseExpiry, 'requeued' | 'cancelled' | 'status'>): LeaseExpiryResult {
  if (expiry.requeued) return 'requeued';
  if (expiry.cancelled) return 'cancelled';
  return expiry.status === 'FAILED' ? 'failed' : 'superseded';
}

function withTimeout<T>(work: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  // A query that answers after the timeout must not become an unhandled rejection.
  work.catch(() => undefined);
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
