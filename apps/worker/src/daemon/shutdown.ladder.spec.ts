import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import type { JobResult__Output } from '@airlock/protocol';
import { CapturedLog } from './captured-log.mock';
import { DAEMON_EXIT_CODES, type DaemonExit } from './daemon.exit';
import { ManualClock, settle } from './manual-clock.mock';
import { ShutdownLadder, type ShutdownLimits } from './shutdown.ladder';
import { WorkerIdentityRefusedError } from './worker-identity-refused.error';
import { WorkerLifecycle } from './worker-lifecycle';

const LIMITS: ShutdownLimits = { shutdownGrace: 60_000, resultAckWait: 5_000, abortGrace: 10_000 };

/** Running jobs as the ladder sees them: each ends when the test says, or (if it honours aborts) when aborted. */
class FakeSlots {
  private readonly jobs = new Set<{ end: () => void; honoursAbort: boolean }>();
  private readonly done: Array<Promise<void>> = [];
  aborted: string[] = [];

  get size(): number {
    return this.jobs.size;
  }

  /** Starts a job; a job that does not honour aborts hangs until `end` is called. */
  start(honoursAbort = true): () => void {
    let end!: () => void;
    const job = { end: () => end(), honoursAbort };
    this.done.push(new Promise<void>((resolve) => (end = resolve)).then(() => void this.jobs.delete(job)));
    this.jobs.add(job);
    return () => job.end();
  }

  abortAll(reason: string): void {
    this.aborted.push(reason);
    for (const job of this.jobs) if (job.honoursAbort) job.end();
  }

  async settled(): Promise<void> {
    await Promise.all(this.done);
  }
}

