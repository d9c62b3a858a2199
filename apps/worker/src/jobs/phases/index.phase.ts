import type { ContextEngine } from '@airlock/context-engine';
import { FailureCode, Phase } from '@airlock/protocol';
import type { IndexContext } from '../pipeline/index-job.pipeline';
import type { JobPhase } from '../pipeline/phase';

/**
 * CONTEXT of an index job: opens the context engine's index of the checked-out commit, with
 * `.airlock.yml`'s `context` globs, exactly as a fix's CONTEXT would at that commit — from
 * the cache, updated from an earlier commit's, or built — so that it is cached for the fixes
 * to come. Logs `context-index-built` or `context-index-reused` (counts and timings only).
 */
export class IndexPhase implements JobPhase<IndexContext> {
  readonly name = Phase.PHASE_CONTEXT;
  // The index is built from the worktree git just made: a failure here is the worker's, not the repository's.
  readonly defaultFailure = FailureCode.INTERNAL;

  constructor(private readonly engine: Pick<ContextEngine, 'open'>) {}

  async run(ctx: IndexContext): Promise<void> {
    const { worktree, baseCommit } = ctx.need('workspace');
    const repoConfig = ctx.need('repoConfig');
    const index = await this.engine.open({
      repositoryId: ctx.request.repo.alias,
      worktree,
      commit: baseCommit,
      include: repoConfig.context?.include ?? [],
      exclude: repoConfig.context?.exclude ?? [],
      signal: ctx.signal,
    });
    const { report } = index;
    ctx.logger.info(report.source === 'cache' ? 'context-index-reused' : 'context-index-built', {
      commit: report.commit,
      indexSource: report.source,
      indexComplete: report.complete,
      filesListed: report.counts.listed,
      filesAnalysed: report.counts.analysed,
      filesReused: report.counts.reused,
      cacheWritten: report.cacheWritten,
      cacheWriteError: report.cacheWriteError,
      cacheRejected: report.cacheRejected.length,
      indexMs: Math.round(report.durationMs),
    });
    ctx.record.transcript({ kind: 'note', text: `context index of ${report.commit}: ${report.source === 'cache' ? 'already cached' : `built (${report.source})`}` });
  }
}
