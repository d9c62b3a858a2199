import { Delivery, FailureCode, Phase } from '@airlock/protocol';
import type { ForgeConfig } from '../../config/worker-config.loader';
import { BranchPusher, deliveryTrailers } from '../../delivery/branch-pusher';
import type { DeliveryOutbox, DeliveryOutboxRecord } from '../../delivery/delivery-outbox';
import { type DeliveryTarget, deliveryTargetOf } from '../../delivery/delivery-target';
import { type MergeRequestText, mergeRequestText, mergeRequestTitle, parseNumstat } from '../../delivery/merge-request.body';
import type { MergeRequest, MergeRequestPublishing } from '../../delivery/forge/forge-client';
import { MergeRequestNotPublishedError, type PublishedMergeRequest, publishMergeRequest } from '../../delivery/merge-request.publisher';
import type { GitRunner } from '../../git/git-runner';
import { JobError } from '../job.error';
import { JobPhaseFailedError } from '../job-phase-failed.error';
import { type FailureCodeName, keyedMac } from '../job-result.builder';
import type { JobContext } from '../pipeline/job-context';
import type { JobPhase } from '../pipeline/phase';

const GIT_TIMEOUT_MS = 300_000;

/** What a merge request listener hears once DELIVER opened or updated the branch's request. */
export interface PublishedDelivery {
  readonly target: DeliveryTarget;
  readonly published: PublishedMergeRequest;
}

/**
 * Told of every merge request DELIVER opened or updated (a comment on the ticket, a watch
 * on the request's fate). Best effort: a listener that throws is logged, and the job is
 * delivered all the same.
 */
export type MergeRequestListener = (ctx: JobContext, delivery: PublishedDelivery) => Promise<void>;

/** Where DELIVER sends a change besides the push: the outbox, and the repository's forge. */
export interface DeliveryDependencies {
  readonly outbox: Pick<DeliveryOutbox, 'put'>;
  /** A client for the repository's forge; DELIVER closes it when the delivery is done. */
  forgeClientFor(forge: ForgeConfig): MergeRequestPublishing & { close(): Promise<void> };
  /** Called in order after the merge request was opened or updated. */
  readonly afterMergeRequest?: readonly MergeRequestListener[];
}

/** One attempt's delivery as DELIVER carries it from step to step. */
interface PreparedDelivery {
  readonly target: DeliveryTarget;
  readonly worktree: string;
  readonly baseCommit: string;
  readonly commit: string;
  readonly text: MergeRequestText;
}

/**
 * DELIVER: commits the staged change as `Airlock <airlock@localhost>` with trailers naming
 * the job, its generation and attempt, confirms the lease, then delivers to the branch
 * `<branchPrefix><deliveryJobId or jobId>` — one branch and one merge request per re-run
 * chain:
 * - no push URL: the change goes to the delivery outbox only (DELIVERY_OUTBOX);
 * - a push URL: the branch is pushed as a compare-and-swap (BranchPusher), so a stale
 *   attempt never overwrites a newer one nor a person's commits; without a forge the change
 *   is also kept in the outbox (DELIVERY_BRANCH);
 * - a forge: the branch's merge request is opened or updated (DELIVERY_MERGE_REQUEST_*).
 * When the push or the forge fails, the change is kept in the outbox with the failure code
 * (DELIVERY_OUTBOX) and the job fails with that code: nothing is lost. Where the change
 * went is noted in the job's local record; upstream gets the kind and a keyed MAC of the
 * ref only. Fails BRANCH_NOT_ALLOWED, the lease guard's code (LEASE_UNCONFIRMED,
 * AUDIT_LOG_UNAVAILABLE), DELIVERY_SUPERSEDED, BRANCH_PROTECTED, the FORGE_* codes, or
 * DELIVERY_FAILED.
 */
export class DeliverPhase implements JobPhase {
  readonly name = Phase.PHASE_DELIVER;
  readonly defaultFailure = FailureCode.DELIVERY_FAILED;
  private readonly pusher: BranchPusher;

  constructor(
    private readonly git: Pick<GitRunner, 'run'>,
    private readonly macKey: Buffer,
    private readonly delivery: DeliveryDependencies,
  ) {
    this.pusher = new BranchPusher(git);
  }

