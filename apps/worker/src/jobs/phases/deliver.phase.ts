import { FailureCode, Phase } from '@airlock/protocol';
import type { GitRunner } from '../../git/git-runner';
import { JobPhaseFailedError } from '../job-phase-failed.error';
import { keyedMac } from '../job-result.builder';
import type { JobContext } from '../pipeline/job-context';
import type { JobPhase } from '../pipeline/phase';

const GIT_TIMEOUT_MS = 300_000;
const AUTHOR = { GIT_AUTHOR_NAME: 'Airlock', GIT_AUTHOR_EMAIL: 'airlock@localhost', GIT_COMMITTER_NAME: 'Airlock', GIT_COMMITTER_EMAIL: 'airlock@localhost' };

/**
 * DELIVER: commits the staged change as `Airlock <airlock@localhost>` and, once the lease
 * guard shows the attempt still owns the job, force-pushes `refs/heads/<branchPrefix><jobId>`
 * to the repository's push URL. Fails BRANCH_NOT_ALLOWED, the lease guard's code
 * (LEASE_UNCONFIRMED, AUDIT_LOG_UNAVAILABLE), or DELIVERY_FAILED.
 */
export class DeliverPhase implements JobPhase {
  readonly name = Phase.PHASE_DELIVER;
  readonly defaultFailure = FailureCode.DELIVERY_FAILED;

  constructor(
    private readonly git: Pick<GitRunner, 'run'>,
    private readonly macKey: Buffer,
  ) {}

  async run(ctx: JobContext): Promise<void> {
    const { worktree } = ctx.need('workspace');
    const { jobId, attempt, repo, signal, confirmLease } = ctx.request;
    // The name is always the catalog's prefix plus the control plane's job id (a UUID), so the
    // prefix holds by construction; git still has the last word on whether it is a valid ref.
    const branch = `${repo.branchPrefix}${jobId}`;
    const git = (args: string[], input?: string) =>
      this.git.run(args, { cwd: worktree, signal, timeoutMs: GIT_TIMEOUT_MS, env: AUTHOR, ...(input === undefined ? {} : { input }) });
    try {
      await git(['check-ref-format', '--branch', branch]);
    } catch {
      throw new JobPhaseFailedError(FailureCode.BRANCH_NOT_ALLOWED, 'branch name is not a valid ref');
    }
    const title = ctx.request.task.ticket?.title ?? 'Airlock change';
    await git(['commit', '--quiet', '--no-verify', '--file=-'], `${title}\n\nAirlock job ${jobId}, attempt ${attempt}\n`);
    const ref = `refs/heads/${branch}`;
    await confirmLease(signal);
    // Forced: a later attempt of the same job replaces the earlier attempt's branch, so there is one branch per job.
    if (repo.pushUrl === undefined) throw new JobPhaseFailedError(FailureCode.DELIVERY_FAILED, 'the repository has no pushUrl');
    await git(['push', '--force', '--quiet', '--', repo.pushUrl, `HEAD:${ref}`]);
    ctx.report.deliveryMac = keyedMac(this.macKey, ref);
  }
}
