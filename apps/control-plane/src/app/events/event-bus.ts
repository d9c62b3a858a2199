import type { JobStatus } from '@airlock/data-access';

/**
 * What changed, for the dashboard's live views: ids, states and times only, never content.
 * A subscriber re-reads what it shows through the REST API; an event only says when.
 */
export type DashboardEvent =
  | { readonly type: 'job.changed'; readonly tenantId: string; readonly jobId: string; readonly status: JobStatus; readonly at: string }
  | {
      readonly type: 'worker.changed';
      readonly tenantId: string;
      readonly workerId: string;
      /** What happened to it: connected, disconnected, draining, undrained, revoked or enrolled. */
      readonly change: 'CONNECTED' | 'DISCONNECTED' | 'DRAINING' | 'UNDRAINED' | 'REVOKED' | 'ENROLLED';
      readonly at: string;
    };

export type DashboardEventListener = (event: DashboardEvent) => void;

/**
 * Carries dashboard events from where state changes to every open event stream of the
 * tenant. The embedded default runs it in process; with several control-plane replicas a
 * NATS-backed implementation takes its place, so publishers and subscribers never know which.
 * Delivery is best effort: a listener that missed an event catches up on its next read.
 */
export interface EventBus {
  publish(event: DashboardEvent): void;
  /** Calls the listener with every event of the tenant from now on; the returned function stops it. */
  subscribe(tenantId: string, listener: DashboardEventListener): () => void;
}

export const EVENT_BUS = Symbol('EVENT_BUS');
