import { randomUUID } from 'node:crypto';
import { Prisma, type AttemptStatus, type Job, type JobEventType, type JobKind, type JobStatus } from '@prisma/client';
import type { DatabaseClient, DatabaseTransaction } from '../database-client';
import { appendAuditEntry, lockTenantAdminActions, type AuditActor } from './admin-audit.repository';
import { syncJobAnalytics, syncJobsAnalytics } from './analytics-rollup';
import { DELIVERY_OUTCOME_SELECT, toDeliveryOutcomeView, type DeliveryOutcomeView } from './delivery-outcome.repository';

/**
 * What a job asks a worker to do. `fix` carries the ticket: its text, or, with `ticketRef`
 * ("<tracker>:<key>"), a reference the worker reads it by (the title and description then
 * empty); `review` names a merge request of the repository, by number or by the branch whose
 * open request it is; `index` names the ref whose context index the worker builds; `noop`
 * carries nothing.
 */
export type JobTask =
  | {
      readonly kind: 'FIX';
      readonly repoAlias: string;
      readonly baseRef: string;
      readonly ticketTitle: string;
      readonly ticketDescription: string;
      readonly ticketRef: string | null;
    }
  | { readonly kind: 'REVIEW'; readonly repoAlias: string; readonly target: ReviewTarget }
  | { readonly kind: 'INDEX'; readonly repoAlias: string; readonly ref: string }
  | { readonly kind: 'NOOP' };

/** The merge request a review job reviews: its number on the forge, or a branch whose open request it is. */
export type ReviewTarget = { readonly mergeRequest: number } | { readonly branch: string };

/**
 * A task as dispatched: a fix also names the re-run chain it delivers to. The other kinds
 * deliver nothing, so their chain (kept on the job all the same) never reaches the worker.
 */
export type DispatchTask =
  | (Extract<JobTask, { kind: 'FIX' }> & {
      /** The first job of the re-run chain, whose branch and merge request this job delivers to (the job itself for a first job). */
      readonly deliveryJobId: string;
      /** 0 for a first job, one more per re-run in the chain. */
      readonly deliveryGeneration: number;
    })
  | Exclude<JobTask, { kind: 'FIX' }>;

/** A review's comments by severity as the worker counted them (ReviewStats in the proto). */
export interface ReviewMetadata {
  /** Comments posted on the merge request, by the severity the model gave them. */
  readonly critical: number;
  readonly major: number;
  readonly minor: number;
  readonly info: number;
  /** Comments not posted: on a line the change does not touch, or past the worker's limit. */
  readonly dropped: number;
}

/** What the worker's test runs showed, as counts (see VerificationStats in the proto). */
export interface VerificationMetadata {
  readonly testsRan: boolean;
  readonly testExitCode: number;
  readonly baseTestsRan: boolean;
  readonly baseTestExitCode: number;
  readonly baseReportRead: boolean;
  readonly reportRead: boolean;
  readonly testsBefore: number;
  readonly failingBefore: number;
  readonly testsAfter: number;
  readonly failingAfter: number;
  readonly testsFixed: number;
  readonly testsRegressed: number;
  readonly agentTestRuns: number;
  readonly reproductionAdded: boolean;
}

/** The closed, metadata-only result of an attempt, as stored on the job. */
export interface JobResultMetadata {
  readonly outcome: string;
  readonly failureCode: string | null;
  readonly failedPhase: string | null;
  readonly phaseDurations: readonly { readonly phase: string; readonly durationMs: number }[];
  readonly tokens: { readonly requests: number; readonly promptTokens: number; readonly completionTokens: number };
  readonly change: {
    readonly filesChanged: number;
    readonly linesAdded: number;
    readonly linesRemoved: number;
    readonly editsProposed: number;
    readonly editsApplied: number;
  };
  readonly verification: VerificationMetadata;
  readonly contextFiles: number;
  /** Lowercase hex, or null when the worker sent none. */
  readonly changeMac: string | null;
  readonly deliveryMac: string | null;
  /**
   * The worker's HMAC of the ticket reference, lowercase hex; null when the ticket was typed
   * in, or at the MINIMAL level; absent on results recorded before it was reported.
   */
  readonly ticketRefMac?: string | null;
  /** The policy in force and the rules that fired; absent on results recorded before central policy. */
  readonly policy?: PolicyReportMetadata;
  /** A MetadataLevel name: how much the worker reported; absent on results recorded before central policy. */
  readonly metadataLevel?: string;
  /**
   * Tokens per inference endpoint and model, in the worker's configured order of endpoints
   * (index 0 is the primary; a later one answered only after the ones before failed).
   * Absent on results recorded before it was reported, empty at the MINIMAL metadata level.
   */
  readonly modelUsage?: readonly ModelUsageMetadata[];
  /**
   * A Delivery name without its prefix (BRANCH, MERGE_REQUEST_OPENED, MERGE_REQUEST_UPDATED,
   * OUTBOX): where the change went inside the customer's network. Null when nothing was
   * delivered or at the MINIMAL level; absent on results recorded before it was reported.
   */
  readonly delivery?: string | null;
  /**
   * A review job's comments by severity. Null for other kinds, at the MINIMAL level, and when
   * the review ended before posting; absent on results recorded before reviews existed.
   */
  readonly review?: ReviewMetadata | null;
}

/** What one inference endpoint of the worker answered for one attempt. */
export interface ModelUsageMetadata {
  /** The endpoint's place in the worker's configured list: 0 is the primary, more is a fallback. */
  readonly endpointIndex: number;
  /** The endpoint's name in the worker's config ([A-Za-z0-9._-]{1,64}). */
  readonly endpoint: string;
  /** The model name the worker's config gives that endpoint. */
  readonly model: string;
  readonly requests: number;
  readonly promptTokens: number;
  readonly completionTokens: number;
}

/** One rule that fired: its id (e.g. max-files-changed), ADVISORY or MANDATORY, and BLOCKED, CORRECTED, RECORDED or SHADOW_WOULD_BLOCK. */
export interface RuleDecisionMetadata {
  readonly rule: string;
  readonly level: string;
  readonly outcome: string;
}

/** A result's PolicyReport: the central revision in force (0: local policy alone), the shadow revision beside it, the decisions. */
export interface PolicyReportMetadata {
  readonly revision: number;
  readonly shadowRevision: number;
  readonly decisions: readonly RuleDecisionMetadata[];
}

export interface JobAttemptView {
  readonly attempt: number;
  readonly workerId: string;
  readonly status: AttemptStatus;
  readonly dispatchedAt: Date;
  readonly ackedAt: Date | null;
  readonly finishedAt: Date | null;
  readonly leaseExpiresAt: Date;
  readonly failureCode: string | null;
}

export interface JobEventView {
  readonly type: JobEventType;
  readonly attempt: number | null;
  readonly phase: string | null;
  readonly failureCode: string | null;
  readonly at: Date;
}

export interface JobSummary {
  readonly id: string;
  readonly tenantId: string;
  readonly kind: JobKind;
  readonly repoAlias: string | null;
  /** A fix job's ref to start from; an index job's ref to index. */
  readonly baseRef: string | null;
  /** A review job's merge request number, when it names one (else its branch). */
  readonly reviewMergeRequest: number | null;
  /** A review job's branch whose open merge request it reviews, when it names one. */
  readonly reviewBranch: string | null;
  readonly status: JobStatus;
  readonly currentAttempt: number;
  readonly maxAttempts: number;
  readonly failureCode: string | null;
  /** When a cancel was requested, or null. */
  readonly cancelRequestedAt: Date | null;
  /** The job this one retries, or null for an original. */
  readonly retryOfJobId: string | null;
  /** The ticket was named by reference rather than typed in. */
  readonly ticketByReference: boolean;
  /** The reference while the job may still be dispatched; null once it ended (and for a typed ticket). */
  readonly ticketRef: string | null;
  /** The worker's HMAC of the reference, lowercase hex, once a result brought one. */
  readonly ticketRefMac: string | null;
  /** The worker pool that is to run the job; null: any worker of the tenant. */
  readonly pool: string | null;
  /** 0-9, higher first. */
  readonly priority: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly finishedAt: Date | null;
}

/** A job with its history. The ticket text is deliberately not part of any read model. */
export interface JobDetail extends JobSummary {
  readonly result: JobResultMetadata | null;
  /** Why the result's figures cannot be true (empty when plausible); see recordResult. */
  readonly resultImplausible: readonly string[];
  readonly attempts: readonly JobAttemptView[];
  readonly events: readonly JobEventView[];
  /** What became of the merge request of the job's re-run chain, as a worker last reported it; null before any report. */
  readonly deliveryOutcome: DeliveryOutcomeView | null;
}

/** Where a page of jobs ends: the last job's creation time and id (jobs are listed newest first, id breaking ties). */
export interface JobListPosition {
  readonly createdAt: Date;
  readonly id: string;
}

