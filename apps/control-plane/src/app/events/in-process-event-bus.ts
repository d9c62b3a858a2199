import { Injectable, Logger } from '@nestjs/common';
import type { DashboardEvent, DashboardEventListener, EventBus } from './event-bus';
import { EventListenerLimitError } from './event-listener-limit.error';

/**
 * The most listeners one tenant may hold on this process. Event streams are bounded lower
 * (MAX_EVENT_STREAMS_PER_TENANT), so this only stops a leak — a subscriber that never
 * unsubscribes — from growing the fan-out of every publish without end.
 */
export const MAX_LISTENERS_PER_TENANT = 200;

/**
 * The single-process EventBus: listeners in memory, called synchronously in the order they
 * subscribed. Publishing never fails and never waits on a subscriber: a listener that throws
 * is logged (by error name only) and the others are still called. Past
 * MAX_LISTENERS_PER_TENANT, subscribe throws EventListenerLimitError and nothing is added.
 */
@Injectable()
export class InProcessEventBus implements EventBus {
  private readonly logger = new Logger(InProcessEventBus.name);
  private readonly listenersByTenant = new Map<string, Set<DashboardEventListener>>();

  publish(event: DashboardEvent): void {
    const listeners = this.listenersByTenant.get(event.tenantId);
    if (!listeners) return;
    // A copy: a listener may unsubscribe itself (or another) while we iterate.
    for (const listener of [...listeners]) {
      try {
        listener(event);
      } catch (error) {
        this.logger.error({ event: 'event_listener_failed', eventType: event.type, error: error instanceof Error ? error.name : typeof error });
      }
    }
  }

  subscribe(tenantId: string, listener: DashboardEventListener): () => void {
    const listeners = this.listenersByTenant.get(tenantId) ?? new Set<DashboardEventListener>();
    if (listeners.size >= MAX_LISTENERS_PER_TENANT) throw new EventListenerLimitError(MAX_LISTENERS_PER_TENANT);
    // Wrapped, so the same function subscribed twice is two subscriptions, each undone once.
    const subscription: DashboardEventListener = (event) => listener(event);
    listeners.add(subscription);
    this.listenersByTenant.set(tenantId, listeners);
    return () => {
      listeners.delete(subscription);
      if (listeners.size === 0 && this.listenersByTenant.get(tenantId) === listeners) this.listenersByTenant.delete(tenantId);
    };
  }

  /** How many listeners the tenant holds now; for tests and diagnostics. */
  listenerCount(tenantId: string): number {
    return this.listenersByTenant.get(tenantId)?.size ?? 0;
  }
}
