import { ApiProperty } from '@nestjs/swagger';
import { JOB_STATUSES } from '../../jobs/dto/list-jobs.query';
import type { DashboardEvent } from '../event-bus';

type WorkerChange = Extract<DashboardEvent, { type: 'worker.changed' }>['change'];

export const WORKER_CHANGES = ['CONNECTED', 'DISCONNECTED', 'DRAINING', 'UNDRAINED', 'REVOKED', 'ENROLLED'] as const satisfies readonly WorkerChange[];

/** The `data:` of a `job.changed` event on GET /events. */
export class JobChangedEventData {
  @ApiProperty({ enum: ['job.changed'] }) type!: 'job.changed';
  @ApiProperty({ format: 'uuid' }) jobId!: string;
  @ApiProperty({ enum: JOB_STATUSES, enumName: 'JobStatus', description: 'The job\'s status after the change' }) status!: string;
  @ApiProperty({ format: 'date-time', description: 'When the change was recorded' }) at!: string;
}

/** The `data:` of a `worker.changed` event on GET /events (only to principals holding fleet:read). */
export class WorkerChangedEventData {
  @ApiProperty({ enum: ['worker.changed'] }) type!: 'worker.changed';
  @ApiProperty({ format: 'uuid' }) workerId!: string;
  @ApiProperty({ enum: WORKER_CHANGES, enumName: 'WorkerChange' }) change!: string;
  @ApiProperty({ format: 'date-time' }) at!: string;
}