describe('ShutdownLadder', () => {
  let clock: ManualClock;
  let log: CapturedLog;
  let lifecycle: WorkerLifecycle;
  let slots: FakeSlots;
  let pending: JobResult__Output[];
  let connected: boolean;
  let exits: DaemonExit[];
  let ladder: ShutdownLadder;

  const unacked = { attempt: { jobId: randomUUID(), attempt: 1 } } as JobResult__Output;

  beforeEach(() => {
    clock = new ManualClock();
    log = new CapturedLog(() => clock.now());
    lifecycle = new WorkerLifecycle();
    lifecycle.transition('READY');
    lifecycle.transition('RUNNING');
    slots = new FakeSlots();
    pending = [];
    connected = true;
    exits = [];
    ladder = new ShutdownLadder({ lifecycle, slots, outbox: { pending: () => pending }, connected: () => connected, limits: LIMITS, clock, logger: log.logger, ended: (exit) => exits.push(exit) });
  });

  it('drains on the first signal: no new work, running jobs finish, then exit 0', async () => {
    const end = slots.start();
    ladder.request('SIGTERM');
    expect(lifecycle.state).toBe('DRAINING');
    expect(lifecycle.acceptsWork).toBe(false);
    await clock.advance(30_000);
    expect(exits).toEqual([]);
    end();
    await settle();
    expect(exits).toEqual([{ exitCode: DAEMON_EXIT_CODES.drained }]);
    expect(lifecycle.state).toBe('STOPPED');
    expect(slots.aborted).toEqual([]);
  });

  it('waits up to limits.resultAckWait for the last results to be acknowledged, while connected', async () => {
    pending = [unacked];
    ladder.request('SIGTERM');
    await clock.advance(4_000);
    expect(exits).toEqual([]);
    pending = []; // the ResultAck came
    await clock.advance(100);
    expect(exits).toEqual([{ exitCode: DAEMON_EXIT_CODES.drained }]);
  });

  it('exits 0 after limits.resultAckWait even if results stay unacknowledged (they stay in the outbox)', async () => {
    pending = [unacked];
    ladder.request('SIGTERM');
    await clock.advance(LIMITS.resultAckWait - 100);
    expect(exits).toEqual([]);
    await clock.advance(100);
    expect(exits).toEqual([{ exitCode: DAEMON_EXIT_CODES.drained }]);
  });

  it('does not wait for acks that cannot come (disconnected)', async () => {
    pending = [unacked];
    connected = false;
    ladder.request('SIGTERM');
    await settle();
    expect(exits).toEqual([{ exitCode: DAEMON_EXIT_CODES.drained }]);
  });

  it('aborts the jobs and exits 130 when the drain deadline (limits.shutdownGrace) passes', async () => {
    slots.start();
    ladder.request('SIGTERM');
    await clock.advance(LIMITS.shutdownGrace - 1);
    expect(slots.aborted).toEqual([]);
    await clock.advance(1);
    expect(slots.aborted).toEqual(['shutdown']);
    expect(log.events('drain-deadline-passed')).toHaveLength(1);
    expect(exits).toEqual([{ exitCode: DAEMON_EXIT_CODES.forced }]);
  });

  it('aborts the jobs and exits 130 on a second signal, even while the drain waits for acks', async () => {
    slots.start();
    pending = [unacked];
    ladder.request('SIGTERM');
    ladder.request('SIGINT');
    await settle();
    expect(slots.aborted).toEqual(['shutdown']);
    await clock.advance(LIMITS.resultAckWait);
    expect(exits).toEqual([{ exitCode: DAEMON_EXIT_CODES.forced }]);
    expect(lifecycle.state).toBe('STOPPED');
    expect(log.events('shutdown-requested').map((line) => line['count'])).toEqual([1, 2]);
  });

  it('exits 130 after limits.abortGrace when an aborted job does not end', async () => {
    slots.start(false);
    ladder.request('SIGTERM');
    ladder.request('SIGTERM');
    await clock.advance(LIMITS.abortGrace - 1);
    expect(exits).toEqual([]);
    await clock.advance(1);
    expect(exits).toEqual([{ exitCode: DAEMON_EXIT_CODES.forced }]);
  });

  it('treats a Drain from the control plane as the first signal, and ignores it after one', async () => {
    ladder.drainRequested();
    expect(lifecycle.state).toBe('DRAINING');
    ladder.drainRequested();
    expect(log.events('shutdown-requested')).toHaveLength(1);
    await settle();
    expect(exits).toEqual([{ exitCode: DAEMON_EXIT_CODES.drained }]);
  });

  it('takes the fatal path on an unexpected error: FAILED, jobs aborted, exit 1 naming the error', async () => {
    slots.start();
    ladder.fail(new TypeError('cannot read properties of undefined'));
    expect(lifecycle.state).toBe('FAILED');
    expect(slots.aborted).toEqual(['shutdown']);
    await settle();
    expect(exits).toHaveLength(1);
    expect(exits[0]?.exitCode).toBe(DAEMON_EXIT_CODES.failed);
    expect(exits[0]?.failure).toMatch(/failed unexpectedly.*TypeError: cannot read properties of undefined/s);
    expect(log.events('fatal')).toEqual([expect.objectContaining({ level: 'error', exitCode: 1, error: { name: 'TypeError', message: 'cannot read properties of undefined' } })]);
  });

  it('stops with exit 5 and what to do when the control plane keeps refusing the worker', async () => {
    const workerId = randomUUID();
    ladder.fail(new WorkerIdentityRefusedError(workerId, status.UNAUTHENTICATED, 10));
    await settle();
    expect(exits).toEqual([{ exitCode: DAEMON_EXIT_CODES.identityRefused, failure: expect.stringMatching(new RegExp(`${workerId}.*enroll`)) as unknown }]);
    expect(lifecycle.state).toBe('FAILED');
  });

  it('fails a drain in progress: the failure, not the drain, decides the exit', async () => {
    const end = slots.start(false);
    ladder.request('SIGTERM');
    ladder.fail(new Error('bug'));
    end();
    await clock.advance(LIMITS.resultAckWait);
    expect(exits.map((exit) => exit.exitCode)).toEqual([DAEMON_EXIT_CODES.failed]);
  });

  it('only logs an error after the daemon stopped, and a second one while failing', async () => {
    ladder.request('SIGTERM');
    await settle();
    ladder.fail(new Error('late'));
    ladder.request('SIGTERM');
    await settle();
    expect(exits).toEqual([{ exitCode: DAEMON_EXIT_CODES.drained }]);
    expect(log.events('error-after-stop')).toHaveLength(1);
    expect(lifecycle.state).toBe('STOPPED');
  });
});
