import { randomUUID } from 'node:crypto';
import { FailureCode, JobOutcome, Phase, PhaseState, type InstructionPayload__Output, type JobResult__Output, type WorkerFrame__Output } from '@airlock/protocol';
import { CapturedLog } from './captured-log.mock';
import { FakeJobRunner } from './fake-job-runner.mock';
import { LEASE_CONFIRM_WAIT_MS, JobSlots } from './job.slots';
import { LeaseTracker } from './lease.tracker';
import { ManualClock, settle } from './manual-clock.mock';
import { localJobPolicy } from '../policy/local-job-policy.mock';

const JOB_TIMEOUT_MS = 60_000;
const LEASE_TTL_MS = 10_000;

function payload(jobId = randomUUID(), attempt = 1): InstructionPayload__Output {
  return { jobId, attempt, tenantId: randomUUID(), audience: randomUUID(), issuedAtMs: 0, expiresAtMs: 60_000, nonce: Buffer.alloc(16), policyRef: '', noop: {}, task: 'noop' };
}

describe('JobSlots', () => {
  let clock: ManualClock;
  let log: CapturedLog;
  let runner: FakeJobRunner;
  let sent: WorkerFrame__Output[];
  let outbox: JobResult__Output[];
  let outboxFails: boolean;
  let leases: LeaseTracker;
  let heartbeats: number;
  let auditHealthy: boolean;
  let events: string[];
  let slots: JobSlots;

  const results = () => sent.filter((frame) => frame.frame === 'result').map((frame) => frame.result!);

  beforeEach(() => {
    clock = new ManualClock();
    log = new CapturedLog(() => clock.now());
    runner = new FakeJobRunner();
    sent = [];
    outbox = [];
    outboxFails = false;
    leases = new LeaseTracker(
      () => clock.monotonicNow(),
      (ms, callback) => clock.after(ms, callback),
    );
    leases.streamStarted();
    leases.welcomed(LEASE_TTL_MS);
    heartbeats = 0;
    auditHealthy = true;
    events = [];
    slots = new JobSlots({
      capacity: 2,
      jobTimeoutMs: JOB_TIMEOUT_MS,
      jobs: runner,
      outbox: {
        put: (result) => {
          if (outboxFails) throw Object.assign(new Error('no space'), { code: 'ENOSPC' });
          outbox.push(result);
        },
      },
      send: (frame) => sent.push(frame) > 0,
      leases,
      lease: {
        leaseTtlMs: LEASE_TTL_MS,
        heartbeatNow: () => {
          heartbeats += 1;
          leases.heartbeatSent(heartbeats);
        },
      },
      auditHealthy: () => auditHealthy,
      clock,
      logger: log.logger,
      started: () => events.push(`started:${slots.size}`),
      finished: () => events.push(`finished:${slots.size}`),
    });
  });

  it('runs a job in a slot, reports its progress, puts its result in the outbox before sending it, then frees the slot', async () => {
    const job = payload();
    slots.start(job, localJobPolicy());
    expect(slots.size).toBe(1);
    expect(slots.has(job.jobId, 1)).toBe(true);
    expect(slots.refs()).toEqual([{ jobId: job.jobId, attempt: 1 }]);
    expect(sent).toEqual([{ frame: 'progress', progress: { attempt: { jobId: job.jobId, attempt: 1 }, phase: Phase.PHASE_WORKSPACE, state: PhaseState.PHASE_STATE_STARTED } }]);
    runner.job(job.jobId).finish();
    await settle();
    expect(outbox.map((result) => result.outcome)).toEqual([JobOutcome.JOB_OUTCOME_SUCCEEDED]);
    expect(results()).toEqual(outbox);
    expect(slots.size).toBe(0);
    expect(events).toEqual(['started:1', 'finished:0']);
  });

  it('is full at its capacity', () => {
    slots.start(payload(), localJobPolicy());
    expect(slots.isFull).toBe(false);
    slots.start(payload(), localJobPolicy());
    expect(slots.isFull).toBe(true);
  });

  it('aborts a cancelled attempt, which reports CANCELLED; a cancel for an attempt not running here changes nothing', async () => {
    const job = payload();
    slots.start(job, localJobPolicy());
    slots.cancel(randomUUID(), 1);
    slots.cancel(job.jobId, 2);
    expect(slots.size).toBe(1);
    slots.cancel(job.jobId, 1);
    await settle();
    expect(results().map((result) => result.failureCode)).toEqual([FailureCode.CANCELLED]);
    expect(log.events('cancel-received').map((line) => line['running'])).toEqual([false, false, true]);
  });

  it('aborts every job at shutdown (WORKER_SHUTDOWN), and settles once all have left their slots', async () => {
    slots.start(payload(), localJobPolicy());
    slots.start(payload(), localJobPolicy());
    let settled = false;
    void slots.settled().then(() => (settled = true));
    await settle();
    expect(settled).toBe(false);
    slots.abortAll('shutdown');
    await settle();
    expect(settled).toBe(true);
    expect(results().map((result) => result.failureCode)).toEqual([FailureCode.WORKER_SHUTDOWN, FailureCode.WORKER_SHUTDOWN]);
  });

  it('ends a job that runs past limits.jobTimeout as JOB_TIMED_OUT, on the injected clock', async () => {
    slots.start(payload(), localJobPolicy());
    await clock.advance(JOB_TIMEOUT_MS - 1);
    expect(results()).toEqual([]);
    await clock.advance(1);
    expect(results().map((result) => result.failureCode)).toEqual([FailureCode.JOB_TIMED_OUT]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('still sends the result when the outbox cannot store it (a full disk)', async () => {
    outboxFails = true;
    const job = payload();
    slots.start(job, localJobPolicy());
    runner.job(job.jobId).finish();
    await settle();
    expect(results()).toHaveLength(1);
    expect(log.events('result-not-stored')).toHaveLength(1);
  });

  it('frees the slot of a job whose runner threw', async () => {
    runner.crash = true;
    slots.start(payload(), localJobPolicy());
    await settle();
    expect(slots.size).toBe(0);
    expect(log.events('job-crashed')).toHaveLength(1);
    expect(events).toEqual(['started:1', 'finished:0']);
  });

  describe('the lease guard before delivery', () => {
    it('passes at once when a renewal shows at least half a lease left', async () => {
      const job = payload();
      slots.start(job, localJobPolicy());
      leases.renewed(0, [{ jobId: job.jobId, attempt: 1 }]);
      await clock.advance(LEASE_TTL_MS / 2);
      await expect(runner.job(job.jobId).confirmLease(new AbortController().signal)).resolves.toBeUndefined();
      expect(heartbeats).toBe(0);
    });

    it('asks for a renewal with a heartbeat at once when the last one is too old, and passes when it comes', async () => {
      const job = payload();
      slots.start(job, localJobPolicy());
      leases.renewed(0, [{ jobId: job.jobId, attempt: 1 }]);
      await clock.advance(LEASE_TTL_MS / 2 + 1);
      const guard = runner.job(job.jobId).confirmLease(new AbortController().signal);
      expect(heartbeats).toBe(1);
      await clock.advance(200);
      leases.renewed(1, [{ jobId: job.jobId, attempt: 1 }]);
      await expect(guard).resolves.toBeUndefined();
    });

    it(`fails LEASE_UNCONFIRMED when no renewal comes within ${LEASE_CONFIRM_WAIT_MS} ms`, async () => {
      const job = payload();
      slots.start(job, localJobPolicy());
      const guard = runner.job(job.jobId).confirmLease(new AbortController().signal);
      const failed = expect(guard).rejects.toMatchObject({ failureCode: FailureCode.LEASE_UNCONFIRMED });
      await clock.advance(LEASE_CONFIRM_WAIT_MS);
      await failed;
      expect(log.events('lease-unconfirmed')).toEqual([expect.objectContaining({ jobId: job.jobId, failureCode: FailureCode.LEASE_UNCONFIRMED, remainingMs: 0 })]);
    });

    it('fails AUDIT_LOG_UNAVAILABLE instead when the audit log is what kept the heartbeat from leaving', async () => {
      auditHealthy = false;
      const job = payload();
      slots.start(job, localJobPolicy());
      const guard = runner.job(job.jobId).confirmLease(new AbortController().signal);
      const failed = expect(guard).rejects.toMatchObject({ failureCode: FailureCode.AUDIT_LOG_UNAVAILABLE });
      await clock.advance(LEASE_CONFIRM_WAIT_MS);
      await failed;
    });

    it('gives up at once, with the abort, when the job is aborted while it waits', async () => {
      const job = payload();
      slots.start(job, localJobPolicy());
      const aborted = new AbortController();
      const guard = runner.job(job.jobId).confirmLease(aborted.signal);
      aborted.abort('cancelled');
      await expect(guard).rejects.toBe('cancelled');
    });
  });
});
