/**
 * Commands for particular workers, sent from wherever a REST call or a sweep decides them to
 * the replica that holds the worker's stream. The single-process default applies them to the
 * streams of this process (InProcessFleetCommands); with several replicas they travel over
 * core NATS (NatsFleetCommands) and the replica holding the stream applies them. Every
 * command is idempotent, so sending one twice, or to a worker that just moved to another
 * replica, does no harm. A command that reaches no stream resolves false rather than
 * failing: the database already holds what it carries out.
 */
export interface FleetCommands {
  /**
   * Tells the worker to stop an attempt (Cancel). Resolves true when a replica held the
   * worker's stream and sent it, false when none did (the worker then learns it from the
   * answer to its next heartbeat, or the lease runs out).
   */
  cancelAttempt(workerId: string, attempt: { readonly jobId: string; readonly attempt: number }): Promise<boolean>;
  /**
   * Starts or ends the drain of the worker's stream, wherever it is held (the database holds
   * the drain already; a stream reads it at its Hello and every heartbeat). True when a
   * replica held the stream.
   */
  setDraining(workerId: string, draining: boolean): Promise<boolean>;
  /**
   * Ends the worker's stream as revoked, wherever it is held, and resolves once the frame it
   * was handling is done: after that nothing from it changes the database. True when a
   * replica held the stream.
   */
  revoke(workerId: string): Promise<boolean>;
  /**
   * Has every replica send the tenant's current policy bundle to the tenant's workers it
   * holds that are behind; resolves with how many the calling replica sent (the others do
   * not report back).
   */
  pushPolicy(tenantId: string): Promise<number>;
}

/** Nest injection token for FleetCommands. */
export const FLEET_COMMANDS = Symbol('FLEET_COMMANDS');
