import { randomUUID } from 'node:crypto';
import type { DataAccess } from '@airlock/data-access';
import { generateSigningKeyPair } from '@airlock/envelope';
import type { ControlFrame } from '@airlock/protocol';
import type { AppConfig } from '../config/app-config';
import type { SigningKeyService } from '../signing/signing-key.service';
import { BatchDispatch } from './batch-dispatch';
import { InProcessJobDispatcher } from './in-process-job-dispatcher';
import type { DispatchableJob } from './job-dispatcher';
import { WorkerSessionRegistry, type WorkerSessionHandle } from './worker-session.registry';

const tenantId = randomUUID();
const signer = generateSigningKeyPair();

interface ClaimInput {
  readonly tenantId: string;
  readonly workerId: string;
  readonly candidates: readonly { jobId: string; expectedCurrentAttempt: number }[];
}

/** Claims succeed once per job, each batch after the test releases it, so enqueues can interleave. */
class ControlledJobs {
  readonly claimed: string[] = [];
  /** Every claim statement, in the order they were made, with how many claims had finished when it was made. */
  readonly batches: (ClaimInput & { finishedBefore: number })[] = [];
  private finished = 0;
  private readonly pending: Array<() => void> = [];

  claimQueued = async (input: ClaimInput) => {
    this.batches.push({ ...input, finishedBefore: this.finished });
    await new Promise<void>((resolve) => this.pending.push(resolve));
    this.finished += 1;
    return input.candidates.flatMap((candidate) => {
      if (this.claimed.includes(candidate.jobId)) return [];
      this.claimed.push(candidate.jobId);
      return [{ jobId: candidate.jobId, tenantId: input.tenantId, attempt: candidate.expectedCurrentAttempt + 1, task: { kind: 'NOOP' as const } }];
    });
  };

  listQueued = async () => [];

  /** Lets every claim waiting so far finish, then yields so the dispatcher moves on, until none is waiting. */
  async releaseAll(): Promise<void> {
    do {
      await new Promise((resolve) => setImmediate(resolve));
      this.pending.splice(0).forEach((release) => release());
      await new Promise((resolve) => setImmediate(resolve));
    } while (this.pending.length > 0);
  }
}

function session(credits: number, ofTenant = tenantId): WorkerSessionHandle & { sent: ControlFrame[] } {
  const sent: ControlFrame[] = [];
  return {
    workerId: randomUUID(),
    tenantId: ofTenant,
    credits,
    labels: [],
    pool: null,
    draining: false,
    policyRevision: 0,
    sent,
    send: (frame) => sent.push(frame) > 0,
    close: () => undefined,
    revoke: async () => undefined,
  };
}

const job = (createdAtMs: number, ofTenant = tenantId): DispatchableJob => ({ jobId: randomUUID(), tenantId: ofTenant, currentAttempt: 0, createdAt: new Date(createdAtMs) });

/** A dispatcher over the given fake job repository and a real session registry. */
function dispatcherOver(jobs: object, registry: WorkerSessionRegistry): InProcessJobDispatcher {
  const data = { jobs } as unknown as DataAccess;
  const batches = new BatchDispatch(
    data,
    { currentSigner: () => ({ keyId: signer.keyId, privateKeyPem: signer.privateKeyPem }) } as unknown as SigningKeyService,
    { leaseTtlMs: 30_000, instructionTtlMs: 600_000 } as AppConfig,
    { now: () => new Date(1_700_000_000_000) },
    { publish: () => undefined, subscribe: () => () => undefined },
  );
  return new InProcessJobDispatcher(data, registry, batches, { now: () => new Date(1_700_000_000_000) });
}

