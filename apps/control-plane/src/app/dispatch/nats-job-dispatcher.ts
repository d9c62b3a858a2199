import { Inject, Injectable, Logger } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/nats-core';
import { AckPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType, type ConsumerMessages, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import { DataAccess } from '@airlock/data-access';
import { CLOCK, type Clock } from '../common/clock';
import { NATS_CONNECTION } from '../nats/nats-connection';
import { BatchDispatch, MAX_CLAIM_BATCH } from './batch-dispatch';
import type { DispatchableJob, JobDispatcher } from './job-dispatcher';
import { WorkerSessionRegistry, type WorkerSessionHandle } from './worker-session.registry';

/** The JetStream stream queued jobs travel through, one subject per tenant. */
export const JOB_STREAM = 'AIRLOCK_JOBS';
export const jobSubjectOf = (tenantId: string): string => `airlock.jobs.${tenantId}`;
/** One durable pull consumer per tenant, shared by every replica: each message goes to one of them. */
export const jobConsumerOf = (tenantId: string): string => `jobs-${tenantId}`;

const NANOS_PER_MS = 1_000_000;
/** A message a replica took but neither acked nor gave back (it died) goes to another after this. */
const ACK_WAIT_MS = 10_000;
/** Publishes of the same job and attempt within this window are one message. */
const DUPLICATE_WINDOW_MS = 120_000;
/** How long one pull request waits for messages; a replica with credits pulls again when it ends. */
const PULL_EXPIRES_MS = 5_000;
/** How long a job must have been queued before the reconciler expects JetStream to hold it (its publish may be in flight). */
const RECONCILE_GRACE_MS = 2_000;
/** The most queued jobs of one tenant one reconcile publishes again. */
const RECONCILE_LIMIT = 10_000;
const MAX_MESSAGE_BYTES = 1_024;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What a job message carries: which job, at which attempt, and when it was created (for order). */
interface JobMessage {
  readonly jobId: string;
  readonly tenantId: string;
  readonly currentAttempt: number;
  readonly createdAt: string;
}

/** A tenant's pulls on this replica: messages asked for and not yet come, and those come and not yet dispatched. */
interface TenantPulls {
  outstanding: number;
  received: { readonly job: DispatchableJob; readonly message: JsMsg }[];
  processing: boolean;
}

/**
 * The dispatcher for several replicas: queued jobs are distributed through NATS JetStream.
 *
 * Enqueueing publishes the job on its tenant's subject (message id job:attempt, so a repeat
 * within the duplicate window is one message). A replica pulls from a tenant's durable
 * consumer only as many messages as the credits of that tenant's workers whose streams it
 * holds, claims what it got in PostgreSQL with one statement per worker (the same
 * conditional claim as the single-process dispatcher), and acks each message only after the
 * claim committed: a replica that dies between the two leaves the message to be redelivered
 * to another, whose claim finds the job no longer queued and acks it. Every accept is
 * idempotent, keyed by job and attempt.
 *
 * PostgreSQL is the record and JetStream only the delivery path: JetStream can lose
 * acknowledged messages (lazy fsync, a damaged or wiped store), so `resync` — run by every
 * replica's lease reaper — compares, per tenant, what PostgreSQL holds as queued with what
 * the stream holds, and publishes the tenant's queued jobs again when the stream holds
 * fewer. It also recreates the stream after a wiped store.
 */
@Injectable()
export class NatsJobDispatcher implements JobDispatcher {
  private readonly logger = new Logger(NatsJobDispatcher.name);
  private readonly js: JetStreamClient;
  private manager: JetStreamManager | null = null;
  private readonly pulls = new Map<string, TenantPulls>();
  private readonly consumersReady = new Set<string>();
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Publishes waiting for a job's backoff to end. */
  private readonly delayed = new Set<NodeJS.Timeout>();
  /** Pull requests waiting for messages, ended at stop instead of waiting out their expiry. */
  private readonly openPulls = new Set<ConsumerMessages>();
  private reconcileRound = 0;
  private stopped = false;

  constructor(
    @Inject(NATS_CONNECTION) private readonly nats: NatsConnection,
    private readonly data: DataAccess,
    private readonly sessions: WorkerSessionRegistry,
    private readonly batches: BatchDispatch,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    this.js = jetstream(nats);
  }

  async start(): Promise<void> {
    await this.ensureStream();
    const queued = await this.resync();
    this.logger.log({ event: 'dispatch_stream_ready', stream: JOB_STREAM, queuedJobs: queued });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.delayed) clearTimeout(timer);
    this.delayed.clear();
    for (const pull of this.openPulls) pull.stop();
    await Promise.allSettled([...this.inFlight]);
  }

  enqueue(job: DispatchableJob): void {
    if (this.stopped) return;
    const waitMs = (job.notBefore?.getTime() ?? 0) - this.clock.now().getTime();
    if (waitMs <= 0) {
      this.track(this.publish(job, `${job.jobId}:${job.currentAttempt}`));
      return;
    }
    // Published when its backoff ends; should this replica stop first, the reconciler of any
    // replica publishes it once it is due.
    const timer = setTimeout(() => {
      this.delayed.delete(timer);
      this.enqueue({ ...job, notBefore: null });
    }, waitMs);
    timer.unref();
    this.delayed.add(timer);
  }

  capacityAvailable(): void {
    if (this.stopped) return;
    for (const tenantId of new Set([...this.sessions.tenantsWithCredit(), ...this.pulls.keys()])) this.pullFor(tenantId);
  }

  /**
   * Recreates the stream if it is gone, then, for each tenant whose queued jobs (queued for
   * longer than a publish takes) outnumber the messages the stream holds for it, publishes
   * them again. A message for a job that is no longer queued is harmless: its claim finds
   * nothing and acks it. Returns how many jobs PostgreSQL holds as queued.
   */
  async resync(): Promise<number> {
    await this.ensureStream();
    const manager = await this.jsm();
    const info = await manager.streams.info(JOB_STREAM, { subjects_filter: 'airlock.jobs.>' });
    const held = info.state.subjects ?? {};
    const queued = await this.data.jobs.countQueuedByTenant(new Date(this.clock.now().getTime() - RECONCILE_GRACE_MS));
    this.reconcileRound += 1;
    let total = 0;
    for (const [tenantId, count] of queued) {
      total += count;
      const inStream = held[jobSubjectOf(tenantId)] ?? 0;
      if (inStream >= count) continue;
      const jobs = await this.data.jobs.listQueued(RECONCILE_LIMIT, this.clock.now(), tenantId);
      // A message id of this round: the lost message's id may still sit in the duplicate window.
      await Promise.all(jobs.map((job) => this.publish(job, `${job.jobId}:${job.currentAttempt}:r${this.reconcileRound}`)));
      this.logger.warn({ event: 'dispatch_stream_reconciled', tenantId, queuedInDatabase: count, heldInStream: inStream, published: jobs.length });
    }
    this.capacityAvailable();
    return total;
  }

  private async publish(job: DispatchableJob, messageId: string): Promise<void> {
    const message: JobMessage = { jobId: job.jobId, tenantId: job.tenantId, currentAttempt: job.currentAttempt, createdAt: job.createdAt.toISOString() };
    try {
      await this.js.publish(jobSubjectOf(job.tenantId), JSON.stringify(message), { msgID: messageId });
    } catch (error) {
      // PostgreSQL holds the job as queued: the next reconcile publishes it again.
      this.logger.error({ event: 'dispatch_publish_failed', jobId: job.jobId, error: (error as Error).name });
    }
  }

  /** Asks the tenant's consumer for as many messages as this replica's streams of the tenant have credits not yet spoken for. */
  private pullFor(tenantId: string): void {
    const pulls = this.pulls.get(tenantId) ?? { outstanding: 0, received: [], processing: false };
    this.pulls.set(tenantId, pulls);
    const wanted = Math.min(MAX_CLAIM_BATCH, this.freeCredits(tenantId) - pulls.outstanding - pulls.received.length);
    if (wanted <= 0 || this.stopped) {
      if (pulls.outstanding === 0 && pulls.received.length === 0 && !pulls.processing) this.pulls.delete(tenantId);
      return;
    }
    pulls.outstanding += wanted;
    this.track(this.fetch(tenantId, pulls, wanted));
  }

  private async fetch(tenantId: string, pulls: TenantPulls, wanted: number): Promise<void> {
    let arrived = 0;
    let messages: ConsumerMessages | undefined;
    try {
      await this.ensureConsumer(tenantId);
      const consumer = await this.js.consumers.get(JOB_STREAM, jobConsumerOf(tenantId));
      messages = await consumer.fetch({ max_messages: wanted, expires: PULL_EXPIRES_MS });
      this.openPulls.add(messages);
      for await (const message of messages) {
        arrived += 1;
        pulls.outstanding -= 1;
        const job = parseJobMessage(message, tenantId);
        if (!job) {
          this.logger.warn({ event: 'dispatch_message_refused', tenantId });
          message.term();
          continue;
        }
        pulls.received.push({ job, message });
        this.scheduleProcessing(tenantId, pulls);
      }
    } catch (error) {
      this.consumersReady.delete(tenantId);
      this.logger.error({ event: 'dispatch_pull_failed', tenantId, error: (error as Error).name });
      // Wait a little before pulling again: NATS may be restarting.
      if (!this.stopped) await new Promise((resolve) => setTimeout(resolve, 250));
    } finally {
      pulls.outstanding -= wanted - arrived;
      if (messages) this.openPulls.delete(messages);
    }
    this.pullFor(tenantId);
  }

  private scheduleProcessing(tenantId: string, pulls: TenantPulls): void {
    if (pulls.processing) return;
    pulls.processing = true;
    // After this tick, so the messages that arrive together are claimed together.
    setImmediate(() => this.track(this.process(tenantId, pulls)));
  }

  /** Claims what arrived for the tenant, one batch per worker with credits, then acks each message. */
  private async process(tenantId: string, pulls: TenantPulls): Promise<void> {
    try {
      while (pulls.received.length > 0) {
        const session = this.sessions.withCredit(tenantId);
        if (!session) {
          // The streams that asked went away: let another replica have the jobs now.
          for (const { message } of pulls.received.splice(0)) message.nak();
          break;
        }
        const taken = pulls.received.splice(0, Math.min(session.credits, MAX_CLAIM_BATCH));
        taken.sort((a, b) => a.job.createdAt.getTime() - b.job.createdAt.getTime());
        session.credits -= taken.length;
        const outcome = await this.batches.claimAndSend(
          taken.map(({ job }) => job),
          session,
        );
        for (const { message } of taken) {
          // Claimed, or stale (claimed or cancelled already): either way done with. A failed
          // claim gives the message back after a pause, for this replica or another.
          if (outcome.kind === 'DONE') message.ack();
          else message.nak(1_000);
        }
      }
    } finally {
      pulls.processing = false;
    }
    if (pulls.received.length > 0) this.scheduleProcessing(tenantId, pulls);
    this.pullFor(tenantId);
  }

  /** Credits of the tenant's streams held here that are not draining. */
  private freeCredits(tenantId: string): number {
    return this.sessions.sessionsOfTenant(tenantId).reduce((sum: number, session: WorkerSessionHandle) => sum + (session.draining ? 0 : session.credits), 0);
  }

  private async jsm(): Promise<JetStreamManager> {
    this.manager ??= await jetstreamManager(this.nats);
    return this.manager;
  }

  /** Creates the stream, or finds it: at start, and after NATS lost its store. */
  private async ensureStream(): Promise<void> {
    const manager = await this.jsm();
    try {
      await manager.streams.info(JOB_STREAM);
      return;
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    await manager.streams.add({
      name: JOB_STREAM,
      subjects: ['airlock.jobs.>'],
      // Each message is gone once one consumer acked it: a queue, not a log.
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      duplicate_window: DUPLICATE_WINDOW_MS * NANOS_PER_MS,
      max_msg_size: MAX_MESSAGE_BYTES,
    });
    this.consumersReady.clear();
    this.logger.warn({ event: 'dispatch_stream_created', stream: JOB_STREAM });
  }

  private async ensureConsumer(tenantId: string): Promise<void> {
    if (this.consumersReady.has(tenantId)) return;
    const manager = await this.jsm();
    try {
      await manager.consumers.info(JOB_STREAM, jobConsumerOf(tenantId));
    } catch (error) {
      if (!isNotFound(error)) throw error;
      await this.ensureStream();
      await manager.consumers.add(JOB_STREAM, {
        durable_name: jobConsumerOf(tenantId),
        filter_subject: jobSubjectOf(tenantId),
        ack_policy: AckPolicy.Explicit,
        ack_wait: ACK_WAIT_MS * NANOS_PER_MS,
        max_ack_pending: 10_000,
      });
    }
    this.consumersReady.add(tenantId);
  }

  private track(work: Promise<unknown>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }
}

/** A job message of the tenant whose consumer delivered it, checked field by field; null for anything else. */
function parseJobMessage(message: JsMsg, tenantId: string): DispatchableJob | null {
  if (message.data.length > MAX_MESSAGE_BYTES) return null;
  let parsed: unknown;
  try {
    parsed = message.json();
  } catch {
    return null;
  }
  const candidate = parsed as Partial<JobMessage> | null;
  if (typeof candidate !== 'object' || candidate === null) return null;
  const { jobId, currentAttempt, createdAt } = candidate;
  if (typeof jobId !== 'string' || !UUID.test(jobId) || candidate.tenantId !== tenantId) return null;
  if (typeof currentAttempt !== 'number' || !Number.isSafeInteger(currentAttempt) || currentAttempt < 0) return null;
  const created = typeof createdAt === 'string' ? new Date(createdAt) : null;
  if (!created || Number.isNaN(created.getTime())) return null;
  return { jobId, tenantId, currentAttempt, createdAt: created };
}

function isNotFound(error: unknown): boolean {
  const text = `${(error as Error)?.message ?? ''}`.toLowerCase();
  return text.includes('not found');
}
