import { applyMetadataLevel } from '@airlock/policy';
import { FailureCode, Phase, type InstructionPayload__Output, type JobResult__Output } from '@airlock/protocol';
import type { RepositoryConfig } from '../config/worker-config.loader';
import type { JobPolicy } from '../policy/job-policy';
import { JobResultBuilder } from './job-result.builder';
import type { FixJobPipeline, LeaseGuard, ProgressListener } from './pipeline/fix-job.pipeline';

/**
 * Runs an accepted instruction's task and always yields a JobResult: a noop succeeds at
 * once with zero counts; a fix goes through the phase pipeline. Every result names the
 * policy revision it ran under and obeys the policy's metadata level.
 */
export class JobRunner {
  constructor(
    private readonly repositories: readonly RepositoryConfig[],
    private readonly pipeline: Pick<FixJobPipeline, 'run'>,
  ) {}

  /** `policy` is the snapshot the instruction was admitted under; the job keeps it whatever bundle arrives meanwhile. */
  async run(payload: InstructionPayload__Output, policy: JobPolicy, signal: AbortSignal, progress: ProgressListener, confirmLease: LeaseGuard): Promise<JobResult__Output> {
    const report = new JobResultBuilder(payload.jobId, payload.attempt);
    report.underPolicy(policy.revision, policy.shadowRevision);
    const atLevel = (result: JobResult__Output) => applyMetadataLevel(result, policy.enforced.metadata);
    const fix = payload.fix;
    if (payload.task === 'noop') return atLevel(report.succeeded());
    const repo = this.repositories.find((entry) => entry.alias === fix?.repoAlias);
    // The gatekeeper already refused unknown aliases; this guards the type, not a real path.
    if (payload.task !== 'fix' || !fix || !repo) return atLevel(report.failed(FailureCode.INTERNAL, Phase.PHASE_UNSPECIFIED));
    return this.pipeline.run({ jobId: payload.jobId, attempt: payload.attempt, task: fix, repo, policy, signal, progress, confirmLease });
  }
}
