import { LeaseTracker } from './lease.tracker';

const JOB = '6f0e8a52-4d4c-4c1e-9d6b-3a1f2b3c4d5e';

describe('LeaseTracker', () => {
  let nowMs: number;
  let leases: LeaseTracker;

  beforeEach(() => {
    nowMs = 1_000;
    leases = new LeaseTracker(() => nowMs);
    leases.streamStarted();
    leases.welcomed(10_000);
    for (const attempt of [1, 2, 3]) leases.track(JOB, attempt);
  });

  it('shows no lease for an attempt nothing renewed', () => {
    expect(leases.remainingMs(JOB, 1)).toBe(0);
  });

  it('counts a renewal from when the heartbeat was sent, not from when the answer came', () => {
    leases.heartbeatSent(1);
    nowMs += 4_000; // the answer took 4 s (a slow path, or a pause)
    expect(leases.renewed(1, [{ jobId: JOB, attempt: 1 }])).toBe(true);
    expect(leases.remainingMs(JOB, 1)).toBe(6_000);
  });

  it('lets the Hello (heartbeat 0) renew the attempts it listed', () => {
    nowMs += 100;
    leases.renewed(0, [{ jobId: JOB, attempt: 2 }]);
    expect(leases.remainingMs(JOB, 2)).toBe(9_900);
  });

  it('shows the lease ran out after a pause longer than the lease', () => {
    leases.heartbeatSent(1);
    leases.renewed(1, [{ jobId: JOB, attempt: 1 }]);
    nowMs += 10_001; // SIGSTOP: the monotonic clock kept counting
    expect(leases.remainingMs(JOB, 1)).toBe(0);
  });

  it('ignores a renewal for a heartbeat this stream never sent, or one already answered', () => {
    expect(leases.renewed(7, [{ jobId: JOB, attempt: 1 }])).toBe(false);
    leases.heartbeatSent(1);
    leases.heartbeatSent(2);
    leases.renewed(2, [{ jobId: JOB, attempt: 1 }]);
    // Heartbeat 1 was sent earlier; an answer to it after 2's proves nothing new.
    expect(leases.renewed(1, [{ jobId: JOB, attempt: 3 }])).toBe(false);
    expect(leases.remainingMs(JOB, 3)).toBe(0);
  });

  it('forgets the old stream: a renewal numbered like one of its heartbeats proves nothing on the new one', () => {
    leases.heartbeatSent(1);
    leases.streamStarted();
    leases.welcomed(10_000);
    expect(leases.renewed(1, [{ jobId: JOB, attempt: 1 }])).toBe(false);
  });

  it('ignores renewals of attempts not running here, so a control plane cannot grow the map', () => {
    leases.heartbeatSent(1);
    leases.renewed(1, [{ jobId: JOB, attempt: 9 }]);
    expect(leases.remainingMs(JOB, 9)).toBe(0);
  });

  it('shows no lease once the attempt is forgotten', () => {
    leases.heartbeatSent(1);
    leases.renewed(1, [{ jobId: JOB, attempt: 1 }]);
    leases.forget(JOB, 1);
    leases.heartbeatSent(2);
    leases.renewed(2, [{ jobId: JOB, attempt: 1 }]);
    expect(leases.remainingMs(JOB, 1)).toBe(0);
  });

  it('does not count renewals before the Welcome said how long a lease lasts', () => {
    leases.streamStarted();
    expect(leases.renewed(0, [{ jobId: JOB, attempt: 1 }])).toBe(false);
  });

  it('wakes a waiter as soon as a renewal shows enough lease, and times out otherwise', async () => {
    const signal = new AbortController().signal;
    leases.heartbeatSent(1);
    const waiting = leases.waitForLease(JOB, 1, 5_000, 60_000, signal);
    leases.renewed(1, [{ jobId: JOB, attempt: 1 }]);
    await expect(waiting).resolves.toBe(true);
    await expect(leases.waitForLease(JOB, 9, 5_000, 10, signal)).resolves.toBe(false);
  });

  it('stops waiting when the job is aborted', async () => {
    const controller = new AbortController();
    const waiting = leases.waitForLease(JOB, 1, 5_000, 60_000, controller.signal);
    controller.abort();
    await expect(waiting).resolves.toBe(false);
  });
});
