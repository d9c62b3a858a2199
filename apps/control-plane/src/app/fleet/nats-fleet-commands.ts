import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { RequestError, TimeoutError, type Msg, type NatsConnection, type Subscription } from '@nats-io/nats-core';
import { JOB_DISPATCHER, type JobDispatcher } from '../dispatch/job-dispatcher';
import { WorkerSessionRegistry, type WorkerSessionChange } from '../dispatch/worker-session.registry';
import { NATS_CONNECTION, REPLICA_ID } from '../nats/nats-connection';
import { boundedJsonObject, errorName, isUuidShaped } from '../nats/nats-message';
import { PolicyDistributor } from '../policies/policy-distributor';
import type { FleetCommands } from './fleet-commands';
import { InProcessFleetCommands } from './in-process-fleet-commands';

/**
 * How long a worker command waits for the replica holding the stream to answer. A holder
 * answers in milliseconds (a revoke once the frame being handled is done); when none holds
 * the stream, NATS says so at once, so only a lost or stuck replica costs the whole wait.
 */
export const FLEET_COMMAND_TIMEOUT_MS = 1_000;

/** A command is at most a job id and an attempt number; anything longer is not one. */
const MAX_COMMAND_BYTES = 256;
const MAX_REPLY_BYTES = 64;
const MAX_POLICY_CHANGE_BYTES = 128;
/** Attempt numbers are PostgreSQL integers. */
const MAX_ATTEMPT = 2_147_483_647;

/** Where the replica holding the worker's stream listens for commands for it (request/reply). */
export function fleetWorkerSubject(workerId: string): string {
  return `airlock.fleet.worker.${workerId.toLowerCase()}`;
}

/** Where a tenant's policy change is announced to every replica (publish/subscribe). */
export function fleetPolicySubject(tenantId: string): string {
  return `airlock.fleet.tenant.${tenantId.toLowerCase()}.policy`;
}

const EVERY_POLICY_SUBJECT = 'airlock.fleet.tenant.*.policy';
const TENANT_TOKEN_OF_POLICY_SUBJECT = 3;

/** The body of a request on fleetWorkerSubject; the worker is the subject's. */
type WorkerCommand =
  | { readonly command: 'cancel'; readonly jobId: string; readonly attempt: number }
  | { readonly command: 'drain' | 'undrain' | 'revoke' };

/** The answer of the holder: whether it applied the command to a stream it holds, or that the command was refused. */
type WorkerCommandReply = { readonly held: boolean } | { readonly error: 'invalid_command' | 'failed' };

/** The body of a message on fleetPolicySubject: which replica announced it, so that it skips its own. */
interface PolicyChange {
  readonly origin: string;
}

/**
 * FleetCommands across replicas over core NATS (no JetStream: a command is for a stream that
 * is open now, so there is nothing to keep for later).
 *
 * - Worker commands are requests on `airlock.fleet.worker.<workerId>`. Each replica
 *   subscribes to that subject for exactly the workers whose streams it holds, from register
 *   to unregister, applies what arrives to the stream (InProcessFleetCommands) and answers
 *   `{"held":true}` (false if the stream closed meanwhile). With no holder NATS answers "no
 *   responders" at once and the command resolves false; a holder that does not answer within
 *   FLEET_COMMAND_TIMEOUT_MS resolves it false too. When a stream moves between replicas both
 *   may hold a subscription for a moment; every command is idempotent, so that does no harm.
 * - A policy change is published on `airlock.fleet.tenant.<tenantId>.policy`. Every replica
 *   subscribes to all tenants' and pushes the bundle to the streams it holds; the publishing
 *   replica pushes to its own at once, to know how many it sent, and skips its own message.
 *
 * Whatever arrives is checked before it is used; refused messages are logged by kind, never
 * by content.
 */
