import type { ContextEngine } from '@airlock/context-engine';
import { applyMetadataLevel } from '@airlock/policy';
import type { IndexTask__Output, JobResult__Output } from '@airlock/protocol';
import type { Logger } from '../../logging/json-logger';
import { IndexPhase } from '../phases/index.phase';
import { WorkspacePhase } from '../phases/workspace.phase';
import type { JobRecordStore } from '../record/job-record.store';
import type { WorkspaceManager } from '../workspace/workspace.manager';
import { AttemptContext, type AttemptRequest, type WorkspaceState } from './job-context';
import type { JobPhase } from './phase';
import { PhaseRunner } from './phase-runner';
import { recordShadowAdmission } from './shadow-admission';

/** One attempt of an index task. */
export interface IndexJobRequest extends AttemptRequest {
  readonly task: IndexTask__Output;
}

/** The context an index attempt's phases share: WORKSPACE's checkout and `.airlock.yml`. */
export type IndexContext = AttemptContext<IndexJobRequest, WorkspaceState>;

/** What the index pipeline needs from the daemon. */
export interface IndexJobDependencies {
  readonly workspace: Pick<WorkspaceManager, 'prepare' | 'release'>;
  /** The engine fix jobs' CONTEXT opens, caching under `<workspaceDir>/context-index`: the same one, so that they find what this built. */
  readonly contextEngine: Pick<ContextEngine, 'open'>;
  readonly logger: Logger;
  readonly records: Pick<JobRecordStore, 'openAttempt'>;
}

/**
 * The index job: WORKSPACE (the ref checked out as a fix's base would be, `.airlock.yml`
 * read), then CONTEXT (the context engine's index of that commit, built or found cached, and
 * left cached for the fix jobs to come). Nothing is changed, asked of a model or delivered;
 * upstream goes the outcome and the phases' durations, at the job's metadata level.
 */
export class IndexJobPipeline {
  private readonly phases: readonly JobPhase<IndexContext>[];

  constructor(
    private readonly deps: IndexJobDependencies,
    private readonly runner = new PhaseRunner(),
  ) {
    this.phases = [new WorkspacePhase<IndexJobRequest>(deps.workspace, (request) => request.task.ref), new IndexPhase(deps.contextEngine)];
  }

  /** Runs one attempt; always yields its result at the job's metadata level, and keeps the attempt's local record. */
  async run(request: IndexJobRequest): Promise<JobResult__Output> {
    const { jobId, attempt, task, repo, policy } = request;
    const logger = this.deps.logger.child({ jobId, attempt });
    const record = this.deps.records.openAttempt({ jobId, attempt, repoAlias: repo.alias, baseRef: task.ref, ticketTitle: '' }, logger);
    const ctx: IndexContext = new AttemptContext<IndexJobRequest, WorkspaceState>(request, logger, record);
    ctx.report.underPolicy(policy.revision, policy.shadowRevision);
    if (policy.shadow !== undefined) recordShadowAdmission(ctx, policy.shadow, { task: 'index', index: task });
    const exact = await this.runner.runAll(this.phases, ctx);
    record.end(exact, { revision: policy.revision, shadowRevision: policy.shadowRevision, decisions: ctx.report.decisions.all });
    return applyMetadataLevel(exact, policy.enforced.metadata);
  }
}
