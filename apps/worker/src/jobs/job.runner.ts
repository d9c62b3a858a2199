import { applyMetadataLevel } from '@airlock/policy';
import { FailureCode, Phase, type InstructionPayload__Output, type JobResult__Output } from '@airlock/protocol';
import type { RepositoryConfig } from '../config/worker-config.loader';
import type { JobPolicy } from '../policy/job-policy';
import { JobResultBuilder } from './job-result.builder';
import type { FixJobPipeline, LeaseGuard, ProgressListener } from './pipeline/fix-job.pipeline';
import type { IndexJobPipeline } from './pipeline/index-job.pipeline';
import type { ReviewJobPipeline } from './pipeline/review-job.pipeline';

/** The pipeline of each task kind that runs phases. */
export interface JobPipelines {
  readonly fix: Pick<FixJobPipeline, 'run'>;
  readonly review: Pick<ReviewJobPipeline, 'run'>;
  readonly index: Pick<IndexJobPipeline, 'run'>;
}

/**
 * Runs an accepted instruction's task and always yields a JobResult: a noop succeeds at
 * once with zero counts; a fix, a review and an index job each go through their own phase
 * pipeline. Every result names the policy revision it ran under and obeys the policy's
 * metadata level.
 */
export class JobRunner {
  constructor(
    private readonly repositories: readonly RepositoryConfig[],
    private readonly pipelines: JobPipelines,
  ) {}

  /** `policy` is the snapshot the instruction was admitted under; the job keeps it whatever bundle arrives meanwhile. */
  async run(payload: InstructionPayload__Output, policy: JobPolicy, signal: AbortSignal, progress: ProgressListener, confirmLease: LeaseGuard): Promise<JobResult__Output> {
    const report = new JobResultBuilder(payload.jobId, payload.attempt);
    report.underPolicy(policy.revision, policy.shadowRevision);
    const atLevel = (result: JobResult__Output) => applyMetadataLevel(result, policy.enforced.metadata);
    if (payload.task === 'noop') return atLevel(report.succeeded());
    const attempt = { jobId: payload.jobId, attempt: payload.attempt, policy, signal, progress, confirmLease };
    const repoOf = (alias: string | undefined) => this.repositories.find((entry) => entry.alias === alias);
    // The gatekeeper already refused unknown aliases and tasks; the checks below guard the types, not a real path.
    switch (payload.task) {
      case 'fix': {
        const repo = repoOf(payload.fix?.repoAlias);
        if (payload.fix && repo) return this.pipelines.fix.run({ ...attempt, task: payload.fix, repo });
        break;
      }
      case 'review': {
        const repo = repoOf(payload.review?.repoAlias);
        if (payload.review && repo) return this.pipelines.review.run({ ...attempt, task: payload.review, repo });
        break;
      }
      case 'index': {
        const repo = repoOf(payload.index?.repoAlias);
        if (payload.index && repo) return this.pipelines.index.run({ ...attempt, task: payload.index, repo });
        break;
      }
    }
    return atLevel(report.failed(FailureCode.INTERNAL, Phase.PHASE_UNSPECIFIED));
  }
}