@Injectable()
export class NatsFleetCommands implements FleetCommands, OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(NatsFleetCommands.name);
  private readonly local: InProcessFleetCommands;
  private readonly workerSubscriptions = new Map<string, Subscription>();
  private policySubscription: Subscription | null = null;
  private stopListeningToSessions: (() => void) | null = null;
  /** Per tenant, the push a peer asked for that is running, and whether another was asked for meanwhile. */
  private readonly peerPushes = new Map<string, { again: boolean }>();
  /** Commands being applied and pushes running, awaited at shutdown. */
  private readonly inFlight = new Set<Promise<void>>();
  private stopped = false;

  constructor(
    @Inject(NATS_CONNECTION) private readonly nats: NatsConnection,
    @Inject(REPLICA_ID) private readonly replicaId: string,
    private readonly sessions: WorkerSessionRegistry,
    @Inject(JOB_DISPATCHER) dispatcher: JobDispatcher,
    private readonly policyDistributor: PolicyDistributor,
  ) {
    this.local = new InProcessFleetCommands(sessions, dispatcher, policyDistributor);
  }

  onModuleInit(): void {
    this.policySubscription = this.nats.subscribe(EVERY_POLICY_SUBJECT, { callback: (error, message) => this.onPolicyChange(error, message) });
    this.stopListeningToSessions = this.sessions.onChange((change, workerId) => this.onSessionChange(change, workerId));
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    this.stopListeningToSessions?.();
    const subscriptions = [...this.workerSubscriptions.values(), ...(this.policySubscription ? [this.policySubscription] : [])];
    this.workerSubscriptions.clear();
    this.policySubscription = null;
    // Draining lets messages already delivered to this replica be handled; a closed connection has nothing left to drain.
    await Promise.all(subscriptions.map((subscription) => subscription.drain().catch(() => undefined)));
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  cancelAttempt(workerId: string, attempt: { readonly jobId: string; readonly attempt: number }): Promise<boolean> {
    return this.request(workerId, { command: 'cancel', jobId: attempt.jobId, attempt: attempt.attempt });
  }

  setDraining(workerId: string, draining: boolean): Promise<boolean> {
    return this.request(workerId, { command: draining ? 'drain' : 'undrain' });
  }

  revoke(workerId: string): Promise<boolean> {
    return this.request(workerId, { command: 'revoke' });
  }

  /**
   * Announces the change to the other replicas, then pushes to the streams held here and
   * resolves with how many were sent here: the others push to theirs without reporting back,
   * so the count is this replica's only.
   */
  async pushPolicy(tenantId: string): Promise<number> {
    if (isUuidShaped(tenantId)) this.announcePolicyChange(tenantId);
    else this.logger.warn({ event: 'policy_change_not_announced', reason: 'invalid_tenant_id' });
    return this.local.pushPolicy(tenantId);
  }

  private async request(workerId: string, command: WorkerCommand): Promise<boolean> {
    if (!isUuidShaped(workerId) || (command.command === 'cancel' && !isValidAttemptRef(command.jobId, command.attempt))) {
      this.logger.warn({ event: 'fleet_command_not_sent', command: command.command, reason: 'invalid_argument' });
      return false;
    }
    let reply: Msg;
    try {
      reply = await this.nats.request(fleetWorkerSubject(workerId), JSON.stringify(command), { timeout: FLEET_COMMAND_TIMEOUT_MS });
    } catch (error) {
      // No replica holds the stream: the expected answer for an offline worker, not worth a log line.
      if (error instanceof RequestError && error.isNoResponders()) return false;
      if (error instanceof TimeoutError) {
        this.logger.warn({ event: 'fleet_command_timed_out', command: command.command, workerId, timeoutMs: FLEET_COMMAND_TIMEOUT_MS });
      } else {
        this.logger.error({ event: 'fleet_command_failed', command: command.command, workerId, error: errorName(error) });
      }
      return false;
    }
    const answer = boundedJsonObject(reply.data, MAX_REPLY_BYTES);
    if (answer && typeof answer['held'] === 'boolean') return answer['held'];
    this.logger.warn({ event: 'fleet_command_refused', command: command.command, workerId, reply: answer && 'error' in answer ? 'error' : 'malformed' });
    return false;
  }

  private onSessionChange(change: WorkerSessionChange, workerId: string): void {
    if (change === 'registered') this.listenForWorker(workerId);
    else this.stopListeningForWorker(workerId);
  }

  private listenForWorker(workerId: string): void {
    if (this.stopped || this.workerSubscriptions.has(workerId)) return;
    try {
      const subscription = this.nats.subscribe(fleetWorkerSubject(workerId), { callback: (error, message) => this.onWorkerCommand(workerId, error, message) });
      this.workerSubscriptions.set(workerId, subscription);
    } catch (error) {
      // The connection closed (shutdown): commands for this worker find no responder and resolve false.
      this.logger.error({ event: 'fleet_subscribe_failed', workerId, error: errorName(error) });
    }
  }

  private stopListeningForWorker(workerId: string): void {
    const subscription = this.workerSubscriptions.get(workerId);
    this.workerSubscriptions.delete(workerId);
    subscription?.unsubscribe();
  }

  private onWorkerCommand(workerId: string, error: Error | null, message: Msg): void {
    if (error) {
      this.logger.error({ event: 'fleet_subscription_failed', workerId, error: errorName(error) });
      return;
    }
    const command = parseWorkerCommand(message.data);
    if (!command) {
      this.logger.warn({ event: 'fleet_command_rejected', workerId, reason: 'invalid_command' });
      respond(message, { error: 'invalid_command' });
      return;
    }
    this.track(
      this.apply(workerId, command).then(
        (held) => respond(message, { held }),
        (failure: unknown) => {
          this.logger.error({ event: 'fleet_command_apply_failed', command: command.command, workerId, error: errorName(failure) });
          respond(message, { error: 'failed' });
        },
      ),
    );
  }

  private apply(workerId: string, command: WorkerCommand): Promise<boolean> {
    switch (command.command) {
      case 'cancel':
        return this.local.cancelAttempt(workerId, { jobId: command.jobId, attempt: command.attempt });
      case 'drain':
      case 'undrain':
        return this.local.setDraining(workerId, command.command === 'drain');
      case 'revoke':
        return this.local.revoke(workerId);
    }
  }

  private announcePolicyChange(tenantId: string): void {
    const change: PolicyChange = { origin: this.replicaId };
    try {
      this.nats.publish(fleetPolicySubject(tenantId), JSON.stringify(change));
    } catch (error) {
      // Connection closed: the other replicas' workers get the revision when they next connect.
      this.logger.error({ event: 'policy_change_not_announced', tenantId, error: errorName(error) });
    }
  }

  private onPolicyChange(error: Error | null, message: Msg): void {
    if (error) {
      this.logger.error({ event: 'fleet_subscription_failed', error: errorName(error) });
      return;
    }
    const tenantId = message.subject.split('.')[TENANT_TOKEN_OF_POLICY_SUBJECT];
    const change = boundedJsonObject(message.data, MAX_POLICY_CHANGE_BYTES);
    if (!isUuidShaped(tenantId) || !change || !isUuidShaped(change['origin'])) {
      this.logger.warn({ event: 'policy_change_rejected', reason: 'invalid_message' });
      return;
    }
    if (change['origin'] !== this.replicaId) this.pushForPeer(tenantId.toLowerCase());
  }

  /**
   * Pushes the tenant's current bundle to the streams held here. One push per tenant runs at
   * a time: announcements arriving meanwhile make it run once more, not once each, so a
   * burst of them costs one extra policy read, not one each.
   */
  private pushForPeer(tenantId: string): void {
    const running = this.peerPushes.get(tenantId);
    if (running) {
      running.again = true;
      return;
    }
    const state = { again: false };
    this.peerPushes.set(tenantId, state);
    this.track(
      (async () => {
        try {
          do {
            state.again = false;
            await this.policyDistributor.pushCurrent(tenantId).catch((failure: unknown) => {
              this.logger.error({ event: 'policy_push_failed', tenantId, error: errorName(failure) });
            });
          } while (state.again && !this.stopped);
        } finally {
          this.peerPushes.delete(tenantId);
        }
      })(),
    );
  }

  private track(work: Promise<void>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }
}

