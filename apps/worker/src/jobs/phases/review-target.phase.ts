import { FailureCode, Phase } from '@airlock/protocol';
import type { ForgeConfig } from '../../config/worker-config.loader';
import { ForgeError, type MergeRequestHead, type MergeRequestReviewing } from '../../delivery/forge/forge-client';
import { forgeFailureCode } from '../../delivery/merge-request.publisher';
import { JobPhaseFailedError } from '../job-phase-failed.error';
import type { JobPhase } from '../pipeline/phase';
import type { ReviewContext } from '../review/review-job';
import type { WorkspaceManager } from '../workspace/workspace.manager';

/** A client of a repository's forge for one review, closed when the attempt ends. */
export type ReviewForgeFactory = (forge: ForgeConfig) => MergeRequestReviewing & { close(): Promise<void> };

/**
 * WORKSPACE of a review: finds the merge request on the repository's forge — by its number,
 * or as the open request from the task's branch — and checks its head commit out in a fresh
 * worktree (removed when the attempt ends), with the merge base the change starts from. Only
 * an open request from a branch of the repository itself is reviewed: a fork's branch is not
 * in the worker's mirror, and its code is no one's the worker was told to read. Fails
 * FORGE_NOT_CONFIGURED (no forge in the catalog), REVIEW_TARGET_NOT_FOUND (no such open
 * request, or a fork's), the FORGE_* codes, otherwise WORKSPACE_FAILED.
 */
export class ReviewTargetPhase implements JobPhase<ReviewContext> {
  readonly name = Phase.PHASE_WORKSPACE;
  readonly defaultFailure = FailureCode.WORKSPACE_FAILED;

  constructor(
    private readonly workspaces: Pick<WorkspaceManager, 'prepareReview' | 'release'>,
    private readonly forgeClientFor: ReviewForgeFactory,
  ) {}

  async run(ctx: ReviewContext): Promise<void> {
    const { repo, signal } = ctx.request;
    if (repo.forge === undefined) throw new JobPhaseFailedError(FailureCode.FORGE_NOT_CONFIGURED, `repository ${repo.alias} has no forge in the worker's catalog to review on`);
    const forge = this.forgeClientFor(repo.forge);
    ctx.onRelease(() => forge.close());
    const mergeRequest = await this.find(ctx, forge);
    const { sourceBranch, targetBranch, headSha } = mergeRequest;
    const workspace = await this.workspaces.prepareReview(repo, { sourceBranch, targetBranch, headSha }, ctx.jobKey, signal);
    ctx.onRelease(() => this.workspaces.release(repo, ctx.jobKey));
    ctx.record.baseCommit(headSha);
    ctx.record.transcript({
      kind: 'note',
      text: `review of merge request ${mergeRequest.request.number} (${mergeRequest.request.webUrl}): ${sourceBranch} at ${headSha} into ${targetBranch}, the change counted from ${workspace.mergeBase}`,
    });
    ctx.logger.info('review-target', { number: mergeRequest.request.number, sourceBranch, targetBranch, headSha, mergeBase: workspace.mergeBase });
    ctx.provide('target', { mergeRequest, forge, worktree: workspace.worktree, mergeBase: workspace.mergeBase });
  }

  /** The open request the task names, from a branch of the repository itself. */
  private async find(ctx: ReviewContext, forge: MergeRequestReviewing): Promise<MergeRequestHead> {
    const { task, signal } = ctx.request;
    const notFound = (detail: string) => new JobPhaseFailedError(FailureCode.REVIEW_TARGET_NOT_FOUND, detail);
    let found: MergeRequestHead;
    try {
      if (task.target === 'branch') {
        const branch = task.branch ?? '';
        const open = await forge.findOpen(branch, signal);
        if (open === undefined) throw notFound(`the forge has no open merge request from branch ${branch}`);
        found = await forge.getMergeRequest(open.number, signal);
        // The client matched the branch already; a request read back from another branch is the forge contradicting itself.
        if (found.sourceBranch !== branch) throw new JobPhaseFailedError(FailureCode.FORGE_REQUEST_REFUSED, `the forge listed merge request ${open.number} as from ${branch} but reads it as from ${found.sourceBranch}`);
      } else if (task.target === 'mergeRequest') {
        found = await forge.getMergeRequest(task.mergeRequest ?? 0, signal);
      } else {
        throw new Error('the review task names neither a merge request nor a branch');
      }
    } catch (error) {
      if (!(error instanceof ForgeError)) throw error;
      // Only the request's own lookup means "no such request"; a project the forge lacks is the config's fault.
      if (error.failure === 'not-found' && task.target === 'mergeRequest') throw notFound(`the forge has no merge request ${task.mergeRequest}: ${error.message}`);
      throw new JobPhaseFailedError(forgeFailureCode(error.failure), `forge request failed (${error.failure}): ${error.message}`);
    }
    if (found.request.state !== 'open') throw notFound(`merge request ${found.request.number} is ${found.request.state}, not open`);
    if (!found.fromSameRepository) {
      ctx.logger.warn('review-target-from-fork', { number: found.request.number, sourceBranch: found.sourceBranch });
      throw notFound(`merge request ${found.request.number} comes from another repository (a fork): only requests from the repository's own branches are reviewed`);
    }
    return found;
  }
}
