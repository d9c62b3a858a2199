import { estimateTokens } from '@airlock/context-engine';
import { FailureCode, Phase } from '@airlock/protocol';
import type { WorkerConfig } from '../../config/worker-config.loader';
import { GitCommandFailedError } from '../../git/git-command-failed.error';
import type { GitRunner } from '../../git/git-runner';
import { contextBudget } from '../context/context-budget';
import { JobPhaseFailedError } from '../job-phase-failed.error';
import type { JobPhase } from '../pipeline/phase';
import { type ChangedFile, changedFilesOf, parseNameStatus } from '../review/review-change';
import type { ReviewContext } from '../review/review-job';
import { buildReviewPrompt } from '../review/review-prompt';
import type { ContextWindowSource } from './context.phase';

const GIT_TIMEOUT_MS = 120_000;
/** A changed file bigger than this is not shown whole: its hunks are. */
const MAX_FILE_BYTES = 256 * 1024;

/** What CONTEXT of a review needs from the worker. */
export interface ReviewChangeDependencies {
  readonly git: Pick<GitRunner, 'run'>;
  readonly contextWindow: ContextWindowSource;
  readonly limits: Pick<WorkerConfig['limits'], 'maxContextFiles' | 'maxContextBytes' | 'maxModelTokens'>;
}

/**
 * CONTEXT of a review: the change is `git diff <merge base> <head>` (renames followed), and the
 * model is shown as much of it as fits the same budget a fix's context has — tokens from the
 * model's context window (`contextBudget`, the request's title and description standing for
 * the ticket) and `limits.maxContextBytes` — the hunks of each file in the diff's order first,
 * then, while room is left, the changed files whole at the head (at most
 * `limits.maxContextFiles`), read from git's objects so a link in the branch is its target's
 * name, never a file of the host. A file whose hunks do not fit is named and left out, and no
 * comment may go on it. Fails CHANGE_TOO_LARGE when the change adds lines but none of its
 * files' hunks fit, or its diff outgrows what the worker reads of git's output; a change that
 * adds no line leaves nothing to ask the model.
 */
export class ReviewChangePhase implements JobPhase<ReviewContext> {
  readonly name = Phase.PHASE_CONTEXT;
  // The diff is of commits git just fetched: a failure here is the worker's, not the repository's.
  readonly defaultFailure = FailureCode.INTERNAL;

  constructor(private readonly deps: ReviewChangeDependencies) {}

  async run(ctx: ReviewContext): Promise<void> {
    const { worktree, mergeBase, mergeRequest } = ctx.need('target');
    const git = (args: string[]) => this.deps.git.run(args, { cwd: worktree, signal: ctx.signal, timeoutMs: GIT_TIMEOUT_MS });
    const range = [mergeBase, mergeRequest.headSha, '--'];
    const { stdout: names } = await git(['diff', '-z', '--name-status', '--find-renames', ...range]);
    const patch = await git(['diff', '--no-color', '--no-ext-diff', '--no-textconv', '--find-renames', '-U3', ...range]).then(
      ({ stdout }) => stdout,
      (error: unknown) => {
        // Past what the worker reads of git's output, the change is far past any model's budget too.
        if (error instanceof GitCommandFailedError && error.reason === 'output-too-large') throw new JobPhaseFailedError(FailureCode.CHANGE_TOO_LARGE, "the change's diff is larger than the worker reads of git's output");
        throw error;
      },
    );
    const files = changedFilesOf(parseNameStatus(names), patch);

    const budget = contextBudget({ contextWindow: await this.contextWindow(ctx), maxModelTokens: this.deps.limits.maxModelTokens, ticket: { title: mergeRequest.title, description: mergeRequest.description } });
    const room = { tokens: budget.tokenBudget, bytes: this.deps.limits.maxContextBytes };
    const take = (text: string): boolean => {
      const tokens = estimateTokens(text);
      const bytes = Buffer.byteLength(text, 'utf8');
      if (tokens > room.tokens || bytes > room.bytes) return false;
      room.tokens -= tokens;
      room.bytes -= bytes;
      return true;
    };
    const shown: ChangedFile[] = [];
    const omitted: ChangedFile[] = [];
    for (const file of files) (take(`### ${file.path}\n${file.diff}`) ? shown : omitted).push(file);
    const contents: Array<{ path: string; text: string }> = [];
    for (const file of shown) {
      if (contents.length >= this.deps.limits.maxContextFiles) break;
      if (file.status === 'deleted') continue;
      const text = await this.readAtHead(git, mergeRequest.headSha, file.path);
      if (text !== undefined && take(text)) contents.push({ path: file.path, text });
    }

    const changedLines = new Map(shown.filter((file) => file.addedLines.size > 0).map((file) => [file.path, file.addedLines]));
    ctx.logger.info('review-change-selected', {
      files: files.length,
      filesShown: shown.length,
      filesOmitted: omitted.length,
      filesWhole: contents.length,
      linesCommentable: [...changedLines.values()].reduce((sum, lines) => sum + lines.size, 0),
      contextWindow: budget.contextWindow,
      contextWindowSource: budget.windowSource,
      tokenBudget: budget.tokenBudget,
      tokensLeft: room.tokens,
    });
    ctx.report.contextFiles = shown.length;
    if (changedLines.size === 0 && files.some((file) => file.addedLines.size > 0)) {
      throw new JobPhaseFailedError(FailureCode.CHANGE_TOO_LARGE, `none of the ${files.length} changed files' hunks fit the review's budget of ${budget.tokenBudget} tokens and ${this.deps.limits.maxContextBytes} bytes`);
    }
    ctx.provide('change', {
      prompt: buildReviewPrompt({
        title: mergeRequest.title,
        description: mergeRequest.description,
        sourceBranch: mergeRequest.sourceBranch,
        targetBranch: mergeRequest.targetBranch,
        shown,
        omitted: omitted.map((file) => file.path),
        contents,
      }),
      changedLines,
      oldPaths: new Map(shown.flatMap((file) => (file.oldPath === undefined ? [] : [[file.path, file.oldPath] as const]))),
    });
  }

  /** A changed file's text at the head, from git's objects; undefined when it is too big, binary, or not a file. */
  private async readAtHead(git: (args: string[]) => Promise<{ readonly stdout: string }>, head: string, path: string): Promise<string | undefined> {
    const object = `${head}:${path}`;
    const { stdout: type } = await git(['cat-file', '-t', object]);
    if (type.trim() !== 'blob') return undefined;
    const { stdout: size } = await git(['cat-file', '-s', object]);
    if (Number(size.trim()) > MAX_FILE_BYTES) return undefined;
    const { stdout: text } = await git(['cat-file', 'blob', object]);
    return text.includes('\0') ? undefined : text;
  }

  /** The endpoint's window; one it cannot tell (or that fails to say) is unknown, not a failed job. */
  private async contextWindow(ctx: ReviewContext): Promise<number | undefined> {
    try {
      return await this.deps.contextWindow(ctx.signal, ctx.request.policy.enforced.inferenceEndpoints);
    } catch (error) {
      if (ctx.signal.aborted) throw error;
      ctx.logger.warn('context-window-unknown', { error: error instanceof Error ? error : String(error) });
      return undefined;
    }
  }
}