  async run(ctx: JobContext): Promise<void> {
    const { repo, signal, confirmLease } = ctx.request;
    const delivery = await this.commit(ctx);
    const { target, worktree, commit } = delivery;
    await confirmLease(signal);
    if (repo.pushUrl === undefined) return this.deliverToOutboxOnly(ctx, delivery);
    try {
      const outcome = await this.pusher.push({ worktree, pushUrl: repo.pushUrl, credentials: repo.git, ref: target.ref, position: target.position, signal, logger: ctx.logger });
      ctx.logger.info('delivery-branch-pushed', { branch: target.branch, commit, outcome });
    } catch (error) {
      throw await this.keepFailed(ctx, delivery, 'pending', error);
    }
    ctx.report.deliveryMac = this.refMac(target);
    ctx.report.delivery = Delivery.DELIVERY_BRANCH;
    ctx.record.transcript({ kind: 'note', text: `delivery: branch ${target.branch} pushed at ${commit}` });
    if (repo.forge === undefined) {
      // The branch is delivered; the outbox copy serves a customer without forge access, so failing to keep it fails nothing.
      await this.keep(ctx, delivery, 'pushed').catch((error: unknown) => ctx.logger.warn('delivery-outbox-write-failed', { error: error as Error }));
      return;
    }
    let published: PublishedMergeRequest;
    try {
      published = await this.publish(ctx, repo.forge, delivery);
    } catch (error) {
      throw await this.keepFailed(ctx, delivery, 'pushed', error);
    }
    const { outcome, mergeRequest } = published;
    ctx.report.delivery = outcome === 'opened' ? Delivery.DELIVERY_MERGE_REQUEST_OPENED : Delivery.DELIVERY_MERGE_REQUEST_UPDATED;
    ctx.logger.info('delivery-merge-request', { outcome, number: mergeRequest.number, webUrl: mergeRequest.webUrl });
    ctx.record.transcript({ kind: 'note', text: `delivery: merge request ${mergeRequest.number} ${outcome}: ${mergeRequest.webUrl}` });
    for (const listener of this.delivery.afterMergeRequest ?? []) {
      await listener(ctx, { target: delivery.target, published }).catch((error: unknown) => ctx.logger.warn('delivery-listener-failed', { error: error as Error }));
    }
  }

  /** Commits the staged change on the attempt's branch name, and writes the merge request's text. */
  private async commit(ctx: JobContext): Promise<PreparedDelivery> {
    const { worktree, baseCommit } = ctx.need('workspace');
    const { jobId, attempt, task, repo, signal } = ctx.request;
    const target = deliveryTargetOf(jobId, attempt, task, repo.branchPrefix);
    const git = (args: string[], input?: string) =>
      this.git.run(args, { cwd: worktree, signal, timeoutMs: GIT_TIMEOUT_MS, ...(input === undefined ? {} : { input }) });
    // The prefix comes from the catalog and the key is a UUID the instruction's validation
    // checked; git still has the last word on whether the name is a valid ref.
    try {
      await git(['check-ref-format', '--branch', target.branch]);
    } catch {
      throw new JobPhaseFailedError(FailureCode.BRANCH_NOT_ALLOWED, 'branch name is not a valid ref');
    }
    // The second paragraph is what people grep for; the trailers order the attempts on the branch.
    const message = `${mergeRequestTitle(ctx.ticket.title)}\n\nAirlock job ${jobId}, attempt ${attempt}\n\n${deliveryTrailers(jobId, target.position)}`;
    await git(['commit', '--quiet', '--no-verify', '--file=-'], message);
    const commit = (await git(['rev-parse', '--verify', 'HEAD^{commit}'])).stdout.trim();
    const numstat = await git(['diff', '--numstat', '-z', '--no-renames', baseCommit, 'HEAD']);
    const text = mergeRequestText({
      jobId,
      attempt,
      ticket: ctx.ticket,
      files: parseNumstat(numstat.stdout),
      verification: ctx.report.verification,
      decisions: ctx.report.decisions.all,
    });
    return { target, worktree, baseCommit, commit, text };
  }

