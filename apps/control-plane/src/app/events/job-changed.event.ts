import type { JobStatus } from '@airlock/data-access';
import type { DashboardEvent } from './event-bus';

/** The `job.changed` event of a job now in `status`, as of `at`. */
export function jobChangedEvent(tenantId: string, jobId: string, status: JobStatus, at: Date): DashboardEvent {
  return { type: 'job.changed', tenantId, jobId, status, at: at.toISOString() };
}
