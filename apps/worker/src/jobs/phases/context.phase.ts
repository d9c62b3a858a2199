import { FailureCode, Phase } from '@airlock/protocol';
import type { WorkerConfig } from '../../config/worker-config.loader';
import type { ContextSelector } from '../context/context-selector';
import { JobPhaseFailedError } from '../job-phase-failed.error';
import type { JobContext } from '../pipeline/job-context';
import type { JobPhase } from '../pipeline/phase';

/**
 * CONTEXT: picks the files the model is shown, within the worker's limits and the
 * repository's `context` globs. Fails CONTEXT_EMPTY when nothing matches the ticket.
 */
export class ContextPhase implements JobPhase {
  readonly name = Phase.PHASE_CONTEXT;
  // Selecting reads the worktree git just made: a failure here is the worker's, not the repository's.
  readonly defaultFailure = FailureCode.INTERNAL;

  constructor(
    private readonly selector: ContextSelector,
    private readonly limits: Pick<WorkerConfig['limits'], 'maxContextFiles' | 'maxContextBytes'>,
  ) {}

  async run(ctx: JobContext): Promise<void> {
    const { worktree } = ctx.need('workspace');
    const repoConfig = ctx.need('repoConfig');
    const files = await this.selector.select({
      worktree,
      ticket: ctx.ticket,
      maxFiles: this.limits.maxContextFiles,
      maxBytes: this.limits.maxContextBytes,
      include: repoConfig.context?.include ?? [],
      exclude: repoConfig.context?.exclude ?? [],
      signal: ctx.signal,
    });
    ctx.report.contextFiles = files.length;
    if (files.length === 0) throw new JobPhaseFailedError(FailureCode.CONTEXT_EMPTY, 'no file matched the ticket');
    ctx.provide('contextFiles', files);
  }
}
