import type { ContextEngine, ContextFile } from '@airlock/context-engine';
import { FailureCode, Phase } from '@airlock/protocol';
import type { WorkerConfig } from '../../config/worker-config.loader';
import { contextBudget } from '../context/context-budget';
import { JobPhaseFailedError } from '../job-phase-failed.error';
import type { JobContext } from '../pipeline/job-context';
import type { JobPhase } from '../pipeline/phase';

/**
 * The model's context window in tokens, as the endpoint's config or its server says, or
 * undefined when neither does (then DEFAULT_CONTEXT_WINDOW is assumed).
 */
/** The context window of the first endpoint that knows one, among `endpoints` (the job's policy) when given. */
export type ContextWindowSource = (signal: AbortSignal, endpoints?: readonly string[]) => Promise<number | undefined>;

/** What CONTEXT needs from the worker. */
export interface ContextPhaseDependencies {
  /** One engine for every job: its cache is `<workspaceDir>/context-index/`. */
  readonly engine: Pick<ContextEngine, 'open'>;
  readonly contextWindow: ContextWindowSource;
  readonly limits: Pick<WorkerConfig['limits'], 'maxContextFiles' | 'maxContextBytes' | 'maxModelTokens'>;
}

/**
 * CONTEXT: opens the context engine's index of the base commit (from the cache, updated
 * from an earlier commit's, or built) and retrieves the files and definitions that rank
 * highest for the ticket, within a token budget derived from the model's context window
 * (`contextBudget`) and within `limits.maxContextFiles` and `limits.maxContextBytes`. The
 * engine leaves out `.airlock.yml`, vendored, generated, minified and binary files, links,
 * and what `.airlock.yml`'s `context` globs exclude. Hands the selection to the prompt and
 * the index to the agent's `search_code`. Fails CONTEXT_EMPTY when nothing in the
 * repository ranks for the ticket.
 */
export class ContextPhase implements JobPhase {
  readonly name = Phase.PHASE_CONTEXT;
  // The index is built from the worktree git just made: a failure here is the worker's, not the repository's.
  readonly defaultFailure = FailureCode.INTERNAL;
  /**
   * The base commit of the latest job per repository and base branch: the best start for
   * updating the next job's index (the engine falls back to the most recently used index,
   * which after a job on another branch is that branch's). Lost on restart, which only
   * costs that fallback.
   */
  private readonly lastIndexedCommit = new Map<string, string>();

  constructor(private readonly deps: ContextPhaseDependencies) {}

  async run(ctx: JobContext): Promise<void> {
    const { worktree, baseCommit } = ctx.need('workspace');
    const repoConfig = ctx.need('repoConfig');
    const { alias } = ctx.request.repo;
    const branchKey = `${alias}\0${ctx.request.task.baseRef}`;
    const previousCommit = this.lastIndexedCommit.get(branchKey);
    const index = await this.deps.engine.open({
      repositoryId: alias,
      worktree,
      commit: baseCommit,
      ...(previousCommit === undefined || previousCommit === baseCommit ? {} : { previousCommit }),
      include: repoConfig.context?.include ?? [],
      exclude: repoConfig.context?.exclude ?? [],
      signal: ctx.signal,
    });
    this.lastIndexedCommit.set(branchKey, baseCommit);
    ctx.provide('repositoryIndex', index);

    const budget = contextBudget({ contextWindow: await this.contextWindow(ctx), maxModelTokens: this.deps.limits.maxModelTokens, ticket: ctx.ticket });
    const retrieved = await index.retrieve({
      query: `${ctx.ticket.title}\n${ctx.ticket.description}`,
      tokenBudget: budget.tokenBudget,
      maxFiles: this.deps.limits.maxContextFiles,
      signal: ctx.signal,
    });
    const files = withinBytes(retrieved.files, this.deps.limits.maxContextBytes);
    const { report } = index;
    ctx.logger.info('context-selected', {
      indexSource: report.source,
      indexComplete: report.complete,
      filesListed: report.counts.listed,
      filesAnalysed: report.counts.analysed,
      filesReused: report.counts.reused,
      filesExcluded: report.counts.excluded,
      cacheWriteError: report.cacheWriteError,
      cacheRejected: report.cacheRejected.length,
      indexMs: Math.round(report.durationMs),
      contextWindow: budget.contextWindow,
      contextWindowSource: budget.windowSource,
      tokenBudget: budget.tokenBudget,
      tokensUsed: files.reduce((sum, file) => sum + file.tokens, 0) + retrieved.symbols.reduce((sum, symbol) => sum + symbol.tokens, 0),
      filesRanked: retrieved.filesRanked,
      filesShown: files.length,
      filesOverBudget: retrieved.filesOverBudget + (retrieved.files.length - files.length),
      symbolsShown: retrieved.symbols.length,
    });
    ctx.report.contextFiles = files.length;
    if (retrieved.filesRanked === 0) throw new JobPhaseFailedError(FailureCode.CONTEXT_EMPTY, 'no file ranked for the ticket');
    // Files ranked but none fitted the budget: the model still has the ticket and the tools.
    ctx.provide('context', { symbols: retrieved.symbols, files });
  }

  /** The endpoint's window; one it cannot tell (or that fails to say) is unknown, not a failed job. */
  private async contextWindow(ctx: JobContext): Promise<number | undefined> {
    try {
      // The window of an endpoint the job may use: the policy may leave out the worker's first one.
      return await this.deps.contextWindow(ctx.signal, ctx.request.policy.enforced.inferenceEndpoints);
    } catch (error) {
      if (ctx.signal.aborted) throw error;
      ctx.logger.warn('context-window-unknown', { error: error instanceof Error ? error : String(error) });
      return undefined;
    }
  }
}

/** The files, in rank order, whose text fits `maxBytes` together (`limits.maxContextBytes`); one that does not is left out for smaller ones after it. */
function withinBytes(files: readonly ContextFile[], maxBytes: number): ContextFile[] {
  const kept: ContextFile[] = [];
  let bytes = 0;
  for (const file of files) {
    const size = file.excerpts.reduce((sum, excerpt) => sum + Buffer.byteLength(excerpt.text, 'utf8'), 0);
    if (bytes + size > maxBytes) continue;
    bytes += size;
    kept.push(file);
  }
  return kept;
}