  /** A repository without a push URL: the outbox is the delivery, so an attempt whose entry a later one holds is superseded. */
  private async deliverToOutboxOnly(ctx: JobContext, delivery: PreparedDelivery): Promise<void> {
    let kept: string | undefined;
    try {
      kept = await this.keep(ctx, delivery, 'pending');
    } catch (error) {
      ctx.logger.warn('delivery-outbox-write-failed', { error: error as Error });
      throw new JobPhaseFailedError(FailureCode.DELIVERY_FAILED, 'the delivery outbox could not be written');
    }
    if (kept === undefined) throw new JobPhaseFailedError(FailureCode.DELIVERY_SUPERSEDED, 'the delivery outbox holds a later attempt of this branch');
    ctx.report.delivery = Delivery.DELIVERY_OUTBOX;
  }

  private async publish(ctx: JobContext, forge: ForgeConfig, delivery: PreparedDelivery): Promise<PublishedMergeRequest> {
    const client = this.delivery.forgeClientFor(forge);
    try {
      return await publishMergeRequest(
        client,
        {
          sourceBranch: delivery.target.branch,
          targetBranch: forge.targetBranch ?? ctx.request.task.baseRef,
          title: delivery.text.title,
          body: delivery.text.body,
          labels: forge.labels,
          reviewers: forge.reviewers,
          draft: forge.draft,
        },
        ctx.signal,
      );
    } finally {
      await client.close().catch((error: unknown) => ctx.logger.warn('forge-client-close-failed', { error: error as Error }));
    }
  }

  /**
   * Keeps a change whose push or merge request failed in the outbox with the failure code,
   * and hands back the error to end the job with. An aborted job keeps nothing: it was
   * cancelled or shut down, and the abort's code ends it whatever the delivery was doing.
   */
  private async keepFailed(ctx: JobContext, delivery: PreparedDelivery, state: DeliveryOutboxRecord['state'], error: unknown): Promise<unknown> {
    if (ctx.signal.aborted) return error;
    const failureCode: FailureCodeName = error instanceof JobError ? error.failureCode : FailureCode.DELIVERY_FAILED;
    const mergeRequest = error instanceof MergeRequestNotPublishedError ? error.existing : undefined;
    try {
      if ((await this.keep(ctx, delivery, state, { failureCode, mergeRequest })) !== undefined) ctx.report.delivery = Delivery.DELIVERY_OUTBOX;
    } catch (writeError) {
      ctx.logger.warn('delivery-outbox-write-failed', { error: writeError as Error });
    }
    return error;
  }

  /** Writes the outbox entry; resolves with its directory, or undefined when the branch's entry is a later attempt's and stays. */
  private async keep(
    ctx: JobContext,
    delivery: PreparedDelivery,
    state: DeliveryOutboxRecord['state'],
    failure: { readonly failureCode: FailureCodeName; readonly mergeRequest: MergeRequest | undefined } | undefined = undefined,
  ): Promise<string | undefined> {
    const failureCode = failure?.failureCode ?? null;
    const mergeRequest = failure?.mergeRequest;
    const { jobId, attempt, repo, task } = ctx.request;
    const { target } = delivery;
    const put = await this.delivery.outbox.put({
      record: {
        jobId,
        deliveryJobId: target.key,
        generation: target.position.generation,
        attempt,
        repoAlias: repo.alias,
        baseRef: task.baseRef,
        baseCommit: delivery.baseCommit,
        commit: delivery.commit,
        branch: target.branch,
        state,
        failureCode,
        mergeRequest: mergeRequest === undefined ? null : { number: mergeRequest.number, webUrl: mergeRequest.webUrl },
      },
      worktree: delivery.worktree,
      mergeRequest: delivery.text,
      signal: ctx.signal,
    });
    if (!put.kept) {
      ctx.logger.warn('delivery-outbox-holds-later-attempt', { branch: target.branch, generation: put.newer.generation, attempt: put.newer.attempt });
      return undefined;
    }
    ctx.report.deliveryMac = this.refMac(target);
    ctx.logger.info('delivery-outbox-kept', { directory: put.directory, state, failureCode });
    ctx.record.transcript({ kind: 'note', text: `delivery: change kept in the delivery outbox at ${put.directory} (${state}${failureCode === null ? '' : `, ${failureCode}`})` });
    return put.directory;
  }

  private refMac(target: DeliveryTarget): Buffer {
    return keyedMac(this.macKey, 'delivery', target.ref);
  }
}