/** Which of a tenant's jobs to list, newest first. */
export interface JobListFilter {
  /** At most this many jobs. */
  readonly limit: number;
  readonly status?: JobStatus;
  readonly kind?: JobKind;
  /** The exact repository alias; NOOP jobs have none and never match. */
  readonly repoAlias?: string;
  /** Created at or after this time. */
  readonly createdFrom?: Date;
  /** Created before this time (excluded, so consecutive ranges do not overlap). */
  readonly createdTo?: Date;
  /** Only jobs that come after this position in the listing: the previous page's `next`. */
  readonly olderThan?: JobListPosition;
}

/** One page of jobs; `next` is where the following page starts, null on the last page. */
export interface JobPage {
  readonly jobs: JobSummary[];
  readonly next: JobListPosition | null;
}

/**
 * What asking to re-run a job did. `CREATED`: a new queued job with the same task, naming the
 * original. `NOT_RETRYABLE`: the original has not finished (`status` says what it is).
 * `TICKET_REF_REQUIRED`: the original named its ticket by reference, erased when it ended, and
 * the request did not name it again. `TICKET_REF_UNEXPECTED`: the request named a reference,
 * but the original's ticket was typed in (`TYPED`: the re-run reuses its text), or the
 * original has no ticket at all (`NONE`: a review, index or noop job).
 * `CHAIN_TOO_LONG`: its chain already holds the most re-runs one chain may have.
 */
export type JobRetry =
  | { readonly kind: 'CREATED'; readonly job: JobSummary }
  | { readonly kind: 'NOT_RETRYABLE'; readonly status: JobStatus }
  | { readonly kind: 'TICKET_REF_REQUIRED' }
  | { readonly kind: 'TICKET_REF_UNEXPECTED'; readonly ticket: 'TYPED' | 'NONE' }
  | { readonly kind: 'CHAIN_TOO_LONG'; readonly maxReruns: number };

/** Re-runs one chain may hold: the wire contract's bound on FixTask.delivery_generation. */
export const MAX_RERUNS_PER_CHAIN = 1000;

/** A job waiting for a worker. */
export interface QueuedJobRef {
  readonly jobId: string;
  readonly tenantId: string;
  /** The pool it is targeted at; null: any worker of the tenant. */
  readonly pool: string | null;
  readonly currentAttempt: number;
}

/** Where a job goes and in which order: the pool that is to run it (null: any worker of the tenant) and its priority. */
export interface JobPlacement {
  readonly pool: string | null;
  /** 0-9, higher first (PRIORITY_RANGE). */
  readonly priority: number;
}

/** Job priorities, higher first; a job not given one gets the default. */
export const PRIORITY_RANGE = { min: 0, max: 9, default: 5 } as const;

/** A job placed with the default priority and no pool. */
export const DEFAULT_PLACEMENT: JobPlacement = { pool: null, priority: PRIORITY_RANGE.default };

/** One job for `JobRepository.createMany`. */
export interface JobToCreate {
  readonly tenantId: string;
  readonly task: JobTask;
  readonly maxAttempts: number;
  readonly placement: JobPlacement;
}

/** One pool's share of a claim: at most `max` of the tenant's queued jobs targeted at `pool` (null: the untargeted ones). */
export interface PoolQuota {
  readonly pool: string | null;
  readonly max: number;
}

/** What `JobRepository.claimNext` is to take, and for whom. */
export interface ClaimRequest {
  readonly tenantId: string;
  readonly workerId: string;
  /** For each pool the worker serves (null: untargeted jobs), the most jobs to take from it. */
  readonly quotas: readonly PoolQuota[];
  /** The most jobs in all: the worker's free credits. */
  readonly max: number;
  readonly leaseExpiresAt: Date;
  readonly now: Date;
}

/** What a claim took, and whether a running-jobs limit held back jobs it could otherwise have taken. */
export interface ClaimOutcome {
  readonly claims: DispatchClaim[];
  readonly limited: boolean;
}

/** A tenant's limits on the jobs dispatched or running at once: its own, and per pool (jobs targeted at that pool). */
export interface DispatchLimits {
  /** Null: no limit. */
  readonly maxRunningJobs: number | null;
  readonly pools: readonly { readonly pool: string; readonly maxRunningJobs: number }[];
}

/** A job a dispatcher believes queued, at the attempt it saw (see `JobRepository.claimQueued`). */
export interface QueuedCandidate {
  readonly jobId: string;
  /** The job's attempt as the dispatcher saw it queued; the claim creates attempt + 1. */
  readonly expectedCurrentAttempt: number;
}

/** A job that one dispatcher won for one worker, with what the instruction needs. */
export interface DispatchClaim {
  readonly jobId: string;
  readonly tenantId: string;
  /** The pool the job was targeted at; null: untargeted. */
  readonly pool: string | null;
  readonly attempt: number;
  readonly task: DispatchTask;
  /** When the job was created, i.e. first queued: what a first attempt's dispatch latency is measured from. */
  readonly createdAt: Date;
}

/** Names one attempt of one job. */
export interface AttemptRef {
  readonly jobId: string;
  readonly attempt: number;
}

/** What renewing a worker's leases did, attempt by attempt (see `JobRepository.renewLeases`). */
export interface LeaseRenewal {
  /** Listed attempts this worker owns and still runs, whose lease now runs to the new time. */
  readonly renewed: AttemptRef[];
  /** Listed attempts the worker must stop: not (or no longer) its to run, or cancel requested. */
  readonly cancel: AttemptRef[];
}

/**
 * What a cancel request did. `CANCELLED`: the job was queued and is now terminal.
 * `CANCEL_REQUESTED`: a worker holds the current attempt and is to be told to stop it.
 * `ALREADY_FINISHED`: the job was terminal already, with `job.status` saying how it ended.
 */
export type JobCancellation =
  | { readonly kind: 'CANCELLED'; readonly job: JobSummary }
  | { readonly kind: 'CANCEL_REQUESTED'; readonly job: JobSummary; readonly attempt: WorkerAttemptRef }
  | { readonly kind: 'ALREADY_FINISHED'; readonly job: JobSummary };

/** Names one attempt that a given worker reports on. */
export interface WorkerAttemptRef {
  readonly workerId: string;
  readonly jobId: string;
  readonly attempt: number;
}

export type ResultDispositionName = 'RECORDED' | 'DUPLICATE' | 'STALE_ATTEMPT' | 'UNKNOWN_ATTEMPT';

/** What became of a job whose attempt ended early (lease expired, or turned away by a full worker). */
export interface LeaseExpiry {
  readonly jobId: string;
  readonly tenantId: string;
  readonly attempt: number;
  readonly requeued: boolean;
  /** The job had a cancel requested, so it ended CANCELLED instead of being requeued. */
  readonly cancelled: boolean;
  /** The job's status afterwards: QUEUED when requeued, CANCELLED, FAILED, or unchanged when the attempt no longer owned it. */
  readonly status: JobStatus;
  /** The pool the job is targeted at (null: untargeted), so a requeued job goes back to the same queue. */
  readonly pool: string | null;
  /** A requeued job is not dispatched before this (its attempts back off); null: at once. */
  readonly notBefore: Date | null;
}

/** When a job whose attempt `attempt` lost its lease at `now` may be dispatched again; null for at once. */
export type AttemptBackoff = (attempt: number, now: Date) => Date | null;

const NO_BACKOFF: AttemptBackoff = () => null;

/** The failure code of a job whose every attempt lost its lease. */
export const LEASE_EXPIRED_FAILURE_CODE = 'LEASE_EXPIRED';

/** The failure code of a cancelled job: FailureCode.CANCELLED of airlock.v1, as a worker reports it too. */
export const CANCELLED_FAILURE_CODE = 'CANCELLED';

const TERMINAL_JOB_STATUSES: JobStatus[] = ['SUCCEEDED', 'FAILED', 'CANCELLED'];

/**
 * Part of the data of every update that ends a job. A ticket reference is held only while the
 * job may still be dispatched (FixTask.ticket_ref), so it goes in the transaction that makes
 * the job terminal; what stays is the worker's digest of it (ticketRefMac).
 */
const ERASE_TICKET_REFERENCE = { ticketRef: null } as const satisfies Prisma.JobUpdateInput;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const ACTIVE_JOB_STATUSES: JobStatus[] = ['DISPATCHED', 'RUNNING'];
/**
 * A job that ended like this may be re-run as a new job: a failed or cancelled one to try
 * again, a succeeded one to refresh its merge request (the re-run delivers to the same one).
 */
const RETRYABLE_JOB_STATUSES: JobStatus[] = ['FAILED', 'CANCELLED', 'SUCCEEDED'];
const ACTIVE_ATTEMPT_STATUSES: AttemptStatus[] = ['DISPATCHED', 'RUNNING'];

/**
 * Reasons a result's figures cannot be true of its attempt, e.g. `durations-exceed-wall-time`;
 * none when plausible. Given when the attempt was dispatched and the job's repository alias
 * (null for a task without one), read under the job's lock.
 */
export type ResultJudge = (attempt: { readonly dispatchedAt: Date; readonly repoAlias: string | null }) => readonly string[];

