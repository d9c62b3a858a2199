import type { JobStatus, Prisma } from '@prisma/client';
import type { DatabaseClient } from '../database-client';

/** A merge request's state as a DeliveryOutcome names it, without the MERGE_REQUEST_STATE_ prefix. */
export type MergeRequestStateName = 'OPEN' | 'MERGED' | 'CLOSED';

/** What a worker reported of a delivered change on the customer's forge (the DeliveryOutcome frame). */
export interface DeliveryOutcomeReport {
  /** The first job of the re-run chain, whose merge request every re-run updates. */
  readonly deliveryJobId: string;
  readonly state: MergeRequestStateName;
  /** Commits on the request's branch that no Airlock attempt made. */
  readonly humanCommits: number;
  readonly reverted: boolean;
  /** Seconds from opening to the first review by a person, meaningful when reviewRounds is above 0. */
  readonly firstReviewAfterS: number;
  readonly reviewRounds: number;
  /** Seconds from opening to merge; 0 unless MERGED. */
  readonly mergedAfterS: number;
  /** The worker stopped watching: the outcome will not change. */
  readonly final: boolean;
  /** A MetadataLevel name; at METADATA_LEVEL_MINIMAL the counts and durations were not sent (0). */
  readonly metadataLevel: string;
}

/** A stored outcome: the last report accepted, who sent it, and when the chain's first and last reports came. */
export interface DeliveryOutcomeView extends DeliveryOutcomeReport {
  readonly workerId: string;
  readonly firstReportedAt: Date;
  readonly updatedAt: Date;
}

/**
 * What became of a report. `RECORDED`: stored (`jobStatus` is the chain's first job's status,
 * for the dashboard's event). `ALREADY_FINAL`: a final outcome is stored and stays.
 * `UNKNOWN_CHAIN`: no first job of a chain by that id in the worker's tenant.
 * `NOT_RUN_BY_WORKER`: no job of that chain ran on the reporting worker, so it cannot know.
 * `OUT_OF_RANGE`: a figure is beyond what any forge could show (more than 2^31 − 1); nothing stored.
 */
export type DeliveryOutcomeRecording =
  | { readonly kind: 'RECORDED'; readonly jobStatus: JobStatus }
  | { readonly kind: 'ALREADY_FINAL' | 'UNKNOWN_CHAIN' | 'NOT_RUN_BY_WORKER' | 'OUT_OF_RANGE' };

/** The largest count or duration a DeliveryOutcome column holds (PostgreSQL integer). */
const MAX_STORED_FIGURE = 2 ** 31 - 1;

export const DELIVERY_OUTCOME_SELECT = {
  deliveryJobId: true,
  workerId: true,
  state: true,
  humanCommits: true,
  reverted: true,
  firstReviewAfterS: true,
  reviewRounds: true,
  mergedAfterS: true,
  final: true,
  metadataLevel: true,
  firstReportedAt: true,
  updatedAt: true,
} as const satisfies Prisma.DeliveryOutcomeSelect;

export function toDeliveryOutcomeView(row: Prisma.DeliveryOutcomeGetPayload<{ select: typeof DELIVERY_OUTCOME_SELECT }>): DeliveryOutcomeView {
  // Only record() writes the column, with one of these names.
  return { ...row, state: row.state as MergeRequestStateName };
}

/**
 * What workers report of the merge requests their chains delivered to: one row per chain,
 * replaced by each later report until one is final. Every query is scoped by the tenant.
 */
export class DeliveryOutcomeRepository {
  constructor(private readonly db: DatabaseClient) {}

  /**
   * Stores a worker's report when the chain's first job is of the worker's tenant and some job
   * of the chain (the first or a re-run) had an attempt that ran on that very worker: only a
   * worker that delivered to the request watches it. A final outcome already stored is kept.
   */
  async record(reporter: { readonly workerId: string; readonly tenantId: string }, report: DeliveryOutcomeReport, now: Date): Promise<DeliveryOutcomeRecording> {
    const { workerId, tenantId } = reporter;
    const { deliveryJobId } = report;
    const figures = [report.humanCommits, report.firstReviewAfterS, report.reviewRounds, report.mergedAfterS];
    if (figures.some((figure) => figure > MAX_STORED_FIGURE)) return { kind: 'OUT_OF_RANGE' };
    const firstJob = await this.db.job.findFirst({ where: { id: deliveryJobId, tenantId, deliveryJobId: null, kind: 'FIX' }, select: { status: true } });
    if (!firstJob) return { kind: 'UNKNOWN_CHAIN' };
    const ranHere = await this.db.jobAttempt.findFirst({
      where: {
        tenantId,
        workerId,
        job: { OR: [{ id: deliveryJobId }, { deliveryJobId }] },
        // An attempt the worker acknowledged or reported on ran there; one it refused did not.
        OR: [{ ackedAt: { not: null } }, { status: { in: ['SUCCEEDED', 'FAILED', 'CANCELLED'] } }],
      },
      select: { id: true },
    });
    if (!ranHere) return { kind: 'NOT_RUN_BY_WORKER' };
    // One statement, so a final outcome stays final even against a report racing it.
    const stored = await this.db.$executeRaw`
      INSERT INTO "DeliveryOutcome" ("deliveryJobId", "tenantId", "workerId", "state", "humanCommits", "reverted", "firstReviewAfterS", "reviewRounds",
                                     "mergedAfterS", "final", "metadataLevel", "firstReportedAt", "updatedAt")
      VALUES (${deliveryJobId}::uuid, ${tenantId}::uuid, ${workerId}::uuid, ${report.state}, ${report.humanCommits}, ${report.reverted}, ${report.firstReviewAfterS},
              ${report.reviewRounds}, ${report.mergedAfterS}, ${report.final}, ${report.metadataLevel}, ${now}, ${now})
      ON CONFLICT ("deliveryJobId") DO UPDATE SET
        "workerId" = EXCLUDED."workerId", "state" = EXCLUDED."state", "humanCommits" = EXCLUDED."humanCommits", "reverted" = EXCLUDED."reverted",
        "firstReviewAfterS" = EXCLUDED."firstReviewAfterS", "reviewRounds" = EXCLUDED."reviewRounds", "mergedAfterS" = EXCLUDED."mergedAfterS",
        "final" = EXCLUDED."final", "metadataLevel" = EXCLUDED."metadataLevel", "updatedAt" = EXCLUDED."updatedAt"
      WHERE NOT "DeliveryOutcome"."final"`;
    return stored === 1 ? { kind: 'RECORDED', jobStatus: firstJob.status } : { kind: 'ALREADY_FINAL' };
  }
}
