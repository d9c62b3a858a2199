import type { ContextEngine } from '@airlock/context-engine';
import { applyMetadataLevel } from '@airlock/policy';
import type { JobResult__Output } from '@airlock/protocol';
import type { WorkerConfig } from '../../config/worker-config.loader';
import type { GitRunner } from '../../git/git-runner';
import type { Logger } from '../../logging/json-logger';
import { IndexCodeRanking } from '../context/index-code-ranking';
import type { EditBlockApplier } from '../edits/edit-block.applier';
import type { InferenceClient } from '../inference/inference.client';
import { AgentPhase } from '../phases/agent.phase';
import { ApplyPhase } from '../phases/apply.phase';
import { BaselinePhase } from '../phases/baseline.phase';
import { ContextPhase, type ContextWindowSource } from '../phases/context.phase';
import { DeliverPhase, type DeliveryDependencies } from '../phases/deliver.phase';
import { SetupPhase } from '../phases/setup.phase';
import { TestPhase } from '../phases/test.phase';
import { TicketPhase, type TrackerLookup } from '../phases/ticket.phase';
import { WorkspacePhase } from '../phases/workspace.phase';
import type { JobRecordStore } from '../record/job-record.store';
import type { DependencyCache } from '../setup/dependency-cache';
import type { SetupRunner } from '../setup/setup.runner';
import type { TestCommandRunner } from '../test-command.runner';
import { TestSuiteRunner } from '../verification/test-suite.runner';
import type { WorkspaceManager } from '../workspace/workspace.manager';
import { type FixJobRequest, JobContext } from './job-context';
import type { JobPhase } from './phase';
import { PhaseRunner } from './phase-runner';
import { recordShadowAdmission } from './shadow-admission';

// The daemon's vocabulary for a job, importable from the pipeline it drives.
export { ABORT_REASON, abortFailureCode } from './phase-runner';
export type { FixJobRequest, LeaseGuard, ProgressListener } from './job-context';

/** What the pipeline needs from the daemon: no more than its phases use, so tests can hand in fakes. */
export interface FixJobDependencies {
  readonly config: {
    readonly stateDir: string;
    readonly limits: Pick<
      WorkerConfig['limits'],
      | 'maxContextFiles'
      | 'maxContextBytes'
      | 'maxModelTokens'
      | 'testTimeout'
      | 'maxAgentTurns'
      | 'maxJobTokens'
      | 'agentTimeout'
      | 'maxAgentTestRuns'
    >;
  };
  readonly git: Pick<GitRunner, 'run'>;
  readonly workspace: Pick<WorkspaceManager, 'prepare' | 'release'>;
  /** CONTEXT's index of each job's base commit, cached under `<workspaceDir>/context-index`; one for all jobs. */
  readonly contextEngine: Pick<ContextEngine, 'open'>;
  /** The model's context window, which CONTEXT's token budget is a share of. */
  readonly contextWindow: ContextWindowSource;
  readonly inference: Pick<InferenceClient, 'chat'>;
  readonly applier: Pick<EditBlockApplier, 'applyEdit' | 'resolveInside'>;
  readonly testRunner: Pick<TestCommandRunner, 'run'>;
  readonly macKey: Buffer;
  readonly logger: Logger;
  /** The customer's local record of every attempt (`<stateDir>/job-records`). */
  readonly records: Pick<JobRecordStore, 'openAttempt'>;
  /** SETUP's commands: in the sandbox, with network only to the package mirrors. */
  readonly setup: Pick<SetupRunner, 'run'>;
  /** SETUP's cache of what those commands produced (`<workspaceDir>/dependency-cache`). */
  readonly dependencyCache: Pick<DependencyCache, 'keyFor' | 'restore' | 'store'>;
  /** DELIVER's delivery outbox (`delivery.outboxDir`) and the client of a repository's forge. */
  readonly delivery: DeliveryDependencies;
  /** TICKET's client of the tracker a ticket reference names; without it, no tracker is known (TRACKER_UNKNOWN). */
  readonly trackerFor?: TrackerLookup;
}

/**
 * The fix job: TICKET (only for a ticket named by reference: read from the customer's
 * tracker), WORKSPACE (mirror, worktree, `.airlock.yml`), SETUP (dependencies),
 * BASELINE (the tests at the base commit), CONTEXT, INFERENCE (the agent loop: the model
 * reads, edits and runs the tests with the worker's tools), APPLY, TEST (the tests on
 * the change, compared with BASELINE), DELIVER, in this order, each in its own file under
 * `jobs/phases/`, run by the PhaseRunner, under the policy the job was admitted under
 * (`request.policy`): governance on the change in INFERENCE and APPLY, the verification
 * rules in TEST. Nothing is delivered unless the change passes its governance and its
 * verification; the worktree is always removed afterwards.
 */
export class FixJobPipeline {
  private readonly phases: readonly JobPhase[];
  /** Run first, and only for a task that names its ticket by reference: a typed ticket's job keeps exactly the phases above. */
  private readonly ticketPhase: TicketPhase;

  constructor(
    private readonly deps: FixJobDependencies,
    private readonly runner = new PhaseRunner(),
  ) {
    const suites = new TestSuiteRunner(deps.testRunner, deps.config);
    this.phases = [
      new WorkspacePhase<FixJobRequest>(deps.workspace, (request) => request.task.baseRef),
      new SetupPhase(deps.setup, deps.dependencyCache, deps.config),
      new BaselinePhase(suites, deps.git),
      new ContextPhase({ engine: deps.contextEngine, contextWindow: deps.contextWindow, limits: deps.config.limits }),
      new AgentPhase({
        inference: deps.inference,
        applier: deps.applier,
        git: deps.git,
        suites,
        limits: deps.config.limits,
        ranking: (ctx) => new IndexCodeRanking(ctx.need('repositoryIndex')),
      }),
      new ApplyPhase(deps.git, deps.macKey),
      new TestPhase(suites, deps.git),
      new DeliverPhase(deps.git, deps.macKey, deps.delivery),
    ];
    this.ticketPhase = new TicketPhase(deps.trackerFor ?? (() => undefined), deps.macKey);
  }

  /**
   * Runs one attempt; always yields its result, as the job's metadata level lets it leave the
   * worker, and keeps the attempt's local record (best effort: it never fails the job) with
   * the exact figures and every policy decision with its detail.
   */
  async run(request: FixJobRequest): Promise<JobResult__Output> {
    const logger = this.deps.logger.child({ jobId: request.jobId, attempt: request.attempt });
    const { jobId, attempt, task, repo, policy } = request;
    const record = this.deps.records.openAttempt({ jobId, attempt, repoAlias: repo.alias, baseRef: task.baseRef, ticketTitle: task.ticket?.title ?? '' }, logger);
    const ctx = new JobContext(request, logger, record);
    ctx.report.underPolicy(policy.revision, policy.shadowRevision);
    if (policy.shadow !== undefined) recordShadowAdmission(ctx, policy.shadow, { task: 'fix', fix: task });
    const phases = task.ticketRef === '' ? this.phases : [this.ticketPhase, ...this.phases];
    const exact = await this.runner.runAll(phases, ctx);
    // Ends the record: the last patch's final verdict is `delivered` or the failure code.
    record.end(exact, { revision: policy.revision, shadowRevision: policy.shadowRevision, decisions: ctx.report.decisions.all });
    return applyMetadataLevel(exact, policy.enforced.metadata);
  }
}
