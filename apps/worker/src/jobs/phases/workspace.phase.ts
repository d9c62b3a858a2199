import { FailureCode, Phase } from '@airlock/protocol';
import type { AttemptContext, AttemptRequest, FixJobRequest, WorkspaceState } from '../pipeline/job-context';
import type { JobPhase } from '../pipeline/phase';
import { readRepoConfig } from '../repo-config/repo-config.reader';
import type { WorkspaceManager } from '../workspace/workspace.manager';

/**
 * WORKSPACE: updates the repository's mirror, checks the base branch out in a fresh
 * worktree (removed when the attempt ends), and reads `.airlock.yml` from it. The branch is
 * the task's: a fix's base ref, an index task's ref (`baseRefOf`).
 * Fails REPO_CONFIG_INVALID for a missing or bad `.airlock.yml`, otherwise WORKSPACE_FAILED.
 */
export class WorkspacePhase<R extends AttemptRequest = FixJobRequest> implements JobPhase<AttemptContext<R, WorkspaceState>> {
  readonly name = Phase.PHASE_WORKSPACE;
  readonly defaultFailure = FailureCode.WORKSPACE_FAILED;

  constructor(
    private readonly workspaces: Pick<WorkspaceManager, 'prepare' | 'release'>,
    private readonly baseRefOf: (request: R) => string,
  ) {}

  async run(ctx: AttemptContext<R, WorkspaceState>): Promise<void> {
    const { repo, signal } = ctx.request;
    const workspace = await this.workspaces.prepare(repo, this.baseRefOf(ctx.request), ctx.jobKey, signal);
    ctx.onRelease(() => this.workspaces.release(repo, ctx.jobKey));
    ctx.provide('workspace', workspace);
    ctx.record.baseCommit(workspace.baseCommit);
    // Read here, from the pristine checkout of an allowed base branch, and never again:
    // `.airlock.yml` names the command TEST runs, so it must be read before APPLY lets
    // the model touch the worktree (the applier refuses edits to it as well).
    ctx.provide('repoConfig', await readRepoConfig(workspace.worktree));
  }
}
