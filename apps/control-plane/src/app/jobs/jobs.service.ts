import { Inject, Injectable } from '@nestjs/common';
import { DataAccess, type JobDetail, type JobStatus, type JobSummary, type JobTask } from '@airlock/data-access';
import { CLOCK, type Clock } from '../common/clock';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { undispatchableTaskProblem } from '../dispatch/instruction-payload.factory';
import { JOB_DISPATCHER, type JobDispatcher } from '../dispatch/job-dispatcher';
import type { CreateJobDto } from './dto/create-job.dto';
import { InvalidJobRequestError } from './invalid-job-request.error';
import { JobNotFoundError } from './job-not-found.error';

/** Creating and reading jobs; every call is scoped to the caller's tenant. */
@Injectable()
export class JobsService {
  constructor(
    private readonly data: DataAccess,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(JOB_DISPATCHER) private readonly dispatcher: JobDispatcher,
  ) {}

  async create(tenantId: string, request: CreateJobDto): Promise<JobSummary> {
    const now = this.clock.now();
    const task = taskOf(request);
    const problem = undispatchableTaskProblem(task, tenantId, now, this.config.instructionTtlMs);
    if (problem) throw new InvalidJobRequestError(problem.field, problem.expected);
    const job = await this.data.jobs.create(tenantId, task, this.config.maxAttempts, now);
    this.dispatcher.enqueue({ jobId: job.id, tenantId, currentAttempt: job.currentAttempt, createdAt: job.createdAt });
    return job;
  }

  async get(tenantId: string, jobId: string): Promise<JobDetail> {
    const job = await this.data.jobs.findForTenant(tenantId, jobId);
    if (!job) throw new JobNotFoundError(jobId);
    return job;
  }

  list(tenantId: string, filter: { limit: number; status?: JobStatus }): Promise<JobSummary[]> {
    return this.data.jobs.listForTenant(tenantId, filter);
  }
}

/**
 * The stored task of a validated request. CreateJobDto guarantees the fix fields; were one
 * missing all the same, the empty string fails the dispatchability check in `create`.
 */
function taskOf(request: CreateJobDto): JobTask {
  if (request.kind === 'noop') return { kind: 'NOOP' };
  return {
    kind: 'FIX',
    repoAlias: request.repoAlias ?? '',
    baseRef: request.baseRef ?? '',
    ticketTitle: request.ticket?.title ?? '',
    ticketDescription: request.ticket?.description ?? '',
  };
}
