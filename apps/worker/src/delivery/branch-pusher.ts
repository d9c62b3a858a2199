import { FailureCode } from '@airlock/protocol';
import { GitCommandFailedError } from '../git/git-command-failed.error';
import type { GitCredentialsConfig } from '../config/worker-config.loader';
import { gitCredentialEnvironment } from '../git/git-credentials';
import type { GitRunner } from '../git/git-runner';
import { JobPhaseFailedError } from '../jobs/job-phase-failed.error';
import type { Logger } from '../logging/json-logger';
import { compareDeliveryPositions, type DeliveryPosition } from './delivery-target';

const GIT_TIMEOUT_MS = 300_000;
/** Observe-then-push rounds before giving up on a branch that keeps moving under the push. */
const MAX_PUSH_ROUNDS = 3;
/**
 * Where the observed tip is fetched to. `refs/worktree/` is private to each worktree of the
 * mirror, so concurrent jobs on one repository never see each other's, and the mirror's
 * own refs stay branches only.
 */
const OBSERVED_TIP_REF = 'refs/worktree/airlock-delivery-tip';
const TRAILER = { job: 'Airlock-Job', generation: 'Airlock-Generation', attempt: 'Airlock-Attempt' } as const;
/**
 * How the forges' git servers say a protection rule refused a push: GitLab "You are not
 * allowed to push code to protected branches", GitHub "GH006: Protected branch update
 * failed", Gitea and Forgejo "branch … is protected from force push" or "Not allowed to
 * push to protected branch …".
 */
const PROTECTED_BRANCH_REFUSAL = /protected branch|is protected/i;
const POSITION_NUMBER = /^\d{1,10}$/;

/** How the branch came to hold the attempt's commit. */
export type BranchPushOutcome = 'created' | 'replaced' | 'already-there';

export interface BranchPushRequest {
  /** The attempt's worktree, its commit checked out as HEAD. */
  readonly worktree: string;
  readonly pushUrl: string;
  /** The repository's own git credentials, presented to an http(s) pushUrl by the commands that reach it. */
  readonly credentials?: GitCredentialsConfig | undefined;
  /** `refs/heads/<branch>`. */
  readonly ref: string;
  readonly position: DeliveryPosition;
  readonly signal: AbortSignal;
  /** Local log, bound to the attempt: the git server's refusals go here, never upstream. */
  readonly logger: Logger;
}

/** The branch tip on the git server: its commit and, when Airlock made it, its position. */
interface ObservedTip {
  readonly commit: string;
  readonly position: DeliveryPosition | undefined;
}

/** The trailers that mark a commit as an Airlock attempt's and order it among the attempts on its branch. */
export function deliveryTrailers(jobId: string, position: DeliveryPosition): string {
  return `${TRAILER.job}: ${jobId}\n${TRAILER.generation}: ${position.generation}\n${TRAILER.attempt}: ${position.attempt}\n`;
}

/**
 * Pushes an attempt's commit to its branch as a compare-and-swap: it observes the branch
 * tip, decides whether this attempt may replace it, and pushes with a lease on exactly the
 * tip it observed, so a push that lands in between makes the lease fail instead of being
 * overwritten; then it observes again (at most MAX_PUSH_ROUNDS times).
 *
 * The tip may be replaced only when it is absent or an Airlock commit of an earlier
 * (generation, attempt). A later or equal one, or a commit without Airlock's trailers (a
 * person pushed onto the branch: never overwrite human work), fails DELIVERY_SUPERSEDED —
 * unless the tip is this very commit, which is already delivered. A protection rule's
 * refusal fails BRANCH_PROTECTED; anything else DELIVERY_FAILED. The git server's own words
 * stay in the local log.
 */
export class BranchPusher {
  constructor(private readonly git: Pick<GitRunner, 'run'>) {}

