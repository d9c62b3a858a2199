/** A job that became dispatchable: created, or requeued after a lost lease. */
export interface DispatchableJob {
  readonly jobId: string;
  readonly tenantId: string;
  /** The worker pool it is targeted at; null: any worker of the tenant. */
  readonly pool: string | null;
  /** The attempt the job is at now (a requeued job's is the one that ended): with the id, what makes one enqueue unique. */
  readonly currentAttempt: number;
  /** Not to be dispatched before this (its attempts back off); absent or null: at once. */
  readonly notBefore?: Date | null;
}

/**
 * The seam between "a job is queued" and "a connected worker with a credit gets it". The
 * in-process adapter serves the single-process default; a NATS JetStream adapter will
 * distribute jobs among replicas behind the same interface.
 */
export interface JobDispatcher {
  /** Rebuilds the queue from the database (QUEUED jobs) at start. */
  start(): Promise<void>;
  /**
   * Enqueues every job PostgreSQL holds as QUEUED that the queue lacks, and returns how
   * many it saw. PostgreSQL is the record and the queue only a cache of it, so a job the
   * queue lost (a crash between commit and enqueue, a bug) is dispatched all the same.
   */
  resync(): Promise<number>;
  /** A job was created or requeued. */
  enqueue(job: DispatchableJob): void;
  /** A worker's stream gained credits or came online: try to hand it work. */
  capacityAvailable(): void;
  stop(): Promise<void>;
}

/** Nest injection token for JobDispatcher. */
export const JOB_DISPATCHER = Symbol('JOB_DISPATCHER');
