import { join } from 'node:path';
import { FailureCode, Phase, PhaseState, type FixTask__Output, type JobResult__Output } from '@airlock/protocol';
import type { RepositoryConfig, WorkerConfig } from '../config/worker-config.loader';
import type { GitRunner } from '../git/git-runner';
import type { Logger } from '../logging/json-logger';
import type { ContextFile, ContextSelector } from './context/context-selector';
import { type EditBlockApplier } from './edits/edit-block.applier';
import { parseEditBlocks } from './edits/edit-block.parser';
import { buildFixPrompt } from './inference/fix-prompt.builder';
import type { InferenceClient } from './inference/inference.client';
import { InferenceRejectedError } from './inference/inference-rejected.error';
import { InferenceUnavailableError } from './inference/inference-unavailable.error';
import { JobError } from './job.error';
import { JobPhaseFailedError } from './job-phase-failed.error';
import { type FailureCodeName, JobResultBuilder, type PhaseName, keyedMac } from './job-result.builder';
import { readRepoConfig } from './repo-config/repo-config.reader';
import type { RepoConfig } from './repo-config/repo-config.schema';
import type { TestCommandRunner } from './test-command.runner';
import type { JobWorkspace, WorkspaceManager } from './workspace/workspace.manager';

/** Reports a phase starting, completing or failing (sent upstream as ProgressEvent). */
export type ProgressListener = (phase: PhaseName, state: (typeof PhaseState)[keyof typeof PhaseState]) => void;

/**
 * Resolves once the attempt is shown to still hold its lease, or throws a JobPhaseFailedError
 * (LEASE_UNCONFIRMED, AUDIT_LOG_UNAVAILABLE). Delivery calls it last thing before the push,
 * so a fenced attempt never delivers over the attempt that replaced it.
 */
export type LeaseGuard = (signal: AbortSignal) => Promise<void>;

/** Why a job's AbortSignal fired; decides between CANCELLED and WORKER_SHUTDOWN. */
export const ABORT_REASON = { cancelled: 'cancelled', shutdown: 'shutdown' } as const;

/**
 * The failure code for a job whose AbortSignal fired: the daemon aborts with an
 * ABORT_REASON, and `AbortSignal.timeout` (the local jobTimeout) with a TimeoutError.
 */
export function abortFailureCode(reason: unknown): FailureCodeName {
  if (reason === ABORT_REASON.shutdown) return FailureCode.WORKER_SHUTDOWN;
  if (reason instanceof DOMException && reason.name === 'TimeoutError') return FailureCode.JOB_TIMED_OUT;
  return FailureCode.CANCELLED;
}

/** What the pipeline needs from the daemon. */
export interface FixJobDependencies {
  readonly config: Pick<WorkerConfig, 'limits' | 'stateDir'>;
  readonly git: GitRunner;
  readonly workspace: WorkspaceManager;
  readonly contextSelector: ContextSelector;
  readonly inference: InferenceClient;
  readonly applier: EditBlockApplier;
  readonly testRunner: TestCommandRunner;
  readonly macKey: Buffer;
  readonly logger: Logger;
}

/** One attempt of a fix task. */
export interface FixJobRequest {
  readonly jobId: string;
  readonly attempt: number;
  readonly task: FixTask__Output;
  readonly repo: RepositoryConfig;
  readonly signal: AbortSignal;
  readonly progress: ProgressListener;
  readonly confirmLease: LeaseGuard;
}

/** The failure code a phase maps an unexpected error to. */
const PHASE_DEFAULT_FAILURE: Readonly<Record<string, FailureCodeName>> = {
  [Phase.PHASE_WORKSPACE]: FailureCode.WORKSPACE_FAILED,
  [Phase.PHASE_CONTEXT]: FailureCode.INTERNAL,
  [Phase.PHASE_INFERENCE]: FailureCode.INFERENCE_UNAVAILABLE,
  [Phase.PHASE_APPLY]: FailureCode.PATCH_APPLY_FAILED,
  [Phase.PHASE_TEST]: FailureCode.INTERNAL,
  [Phase.PHASE_DELIVER]: FailureCode.DELIVERY_FAILED,
};

const AUTHOR = { GIT_AUTHOR_NAME: 'Airlock', GIT_AUTHOR_EMAIL: 'airlock@localhost', GIT_COMMITTER_NAME: 'Airlock', GIT_COMMITTER_EMAIL: 'airlock@localhost' };

/** A failure already attributed to the phase it happened in. */
class PhaseAbort extends Error {
  constructor(
    readonly phase: PhaseName,
    readonly failureCode: FailureCodeName,
  ) {
    super(`${phase} failed: ${failureCode}`);
  }
}