  async push(request: BranchPushRequest): Promise<BranchPushOutcome> {
    const head = (await this.runGit(request, ['rev-parse', '--verify', 'HEAD^{commit}'])).trim();
    // The tip a push leased on and failed: seeing it again means the push failed for another reason than a race.
    let failedLease: string | undefined;
    for (let round = 1; round <= MAX_PUSH_ROUNDS; round += 1) {
      const tip = await this.observe(request);
      const observed = tip?.commit ?? '';
      if (failedLease === observed) throw new JobPhaseFailedError(FailureCode.DELIVERY_FAILED, 'the git server refused the push (its answer is in delivery-git-failed)');
      if (tip !== undefined) {
        if (tip.commit === head) return 'already-there';
        this.ensureReplaceable(tip.position, request.position);
      }
      try {
        await this.runGit(request, ['push', `--force-with-lease=${request.ref}:${observed}`, '--', request.pushUrl, `HEAD:${request.ref}`], true);
        return tip === undefined ? 'created' : 'replaced';
      } catch (error) {
        // A lost lease is told by observing again rather than by push's porcelain status: GitRunner
        // keeps no stdout of a failed command, and a lease lost on the server side (git's
        // `cannot lock ref … but expected …`) reads as a refusal like any other.
        if (!(error instanceof GitCommandFailedError) || error.reason !== 'exit') throw error;
        if (PROTECTED_BRANCH_REFUSAL.test(error.stderrTail)) throw new JobPhaseFailedError(FailureCode.BRANCH_PROTECTED, 'a branch protection rule refused the push');
        failedLease = observed;
      }
    }
    throw new JobPhaseFailedError(FailureCode.DELIVERY_FAILED, `the branch moved under each of ${MAX_PUSH_ROUNDS} pushes`);
  }

  private ensureReplaceable(tip: DeliveryPosition | undefined, own: DeliveryPosition): void {
    if (tip === undefined) throw new JobPhaseFailedError(FailureCode.DELIVERY_SUPERSEDED, 'the branch tip is not an Airlock commit: a person pushed onto the branch');
    if (compareDeliveryPositions(tip, own) >= 0) {
      throw new JobPhaseFailedError(
        FailureCode.DELIVERY_SUPERSEDED,
        `the branch holds generation ${tip.generation}, attempt ${tip.attempt}; this is generation ${own.generation}, attempt ${own.attempt}`,
      );
    }
  }

  /** The branch tip on the git server, fetched into the worktree's repository long enough to read its trailers. */
  private async observe(request: BranchPushRequest): Promise<ObservedTip | undefined> {
    // ls-remote matches patterns by their tail: only the exact ref counts.
    const listing = await this.runGit(request, ['ls-remote', '--', request.pushUrl, request.ref], true);
    const present = listing.split('\n').some((line) => line.split('\t')[1] === request.ref);
    if (!present) return undefined;
    try {
      await this.runGit(request, ['fetch', '--no-tags', '--no-write-fetch-head', '--quiet', '--', request.pushUrl, `+${request.ref}:${OBSERVED_TIP_REF}`], true);
      const format = `--format=%H%x00%(trailers:key=${TRAILER.generation},valueonly,separator=%x2C)%x00%(trailers:key=${TRAILER.attempt},valueonly,separator=%x2C)`;
      const [commit = '', generation = '', attempt = ''] = (await this.runGit(request, ['log', '-1', format, OBSERVED_TIP_REF, '--'])).trim().split('\0');
      return { commit, position: positionOf(generation.trim(), attempt.trim()) };
    } finally {
      await this.runGit(request, ['update-ref', '-d', OBSERVED_TIP_REF]);
    }
  }

  /**
   * Runs git in the worktree; a failure's stderr goes to the local log, as the error itself carries no more than the exit.
   * `remote`: the command reaches pushUrl, and only then gets the repository's git credentials.
   */
  private async runGit(request: BranchPushRequest, args: string[], remote = false): Promise<string> {
    const env = remote ? await gitCredentialEnvironment(request.pushUrl, request.credentials) : {};
    try {
      return (await this.git.run(args, { cwd: request.worktree, signal: request.signal, timeoutMs: GIT_TIMEOUT_MS, env })).stdout;
    } catch (error) {
      if (error instanceof GitCommandFailedError) {
        request.logger.warn('delivery-git-failed', { command: error.subcommand, reason: error.reason, exitCode: error.exitCode, stderr: withoutUrlCredentials(error.stderrTail) });
      }
      throw error;
    }
  }
}

/** A position from trailer values; undefined unless both are there once, as whole numbers. */
function positionOf(generation: string, attempt: string): DeliveryPosition | undefined {
  if (!POSITION_NUMBER.test(generation) || !POSITION_NUMBER.test(attempt)) return undefined;
  return { generation: Number(generation), attempt: Number(attempt) };
}

/** Git may echo a URL it was given: `https://user:token@host/…` must not reach even the local log whole. */
function withoutUrlCredentials(text: string): string {
  return text.replace(/(\/\/)[^/@\s]+@/g, '$1***@');
}