/** The command a request body names, or null unless it is exactly a valid one, with no field besides. */
function parseWorkerCommand(data: Uint8Array): WorkerCommand | null {
  const body = boundedJsonObject(data, MAX_COMMAND_BYTES);
  if (!body) return null;
  const fields = Object.keys(body).length;
  switch (body['command']) {
    case 'cancel': {
      const { jobId, attempt } = body;
      return fields === 3 && typeof jobId === 'string' && typeof attempt === 'number' && isValidAttemptRef(jobId, attempt) ? { command: 'cancel', jobId, attempt } : null;
    }
    case 'drain':
    case 'undrain':
    case 'revoke':
      return fields === 1 ? { command: body['command'] } : null;
    default:
      return null;
  }
}

/** A job's attempt as the database numbers it: from 1, within a PostgreSQL integer. */
function isValidAttemptRef(jobId: string, attempt: number): boolean {
  return isUuidShaped(jobId) && Number.isInteger(attempt) && attempt >= 1 && attempt <= MAX_ATTEMPT;
}

/** Answers a request; a message published without a reply subject, or a connection closed since, gets none. */
function respond(message: Msg, reply: WorkerCommandReply): void {
  try {
    message.respond(JSON.stringify(reply));
  } catch {
    // Closed: the requester times out and resolves false.
  }
}
