import { Injectable } from '@nestjs/common';
import type { ControlFrame } from '@airlock/protocol';

/** What the dispatcher needs from one worker's open, authenticated stream. */
export interface WorkerSessionHandle {
  readonly workerId: string;
  readonly tenantId: string;
  /** Instructions the worker still accepts on this stream. Never sent beyond. */
  credits: number;
  /** The pools in the worker's Hello: with `pool`, which pool layers of central policy reach it. */
  readonly labels: readonly string[];
  /** The pool its enrollment token named (null: none); its pool layers reach it like those of its labels. */
  readonly pool: string | null;
  /**
   * An admin drains the worker: it keeps running what it holds and is given nothing new.
   * Read from the database at the Hello and every heartbeat; set at once by a drain here.
   */
  draining: boolean;
  /**
   * The newest central policy revision the worker holds or was sent on this stream (its
   * Hello's to begin with). A bundle is sent only for a newer revision.
   */
  policyRevision: number;
  /** Writes a frame; false when the stream is already closed. */
  send(frame: ControlFrame): boolean;
  /** Ends the stream, e.g. because a newer stream of the same worker replaced it. */
  close(reason: string): void;
  /**
   * Ends the stream because an admin revoked the worker (PERMISSION_DENIED with
   * WORKER_REVOKED_REFUSAL), and resolves once the frame it was handling, if any, is done:
   * after that nothing from this stream changes the database.
   */
  revoke(): Promise<void>;
}

/** A change in which workers' streams this process holds: it began to hold one, or holds none any more. */
export type WorkerSessionChange = 'registered' | 'unregistered';

/** Told of every WorkerSessionChange, synchronously; must not throw. */
export type WorkerSessionListener = (change: WorkerSessionChange, workerId: string) => void;

/** The authenticated worker streams this process holds, one per worker. */
@Injectable()
export class WorkerSessionRegistry {
  private readonly sessions = new Map<string, WorkerSessionHandle>();
  private readonly listeners = new Set<WorkerSessionListener>();
  /** Database writes sessions started on their own (a closing stream marking its worker offline). */
  private readonly pendingWrites = new Set<Promise<unknown>>();

  /** Registers a session, closing any older stream of the same worker. */
  register(session: WorkerSessionHandle): void {
    const previous = this.sessions.get(session.workerId);
    this.sessions.set(session.workerId, session);
    this.notify('registered', session.workerId);
    previous?.close('superseded by a newer stream of the same worker');
  }

  /** Removes the session; false when a newer stream had already replaced it. */
  unregister(session: WorkerSessionHandle): boolean {
    if (this.sessions.get(session.workerId) !== session) return false;
    this.sessions.delete(session.workerId);
    this.notify('unregistered', session.workerId);
    return true;
  }

  /**
   * Tells the listener which workers' streams this process holds, so that commands for a
   * worker can be routed to the replica holding it: first 'registered' for every stream held
   * now (streams may open before the listener's owner starts), then each change as it
   * happens. 'registered' repeats when a newer stream of a worker replaces the older one;
   * 'unregistered' comes only once no stream of the worker is left. Returns the function
   * that stops the listener.
   */
  onChange(listener: WorkerSessionListener): () => void {
    this.listeners.add(listener);
    for (const workerId of this.sessions.keys()) listener('registered', workerId);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Ends the worker's stream on this process, if it has one, as revoked; resolves once nothing more from it is processed. */
  async revoke(workerId: string): Promise<boolean> {
    const session = this.sessions.get(workerId);
    if (!session) return false;
    await session.revoke();
    return true;
  }

  /** Starts or ends the drain of the worker's stream on this process, if it has one; false when it has none. */
  setDraining(workerId: string, draining: boolean): boolean {
    const session = this.sessions.get(workerId);
    if (!session) return false;
    session.draining = draining;
    return true;
  }

  /** The streams on this process that take work and have credits left. */
  withCredits(): WorkerSessionHandle[] {
    return [...this.sessions.values()].filter((session) => !session.draining && session.credits > 0);
  }

  /** How many streams this process holds, and the credits of those that take work (not draining): what the metrics show. */
  counts(): { readonly streams: number; readonly freeCredits: number } {
    let freeCredits = 0;
    for (const session of this.sessions.values()) if (!session.draining) freeCredits += session.credits;
    return { streams: this.sessions.size, freeCredits };
  }

  /** The tenant's open streams on this process. */
  sessionsOfTenant(tenantId: string): WorkerSessionHandle[] {
    return [...this.sessions.values()].filter((session) => session.tenantId === tenantId);
  }

  /** The worker's open stream on this process, if any. */
  sessionOf(workerId: string): WorkerSessionHandle | undefined {
    return this.sessions.get(workerId);
  }

  isOpen(session: WorkerSessionHandle): boolean {
    return this.sessions.get(session.workerId) === session;
  }

  /**
   * Keeps hold of a write a session started without anyone awaiting it, so that shutdown
   * can wait for it: a write still queued for a connection when the database closes would
   * hold its transaction open, and the pool would never finish closing.
   */
  track(write: Promise<unknown>): void {
    const settled = write.then(
      () => undefined,
      () => undefined,
    );
    this.pendingWrites.add(settled);
    void settled.then(() => this.pendingWrites.delete(settled));
  }

  /** Resolves once every tracked write has settled, those started meanwhile included. */
  async writesSettled(): Promise<void> {
    while (this.pendingWrites.size > 0) await Promise.all([...this.pendingWrites]);
  }

  private notify(change: WorkerSessionChange, workerId: string): void {
    for (const listener of this.listeners) listener(change, workerId);
  }
}