describe('InProcessJobDispatcher', () => {
  it('dispatches a job enqueued mid-dispatch even when it sorts before the job in flight', async () => {
    const jobs = new ControlledJobs();
    const registry = new WorkerSessionRegistry();
    const worker = session(8);
    registry.register(worker);
    const dispatcher = dispatcherOver(jobs, registry);

    const younger = job(2_000);
    const older = job(1_000); // committed later than `younger`, but created first
    dispatcher.enqueue(younger);
    await new Promise((resolve) => setImmediate(resolve)); // the claim of `younger` is now in flight
    dispatcher.enqueue(older);
    await jobs.releaseAll();

    expect(jobs.claimed.sort()).toEqual([younger.jobId, older.jobId].sort());
    expect(worker.sent).toHaveLength(2);
    expect(worker.credits).toBe(6);
  });

  it('gives a draining worker nothing, whatever its credits, and another worker the job', async () => {
    const jobs = new ControlledJobs();
    const registry = new WorkerSessionRegistry();
    const draining = { ...session(8), draining: true };
    const other = session(1);
    registry.register(draining);
    registry.register(other);
    const dispatcher = dispatcherOver(jobs, registry);
    dispatcher.enqueue(job(1_000));
    dispatcher.enqueue(job(2_000));
    await jobs.releaseAll();
    expect([draining.sent.length, draining.credits]).toEqual([0, 8]);
    expect(other.sent).toHaveLength(1);

    registry.setDraining(draining.workerId, false);
    dispatcher.capacityAvailable();
    await jobs.releaseAll();
    expect(draining.sent).toHaveLength(1);
  });

  it('fails a claimed job whose instruction can never be valid instead of sending or retrying it', async () => {
    const rejections: { jobId: string; attempt: number; failureCode: string }[] = [];
    const jobs = {
      // A job stored before creation validated its instruction: a fix task with no ticket title.
      claimQueued: async (input: ClaimInput) =>
        input.candidates.map((candidate) => ({
          jobId: candidate.jobId,
          tenantId,
          attempt: candidate.expectedCurrentAttempt + 1,
          task: { kind: 'FIX' as const, repoAlias: 'demo', baseRef: 'main', ticketTitle: '', ticketDescription: '' },
        })),
      recordRejection: async (ref: { jobId: string; attempt: number }, failureCode: string) => {
        rejections.push({ jobId: ref.jobId, attempt: ref.attempt, failureCode });
        return true;
      },
      listQueued: async () => [],
    };
    const registry = new WorkerSessionRegistry();
    const worker = session(1);
    registry.register(worker);
    const dispatcher = dispatcherOver(jobs, registry);
    const broken = job(1_000);
    dispatcher.enqueue(broken);
    await dispatcher.stop(); // waits for the pump in flight

    expect(rejections).toEqual([{ jobId: broken.jobId, attempt: 1, failureCode: 'INSTRUCTION_MALFORMED' }]);
    expect(worker.sent).toEqual([]);
    expect(worker.credits).toBe(1);
  });

  it('claims up to the worker\'s credits with one statement, oldest jobs first', async () => {
    const jobs = new ControlledJobs();
    const registry = new WorkerSessionRegistry();
    const worker = session(3);
    const dispatcher = dispatcherOver(jobs, registry);
    const queued = [job(4_000), job(1_000), job(3_000), job(2_000), job(5_000)];
    for (const entry of queued) dispatcher.enqueue(entry);
    registry.register(worker);
    dispatcher.capacityAvailable();
    await jobs.releaseAll();

    expect(jobs.batches).toHaveLength(1);
    expect(jobs.batches[0]!.candidates.map((candidate) => candidate.jobId)).toEqual([queued[1]!.jobId, queued[3]!.jobId, queued[2]!.jobId]);
    expect(worker.sent).toHaveLength(3);
    expect(worker.credits).toBe(0);
  });

  it('serves a tenant\'s single job in the first round while another tenant has thousands queued', async () => {
    const jobs = new ControlledJobs();
    const registry = new WorkerSessionRegistry();
    const [busyTenant, quietTenant] = [randomUUID(), randomUUID()];
    const [busyWorker, quietWorker] = [session(8, busyTenant), session(1, quietTenant)];
    const dispatcher = dispatcherOver(jobs, registry);
    for (let index = 0; index < 10_000; index += 1) dispatcher.enqueue(job(index, busyTenant));
    const single = job(20_000, quietTenant);
    dispatcher.enqueue(single);
    registry.register(busyWorker);
    registry.register(quietWorker);
    dispatcher.capacityAvailable();
    await jobs.releaseAll();

    expect(jobs.batches.map((batch) => [batch.tenantId, batch.candidates.length, batch.finishedBefore])).toEqual([
      [busyTenant, 8, 0],
      [quietTenant, 1, 0],
    ]);
    expect(quietWorker.sent).toHaveLength(1);
  });

  it('delays a tenant\'s job by at most the one dispatch in flight when another tenant\'s burst is being served', async () => {
    const jobs = new ControlledJobs();
    const registry = new WorkerSessionRegistry();
    const [busyTenant, quietTenant] = [randomUUID(), randomUUID()];
    const [busyWorker, quietWorker] = [session(10_000, busyTenant), session(1, quietTenant)];
    registry.register(busyWorker);
    registry.register(quietWorker);
    const dispatcher = dispatcherOver(jobs, registry);
    for (let index = 0; index < 10_000; index += 1) dispatcher.enqueue(job(index, busyTenant));
    dispatcher.enqueue(job(20_000, quietTenant));
    await jobs.releaseAll();

    const quietBatch = jobs.batches.find((batch) => batch.tenantId === quietTenant);
    expect(quietBatch?.finishedBefore).toBeLessThanOrEqual(1);
    expect(quietWorker.sent).toHaveLength(1);
    expect(busyWorker.sent).toHaveLength(10_000);
  });

  it('puts a batch back in line when its claim fails, and sends nothing', async () => {
    let calls = 0;
    const claimed: string[][] = [];
    const jobs = {
      claimQueued: async (input: ClaimInput) => {
        calls += 1;
        if (calls === 1) throw Object.assign(new Error('connection refused'), { name: 'DatabaseUnavailable' });
        claimed.push(input.candidates.map((candidate) => candidate.jobId));
        return input.candidates.map((candidate) => ({ jobId: candidate.jobId, tenantId, attempt: 1, task: { kind: 'NOOP' as const } }));
      },
      listQueued: async () => [],
    };
    const registry = new WorkerSessionRegistry();
    const worker = session(2);
    const dispatcher = dispatcherOver(jobs, registry);
    const [first, second] = [job(1_000), job(2_000)];
    dispatcher.enqueue(first!);
    dispatcher.enqueue(second!);
    registry.register(worker);
    dispatcher.capacityAvailable();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect([calls, worker.sent.length, worker.credits]).toEqual([1, 0, 2]);

    dispatcher.capacityAvailable();
    await dispatcher.stop();
    expect(claimed).toEqual([[first!.jobId, second!.jobId]]);
    expect(worker.sent).toHaveLength(2);
  });

  it('holds a job that backs off out of the queue until its time, then dispatches it', async () => {
    const jobs = new ControlledJobs();
    const registry = new WorkerSessionRegistry();
    const worker = session(2);
    registry.register(worker);
    const dispatcher = dispatcherOver(jobs, registry);
    const backingOff = { ...job(1_000), currentAttempt: 1, notBefore: new Date(1_700_000_000_000 + 100) };
    dispatcher.enqueue(backingOff);
    dispatcher.enqueue(backingOff); // a repeat while it waits is the same job
    await jobs.releaseAll();
    expect(jobs.batches).toEqual([]);

    await new Promise((resolve) => setTimeout(resolve, 150));
    await jobs.releaseAll();
    expect(jobs.batches.map((batch) => batch.candidates)).toEqual([[{ jobId: backingOff.jobId, expectedCurrentAttempt: 1 }]]);
    await dispatcher.stop();
  });
});
