import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { Msg, NatsConnection, Subscription } from '@nats-io/nats-core';
import type { JobStatus } from '@airlock/data-access';
import { NATS_CONNECTION } from '../nats/nats-connection';
import { boundedJsonObject, errorName, isUuidShaped } from '../nats/nats-message';
import type { DashboardEvent, DashboardEventListener, EventBus } from './event-bus';
import { InProcessEventBus } from './in-process-event-bus';

/** An event is a few ids, a state and a time: well under this. */
const MAX_EVENT_BYTES = 512;

/** Where a tenant's events are published; every replica hears every tenant's. */
export function eventSubject(tenantId: string): string {
  return `airlock.events.${tenantId.toLowerCase()}`;
}

const EVERY_EVENT_SUBJECT = 'airlock.events.*';
const TENANT_TOKEN_OF_EVENT_SUBJECT = 2;

type WorkerChange = Extract<DashboardEvent, { type: 'worker.changed' }>['change'];

// Records over the unions, so a status or change added to them is a compile error here until accepted.
const JOB_STATUSES: Record<JobStatus, true> = { QUEUED: true, DISPATCHED: true, RUNNING: true, SUCCEEDED: true, FAILED: true, CANCELLED: true };
const WORKER_CHANGES: Record<WorkerChange, true> = { CONNECTED: true, DISCONNECTED: true, DRAINING: true, UNDRAINED: true, REVOKED: true, ENROLLED: true };

/** What Date#toISOString writes, the only form publishers use. */
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * The EventBus of several replicas: an event is published on core NATS under its tenant
 * (`airlock.events.<tenantId>`), and every replica, the publishing one included, hears all
 * tenants' events on one subscription and hands each to its own listeners through an
 * InProcessEventBus, whose per-tenant listener limit holds per replica as before.
 *
 * Delivery stays best effort, as the interface says: nothing is kept for a replica that was
 * disconnected, and a publish while NATS is away is dropped (logged), never thrown. What
 * arrives is rebuilt field by field from a checked message, so a stray publish on the
 * subject reaches no dashboard, and nothing it carried beyond an event's fields does.
 */
@Injectable()
export class NatsEventBus implements EventBus, OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(NatsEventBus.name);
  private readonly local = new InProcessEventBus();
  private subscription: Subscription | null = null;

  constructor(@Inject(NATS_CONNECTION) private readonly nats: NatsConnection) {}

  onModuleInit(): void {
    this.subscription = this.nats.subscribe(EVERY_EVENT_SUBJECT, { callback: (error, message) => this.deliver(error, message) });
  }

  async onModuleDestroy(): Promise<void> {
    const subscription = this.subscription;
    this.subscription = null;
    // A closed connection has nothing left to drain.
    await subscription?.drain().catch(() => undefined);
  }

  publish(event: DashboardEvent): void {
    if (!isUuidShaped(event.tenantId)) {
      this.logger.warn({ event: 'event_not_published', eventType: event.type, reason: 'invalid_tenant_id' });
      return;
    }
    try {
      this.nats.publish(eventSubject(event.tenantId), JSON.stringify(event));
    } catch (error) {
      this.logger.warn({ event: 'event_not_published', eventType: event.type, error: errorName(error) });
    }
  }

  subscribe(tenantId: string, listener: DashboardEventListener): () => void {
    return this.local.subscribe(tenantId, listener);
  }

  private deliver(error: Error | null, message: Msg): void {
    if (error) {
      this.logger.error({ event: 'event_subscription_failed', error: errorName(error) });
      return;
    }
    const event = parseDashboardEvent(message);
    if (!event) {
      this.logger.warn({ event: 'event_rejected', reason: 'invalid_message' });
      return;
    }
    this.local.publish(event);
  }
}

/** The event a message carries, rebuilt from its checked fields, or null unless it is exactly a valid one of the subject's tenant. */
function parseDashboardEvent(message: Msg): DashboardEvent | null {
  const body = boundedJsonObject(message.data, MAX_EVENT_BYTES);
  const subjectTenant = message.subject.split('.')[TENANT_TOKEN_OF_EVENT_SUBJECT];
  if (!body) return null;
  const { tenantId, at } = body;
  if (!isUuidShaped(tenantId) || tenantId.toLowerCase() !== subjectTenant || typeof at !== 'string' || !ISO_INSTANT.test(at) || Number.isNaN(Date.parse(at))) return null;
  switch (body['type']) {
    case 'job.changed': {
      const { jobId, status } = body;
      if (!isUuidShaped(jobId) || typeof status !== 'string' || !Object.hasOwn(JOB_STATUSES, status)) return null;
      return { type: 'job.changed', tenantId, jobId, status: status as JobStatus, at };
    }
    case 'worker.changed': {
      const { workerId, change } = body;
      if (!isUuidShaped(workerId) || typeof change !== 'string' || !Object.hasOwn(WORKER_CHANGES, change)) return null;
      return { type: 'worker.changed', tenantId, workerId, change: change as WorkerChange, at };
    }
    default:
      return null;
  }
}
