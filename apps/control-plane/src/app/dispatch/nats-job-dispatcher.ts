import { Inject, Injectable, Logger } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/nats-core';
import { AckPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType, type ConsumerMessages, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import { DataAccess } from '@airlock/data-access';
import { CLOCK, type Clock } from '../common/clock';
import { NATS_CONNECTION } from '../nats/nats-connection';
import { BatchDispatch, MAX_CLAIM_BATCH, poolsServedBy, servesPool } from './batch-dispatch';
import type { DispatchableJob, JobDispatcher } from './job-dispatcher';
import { WorkerSessionRegistry, type WorkerSessionHandle } from './worker-session.registry';

/** The JetStream stream queued jobs travel through, one subject per tenant and pool. */
export const JOB_STREAM = 'AIRLOCK_JOBS';

/**
 * A pool as one subject token: no pool label contains '~' or starts with '_' (they match
 * [a-z0-9][a-z0-9._-]*), so '.' (a subject separator) becomes '~', and '_any' stands for the
 * untargeted jobs.
 */
const poolToken = (pool: string | null): string => (pool === null ? '_any' : pool.replaceAll('.', '~'));
export const jobSubjectOf = (tenantId: string, pool: string | null): string => `airlock.jobs.${tenantId}.${poolToken(pool)}`;
/** One durable pull consumer per tenant and pool, shared by every replica: each message goes to one of them. */
export const jobConsumerOf = (tenantId: string, pool: string | null): string => `jobs-${tenantId}-${poolToken(pool)}`;

const NANOS_PER_MS = 1_000_000;
/** A message a replica took but neither acked nor gave back (it died) goes to another after this. */
const ACK_WAIT_MS = 10_000;
/** Publishes of the same job and attempt within this window are one message. */
const DUPLICATE_WINDOW_MS = 120_000;
/** How long one pull request waits for messages; a replica with credits pulls again when it ends. */
const PULL_EXPIRES_MS = 5_000;
/** How long a tenant a running-jobs limit holds back is left alone (its messages given back for this long) before the next try. */
const LIMITED_PAUSE_MS = 1_000;
/** Messages that found no worker with credits go back for this long first, so they do not bounce between replicas. */
const NO_WORKER_DELAY_MS = 250;
/** How long a job must have been queued before the reconciler expects JetStream to hold it (its publish may be in flight). */
const RECONCILE_GRACE_MS = 2_000;
/** The most messages one reconcile publishes for one tenant and pool. */
const RECONCILE_LIMIT = 10_000;
const MAX_MESSAGE_BYTES = 1_024;

/** What a job message carries: that the tenant has one more queued job for the pool (null: untargeted). */
interface JobMessage {
  readonly tenantId: string;
  readonly pool: string | null;
}

/** One tenant's pool on this replica: the pull in flight, if any, and the messages come and not yet settled. */
interface PoolPulls {
  readonly tenantId: string;
  readonly pool: string | null;
  fetching: boolean;
  readonly messages: JsMsg[];
}

/**
 * The dispatcher for several replicas: queued jobs are distributed through NATS JetStream.
 *
 * A message stands for one queued job of a tenant's pool (subject per tenant and pool);
 * which job a worker gets is PostgreSQL's choice at claim time — best priority first, oldest
 * first among equals, within the tenant's running-jobs limits — so priorities and limits
 * hold whichever replica pulls. Enqueueing publishes a message (id job:attempt, so a repeat
 * within the duplicate window is one message). A replica keeps at most one pull in flight per
 * tenant and pool, for as many messages as the credits of its streams that serve the pool,
 * claims with one statement per worker up to the messages it holds of each pool, and acks
 * one message per job won, only after the claim committed: a replica that dies between the
 * two leaves its messages to be redelivered to another. Messages the claim found no job for
 * (the job was cancelled, or claimed through another message) are acked; messages a limit
 * held back are given back for later.
 *
 * PostgreSQL is the record and JetStream only the delivery path: JetStream can lose
 * acknowledged messages (lazy fsync, a damaged or wiped store), so `resync` — run by every
 * replica's lease reaper — compares, per tenant and pool, what PostgreSQL holds as queued
 * with the messages the stream holds, and publishes the difference. It also recreates the
 * stream after a wiped store.
 */
@Injectable()
export class NatsJobDispatcher implements JobDispatcher {
  private readonly logger = new Logger(NatsJobDispatcher.name);
  private readonly js: JetStreamClient;
  private manager: JetStreamManager | null = null;
  /** Per subject (tenant and pool). */
  private readonly pulls = new Map<string, PoolPulls>();
  /** Tenants whose messages are being claimed for, so one tenant's claims on this replica go one at a time. */
  private readonly processing = new Set<string>();
  /** Tenants a running-jobs limit holds back, and until when this replica leaves them alone. */
  private readonly limitedUntil = new Map<string, number>();
  private readonly consumersReady = new Set<string>();
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Publishes waiting for a job's backoff to end, and pauses of limited tenants. */
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Pull requests waiting for messages, ended at stop instead of waiting out their expiry. */
  private readonly openPulls = new Set<ConsumerMessages>();
  private reconcileRound = 0;
  private capacityPassScheduled = false;
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
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const pull of this.openPulls) pull.stop();
    await Promise.allSettled([...this.inFlight]);
  }

  enqueue(job: DispatchableJob): void {
    if (this.stopped) return;
    const waitMs = (job.notBefore?.getTime() ?? 0) - this.clock.now().getTime();
    if (waitMs <= 0) {
      this.track(this.publish(job.tenantId, job.pool, `${job.jobId}:${job.currentAttempt}`));
      return;
    }
    // Published when its backoff ends; should this replica stop first, the reconciler of any
    // replica publishes it once it is due.
    this.after(waitMs, () => this.enqueue({ ...job, notBefore: null }));
  }

  /**
   * Looks for work once per tick however many credits arrived in it: a pass visits every
   * stream with credits, and with thousands of streams reconnecting a pass per credit made
   * the cost grow with the square of the fleet.
   */
  capacityAvailable(): void {
    if (this.stopped || this.capacityPassScheduled) return;
    this.capacityPassScheduled = true;
    setImmediate(() => {
      this.capacityPassScheduled = false;
      this.pullForCredits();
    });
  }

  /** Pulls for every tenant and pool a stream with credits here serves (each once), and claims for the messages held. */
  private pullForCredits(): void {
    if (this.stopped) return;
    const wanted = new Map<string, { tenantId: string; pool: string | null }>();
    for (const session of this.sessions.withCredits()) {
      for (const pool of [null, ...poolsServedBy(session)]) wanted.set(jobSubjectOf(session.tenantId, pool), { tenantId: session.tenantId, pool });
    }
    for (const { tenantId, pool } of wanted.values()) this.pullFor(tenantId, pool);
    for (const pulls of this.pulls.values()) if (pulls.messages.length > 0) this.scheduleProcessing(pulls.tenantId);
  }

  /**
   * Recreates the stream if it is gone, then, for each tenant and pool whose queued jobs
   * (queued for longer than a publish takes) outnumber the messages the stream holds for it,
   * publishes the difference. A message too many is harmless: its claim finds no job and acks
   * it. Returns how many jobs PostgreSQL holds as queued.
   */
  async resync(): Promise<number> {
    await this.ensureStream();
    const manager = await this.jsm();
    const info = await manager.streams.info(JOB_STREAM, { subjects_filter: 'airlock.jobs.>' });
    const held = info.state.subjects ?? {};
    const queued = await this.data.jobs.countQueuedByPool(new Date(this.clock.now().getTime() - RECONCILE_GRACE_MS));
    this.reconcileRound += 1;
    let total = 0;
    for (const { tenantId, pool, queued: count } of queued) {
      total += count;
      const subject = jobSubjectOf(tenantId, pool);
      const inStream = held[subject] ?? 0;
      if (inStream >= count) continue;
      const missing = Math.min(count - inStream, RECONCILE_LIMIT);
      // Message ids of this round: a lost message's id may still sit in the duplicate window.
      await Promise.all(Array.from({ length: missing }, (_, index) => this.publish(tenantId, pool, `${subject}:r${this.reconcileRound}:${index}`)));
      this.logger.warn({ event: 'dispatch_stream_reconciled', tenantId, pool, queuedInDatabase: count, heldInStream: inStream, published: missing });
    }
    this.capacityAvailable();
    return total;
  }

  private async publish(tenantId: string, pool: string | null, messageId: string): Promise<void> {
    const message: JobMessage = { tenantId, pool };
    try {
      await this.js.publish(jobSubjectOf(tenantId, pool), JSON.stringify(message), { msgID: messageId });
    } catch (error) {
      // PostgreSQL holds the job as queued: the next reconcile publishes it again.
      this.logger.error({ event: 'dispatch_publish_failed', tenantId, error: (error as Error).name });
    }
  }

  /** Asks the pool's consumer, unless a pull is in flight already, for as many messages as this replica's streams serving the pool have credits beyond the messages held. */
  private pullFor(tenantId: string, pool: string | null): void {
    const subject = jobSubjectOf(tenantId, pool);
    let pulls = this.pulls.get(subject);
    if (!pulls) {
      pulls = { tenantId, pool, fetching: false, messages: [] };
      this.pulls.set(subject, pulls);
    }
    if (pulls.fetching || this.stopped || (this.limitedUntil.get(tenantId) ?? 0) > Date.now()) return;
    const wanted = Math.min(MAX_CLAIM_BATCH, this.freeCredits(tenantId, pool) - pulls.messages.length);
    if (wanted <= 0) return;
    pulls.fetching = true;
    this.track(this.fetch(pulls, wanted));
  }

  private async fetch(pulls: PoolPulls, wanted: number): Promise<void> {
    let messages: ConsumerMessages | undefined;
    try {
      await this.ensureConsumer(pulls.tenantId, pulls.pool);
      const consumer = await this.js.consumers.get(JOB_STREAM, jobConsumerOf(pulls.tenantId, pulls.pool));
      messages = await consumer.fetch({ max_messages: wanted, expires: PULL_EXPIRES_MS });
      this.openPulls.add(messages);
      for await (const message of messages) {
        if (!isJobMessageOf(message, pulls)) {
          this.logger.warn({ event: 'dispatch_message_refused', tenantId: pulls.tenantId });
          message.term();
          continue;
        }
        pulls.messages.push(message);
        this.scheduleProcessing(pulls.tenantId);
      }
    } catch (error) {
      this.consumersReady.delete(jobSubjectOf(pulls.tenantId, pulls.pool));
      this.logger.error({ event: 'dispatch_pull_failed', tenantId: pulls.tenantId, error: (error as Error).name });
      // Wait a little before pulling again: NATS may be restarting.
      if (!this.stopped) await new Promise((resolve) => setTimeout(resolve, 250));
    } finally {
      pulls.fetching = false;
      if (messages) this.openPulls.delete(messages);
    }
    this.pullFor(pulls.tenantId, pulls.pool);
  }

  private scheduleProcessing(tenantId: string): void {
    if (this.processing.has(tenantId)) return;
    this.processing.add(tenantId);
    // After this tick, so the messages that arrive together are claimed together.
    setImmediate(() => this.track(this.process(tenantId)));
  }

  /**
   * Claims for the tenant's messages held here, one batch per worker with credits (from each
   * pool it serves, up to the messages held of that pool), then settles each message: one
   * acked per job won; the rest acked when the claim found no more jobs, given back when a
   * limit held jobs back, or when no worker here can take them any more.
   */
  private async process(tenantId: string): Promise<void> {
    try {
      for (;;) {
        const held = [...this.pulls.values()].filter((pulls) => pulls.tenantId === tenantId && pulls.messages.length > 0);
        if (held.length === 0) break;
        const session = this.workerFor(tenantId, held);
        if (!session) {
          // The streams that asked went away or are busy: let another replica have the jobs now.
          for (const pulls of held) for (const message of pulls.messages.splice(0)) message.nak(NO_WORKER_DELAY_MS);
          break;
        }
        const max = Math.min(session.credits, MAX_CLAIM_BATCH);
        const taken = held.filter((pulls) => servesPool(session, pulls.pool)).map((pulls) => ({ pulls, messages: pulls.messages.splice(0, max) }));
        const quotas = taken.map(({ pulls, messages }) => ({ pool: pulls.pool, max: messages.length }));
        const asked = Math.min(max, quotas.reduce((sum, quota) => sum + quota.max, 0));
        session.credits -= asked;
        const outcome = await this.batches.claimAndSend(session, quotas, asked);
        if (outcome.kind === 'FAILED') {
          // The database is away: give the messages back after a pause, for this replica or another.
          for (const { messages } of taken) for (const message of messages) message.nak(1_000);
          break;
        }
        for (const { pulls, messages } of taken) {
          const won = outcome.claims.filter((claim) => claim.pool === pulls.pool).length;
          for (const message of messages.splice(0, won)) message.ack();
          if (outcome.limited) for (const message of messages) message.nak(LIMITED_PAUSE_MS);
          // Fewer jobs than asked and no limit in the way: the pool has no more, these messages were spent elsewhere.
          else if (outcome.claims.length < asked) for (const message of messages) message.ack();
          else pulls.messages.unshift(...messages);
        }
        if (outcome.limited) {
          this.pauseLimited(tenantId);
          for (const pulls of held) for (const message of pulls.messages.splice(0)) message.nak(LIMITED_PAUSE_MS);
          break;
        }
      }
    } finally {
      this.processing.delete(tenantId);
    }
    for (const pulls of this.pulls.values()) if (pulls.tenantId === tenantId) this.pullFor(tenantId, pulls.pool);
  }

  /** Leaves a tenant a limit holds back alone for a while, then tries again: a job of it may have ended on another replica. */
  private pauseLimited(tenantId: string): void {
    this.limitedUntil.set(tenantId, Date.now() + LIMITED_PAUSE_MS);
    this.after(LIMITED_PAUSE_MS, () => {
      this.limitedUntil.delete(tenantId);
      this.capacityAvailable();
    });
  }

  private after(delayMs: number, run: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      run();
    }, delayMs);
    timer.unref();
    this.timers.add(timer);
  }

  /** The tenant's stream held here with the most credits among those, not draining, that serve a pool with messages held. */
  private workerFor(tenantId: string, held: readonly PoolPulls[]): WorkerSessionHandle | undefined {
    let best: WorkerSessionHandle | undefined;
    for (const session of this.sessions.sessionsOfTenant(tenantId)) {
      if (session.draining || session.credits <= 0 || (best && session.credits <= best.credits)) continue;
      if (held.some((pulls) => servesPool(session, pulls.pool))) best = session;
    }
    return best;
  }

  /** Credits of the tenant's streams held here that are not draining and serve the pool. */
  private freeCredits(tenantId: string, pool: string | null): number {
    return this.sessions.sessionsOfTenant(tenantId).reduce((sum, session) => sum + (session.draining || !servesPool(session, pool) ? 0 : session.credits), 0);
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

  private async ensureConsumer(tenantId: string, pool: string | null): Promise<void> {
    const subject = jobSubjectOf(tenantId, pool);
    if (this.consumersReady.has(subject)) return;
    const manager = await this.jsm();
    try {
      await manager.consumers.info(JOB_STREAM, jobConsumerOf(tenantId, pool));
    } catch (error) {
      if (!isNotFound(error)) throw error;
      await this.ensureStream();
      await manager.consumers.add(JOB_STREAM, {
        durable_name: jobConsumerOf(tenantId, pool),
        filter_subject: subject,
        ack_policy: AckPolicy.Explicit,
        ack_wait: ACK_WAIT_MS * NANOS_PER_MS,
        max_ack_pending: 10_000,
      });
    }
    this.consumersReady.add(subject);
  }

  private track(work: Promise<unknown>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }
}

/** Whether the message is a job message of the tenant and pool whose consumer delivered it, checked field by field. */
function isJobMessageOf(message: JsMsg, pulls: PoolPulls): boolean {
  if (message.data.length > MAX_MESSAGE_BYTES) return false;
  let parsed: unknown;
  try {
    parsed = message.json();
  } catch {
    return false;
  }
  const candidate = parsed as Partial<JobMessage> | null;
  return typeof candidate === 'object' && candidate !== null && candidate.tenantId === pulls.tenantId && candidate.pool === pulls.pool;
}

function isNotFound(error: unknown): boolean {
  const text = `${(error as Error)?.message ?? ''}`.toLowerCase();
  return text.includes('not found');
}
