import { randomUUID } from 'node:crypto';
import type { DataAccess } from '@airlock/data-access';
import { generateSigningKeyPair } from '@airlock/envelope';
import type { ControlFrame } from '@airlock/protocol';
import type { AppConfig } from '../config/app-config';
import type { SigningKeyService } from '../signing/signing-key.service';
import { InProcessJobDispatcher } from './in-process-job-dispatcher';
import type { DispatchableJob } from './job-dispatcher';
import { WorkerSessionRegistry, type WorkerSessionHandle } from './worker-session.registry';

const tenantId = randomUUID();
const signer = generateSigningKeyPair();

/** Claims succeed once per job, each after the test releases it, so enqueues can interleave. */
class ControlledJobs {
  readonly claimed: string[] = [];
  private readonly pending: Array<() => void> = [];

  claimForDispatch = async (input: { jobId: string; expectedCurrentAttempt: number }) => {
    await new Promise<void>((resolve) => this.pending.push(resolve));
    if (this.claimed.includes(input.jobId)) return null;
    this.claimed.push(input.jobId);
    return { jobId: input.jobId, tenantId, attempt: input.expectedCurrentAttempt + 1, task: { kind: 'NOOP' as const } };
  };

  listQueued = async () => [];

  /** Lets every claim waiting so far finish, then yields so the dispatcher moves on. */
  async releaseAll(): Promise<void> {
    while (this.pending.length > 0) {
      this.pending.splice(0).forEach((release) => release());
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}

function session(credits: number): WorkerSessionHandle & { sent: ControlFrame[] } {
  const sent: ControlFrame[] = [];
  return {
    workerId: randomUUID(),
    tenantId,
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

const job = (createdAtMs: number): DispatchableJob => ({ jobId: randomUUID(), tenantId, currentAttempt: 0, createdAt: new Date(createdAtMs) });

/** A dispatcher over the given fake job repository and a real session registry. */
function dispatcherOver(jobs: object, registry: WorkerSessionRegistry): InProcessJobDispatcher {
  return new InProcessJobDispatcher(
    { jobs } as unknown as DataAccess,
    registry,
    { currentSigner: () => ({ keyId: signer.keyId, privateKeyPem: signer.privateKeyPem }) } as unknown as SigningKeyService,
    { leaseTtlMs: 30_000, instructionTtlMs: 600_000 } as AppConfig,
    { now: () => new Date(1_700_000_000_000) },
    { publish: () => undefined, subscribe: () => () => undefined },
  );
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
      claimForDispatch: async (input: { jobId: string; expectedCurrentAttempt: number }) => ({
        jobId: input.jobId,
        tenantId,
        attempt: input.expectedCurrentAttempt + 1,
        task: { kind: 'FIX' as const, repoAlias: 'demo', baseRef: 'main', ticketTitle: '', ticketDescription: '' },
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
    const broken = job(1_000);
    dispatcher.enqueue(broken);
    await dispatcher.stop(); // waits for the pump in flight

    expect(rejections).toEqual([{ jobId: broken.jobId, attempt: 1, failureCode: 'INSTRUCTION_MALFORMED' }]);
    expect(worker.sent).toEqual([]);
    expect(worker.credits).toBe(1);
  });
});