const SUMMARY_SELECT = {
  id: true,
  tenantId: true,
  kind: true,
  repoAlias: true,
  baseRef: true,
  reviewMergeRequest: true,
  reviewBranch: true,
  status: true,
  currentAttempt: true,
  maxAttempts: true,
  failureCode: true,
  cancelRequestedAt: true,
  retryOfJobId: true,
  ticketByReference: true,
  ticketRef: true,
  ticketRefMac: true,
  pool: true,
  priority: true,
  createdAt: true,
  updatedAt: true,
  finishedAt: true,
} as const satisfies Prisma.JobSelect;

/**
 * Jobs, attempts and their append-only events. Every state change is a conditional update
 * inside a transaction that first locks the job row, and writes its event in the same
 * transaction, so concurrent callers (a result racing the lease reaper, two dispatchers)
 * can never both win and every job reaches exactly one terminal state.
 */
export class JobRepository {
  constructor(private readonly db: DatabaseClient) {}

  async create(tenantId: string, task: JobTask, maxAttempts: number, now: Date, placement: JobPlacement = DEFAULT_PLACEMENT): Promise<JobSummary> {
    const [job] = await this.createMany([{ tenantId, task, maxAttempts, placement }], now);
    return job!;
  }

  /**
   * Queues several jobs, of one tenant or many, in one transaction (group commit: the jobs
   * that API requests create together are committed together): one statement for the jobs,
   * one for their events, and one analytics update for all. Answers in the order given.
   */
  async createMany(jobs: readonly JobToCreate[], now: Date): Promise<JobSummary[]> {
    if (jobs.length === 0) return [];
    const rows = jobs.map(({ tenantId, task, maxAttempts, placement }) => ({ id: randomUUID(), tenantId, maxAttempts, createdAt: now, ...placement, ...storedTask(task) }));
    return this.db.$transaction(async (tx) => {
      const created = await tx.job.createManyAndReturn({ data: rows, select: SUMMARY_SELECT });
      await tx.jobEvent.createMany({
        data: rows.flatMap((row) => [
          { tenantId: row.tenantId, jobId: row.id, type: 'CREATED' as const, at: now },
          { tenantId: row.tenantId, jobId: row.id, type: 'QUEUED' as const, at: now },
        ]),
      });
      await syncJobsAnalytics(tx, rows.map((row) => ({ tenantId: row.tenantId, jobId: row.id })));
      const byId = new Map(created.map((job) => [job.id, job]));
      return rows.map((row) => byId.get(row.id)!);
    });
  }


  async findForTenant(tenantId: string, jobId: string): Promise<JobDetail | null> {
    const job = await this.db.job.findFirst({
      where: { id: jobId, tenantId },
      select: {
        ...SUMMARY_SELECT,
        deliveryJobId: true,
        result: true,
        resultImplausible: true,
        attempts: {
          orderBy: { attempt: 'asc' },
          select: { attempt: true, workerId: true, status: true, dispatchedAt: true, ackedAt: true, finishedAt: true, leaseExpiresAt: true, failureCode: true },
        },
        events: { orderBy: { id: 'asc' }, select: { type: true, attempt: true, phase: true, failureCode: true, at: true } },
      },
    });
    if (!job) return null;
    const { deliveryJobId, ...detail } = job;
    const outcome = await this.db.deliveryOutcome.findFirst({ where: { deliveryJobId: deliveryJobId ?? jobId, tenantId }, select: DELIVERY_OUTCOME_SELECT });
    return { ...detail, result: job.result as unknown as JobResultMetadata | null, deliveryOutcome: outcome ? toDeliveryOutcomeView(outcome) : null };
  }

  /**
   * A page of the tenant's jobs, newest first. The order is total (creation time, then id,
   * both descending), so paging by position neither skips nor repeats a job, even among
   * jobs created in the same millisecond or while new jobs arrive.
   */
  async listForTenant(tenantId: string, filter: JobListFilter): Promise<JobPage> {
    const createdAt = {
      ...(filter.createdFrom ? { gte: filter.createdFrom } : {}),
      ...(filter.createdTo ? { lt: filter.createdTo } : {}),
    };
    const olderThan = filter.olderThan;
    const where: Prisma.JobWhereInput = {
      tenantId,
      ...(filter.status ? { status: filter.status } : {}),
      ...(filter.kind ? { kind: filter.kind } : {}),
      ...(filter.repoAlias !== undefined ? { repoAlias: filter.repoAlias } : {}),
      ...(filter.createdFrom || filter.createdTo ? { createdAt } : {}),
      ...(olderThan ? { OR: [{ createdAt: { lt: olderThan.createdAt } }, { createdAt: olderThan.createdAt, id: { lt: olderThan.id } }] } : {}),
    };
    // One more than asked: whether it exists says if there is a next page.
    const rows = await this.db.job.findMany({ where, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: filter.limit + 1, select: SUMMARY_SELECT });
    const jobs = rows.slice(0, filter.limit);
    const last = jobs[jobs.length - 1];
    return { jobs, next: rows.length > filter.limit && last ? { createdAt: last.createdAt, id: last.id } : null };
  }

  /**
   * Creates a new queued job with the task and maxAttempts of a finished one, naming it as the
   * job it retries. A ticket named by reference was erased when the original ended, so
   * `ticketRef` names it again; it is refused for a typed ticket, whose text the re-run
   * reuses, and for a job without a ticket. Null when the tenant has no such job. A job may be
   * retried more than once; each retry is a job of its own. Review and index jobs deliver
   * nothing, but are numbered in their chain all the same: harmless, and one rule for all.
   */
  async createRetry(tenantId: string, jobId: string, now: Date, ticketRef: string | null = null): Promise<JobRetry | null> {
    return this.db.$transaction(async (tx) => {
      const original = await tx.job.findFirst({
        where: { id: jobId, tenantId },
        select: {
          status: true,
          kind: true,
          repoAlias: true,
          baseRef: true,
          reviewMergeRequest: true,
          reviewBranch: true,
          ticketTitle: true,
          ticketDescription: true,
          ticketByReference: true,
          maxAttempts: true,
          deliveryJobId: true,
          pool: true,
          priority: true,
        },
      });
      if (!original) return null;
      if (!RETRYABLE_JOB_STATUSES.includes(original.status)) return { kind: 'NOT_RETRYABLE', status: original.status };
      if (original.ticketByReference && ticketRef === null) return { kind: 'TICKET_REF_REQUIRED' };
      if (!original.ticketByReference && ticketRef !== null) return { kind: 'TICKET_REF_UNEXPECTED', ticket: original.kind === 'FIX' ? 'TYPED' : 'NONE' };
      // The chain's first job is locked so that two re-runs asked at once get two generations.
      const deliveryJobId = original.deliveryJobId ?? jobId;
      await lockJob(tx, deliveryJobId);
      const latest = await tx.job.aggregate({ where: { tenantId, deliveryJobId }, _max: { deliveryGeneration: true } });
      const deliveryGeneration = (latest._max.deliveryGeneration ?? 0) + 1;
      if (deliveryGeneration > MAX_RERUNS_PER_CHAIN) return { kind: 'CHAIN_TOO_LONG', maxReruns: MAX_RERUNS_PER_CHAIN };
      const job = await tx.job.create({
        data: {
          tenantId,
          kind: original.kind,
          repoAlias: original.repoAlias,
          baseRef: original.baseRef,
          reviewMergeRequest: original.reviewMergeRequest,
          reviewBranch: original.reviewBranch,
          ticketTitle: original.ticketTitle,
          ticketDescription: original.ticketDescription,
          ticketByReference: original.ticketByReference,
          ticketRef,
          maxAttempts: original.maxAttempts,
          pool: original.pool,
          priority: original.priority,
          retryOfJobId: jobId,
          deliveryJobId,
          deliveryGeneration,
          createdAt: now,
        },
        select: SUMMARY_SELECT,
      });
      await tx.jobEvent.createMany({
        data: [
          { tenantId, jobId: job.id, type: 'CREATED', at: now },
          { tenantId, jobId: job.id, type: 'QUEUED', at: now },
        ],
      });
      await syncJobAnalytics(tx, tenantId, job.id);
      return { kind: 'CREATED', job };
    });
  }

  /**
   * Queued jobs that are dispatchable at `now` (not backing off), oldest first, of every
   * tenant or of one tenant's one pool (null: its untargeted jobs): the state a queue is
   * rebuilt from.
   */
  async listQueued(limit: number, now: Date, of?: { readonly tenantId: string; readonly pool: string | null }): Promise<QueuedJobRef[]> {
    const jobs = await this.db.job.findMany({
      where: { status: 'QUEUED', OR: [{ notBefore: null }, { notBefore: { lte: now } }], ...(of ? { tenantId: of.tenantId, pool: of.pool } : {}) },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      take: limit,
      select: { id: true, tenantId: true, pool: true, currentAttempt: true },
    });
    return jobs.map((job) => ({ jobId: job.id, tenantId: job.tenantId, pool: job.pool, currentAttempt: job.currentAttempt }));
  }