/**
 * The fix job as a list of named phases — WORKSPACE (mirror, worktree, `.airlock.yml`),
 * CONTEXT, INFERENCE, APPLY, TEST, DELIVER — each timed, each reported as progress, each
 * failure mapped to one FailureCode. Nothing is pushed unless the repository's tests pass.
 * The worktree is always removed afterwards.
 */
export class FixJobPipeline {
  constructor(private readonly deps: FixJobDependencies) {}

  async run(request: FixJobRequest): Promise<JobResult__Output> {
    const report = new JobResultBuilder(request.jobId, request.attempt);
    const jobKey = `${request.jobId}-${request.attempt}`;
    const logger = this.deps.logger.child({ jobId: request.jobId, attempt: request.attempt });
    let workspace: JobWorkspace | undefined;
    try {
      const prepared = await this.phase(request, report, logger, Phase.PHASE_WORKSPACE, async () => {
        workspace = await this.deps.workspace.prepare(request.repo, request.task.baseRef, jobKey, request.signal);
        // Read here, from the pristine checkout of an allowed base branch, and never again:
        // `.airlock.yml` names the command TEST runs, so it must be read before APPLY lets
        // the model touch the worktree (the applier refuses edits to it as well).
        return { workspace, repoConfig: await readRepoConfig(workspace.worktree) };
      });
      const { worktree, baseCommit } = prepared.workspace;
      const files = await this.phase(request, report, logger, Phase.PHASE_CONTEXT, () => this.selectContext(request, prepared.repoConfig, worktree, report));
      const answer = await this.phase(request, report, logger, Phase.PHASE_INFERENCE, () => this.infer(request, files, report));
      await this.phase(request, report, logger, Phase.PHASE_APPLY, () => this.apply(worktree, baseCommit, answer, request.signal, report));
      await this.phase(request, report, logger, Phase.PHASE_TEST, () => this.test(request, prepared.repoConfig, worktree, jobKey, report));
      await this.phase(request, report, logger, Phase.PHASE_DELIVER, () => this.deliver(request, worktree, report));
      logger.info('job-succeeded');
      return report.succeeded();
    } catch (error) {
      if (error instanceof PhaseAbort) return report.failed(error.failureCode, error.phase);
      logger.error('job-internal-error', { error: error as Error });
      return report.failed(FailureCode.INTERNAL, Phase.PHASE_UNSPECIFIED);
    } finally {
      if (workspace !== undefined) await this.deps.workspace.release(request.repo, jobKey);
    }
  }

  private async phase<T>(request: FixJobRequest, report: JobResultBuilder, logger: Logger, phase: PhaseName, work: () => Promise<T>): Promise<T> {
    const started = performance.now();
    request.progress(phase, PhaseState.PHASE_STATE_STARTED);
    try {
      request.signal.throwIfAborted();
      const value = await work();
      request.signal.throwIfAborted();
      report.recordDuration(phase, performance.now() - started);
      request.progress(phase, PhaseState.PHASE_STATE_COMPLETED);
      return value;
    } catch (error) {
      report.recordDuration(phase, performance.now() - started);
      request.progress(phase, PhaseState.PHASE_STATE_FAILED);
      const failureCode = this.failureCodeOf(phase, error, request.signal);
      // Local log only: the detail may name files, hosts or commands.
      logger.warn('phase-failed', { phase, failureCode, error: error instanceof Error ? error : String(error), ...(error instanceof JobError ? error.logFields : {}) });
      throw new PhaseAbort(phase, failureCode);
    }
  }

  private failureCodeOf(phase: PhaseName, error: unknown, signal: AbortSignal): FailureCodeName {
    if (signal.aborted) return abortFailureCode(signal.reason);
    if (error instanceof JobError) return error.failureCode;
    // Not a JobError: a bug or an unexpected I/O failure, and a GitCommandFailedError, whose
    // meaning depends on the phase (a failed push is DELIVERY_FAILED, a failed fetch WORKSPACE_FAILED).
    return PHASE_DEFAULT_FAILURE[phase] ?? FailureCode.INTERNAL;
  }

  private async selectContext(request: FixJobRequest, repoConfig: RepoConfig, worktree: string, report: JobResultBuilder): Promise<readonly ContextFile[]> {
    const files = await this.deps.contextSelector.select({
      worktree,
      ticket: { title: request.task.ticket?.title ?? '', description: request.task.ticket?.description ?? '' },
      maxFiles: this.deps.config.limits.maxContextFiles,
      maxBytes: this.deps.config.limits.maxContextBytes,
      include: repoConfig.context?.include ?? [],
      exclude: repoConfig.context?.exclude ?? [],
      signal: request.signal,
    });
    report.contextFiles = files.length;
    if (files.length === 0) throw new JobPhaseFailedError(FailureCode.CONTEXT_EMPTY, 'no file matched the ticket');
    return files;
  }

