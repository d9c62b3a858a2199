import { randomUUID } from 'node:crypto';
import type { ClaimOutcome, ClaimRequest, DataAccess } from '@airlock/data-access';
import { generateSigningKeyPair } from '@airlock/envelope';
import type { ControlFrame } from '@airlock/protocol';
import type { AppConfig } from '../config/app-config';
import { ControlPlaneMetrics } from '../metrics/control-plane.metrics';
import type { SigningKeyService } from '../signing/signing-key.service';
import { BatchDispatch } from './batch-dispatch';
import { InProcessJobDispatcher } from './in-process-job-dispatcher';
import type { DispatchableJob } from './job-dispatcher';
import { WorkerSessionRegistry, type WorkerSessionHandle } from './worker-session.registry';

const tenantId = randomUUID();
const signer = generateSigningKeyPair();

type ClaimInput = Pick<ClaimRequest, 'tenantId' | 'workerId' | 'quotas' | 'max'>;

/** A queued job as the fake database holds it. */
interface StoredJob {
  readonly jobId: string;
  readonly tenantId: string;
  readonly pool: string | null;
  readonly priority: number;
  readonly createdAtMs: number;
}

const bestFirst = (a: StoredJob, b: StoredJob) => b.priority - a.priority || a.createdAtMs - b.createdAtMs || a.jobId.localeCompare(b.jobId);

/**
 * The database's side of a claim, as `claimNext` decides it: per quota the best queued jobs
 * of its pool, the best `max` of those. Each claim waits until the test releases it, so
 * enqueues can interleave; `limitedTenants` answer as a tenant at its running-jobs limit.
 */
class ControlledJobs {
  readonly queued = new Map<string, StoredJob>();
  readonly claimed: string[] = [];
  readonly limitedTenants = new Set<string>();
  /** Every claim, in the order they were made, with how many claims had finished when it was made. */
  readonly batches: (ClaimInput & { finishedBefore: number })[] = [];
  private finished = 0;
  private readonly pending: Array<() => void> = [];

  /** Stores a queued job and returns it as the dispatcher is told of it. */
  store(createdAtMs: number, options: { tenantId?: string; pool?: string | null; priority?: number } = {}): DispatchableJob {
    const stored = { jobId: randomUUID(), tenantId: options.tenantId ?? tenantId, pool: options.pool ?? null, priority: options.priority ?? 5, createdAtMs };
    this.queued.set(stored.jobId, stored);
    return { jobId: stored.jobId, tenantId: stored.tenantId, pool: stored.pool, currentAttempt: 0 };
  }