  /**
   * How many jobs each tenant holds QUEUED for each pool (null: untargeted) that were queued
   * before `before` (created or requeued then) and were dispatchable by then: what a
   * delivery path that lost nothing must still hold for them.
   */
  async countQueuedByPool(before: Date): Promise<{ readonly tenantId: string; readonly pool: string | null; readonly queued: number }[]> {
    const rows = await this.db.job.groupBy({
      by: ['tenantId', 'pool'],
      where: { status: 'QUEUED', updatedAt: { lt: before }, OR: [{ notBefore: null }, { notBefore: { lt: before } }] },
      _count: { _all: true },
    });
    return rows.map((row) => ({ tenantId: row.tenantId, pool: row.pool, queued: row._count._all }));
  }

  /**
   * How many jobs each tenant holds QUEUED now (backing off or not), the `limit` tenants with
   * the most first: the queue depth the metrics endpoint shows. One grouped count over the
   * queued jobs ([status, createdAt] index), so its cost grows with the backlog, not the history.
   */
  async countQueuedByTenant(limit: number): Promise<{ readonly tenantId: string; readonly queued: number }[]> {
    const rows = await this.db.$queryRaw<{ tenantId: string; queued: number }[]>`
      SELECT j."tenantId"::text AS "tenantId", count(*)::int AS "queued" FROM "Job" AS j
      WHERE j."status" = 'QUEUED'
      GROUP BY j."tenantId" ORDER BY "queued" DESC, j."tenantId" LIMIT ${limit}`;
    return rows.map((row) => ({ tenantId: row.tenantId, queued: row.queued }));
  }