  private async infer(request: FixJobRequest, files: readonly ContextFile[], report: JobResultBuilder): Promise<string> {
    const ticket = { title: request.task.ticket?.title ?? '', description: request.task.ticket?.description ?? '' };
    try {
      const completion = await this.deps.inference.complete(buildFixPrompt(ticket, files), this.deps.config.limits.maxModelTokens, request.signal);
      report.tokens.requests += completion.requests;
      report.tokens.promptTokens += completion.promptTokens;
      report.tokens.completionTokens += completion.completionTokens;
      return completion.content;
    } catch (error) {
      if (error instanceof InferenceUnavailableError || error instanceof InferenceRejectedError) report.tokens.requests += error.requests;
      throw error;
    }
  }

  private async apply(worktree: string, baseCommit: string, answer: string, signal: AbortSignal, report: JobResultBuilder): Promise<void> {
    const parsed = parseEditBlocks(answer);
    report.change.editsProposed = parsed.blocks.length + parsed.malformed;
    if (parsed.blocks.length === 0) throw new JobPhaseFailedError(FailureCode.MODEL_OUTPUT_UNUSABLE, 'the answer holds no edit block');
    const { applied } = await this.deps.applier.apply(worktree, parsed.blocks);
    report.change.editsApplied = applied;
    if (applied === 0) throw new JobPhaseFailedError(FailureCode.PATCH_APPLY_FAILED, 'no edit block applied');
    const git = (args: string[]) => this.deps.git.run(args, { cwd: worktree, signal, timeoutMs: 120_000 });
    // Staged now, before tests run: what the tests leave behind is never committed.
    await git(['add', '--all']);
    const patch = (await git(['diff', '--cached', '--binary', baseCommit])).stdout;
    if (patch.length === 0) throw new JobPhaseFailedError(FailureCode.PATCH_EMPTY, 'the edits change nothing');
    for (const line of (await git(['diff', '--cached', '--numstat', baseCommit])).stdout.split('\n').filter(Boolean)) {
      const [added, removed] = line.split('\t');
      report.change.filesChanged += 1;
      report.change.linesAdded += Number(added) || 0; // "-" for binary files
      report.change.linesRemoved += Number(removed) || 0;
    }
    report.changeMac = keyedMac(this.deps.macKey, Buffer.from(patch, 'utf8'));
  }

  private async test(request: FixJobRequest, repoConfig: RepoConfig, worktree: string, jobKey: string, report: JobResultBuilder): Promise<void> {
    const outcome = await this.deps.testRunner.run({
      argv: repoConfig.test.command,
      cwd: worktree,
      timeoutMs: repoConfig.test.timeout ?? this.deps.config.limits.testTimeout,
      signal: request.signal,
      logFile: join(this.deps.config.stateDir, 'job-logs', `${jobKey}.test.log`),
    });
    report.verification.testsRan = !outcome.aborted;
    report.verification.testExitCode = outcome.exitCode;
    request.signal.throwIfAborted();
    if (outcome.timedOut) throw new JobPhaseFailedError(FailureCode.TESTS_TIMED_OUT, 'test command timed out');
    if (outcome.exitCode !== 0) throw new JobPhaseFailedError(FailureCode.TESTS_FAILED, `test command exited ${outcome.exitCode}`);
  }

  private async deliver(request: FixJobRequest, worktree: string, report: JobResultBuilder): Promise<void> {
    // The name is always the catalog's prefix plus the control plane's job id (a UUID), so the
    // prefix holds by construction; git still has the last word on whether it is a valid ref.
    const branch = `${request.repo.branchPrefix}${request.jobId}`;
    const git = (args: string[], input?: string) => this.deps.git.run(args, { cwd: worktree, signal: request.signal, timeoutMs: 300_000, env: AUTHOR, ...(input === undefined ? {} : { input }) });
    try {
      await git(['check-ref-format', '--branch', branch]);
    } catch {
      throw new JobPhaseFailedError(FailureCode.BRANCH_NOT_ALLOWED, 'branch name is not a valid ref');
    }
    const title = request.task.ticket?.title ?? 'Airlock change';
    await git(['commit', '--quiet', '--no-verify', '--file=-'], `${title}\n\nAirlock job ${request.jobId}, attempt ${request.attempt}\n`);
    const ref = `refs/heads/${branch}`;
    await request.confirmLease(request.signal);
    // Forced: a later attempt of the same job replaces the earlier attempt's branch, so there is one branch per job.
    await git(['push', '--force', '--quiet', '--', request.repo.pushUrl, `HEAD:${ref}`]);
    report.deliveryMac = keyedMac(this.deps.macKey, ref);
  }
}
