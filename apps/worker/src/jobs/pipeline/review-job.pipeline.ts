import { applyMetadataLevel } from '@airlock/policy';
import type { JobResult__Output } from '@airlock/protocol';
import type { WorkerConfig } from '../../config/worker-config.loader';
import type { GitRunner } from '../../git/git-runner';
import type { Logger } from '../../logging/json-logger';
import type { InferenceClient } from '../inference/inference.client';
import type { ContextWindowSource } from '../phases/context.phase';
import { ReviewChangePhase } from '../phases/review-change.phase';
import { ReviewInferencePhase } from '../phases/review-inference.phase';
import { ReviewPostPhase } from '../phases/review-post.phase';
import { type ReviewForgeFactory, ReviewTargetPhase } from '../phases/review-target.phase';
import type { JobRecordStore } from '../record/job-record.store';
import type { ReviewContext, ReviewJobRequest, ReviewJobState } from '../review/review-job';
import type { WorkspaceManager } from '../workspace/workspace.manager';
import { AttemptContext } from './job-context';
import type { JobPhase } from './phase';
import { PhaseRunner } from './phase-runner';
import { recordShadowAdmission } from './shadow-admission';

/** What the review pipeline needs from the daemon: no more than its phases use, so tests can hand in fakes. */
export interface ReviewJobDependencies {
  readonly config: {
    readonly limits: Pick<WorkerConfig['limits'], 'maxContextFiles' | 'maxContextBytes' | 'maxModelTokens' | 'maxJobTokens' | 'agentTimeout' | 'maxReviewComments'>;
  };
  readonly git: Pick<GitRunner, 'run'>;
  readonly workspace: Pick<WorkspaceManager, 'prepareReview' | 'release'>;
  /** The model's context window, which the share of the prompt the change may take is derived from. */
  readonly contextWindow: ContextWindowSource;
  readonly inference: Pick<InferenceClient, 'chat'>;
  /** A client of the repository's forge, one per review. */
  readonly forgeClientFor: ReviewForgeFactory;
  readonly logger: Logger;
  /** The customer's local record of every attempt (`<stateDir>/job-records`). */
  readonly records: Pick<JobRecordStore, 'openAttempt'>;
}

/**
 * The review job: WORKSPACE (the merge request found on the repository's forge, its head
 * checked out), CONTEXT (the change from the merge base, within the context budget),
 * INFERENCE (the model's comments, checked line by line), DELIVER (the comments and a summary
 * posted on the request), each in its own file under `jobs/phases/`, run by the PhaseRunner
 * under the policy the job was admitted under. Upstream goes the result at the job's metadata
 * level: phases, durations, tokens, and the comments posted by severity with those dropped —
 * never a path, a line or a word of them; the local record keeps the prompt, the answers and
 * what was posted. Nothing is pushed, and the worktree is always removed afterwards.
 */
export class ReviewJobPipeline {
  private readonly phases: readonly JobPhase<ReviewContext>[];

  constructor(
    private readonly deps: ReviewJobDependencies,
    private readonly runner = new PhaseRunner(),
  ) {
    this.phases = [
      new ReviewTargetPhase(deps.workspace, deps.forgeClientFor),
      new ReviewChangePhase({ git: deps.git, contextWindow: deps.contextWindow, limits: deps.config.limits }),
      new ReviewInferencePhase({ inference: deps.inference, limits: deps.config.limits }),
      new ReviewPostPhase(),
    ];
  }

  /** Runs one attempt; always yields its result, as the job's metadata level lets it leave the worker, and keeps the attempt's local record. */
  async run(request: ReviewJobRequest): Promise<JobResult__Output> {
    const { jobId, attempt, task, repo, policy } = request;
    const logger = this.deps.logger.child({ jobId, attempt });
    const record = this.deps.records.openAttempt({ jobId, attempt, repoAlias: repo.alias, baseRef: task.branch ?? '', ticketTitle: '' }, logger);
    const ctx: ReviewContext = new AttemptContext<ReviewJobRequest, ReviewJobState>(request, logger, record);
    ctx.report.underPolicy(policy.revision, policy.shadowRevision);
    if (policy.shadow !== undefined) recordShadowAdmission(ctx, policy.shadow, { task: 'review', review: task });
    const exact = await this.runner.runAll(this.phases, ctx);
    record.end(exact, { revision: policy.revision, shadowRevision: policy.shadowRevision, decisions: ctx.report.decisions.all });
    return applyMetadataLevel(exact, policy.enforced.metadata);
  }
}
