import type { DataAccess, HelloRecord, LedgerHeadReport, LedgerHeadVerdict, WorkerConnection, WorkerIdentity, WorkerStanding } from '@airlock/data-access';
import type { Clock } from '../common/clock';
import { GroupCommit } from '../common/group-commit';

/** The most workers one batch of reads or writes takes; a busier gateway takes the rest in the next. */
export const MAX_WORKERS_PER_BATCH = 256;

/**
 * How long a heartbeat's touch waits for others to share its batch. Heartbeats come evenly
 * spread (jittered), so without it nearly each would be a statement of its own; its
 * LeaseRenewal comes this much later, against leases of tens of seconds.
 */
export const HEARTBEAT_LINGER_MS = 20;

/**
 * How often a worker's reported egress-log head is kept as a checkpoint (the latest is kept
 * always): 288 rows a day per worker, each a point its customer can verify the log against.
 */
export const LEDGER_CHECKPOINT_EVERY_MS = 5 * 60_000;

/** The outcome of a handshake step skipped because its worker had gone before the batch ran. */
export const ABANDONED = 'ABANDONED';
export type Abandoned = typeof ABANDONED;

/** A handshake step waiting for its batch: skipped when its worker has gone meanwhile. */
interface HandshakeStep {
  /** True once the stream ended (the worker cancelled or hung up): nothing is done for it any more. */
  readonly abandoned: () => boolean;
}

export type IdentityLookup = HandshakeStep & { readonly workerId: string };
export type HelloToRecord = HandshakeStep & HelloRecord & { readonly workerId: string };

/**
 * The reads and writes of every stream's handshake and heartbeats, each kind batched across
 * streams through a GroupCommit: one statement (or one transaction) for the many Hellos or
 * heartbeats that arrive while the one before runs (heartbeats, also during a short linger),
 * instead of one each. Under a reconnect
 * storm or thousands of heartbeating workers, the statements a round trip to PostgreSQL
 * costs (the driver's and Prisma's CPU, a socket write each) were most of the gateway's work.
 *
 * Handshake steps whose worker gave up while they waited are dropped before their batch
 * runs (counted through `onAbandoned`), so the work goes to the workers still waiting.
 */
export class WorkerBatches {
  private readonly identities: GroupCommit<IdentityLookup, WorkerIdentity | null | Abandoned>;
  private readonly connections: GroupCommit<HelloToRecord, WorkerConnection | Abandoned>;
  private readonly standings: GroupCommit<string, WorkerStanding>;
  private readonly policyRevisions: GroupCommit<string, number>;
  private readonly touches: GroupCommit<string, WorkerStanding>;
  private readonly ledgerHeads: GroupCommit<LedgerHeadReport, LedgerHeadVerdict>;
  private stepsWaiting = 0;
  /** The end of the current heartbeats' linger, shared by every heartbeat that arrives during it. */
  private lingering: Promise<void> | null = null;

  constructor(data: DataAccess, clock: Clock, onAbandoned: (steps: number) => void) {
    this.identities = new GroupCommit(
      skippingAbandoned((lookups) => data.workers.findIdentities(lookups.map((lookup) => lookup.workerId)), onAbandoned),
      MAX_WORKERS_PER_BATCH,
    );
    this.connections = new GroupCommit(
      skippingAbandoned((hellos) => data.workers.markOnlineMany(hellos), onAbandoned),
      MAX_WORKERS_PER_BATCH,
    );
    this.standings = new GroupCommit((workerIds) => data.workers.standings(workerIds), MAX_WORKERS_PER_BATCH);
    this.policyRevisions = new GroupCommit(async (tenantIds) => {
      const distinct = [...new Set(tenantIds)];
      const revisions = await Promise.all(distinct.map((tenantId) => data.policies.currentRevision(tenantId)));
      const byTenant = new Map(distinct.map((tenantId, index) => [tenantId, revisions[index]!]));
      return tenantIds.map((tenantId) => byTenant.get(tenantId)!);
    }, MAX_WORKERS_PER_BATCH);
    this.touches = new GroupCommit((workerIds) => data.workers.touchMany(workerIds, clock.now()), MAX_WORKERS_PER_BATCH);
    this.ledgerHeads = new GroupCommit((reports) => data.workers.recordLedgerHeads(reports, clock.now(), LEDGER_CHECKPOINT_EVERY_MS), MAX_WORKERS_PER_BATCH);
  }