  claimNext = async (input: ClaimInput): Promise<ClaimOutcome> => {
    this.batches.push({ ...input, finishedBefore: this.finished });
    await new Promise<void>((resolve) => this.pending.push(resolve));
    this.finished += 1;
    if (this.limitedTenants.has(input.tenantId)) return { claims: [], limited: true };
    const candidates = input.quotas.flatMap((quota) =>
      [...this.queued.values()]
        .filter((job) => job.tenantId === input.tenantId && job.pool === quota.pool)
        .sort(bestFirst)
        .slice(0, quota.max),
    );
    const won = candidates.sort(bestFirst).slice(0, input.max);
    for (const job of won) {
      this.queued.delete(job.jobId);
      this.claimed.push(job.jobId);
    }
    return { claims: won.map((job) => ({ jobId: job.jobId, tenantId: job.tenantId, pool: job.pool, attempt: 1, task: { kind: 'NOOP' as const }, createdAt: new Date(job.createdAtMs) })), limited: false };
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

function session(credits: number, ofTenant = tenantId, labels: string[] = []): WorkerSessionHandle & { sent: ControlFrame[] } {
  const sent: ControlFrame[] = [];
  return {
    workerId: randomUUID(),
    tenantId: ofTenant,
    credits,
    labels,
    pool: null,
    draining: false,
    policyRevision: 0,
    sent,
    send: (frame) => sent.push(frame) > 0,
    close: () => undefined,
    revoke: async () => undefined,
  };
}

/** A dispatcher over the given fake job repository and a real session registry. */
function dispatcherOver(jobs: object, registry: WorkerSessionRegistry): InProcessJobDispatcher {
  const data = { jobs } as unknown as DataAccess;
  const batches = new BatchDispatch(
    data,
    { currentSigner: () => ({ keyId: signer.keyId, privateKeyPem: signer.privateKeyPem }) } as unknown as SigningKeyService,
    { leaseTtlMs: 30_000, instructionTtlMs: 600_000 } as AppConfig,
    { now: () => new Date(1_700_000_000_000) },
    { publish: () => undefined, subscribe: () => () => undefined },
    new ControlPlaneMetrics(),
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

    const younger = jobs.store(2_000);
    const older = jobs.store(1_000); // committed later than `younger`, but created first
    dispatcher.enqueue(younger);
    await new Promise((resolve) => setImmediate(resolve)); // the claim for `younger` is now in flight
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
    dispatcher.enqueue(jobs.store(1_000));
    dispatcher.enqueue(jobs.store(2_000));
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
    const broken = randomUUID();
    const jobs = {
      // A job stored before creation validated its instruction: a fix task with no ticket title.
      claimNext: async (): Promise<ClaimOutcome> => ({
        claims: [{ jobId: broken, tenantId, pool: null, attempt: 1, task: { kind: 'FIX', repoAlias: 'demo', baseRef: 'main', ticketTitle: '', ticketDescription: '', ticketRef: null, deliveryJobId: broken, deliveryGeneration: 0 }, createdAt: new Date(1_700_000_000_000) }],
        limited: false,
      }),
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
    dispatcher.enqueue({ jobId: broken, tenantId, pool: null, currentAttempt: 0 });
    await dispatcher.stop(); // waits for the pump in flight

    expect(rejections).toEqual([{ jobId: broken, attempt: 1, failureCode: 'INSTRUCTION_MALFORMED' }]);
    expect(worker.sent).toEqual([]);
    expect(worker.credits).toBe(1);
  });

  it("claims up to the worker's credits with one statement, best priority first, then oldest", async () => {
    const jobs = new ControlledJobs();
    const registry = new WorkerSessionRegistry();
    const worker = session(3);
    const dispatcher = dispatcherOver(jobs, registry);
    const queued = [jobs.store(4_000), jobs.store(1_000), jobs.store(3_000, { priority: 9 }), jobs.store(2_000), jobs.store(5_000)];
    for (const entry of queued) dispatcher.enqueue(entry);
    registry.register(worker);
    dispatcher.capacityAvailable();
    await jobs.releaseAll();

    expect(jobs.batches.map((batch) => [batch.max, batch.quotas])).toEqual([[3, [{ pool: null, max: 3 }]]]);
    expect(jobs.claimed).toEqual([queued[2]!.jobId, queued[1]!.jobId, queued[3]!.jobId]);
    expect(worker.sent).toHaveLength(3);
    expect(worker.credits).toBe(0);
  });

  it('asks for a pool only of a worker that serves it', async () => {
    const jobs = new ControlledJobs();
    const registry = new WorkerSessionRegistry();
    const dispatcher = dispatcherOver(jobs, registry);
    const [gpuJob, anyJob] = [jobs.store(1_000, { pool: 'gpu' }), jobs.store(2_000)];
    dispatcher.enqueue(gpuJob);
    dispatcher.enqueue(anyJob);
    const plain = session(4);
    registry.register(plain);
    dispatcher.capacityAvailable();
    await jobs.releaseAll();
    expect(jobs.batches.map((batch) => batch.quotas)).toEqual([[{ pool: null, max: 1 }]]);
    expect(jobs.claimed).toEqual([anyJob.jobId]);

    const gpu = session(4, tenantId, ['gpu']);
    registry.register(gpu);
    dispatcher.capacityAvailable();
    await jobs.releaseAll();
    expect(jobs.batches[1]).toMatchObject({ workerId: gpu.workerId, quotas: [{ pool: 'gpu', max: 1 }] });
    expect(gpu.sent).toHaveLength(1);
  });

  it("serves a tenant's single job in the first round while another tenant has thousands queued", async () => {
    const jobs = new ControlledJobs();
    const registry = new WorkerSessionRegistry();
    const [busyTenant, quietTenant] = [randomUUID(), randomUUID()];
    const [busyWorker, quietWorker] = [session(8, busyTenant), session(1, quietTenant)];
    const dispatcher = dispatcherOver(jobs, registry);
    for (let index = 0; index < 10_000; index += 1) dispatcher.enqueue(jobs.store(index, { tenantId: busyTenant }));
    dispatcher.enqueue(jobs.store(20_000, { tenantId: quietTenant }));
    registry.register(busyWorker);
    registry.register(quietWorker);
    dispatcher.capacityAvailable();
    await jobs.releaseAll();

    expect(jobs.batches.map((batch) => [batch.tenantId, batch.max, batch.finishedBefore])).toEqual([
      [busyTenant, 8, 0],
      [quietTenant, 1, 0],
    ]);
    expect(quietWorker.sent).toHaveLength(1);
  });

  it("delays a tenant's job by at most the one dispatch in flight when another tenant's burst is being served", async () => {
    const jobs = new ControlledJobs();
    const registry = new WorkerSessionRegistry();
    const [busyTenant, quietTenant] = [randomUUID(), randomUUID()];
    const [busyWorker, quietWorker] = [session(10_000, busyTenant), session(1, quietTenant)];
    registry.register(busyWorker);
    registry.register(quietWorker);
    const dispatcher = dispatcherOver(jobs, registry);
    for (let index = 0; index < 10_000; index += 1) dispatcher.enqueue(jobs.store(index, { tenantId: busyTenant }));
    dispatcher.enqueue(jobs.store(20_000, { tenantId: quietTenant }));
    await jobs.releaseAll();

    const quietBatch = jobs.batches.find((batch) => batch.tenantId === quietTenant);
    expect(quietBatch?.finishedBefore).toBeLessThanOrEqual(1);
    expect(quietWorker.sent).toHaveLength(1);
    expect(busyWorker.sent).toHaveLength(10_000);
  });

  it('passes over a tenant at its running-jobs limit until the next capacity event, serving the others', async () => {
    const jobs = new ControlledJobs();
    const registry = new WorkerSessionRegistry();
    const [limitedTenant, otherTenant] = [randomUUID(), randomUUID()];
    jobs.limitedTenants.add(limitedTenant);
    const [limitedWorker, otherWorker] = [session(4, limitedTenant), session(4, otherTenant)];
    registry.register(limitedWorker);
    registry.register(otherWorker);
    const dispatcher = dispatcherOver(jobs, registry);
    const held = jobs.store(1_000, { tenantId: limitedTenant });
    dispatcher.enqueue(held);
    dispatcher.enqueue(jobs.store(2_000, { tenantId: otherTenant }));
    await jobs.releaseAll();
    // One try each, no spinning on the limited tenant.
    expect(jobs.batches.map((batch) => batch.tenantId).sort()).toEqual([limitedTenant, otherTenant].sort());
    expect([limitedWorker.sent.length, limitedWorker.credits, otherWorker.sent.length]).toEqual([0, 4, 1]);

    // A job of the tenant ended: room again, and the job it held back goes.
    jobs.limitedTenants.delete(limitedTenant);
    dispatcher.capacityAvailable();
    await jobs.releaseAll();
    expect(jobs.claimed).toContain(held.jobId);
    expect(limitedWorker.sent).toHaveLength(1);
  });

  it('forgets the jobs a claim found no longer queued, and claims nothing more for them', async () => {
    const jobs = new ControlledJobs();
    const registry = new WorkerSessionRegistry();
    const worker = session(8);
    registry.register(worker);
    const dispatcher = dispatcherOver(jobs, registry);
    const queued = [jobs.store(1_000), jobs.store(2_000), jobs.store(3_000)];
    // Claimed elsewhere, or cancelled, before this dispatcher got to them.
    jobs.queued.delete(queued[1]!.jobId);
    jobs.queued.delete(queued[2]!.jobId);
    for (const entry of queued) dispatcher.enqueue(entry);
    await jobs.releaseAll();
    expect(jobs.claimed).toEqual([queued[0]!.jobId]);
    const claims = jobs.batches.length;

    dispatcher.capacityAvailable();
    await jobs.releaseAll();
    expect(jobs.batches).toHaveLength(claims);
    expect(worker.credits).toBe(7);
  });

  it('keeps the jobs when a claim fails, and sends nothing', async () => {
    let calls = 0;
    const claimed: number[] = [];
    const jobs = {
      claimNext: async (input: ClaimInput): Promise<ClaimOutcome> => {
        calls += 1;
        if (calls === 1) throw Object.assign(new Error('connection refused'), { name: 'DatabaseUnavailable' });
        claimed.push(input.max);
        return { claims: Array.from({ length: input.max }, () => ({ jobId: randomUUID(), tenantId, pool: null, attempt: 1, task: { kind: 'NOOP' as const }, createdAt: new Date(1_700_000_000_000) })), limited: false };
      },
      listQueued: async () => [],
    };
    const registry = new WorkerSessionRegistry();
    const worker = session(2);
    const dispatcher = dispatcherOver(jobs, registry);
    dispatcher.enqueue({ jobId: randomUUID(), tenantId, pool: null, currentAttempt: 0 });
    dispatcher.enqueue({ jobId: randomUUID(), tenantId, pool: null, currentAttempt: 0 });
    registry.register(worker);
    dispatcher.capacityAvailable();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect([calls, worker.sent.length, worker.credits]).toEqual([1, 0, 2]);

    dispatcher.capacityAvailable();
    await dispatcher.stop();
    expect(claimed).toEqual([2]);
    expect(worker.sent).toHaveLength(2);
  });

  it('holds a job that backs off out of the queue until its time, then dispatches it', async () => {
    const jobs = new ControlledJobs();
    const registry = new WorkerSessionRegistry();
    const worker = session(2);
    registry.register(worker);
    const dispatcher = dispatcherOver(jobs, registry);
    const backingOff = { ...jobs.store(1_000), currentAttempt: 1, notBefore: new Date(1_700_000_000_000 + 100) };
    dispatcher.enqueue(backingOff);
    dispatcher.enqueue(backingOff); // a repeat while it waits is the same job
    await jobs.releaseAll();
    expect(jobs.batches).toEqual([]);

    await new Promise((resolve) => setTimeout(resolve, 150));
    await jobs.releaseAll();
    expect(jobs.claimed).toEqual([backingOff.jobId]);
    await dispatcher.stop();
  });
});