  /**
   * Claims the best queued jobs of a tenant for a worker, each as its next attempt: from each
   * pool the worker serves up to its quota, best priority first and oldest first among equals,
   * at most `max` in all, skipping jobs another claim holds (`FOR UPDATE SKIP LOCKED`, so the
   * dispatchers of every replica pass each other instead of queueing).
   *
   * A tenant without running-jobs limits is claimed for in one statement. A tenant with limits
   * (its own, or one of a pool) is claimed for under a per-tenant advisory lock, after counting
   * what runs: every claim for it takes that lock, so no two claims can both see room for the
   * last slot. Jobs only ever stop running concurrently, which only makes more room.
   */
  async claimNext(request: ClaimRequest): Promise<ClaimOutcome> {
    const quotas = mergedQuotas(request.quotas);
    if (quotas.length === 0 || request.max <= 0 || !UUID.test(request.tenantId)) return { claims: [], limited: false };
    const unlimited = await this.db.$queryRaw<(Partial<ClaimedJobRow> & { limitsApply: boolean | null })[]>`
      WITH limits AS (
        SELECT (t."maxRunningJobs" IS NOT NULL OR EXISTS (SELECT 1 FROM "PoolLimit" AS p WHERE p."tenantId" = t."id")) AS "apply"
        FROM "Tenant" AS t WHERE t."id" = ${request.tenantId}::uuid
      ), ${claimStatement(bestQueued(request.tenantId, quotas, request.max, request.now, Prisma.sql`NOT COALESCE((SELECT "apply" FROM limits), true)`), request)}
      SELECT won.*, (SELECT "apply" FROM limits) AS "limitsApply" FROM (SELECT 1) AS one LEFT JOIN won ON true ${BEST_FIRST}`;
    if (unlimited[0]?.limitsApply !== true) return { claims: claimsOf(unlimited.filter((row): row is ClaimedJobRow & { limitsApply: boolean } => row.jobId != null)), limited: false };
    return this.db.$transaction(async (tx) => {
      // One bigint key per tenant: a key space apart from the (int4, int4) keys of the audit lock.
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`airlock.claim:${request.tenantId}`}, 0))`;
      const room = await runningRoom(tx, request.tenantId, quotas);
      const max = Math.min(request.max, room.tenant);
      // Each quota cut to its pool's room; a limit held a claim back when it cut any of them.
      const limitedQuotas = quotas.map((quota) => ({ ...quota, max: Math.min(quota.max, quota.pool === null ? Infinity : (room.pools.get(quota.pool) ?? Infinity)) }));
      const allowed = limitedQuotas.filter((quota) => quota.max > 0);
      const heldBack = max < request.max || limitedQuotas.some((quota, index) => quota.max < quotas[index]!.max);
      if (max <= 0 || allowed.length === 0) return { claims: [], limited: true };
      const rows = await tx.$queryRaw<ClaimedJobRow[]>`
        WITH ${claimStatement(bestQueued(request.tenantId, allowed, max, request.now, Prisma.sql`true`), request)}
        SELECT * FROM won ${BEST_FIRST}`;
      return { claims: claimsOf(rows), limited: heldBack && rows.length < request.max };
    });
  }

  /** The tenant's limits on jobs dispatched or running at once. */
  async dispatchLimits(tenantId: string): Promise<DispatchLimits> {
    const tenant = await this.db.tenant.findUnique({ where: { id: tenantId }, select: { maxRunningJobs: true, poolLimits: { select: { pool: true, maxRunningJobs: true }, orderBy: { pool: 'asc' } } } });
    return { maxRunningJobs: tenant?.maxRunningJobs ?? null, pools: tenant?.poolLimits ?? [] };
  }

  /**
   * Replaces the tenant's limits on jobs dispatched or running at once, audited as
   * `dispatch.limits-changed` in the same transaction. Jobs already running keep running; a
   * lower limit only holds back what is dispatched next.
   */
  async setDispatchLimits(tenantId: string, limits: DispatchLimits, actor: AuditActor, now: Date): Promise<DispatchLimits> {
    await this.db.$transaction(async (tx) => {
      await lockTenantAdminActions(tx, tenantId);
      await tx.tenant.update({ where: { id: tenantId }, data: { maxRunningJobs: limits.maxRunningJobs } });
      await tx.poolLimit.deleteMany({ where: { tenantId } });
      await tx.poolLimit.createMany({ data: limits.pools.map((limit) => ({ tenantId, pool: limit.pool, maxRunningJobs: limit.maxRunningJobs, updatedAt: now })) });
      const pools = [...limits.pools].sort((a, b) => a.pool.localeCompare(b.pool)).map((limit) => `${limit.pool}=${limit.maxRunningJobs}`).join(',');
      await appendAuditEntry(tx, tenantId, actor, { action: 'dispatch.limits-changed', target: `tenant:${tenantId}`, details: { maxRunningJobs: limits.maxRunningJobs, pools } }, now);
    });
    return this.dispatchLimits(tenantId);
  }

  /**
   * Claims queued jobs of one tenant for a worker, each as its next attempt, in one
   * statement: the candidates still QUEUED at the attempt the caller saw and not locked by
   * another claim (`FOR UPDATE SKIP LOCKED`, so concurrent dispatchers on any replica pass
   * each other instead of queueing) become DISPATCHED with an attempt row and an event.
   * Candidates that moved on (claimed elsewhere, cancelled, of another tenant) are left out;
   * the result keeps the candidates' order.
   */
  async claimQueued(input: {
    tenantId: string;
    workerId: string;
    candidates: readonly QueuedCandidate[];
    leaseExpiresAt: Date;
    now: Date;
  }): Promise<DispatchClaim[]> {
    const candidates = uniqueCandidates(input.candidates);
    if (candidates.length === 0) return [];
    const picked = Prisma.sql`
      SELECT j."id" FROM "Job" AS j
      JOIN unnest(${candidates.map((c) => c.jobId)}::uuid[], ${candidates.map((c) => c.expectedCurrentAttempt)}::int[]) AS c("jobId", "expectedAttempt")
        ON c."jobId" = j."id" AND c."expectedAttempt" = j."currentAttempt"
      WHERE j."tenantId" = ${input.tenantId}::uuid AND j."status" = 'QUEUED'
        AND (j."notBefore" IS NULL OR j."notBefore" <= ${input.now}::timestamptz)
      ORDER BY j."id"
      FOR UPDATE OF j SKIP LOCKED`;
    const rows = await this.db.$queryRaw<ClaimedJobRow[]>`WITH ${claimStatement(picked, input)} SELECT * FROM won`;
    const byJob = new Map(claimsOf(rows).map((claim) => [claim.jobId, claim]));
    return candidates.flatMap((candidate) => byJob.get(candidate.jobId) ?? []);
  }

  /**
   * Workers verified instructions and started: each listed attempt that is its job's current
   * attempt, on the worker that reports it and still DISPATCHED, becomes RUNNING with its
   * job, in one transaction for the whole list (group commit: the acks that arrive together
   * are committed together). Jobs are locked in id order, so two such transactions cannot
   * deadlock. Answers, for each listed ref in order, whether it was recorded.
   */
  async recordAcks(refs: readonly WorkerAttemptRef[], now: Date): Promise<boolean[]> {
    const candidates = uniqueWorkerAttempts(refs).filter((ref) => UUID.test(ref.jobId) && UUID.test(ref.workerId));
    if (candidates.length === 0) return refs.map(() => false);
    const acked = await this.db.$transaction(async (tx) => {
      const rows = await tx.$queryRaw<AckedAttempt[]>`
        WITH listed AS (
          SELECT l."jobId", l."attempt", l."workerId"
          FROM unnest(${candidates.map((ref) => ref.jobId)}::uuid[], ${candidates.map((ref) => ref.attempt)}::int[], ${candidates.map((ref) => ref.workerId)}::uuid[])
               AS l("jobId", "attempt", "workerId")
        ), locked AS (
          SELECT j."id", listed."attempt", listed."workerId" FROM "Job" AS j JOIN listed ON listed."jobId" = j."id" AND listed."attempt" = j."currentAttempt"
          ORDER BY j."id"
          FOR UPDATE OF j
        ), acked AS (
          UPDATE "JobAttempt" AS a SET "status" = 'RUNNING', "ackedAt" = ${now}::timestamptz
          FROM locked
          WHERE a."jobId" = locked."id" AND a."attempt" = locked."attempt" AND a."workerId" = locked."workerId" AND a."status" = 'DISPATCHED'
          RETURNING a."jobId", a."attempt", a."workerId", a."tenantId"
        ), running AS (
          UPDATE "Job" AS j SET "status" = 'RUNNING', "updatedAt" = ${now}::timestamptz
          FROM acked WHERE j."id" = acked."jobId" AND j."status" = 'DISPATCHED'
        ), events AS (
          INSERT INTO "JobEvent" ("tenantId", "jobId", "attempt", "type", "at")
          SELECT acked."tenantId", acked."jobId", acked."attempt", 'ACKED'::"JobEventType", ${now}::timestamptz FROM acked
        )
        SELECT "jobId", "attempt", "workerId", "tenantId" FROM acked`;
      await syncJobsAnalytics(tx, rows);
      return rows;
    });
    const recorded = new Set(acked.map(workerAttemptKey));
    // A ref listed twice is recorded once: its first listing.
    const answered = new Set<string>();
    return refs.map((ref) => {
      const key = workerAttemptKey(ref);
      const first = !answered.has(key);
      answered.add(key);
      return first && recorded.has(key);
    });
  }

  /**
   * The worker refused the instruction. That is a security signal (bad signature, wrong
   * audience, forbidden task …), so the job fails with the worker's code and is not retried.
   * `policyRules` are the rule ids that refused the task (TASK_FORBIDDEN_BY_POLICY): each is
   * recorded as a mandatory rule that BLOCKED the job, under the revision the worker runs.
   */
  async recordRejection(ref: WorkerAttemptRef, failureCode: string, now: Date, policyRules: readonly string[] = []): Promise<boolean> {
    return this.db.$transaction(async (tx) => {
      const job = await rejectLiveAttempt(tx, ref, failureCode, now);
      if (!job) return false;
      await tx.job.update({ where: { id: ref.jobId }, data: { status: 'FAILED', failureCode, finishedAt: now, updatedAt: now, ...ERASE_TICKET_REFERENCE } });
      if (policyRules.length > 0) {
        const worker = await tx.worker.findUniqueOrThrow({ where: { id: ref.workerId }, select: { policyRevision: true } });
        await tx.policyDecision.createMany({
          data: policyRules.map((rule) => ({
            tenantId: job.tenantId,
            jobId: ref.jobId,
            attempt: ref.attempt,
            rule,
            level: 'MANDATORY',
            outcome: 'BLOCKED',
            revision: worker.policyRevision,
            shadowRevision: 0,
            at: now,
          })),
        });
      }
      await syncJobAnalytics(tx, job.tenantId, ref.jobId);
      return true;
    });
  }

  /** Appends a phase event for an attempt the worker owns and still runs. */
  async recordProgress(ref: WorkerAttemptRef, event: { type: 'PHASE_STARTED' | 'PHASE_COMPLETED' | 'PHASE_FAILED'; phase: string }, now: Date): Promise<boolean> {
    const attempt = await this.db.jobAttempt.findFirst({
      where: { jobId: ref.jobId, attempt: ref.attempt, workerId: ref.workerId, status: { in: ACTIVE_ATTEMPT_STATUSES } },
      select: { tenantId: true },
    });
    if (!attempt) return false;
    await this.db.jobEvent.create({
      data: { tenantId: attempt.tenantId, jobId: ref.jobId, attempt: ref.attempt, type: event.type, phase: event.phase, at: now },
    });
    return true;
  }

  /**
   * Renews leases of the listed attempts this worker owns and still runs; says which to cancel.
   *
   * `renewed`: listed attempts owned by `workerId` with status DISPATCHED or RUNNING, whose
   * lease now runs until `leaseExpiresAt` — including those whose job has a cancel
   * requested, so the worker can still report CANCELLED inside a lease. `cancel`: every
   * listed attempt that was not renewed (unknown, another worker's, fenced, finished) plus
   * the renewed ones whose job has a cancel requested. Both keep the order of the list.
   */
  async renewLeases(workerId: string, attempts: readonly AttemptRef[], leaseExpiresAt: Date): Promise<LeaseRenewal> {
    const listed = uniqueAttempts(attempts);
    // A reference that is not a UUID names no attempt; PostgreSQL would refuse to compare it.
    const candidates = listed.filter((ref) => UUID.test(ref.jobId));
    const renewedRows =
      candidates.length === 0
        ? []
        : await this.db.jobAttempt.updateManyAndReturn({
            where: {
              workerId,
              status: { in: ACTIVE_ATTEMPT_STATUSES },
              OR: candidates.map((ref) => ({ jobId: ref.jobId, attempt: ref.attempt })),
            },
            data: { leaseExpiresAt },
            select: { jobId: true, attempt: true, job: { select: { cancelRequestedAt: true } } },
          });
    const renewedKeys = new Set(renewedRows.map(attemptKey));
    const cancelRequestedKeys = new Set(renewedRows.filter((row) => row.job.cancelRequestedAt !== null).map(attemptKey));
    return {
      renewed: listed.filter((ref) => renewedKeys.has(attemptKey(ref))),
      cancel: listed.filter((ref) => !renewedKeys.has(attemptKey(ref)) || cancelRequestedKeys.has(attemptKey(ref))),
    };
  }

  /**
   * Asks for a job to be cancelled. A queued job ends CANCELLED in this transaction, so no
   * dispatcher can claim it afterwards (a claim requires QUEUED). A dispatched or running
   * job only records the request: its worker is to stop the attempt and report, or its
   * lease expires, and either ends the job. Asking again changes nothing. Null when the
   * tenant has no such job.
   */
  async requestCancel(tenantId: string, jobId: string, now: Date): Promise<JobCancellation | null> {
    return this.db.$transaction(async (tx) => {
      const locked = await lockJob(tx, jobId);
      if (!locked || locked.tenantId !== tenantId) return null;
      if (TERMINAL_JOB_STATUSES.includes(locked.status)) {
        return { kind: 'ALREADY_FINISHED', job: await tx.job.findUniqueOrThrow({ where: { id: jobId }, select: SUMMARY_SELECT }) };
      }
      const firstRequest = locked.cancelRequestedAt === null;
      if (locked.status === 'QUEUED') {
        const job = await tx.job.update({
          where: { id: jobId },
          data: { status: 'CANCELLED', failureCode: CANCELLED_FAILURE_CODE, cancelRequestedAt: now, finishedAt: now, updatedAt: now, ...ERASE_TICKET_REFERENCE },
          select: SUMMARY_SELECT,
        });
        await tx.jobEvent.createMany({
          data: [
            { tenantId, jobId, type: 'CANCEL_REQUESTED', at: now },
            { tenantId, jobId, type: 'CANCELLED', failureCode: CANCELLED_FAILURE_CODE, at: now },
          ],
        });
        await syncJobAnalytics(tx, tenantId, jobId);
        return { kind: 'CANCELLED', job };
      }
      const attempt = await tx.jobAttempt.findUniqueOrThrow({
        where: { jobId_attempt: { jobId, attempt: locked.currentAttempt } },
        select: { workerId: true },
      });
      if (firstRequest) {
        await tx.job.update({ where: { id: jobId }, data: { cancelRequestedAt: now, updatedAt: now } });
        await tx.jobEvent.create({ data: { tenantId, jobId, attempt: locked.currentAttempt, type: 'CANCEL_REQUESTED', at: now } });
      }
      const job = await tx.job.findUniqueOrThrow({ where: { id: jobId }, select: SUMMARY_SELECT });
      return { kind: 'CANCEL_REQUESTED', job, attempt: { workerId: attempt.workerId, jobId, attempt: locked.currentAttempt } };
    });
  }

  /**
   * Records an attempt's final result under the fencing rules of docs/worker-protocol.md:
   * only the job's current, still-active attempt is recorded; the same attempt again is a
   * duplicate; an older or fenced attempt is stale and changes nothing. `judge` names what
   * in the result cannot be true of the attempt (its figures against its wall time and the
   * limits any worker has); a result it finds fault with is still recorded, flagged, and
   * counted on its worker.
   */
  async recordResult(ref: WorkerAttemptRef, result: JobResultMetadata, now: Date, judge: ResultJudge = () => []): Promise<ResultDispositionName> {
    const [disposition] = await this.recordResults([{ ref, result, judge }], now);
    return disposition!;
  }

  /**
   * Records several results as `recordResult` would, one after another, in one transaction
   * (group commit: the results that arrive together are committed together). Their jobs are
   * locked first, in id order, so two such transactions cannot deadlock; the analytics of all
   * that were recorded are brought up to date at the end. Answers one disposition per item,
   * in order; a job listed twice is judged the second time as the first left it.
   */
  async recordResults(items: readonly ResultToRecord[], now: Date): Promise<ResultDispositionName[]> {
    if (items.length === 0) return [];
    return this.db.$transaction(async (tx) => {
      const listed = items.filter((item) => UUID.test(item.ref.jobId));
      const rows =
        listed.length === 0
          ? []
          : await tx.$queryRaw<ResultTargetRow[]>`
              WITH listed AS (
                SELECT DISTINCT l."jobId", l."attempt" FROM unnest(${listed.map((item) => item.ref.jobId)}::uuid[], ${listed.map((item) => item.ref.attempt)}::int[]) AS l("jobId", "attempt")
              )
              SELECT j."id" AS "jobId", j."tenantId", j."repoAlias", j."status"::text AS "jobStatus", j."currentAttempt",
                     listed."attempt", a."status"::text AS "attemptStatus", a."workerId", a."dispatchedAt"
              FROM "Job" AS j JOIN listed ON listed."jobId" = j."id"
              LEFT JOIN "JobAttempt" AS a ON a."jobId" = listed."jobId" AND a."attempt" = listed."attempt"
              ORDER BY j."id"
              FOR UPDATE OF j`;
      const plan = planResults(items, rows, now);
      await writeResults(tx, plan, now);
      await syncJobsAnalytics(tx, plan.recorded);
      return plan.dispositions;
    });
  }


  /** Attempts whose lease ran out before `now`, oldest first. */
  async findExpiredLeases(now: Date, limit: number): Promise<{ jobId: string; attempt: number; workerId: string }[]> {
    return this.db.jobAttempt.findMany({
      where: { status: { in: ACTIVE_ATTEMPT_STATUSES }, leaseExpiresAt: { lt: now } },
      orderBy: { leaseExpiresAt: 'asc' },
      take: limit,
      select: { jobId: true, attempt: true, workerId: true },
    });
  }

  /**
   * Fences one attempt whose lease expired and queues its job again as the next attempt,
   * or fails the job once it has used all its attempts, or cancels it when a cancel was
   * requested (the worker may be gone for good, so nobody else would end it). Returns null
   * when a heartbeat or a result got there first.
   */
  async expireLease(ref: AttemptRef, now: Date, backoff: AttemptBackoff = NO_BACKOFF): Promise<LeaseExpiry | null> {
    return this.db.$transaction(async (tx) => {
      const job = await lockJob(tx, ref.jobId);
      if (!job) return null;
      const expired = await tx.jobAttempt.updateMany({
        where: { jobId: ref.jobId, attempt: ref.attempt, status: { in: ACTIVE_ATTEMPT_STATUSES }, leaseExpiresAt: { lt: now } },
        data: { status: 'LEASE_EXPIRED', failureCode: LEASE_EXPIRED_FAILURE_CODE, finishedAt: now },
      });
      if (expired.count !== 1) return null;
      await tx.jobEvent.create({ data: { tenantId: job.tenantId, jobId: ref.jobId, attempt: ref.attempt, type: 'LEASE_EXPIRED', at: now } });
      const expiry = await requeueOrEnd(tx, job, ref, now, LEASE_EXPIRED_FAILURE_CODE, backoff(ref.attempt, now));
      await syncJobAnalytics(tx, job.tenantId, ref.jobId);
      return expiry;
    });
  }

  /**
   * The worker turned the attempt away without holding anything against the job: every
   * slot was busy (a dispatcher overspent its credits). The attempt ends REJECTED and the
   * job is queued again as the next attempt — or ends CANCELLED if a cancel was asked for,
   * or FAILED with the code once it has used its attempts. Null when the attempt is no
   * longer that worker's live attempt of the job.
   */
  async requeueTurnedAway(ref: WorkerAttemptRef, failureCode: string, now: Date): Promise<LeaseExpiry | null> {
    return this.db.$transaction(async (tx) => {
      const job = await rejectLiveAttempt(tx, ref, failureCode, now);
      if (!job) return null;
      // Nothing against the job: it is dispatchable again at once.
      const outcome = await requeueOrEnd(tx, job, ref, now, failureCode, null);
      await syncJobAnalytics(tx, job.tenantId, ref.jobId);
      return outcome;
    });
  }
}

/** One result for `JobRepository.recordResults`: the attempt that reports it, what it says, and what judges its figures. */
export interface ResultToRecord {
  readonly ref: WorkerAttemptRef;
  readonly result: JobResultMetadata;
  readonly judge?: ResultJudge;
}

/** A job and one attempt of it a result names, as `recordResults` reads them under the job's lock. */
interface ResultTargetRow {
  readonly jobId: string;
  readonly tenantId: string;
  readonly repoAlias: string | null;
  readonly jobStatus: JobStatus;
  readonly currentAttempt: number;
  readonly attempt: number;
  /** Null when the job has no such attempt. */
  readonly attemptStatus: AttemptStatus | null;
  readonly workerId: string | null;
  readonly dispatchedAt: Date | null;
}

/** What `recordResults` writes, decided result by result before any write. */
interface ResultWrites {
  readonly dispositions: ResultDispositionName[];
  readonly recorded: { tenantId: string; jobId: string }[];
  readonly attempts: { jobId: string; attempt: number; status: JobStatus; failureCode: string | null }[];
  readonly jobs: { jobId: string; status: JobStatus; failureCode: string | null; result: string; implausible: string; ticketRefMac: string | null }[];
  readonly events: { tenantId: string; jobId: string; attempt: number; type: JobEventType; failureCode: string | null }[];
  readonly implausibleByWorker: Map<string, number>;
  readonly decisions: Prisma.PolicyDecisionCreateManyInput[];
}

/**
 * Applies the fencing rules of `recordResult` to each result in turn: only the job's current,
 * still-active attempt of the worker that reports it is recorded; the same attempt again is a
 * duplicate; an older or fenced attempt is stale. A result sees the state the ones before it
 * in the list left, so a job listed twice is judged as it would be one transaction later.
 */
function planResults(items: readonly ResultToRecord[], rows: readonly ResultTargetRow[], now: Date): ResultWrites {
  const state = new Map(rows.map((row) => [attemptKey(row), { ...row }]));
  const writes: ResultWrites = { dispositions: [], recorded: [], attempts: [], jobs: [], events: [], implausibleByWorker: new Map(), decisions: [] };
  for (const { ref, result, judge = () => [] } of items) {
    const target = state.get(attemptKey(ref));
    if (!target || target.attemptStatus === null || target.workerId !== ref.workerId) {
      writes.dispositions.push('UNKNOWN_ATTEMPT');
      continue;
    }
    if (target.attemptStatus === 'SUCCEEDED' || target.attemptStatus === 'FAILED' || target.attemptStatus === 'CANCELLED') {
      writes.dispositions.push('DUPLICATE');
      continue;
    }
    const job = [...state.values()].filter((row) => row.jobId === ref.jobId);
    const current = target.currentAttempt === ref.attempt && ACTIVE_JOB_STATUSES.includes(target.jobStatus) && ACTIVE_ATTEMPT_STATUSES.includes(target.attemptStatus);
    if (!current) {
      writes.events.push({ tenantId: target.tenantId, jobId: ref.jobId, attempt: ref.attempt, type: 'STALE_RESULT_REJECTED', failureCode: null });
      writes.dispositions.push('STALE_ATTEMPT');
      continue;
    }
    const status = terminalStatusFor(result.outcome);
    const implausible = [...judge({ dispatchedAt: target.dispatchedAt!, repoAlias: target.repoAlias })];
    writes.attempts.push({ jobId: ref.jobId, attempt: ref.attempt, status, failureCode: result.failureCode });
    writes.jobs.push({
      jobId: ref.jobId,
      status,
      failureCode: result.failureCode,
      result: JSON.stringify(result),
      implausible: JSON.stringify(implausible),
      ticketRefMac: result.ticketRefMac ?? null,
    });
    if (implausible.length > 0) writes.implausibleByWorker.set(ref.workerId, (writes.implausibleByWorker.get(ref.workerId) ?? 0) + 1);
    writes.events.push({ tenantId: target.tenantId, jobId: ref.jobId, attempt: ref.attempt, type: 'RESULT_RECORDED', failureCode: result.failureCode });
    const report = result.policy;
    for (const decision of report?.decisions ?? []) {
      writes.decisions.push({
        tenantId: target.tenantId,
        jobId: ref.jobId,
        attempt: ref.attempt,
        rule: decision.rule,
        level: decision.level,
        outcome: decision.outcome,
        revision: report!.revision,
        shadowRevision: report!.shadowRevision,
        at: now,
      });
    }
    writes.recorded.push({ tenantId: target.tenantId, jobId: ref.jobId });
    target.attemptStatus = status;
    for (const row of job) row.jobStatus = status;
    writes.dispositions.push('RECORDED');
  }
  return writes;
}

/** Writes what `planResults` decided: one statement per table, whatever the number of results. */
async function writeResults(tx: DatabaseTransaction, writes: ResultWrites, now: Date): Promise<void> {
  const { attempts, jobs, events, implausibleByWorker, decisions } = writes;
  if (attempts.length > 0) {
    await tx.$executeRaw`
      UPDATE "JobAttempt" AS a SET "status" = v."status"::"AttemptStatus", "failureCode" = v."failureCode", "finishedAt" = ${now}::timestamptz
      FROM unnest(${attempts.map((row) => row.jobId)}::uuid[], ${attempts.map((row) => row.attempt)}::int[], ${attempts.map((row) => row.status)}::text[],
                  ${attempts.map((row) => row.failureCode)}::text[]) AS v("jobId", "attempt", "status", "failureCode")
      WHERE a."jobId" = v."jobId" AND a."attempt" = v."attempt"`;
  }
  if (jobs.length > 0) {
    // Each job's ticket reference goes with it: what stays is the worker's digest (ticketRefMac).
    await tx.$executeRaw`
      UPDATE "Job" AS j SET "status" = v."status"::"JobStatus", "failureCode" = v."failureCode", "result" = v."result",
             "resultImplausible" = ARRAY(SELECT jsonb_array_elements_text(v."implausible")), "ticketRefMac" = v."ticketRefMac", "ticketRef" = NULL,
             "finishedAt" = ${now}::timestamptz, "updatedAt" = ${now}::timestamptz
      FROM unnest(${jobs.map((row) => row.jobId)}::uuid[], ${jobs.map((row) => row.status)}::text[], ${jobs.map((row) => row.failureCode)}::text[],
                  ${jobs.map((row) => row.result)}::jsonb[], ${jobs.map((row) => row.implausible)}::jsonb[], ${jobs.map((row) => row.ticketRefMac)}::text[])
           AS v("jobId", "status", "failureCode", "result", "implausible", "ticketRefMac")
      WHERE j."id" = v."jobId"`;
  }
  if (implausibleByWorker.size > 0) {
    await tx.$executeRaw`
      UPDATE "Worker" AS w SET "implausibleResults" = w."implausibleResults" + v."count", "lastImplausibleAt" = ${now}::timestamptz
      FROM unnest(${[...implausibleByWorker.keys()]}::uuid[], ${[...implausibleByWorker.values()]}::int[]) AS v("workerId", "count")
      WHERE w."id" = v."workerId"`;
  }
  if (events.length > 0) {
    await tx.$executeRaw`
      INSERT INTO "JobEvent" ("tenantId", "jobId", "attempt", "type", "failureCode", "at")
      SELECT v."tenantId", v."jobId", v."attempt", v."type"::"JobEventType", v."failureCode", ${now}::timestamptz
      FROM unnest(${events.map((row) => row.tenantId)}::uuid[], ${events.map((row) => row.jobId)}::uuid[], ${events.map((row) => row.attempt)}::int[],
                  ${events.map((row) => row.type)}::text[], ${events.map((row) => row.failureCode)}::text[]) AS v("tenantId", "jobId", "attempt", "type", "failureCode")`;
  }
  if (decisions.length > 0) await tx.policyDecision.createMany({ data: decisions });
}

/**
 * Ends the job's live attempt on that worker as REJECTED with its event, under the job's
 * lock; null (changing nothing) when it is not the job's live attempt on that worker.
 */
async function rejectLiveAttempt(tx: DatabaseTransaction, ref: WorkerAttemptRef, failureCode: string, now: Date): Promise<LockedJob | null> {
  const job = await lockJob(tx, ref.jobId);
  if (!job || job.currentAttempt !== ref.attempt || !ACTIVE_JOB_STATUSES.includes(job.status)) return null;
  const rejected = await tx.jobAttempt.updateMany({
    where: { jobId: ref.jobId, attempt: ref.attempt, workerId: ref.workerId, status: { in: ACTIVE_ATTEMPT_STATUSES } },
    data: { status: 'REJECTED', failureCode, finishedAt: now },
  });
  if (rejected.count !== 1) return null;
  await tx.jobEvent.create({ data: { tenantId: job.tenantId, jobId: ref.jobId, attempt: ref.attempt, type: 'REJECTED', failureCode, at: now } });
  return job;
}

/**
 * After an attempt ended without a result: requeues its job as the next attempt, or ends it
 * CANCELLED (a cancel was asked for) or FAILED with `failureCode` (no attempts left). A job
 * the attempt no longer owns is left as it is.
 */
async function requeueOrEnd(tx: DatabaseTransaction, job: LockedJob, ref: AttemptRef, now: Date, failureCode: string, notBefore: Date | null): Promise<LeaseExpiry> {
  const base = { tenantId: job.tenantId, jobId: ref.jobId, attempt: ref.attempt, at: now };
  const outcome = { jobId: ref.jobId, tenantId: job.tenantId, attempt: ref.attempt, pool: job.pool, notBefore: null };
  if (job.currentAttempt !== ref.attempt || !ACTIVE_JOB_STATUSES.includes(job.status)) {
    return { ...outcome, requeued: false, cancelled: false, status: job.status };
  }
  if (job.cancelRequestedAt !== null) {
    await tx.job.update({
      where: { id: ref.jobId },
      data: { status: 'CANCELLED', failureCode: CANCELLED_FAILURE_CODE, finishedAt: now, updatedAt: now, ...ERASE_TICKET_REFERENCE },
    });
    await tx.jobEvent.create({ data: { ...base, type: 'CANCELLED', failureCode: CANCELLED_FAILURE_CODE } });
    return { ...outcome, requeued: false, cancelled: true, status: 'CANCELLED' };
  }
  const requeued = ref.attempt < job.maxAttempts;
  if (requeued) {
    await tx.job.update({ where: { id: ref.jobId }, data: { status: 'QUEUED', updatedAt: now, notBefore } });
    await tx.jobEvent.create({ data: { ...base, type: 'REQUEUED' } });
  } else {
    await tx.job.update({ where: { id: ref.jobId }, data: { status: 'FAILED', failureCode, finishedAt: now, updatedAt: now, ...ERASE_TICKET_REFERENCE } });
    await tx.jobEvent.create({ data: { ...base, type: 'FAILED', failureCode } });
  }
  return { ...outcome, requeued, cancelled: false, status: requeued ? 'QUEUED' : 'FAILED', notBefore: requeued ? notBefore : null };
}

/** The columns a task is stored in: a fix's ticket as its text or, named by reference, the reference alone (no text). */
function storedTask(task: JobTask): Pick<Prisma.JobUncheckedCreateInput, 'kind' | 'repoAlias' | 'baseRef' | 'reviewMergeRequest' | 'reviewBranch' | 'ticketTitle' | 'ticketDescription' | 'ticketByReference' | 'ticketRef'> {
  switch (task.kind) {
    case 'FIX': {
      const ticket =
        task.ticketRef !== null
          ? { ticketByReference: true, ticketRef: task.ticketRef, ticketTitle: null, ticketDescription: null }
          : { ticketByReference: false, ticketRef: null, ticketTitle: task.ticketTitle, ticketDescription: task.ticketDescription };
      return { kind: 'FIX', repoAlias: task.repoAlias, baseRef: task.baseRef, ...ticket };
    }
    case 'REVIEW':
      return 'mergeRequest' in task.target
        ? { kind: 'REVIEW', repoAlias: task.repoAlias, reviewMergeRequest: task.target.mergeRequest }
        : { kind: 'REVIEW', repoAlias: task.repoAlias, reviewBranch: task.target.branch };
    case 'INDEX':
      return { kind: 'INDEX', repoAlias: task.repoAlias, baseRef: task.ref };
    case 'NOOP':
      return { kind: 'NOOP' };
  }
}

/** The columns a dispatched task is read from. */
type DispatchTaskColumns = Pick<
  Job,
  'kind' | 'repoAlias' | 'baseRef' | 'reviewMergeRequest' | 'reviewBranch' | 'ticketTitle' | 'ticketDescription' | 'ticketRef' | 'deliveryJobId' | 'deliveryGeneration'
>;

/** A row `claimQueued` won: the job's new attempt and the columns of its task. */
type ClaimedJobRow = DispatchTaskColumns & { readonly jobId: string; readonly tenantId: string; readonly pool: string | null; readonly attempt: number; readonly createdAt: Date };

const claimsOf = (rows: readonly ClaimedJobRow[]): DispatchClaim[] =>
  rows.map((row) => ({ jobId: row.jobId, tenantId: row.tenantId, pool: row.pool, attempt: row.attempt, task: dispatchTaskOf(row, row.jobId), createdAt: row.createdAt }));

/** The order jobs are claimed and sent in: best priority first, oldest first among equals. */
const BEST_FIRST = Prisma.sql`ORDER BY won."priority" DESC, won."createdAt", won."jobId"`;

/**
 * The CTEs of a claim, ending in `won`: the jobs `picked` selects (rows it locked, a column
 * "id") become DISPATCHED as their next attempt, each with its attempt row and event.
 */
function claimStatement(picked: Prisma.Sql, claim: { readonly workerId: string; readonly leaseExpiresAt: Date; readonly now: Date }): Prisma.Sql {
  return Prisma.sql`picked AS (${picked}
    ), won AS (
      UPDATE "Job" AS j SET "status" = 'DISPATCHED', "currentAttempt" = j."currentAttempt" + 1, "updatedAt" = ${claim.now}::timestamptz
      FROM picked WHERE j."id" = picked."id"
      RETURNING j."id" AS "jobId", j."tenantId", j."pool", j."priority", j."createdAt", j."currentAttempt" AS "attempt", j."kind"::text AS "kind", j."repoAlias", j."baseRef",
                j."reviewMergeRequest", j."reviewBranch", j."ticketTitle", j."ticketDescription", j."ticketRef", j."deliveryJobId", j."deliveryGeneration"
    ), attempts AS (
      INSERT INTO "JobAttempt" ("id", "tenantId", "jobId", "attempt", "workerId", "status", "leaseExpiresAt", "dispatchedAt")
      SELECT gen_random_uuid(), won."tenantId", won."jobId", won."attempt", ${claim.workerId}::uuid, 'DISPATCHED'::"AttemptStatus",
             ${claim.leaseExpiresAt}::timestamptz, ${claim.now}::timestamptz
      FROM won
    ), events AS (
      INSERT INTO "JobEvent" ("tenantId", "jobId", "attempt", "type", "at")
      SELECT won."tenantId", won."jobId", won."attempt", 'DISPATCHED'::"JobEventType", ${claim.now}::timestamptz FROM won
    )`;
}

/**
 * Selects and locks the tenant's best dispatchable queued jobs: per quota, that pool's jobs
 * (the untargeted ones for a null pool) best priority first and oldest first among equals;
 * of all those, the best `max`. `condition` is one more filter (the limits check).
 */
function bestQueued(tenantId: string, quotas: readonly PoolQuota[], max: number, now: Date, condition: Prisma.Sql): Prisma.Sql {
  // unnest cannot carry a NULL pool through a text[] parameter: '' stands for it (no pool label is empty).
  return Prisma.sql`
    SELECT best."id" FROM unnest(${quotas.map((quota) => quota.pool ?? '')}::text[], ${quotas.map((quota) => quota.max)}::int[]) AS q("pool", "quota")
    CROSS JOIN LATERAL (
      SELECT j."id", j."priority", j."createdAt" FROM "Job" AS j
      WHERE j."tenantId" = ${tenantId}::uuid AND j."status" = 'QUEUED'
        AND ((q."pool" = '' AND j."pool" IS NULL) OR j."pool" = q."pool")
        AND (j."notBefore" IS NULL OR j."notBefore" <= ${now}::timestamptz)
        AND ${condition}
      ORDER BY j."priority" DESC, j."createdAt", j."id"
      LIMIT q."quota"
      FOR UPDATE OF j SKIP LOCKED
    ) AS best
    ORDER BY best."priority" DESC, best."createdAt", best."id"
    LIMIT ${max}`;
}

/** The quotas with one entry per pool (the larger of repeats) and none empty. */
function mergedQuotas(quotas: readonly PoolQuota[]): PoolQuota[] {
  const byPool = new Map<string | null, number>();
  for (const quota of quotas) if (quota.max > 0) byPool.set(quota.pool, Math.max(byPool.get(quota.pool) ?? 0, Math.floor(quota.max)));
  return [...byPool].map(([pool, max]) => ({ pool, max }));
}

/** How many more jobs the tenant, and each of the given pools that has a limit, may have dispatched or running now. */
async function runningRoom(tx: DatabaseTransaction, tenantId: string, quotas: readonly PoolQuota[]): Promise<{ tenant: number; pools: Map<string, number> }> {
  const [tenant] = await tx.$queryRaw<{ max: number | null; running: number }[]>`
    SELECT t."maxRunningJobs" AS "max",
           (SELECT count(*)::int FROM "Job" AS j WHERE j."tenantId" = t."id" AND j."status" IN ('DISPATCHED', 'RUNNING')) AS "running"
    FROM "Tenant" AS t WHERE t."id" = ${tenantId}::uuid`;
  const pools = quotas.flatMap((quota) => (quota.pool === null ? [] : [quota.pool]));
  const limits = await tx.$queryRaw<{ pool: string; max: number; running: number }[]>`
    SELECT p."pool", p."maxRunningJobs" AS "max",
           (SELECT count(*)::int FROM "Job" AS j WHERE j."tenantId" = p."tenantId" AND j."pool" = p."pool" AND j."status" IN ('DISPATCHED', 'RUNNING')) AS "running"
    FROM "PoolLimit" AS p WHERE p."tenantId" = ${tenantId}::uuid AND p."pool" = ANY(${pools}::text[])`;
  return {
    tenant: !tenant ? 0 : tenant.max === null ? Infinity : tenant.max - tenant.running,
    pools: new Map(limits.map((limit) => [limit.pool, limit.max - limit.running])),
  };
}

/**
 * The task of a stored job as its instruction carries it. A column a task needs but lacks (a
 * row written by hand, or before it was checked) becomes an empty value, which the
 * instruction's validation refuses, failing the job at dispatch instead of here.
 */
function dispatchTaskOf(job: DispatchTaskColumns, jobId: string): DispatchTask {
  const repoAlias = job.repoAlias ?? '';
  switch (job.kind) {
    case 'FIX':
      return {
        kind: 'FIX',
        repoAlias,
        baseRef: job.baseRef ?? '',
        ticketTitle: job.ticketTitle ?? '',
        ticketDescription: job.ticketDescription ?? '',
        ticketRef: job.ticketRef,
        deliveryJobId: job.deliveryJobId ?? jobId,
        deliveryGeneration: job.deliveryGeneration,
      };
    case 'REVIEW':
      return { kind: 'REVIEW', repoAlias, target: job.reviewMergeRequest !== null ? { mergeRequest: job.reviewMergeRequest } : { branch: job.reviewBranch ?? '' } };
    case 'INDEX':
      return { kind: 'INDEX', repoAlias, ref: job.baseRef ?? '' };
    case 'NOOP':
      return { kind: 'NOOP' };
  }
}

/** The status a job ends in when its current attempt's result has this JobOutcome name. */
export function terminalStatusFor(outcome: string): 'SUCCEEDED' | 'FAILED' | 'CANCELLED' {
  if (outcome === 'JOB_OUTCOME_SUCCEEDED') return 'SUCCEEDED';
  if (outcome === 'JOB_OUTCOME_CANCELLED') return 'CANCELLED';
  return 'FAILED';
}

interface LockedJob {
  readonly tenantId: string;
  /** Null for a task without a repository (noop). */
  readonly repoAlias: string | null;
  readonly pool: string | null;
  readonly createdAt: Date;
  readonly status: JobStatus;
  readonly currentAttempt: number;
  readonly maxAttempts: number;
  readonly cancelRequestedAt: Date | null;
}

/**
 * Locks the job row for the rest of the transaction. Every transition takes this lock
 * first, so transitions on one job are serialised and always lock rows in the same order.
 */
async function lockJob(tx: DatabaseTransaction, jobId: string): Promise<LockedJob | null> {
  const rows = await tx.$queryRaw<LockedJob[]>`
    SELECT "tenantId"::text AS "tenantId", "repoAlias", "pool", "createdAt", "status"::text AS "status", "currentAttempt", "maxAttempts", "cancelRequestedAt"
    FROM "Job" WHERE "id" = ${jobId}::uuid FOR UPDATE`;
  return rows[0] ?? null;
}

const attemptKey = (ref: AttemptRef): string => `${ref.jobId}#${ref.attempt}`;

/** The list without repeats, first occurrence kept: a worker listing an attempt twice owns it once. */
/** The candidates without repeats or non-UUID ids (PostgreSQL would refuse to compare those), first occurrence kept. */
function uniqueCandidates(candidates: readonly QueuedCandidate[]): QueuedCandidate[] {
  const seen = new Set<string>();
  return candidates.filter((candidate) => UUID.test(candidate.jobId) && !seen.has(candidate.jobId) && Boolean(seen.add(candidate.jobId)));
}

const workerAttemptKey = (ref: WorkerAttemptRef): string => `${ref.workerId}#${ref.jobId}#${ref.attempt}`;

function uniqueWorkerAttempts(refs: readonly WorkerAttemptRef[]): WorkerAttemptRef[] {
  const seen = new Set<string>();
  return refs.filter((ref) => !seen.has(workerAttemptKey(ref)) && Boolean(seen.add(workerAttemptKey(ref))));
}

/** A row of an ack `recordAcks` recorded. */
interface AckedAttempt {
  readonly jobId: string;
  readonly attempt: number;
  readonly workerId: string;
  readonly tenantId: string;
}

function uniqueAttempts(attempts: readonly AttemptRef[]): AttemptRef[] {
  const seen = new Set<string>();
  return attempts.flatMap((ref) => {
    const key = attemptKey(ref);
    if (seen.has(key)) return [];
    seen.add(key);
    return [{ jobId: ref.jobId, attempt: ref.attempt }];
  });
}