  /** Handshake steps (identity lookups, Hellos to record) submitted and not answered yet. */
  get handshakeStepsWaiting(): number {
    return this.stepsWaiting;
  }

  /** The identity a Hello claims (DataAccess.workers.findIdentities), unless its worker left first. */
  findIdentity(lookup: IdentityLookup): Promise<WorkerIdentity | null | Abandoned> {
    return this.handshakeStep(this.identities.submit(lookup));
  }

  /** Records a Hello whose signature checked out (DataAccess.workers.markOnlineMany), unless its worker left first. */
  markOnline(hello: HelloToRecord): Promise<WorkerConnection | Abandoned> {
    return this.handshakeStep(this.connections.submit(hello));
  }

  /** A registered stream's worker standing, read once more (DataAccess.workers.standings). */
  standing(workerId: string): Promise<WorkerStanding> {
    return this.standings.submit(workerId);
  }

  /**
   * A tenant's current policy revision, so that a worker already holding it is not sent the
   * bundle (and its layers are not read). The read starts after the call (GroupCommit takes
   * only what waits when a batch starts), so a stream registered before a publish's push
   * listed the streams still reads the published revision.
   */
  policyRevision(tenantId: string): Promise<number> {
    return this.policyRevisions.submit(tenantId);
  }

  /** A result or delivery outcome: the worker heard from now, and its standing (DataAccess.workers.touchMany). */
  touch(workerId: string): Promise<WorkerStanding> {
    return this.touches.submit(workerId);
  }

  /**
   * A heartbeat: `touch`, once HEARTBEAT_LINGER_MS have gathered the heartbeats of other
   * streams. Those that waited together are submitted in the same tick, so one batch takes them.
   */
  async heartbeat(workerId: string): Promise<WorkerStanding> {
    this.lingering ??= new Promise<void>((resolve) => {
      setTimeout(() => {
        this.lingering = null;
        resolve();
      }, HEARTBEAT_LINGER_MS).unref();
    });
    await this.lingering;
    return this.touches.submit(workerId);
  }

  /** The egress-log head a heartbeat reported, judged against the one held (DataAccess.workers.recordLedgerHeads). */
  ledgerHead(report: LedgerHeadReport): Promise<LedgerHeadVerdict> {
    return this.ledgerHeads.submit(report);
  }

  private async handshakeStep<Outcome>(outcome: Promise<Outcome>): Promise<Outcome> {
    this.stepsWaiting += 1;
    try {
      return await outcome;
    } finally {
      this.stepsWaiting -= 1;
    }
  }
}

/** A batch's commit that runs only the steps whose worker is still there, and answers ABANDONED for the others. */
function skippingAbandoned<Step extends HandshakeStep, Outcome>(
  commit: (steps: readonly Step[]) => Promise<readonly Outcome[]>,
  onAbandoned: (steps: number) => void,
): (steps: readonly Step[]) => Promise<(Outcome | Abandoned)[]> {
  // A batch that fails is committed again step by step (GroupCommit): a step is counted once.
  const counted = new WeakSet<Step>();
  return async (steps) => {
    // Asked once per step: a worker leaving while the batch runs is answered as any other.
    const alive = steps.map((step) => !step.abandoned());
    const live = steps.filter((_, index) => alive[index]);
    const newlyAbandoned = steps.filter((step, index) => !alive[index] && !counted.has(step));
    newlyAbandoned.forEach((step) => counted.add(step));
    if (newlyAbandoned.length > 0) onAbandoned(newlyAbandoned.length);
    const outcomes = live.length === 0 ? [] : await commit(live);
    let next = 0;
    return steps.map((_, index) => (alive[index] ? (outcomes[next++] as Outcome) : ABANDONED));
  };
}
