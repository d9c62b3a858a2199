import type { DataAccess, WorkerIdentity, WorkerStanding } from '@airlock/data-access';
import { ABANDONED, HEARTBEAT_LINGER_MS, WorkerBatches } from './worker-batches';

/** The calls WorkerBatches makes, recorded, answered from `standings` and `revisions`. */
function fakeData(standings: Record<string, WorkerStanding>, revisions: Record<string, number> = {}) {
  const calls = { touchMany: [] as string[][], findIdentities: [] as string[][], currentRevision: [] as string[] };
  const identity = (id: string): WorkerIdentity => ({ id, tenantId: 'tenant', publicKey: Buffer.alloc(32), revoked: false });
  const data = {
    workers: {
      touchMany: async (ids: readonly string[]) => {
        calls.touchMany.push([...ids]);
        return ids.map((id) => standings[id] ?? 'REVOKED');
      },
      findIdentities: async (ids: readonly string[]) => {
        calls.findIdentities.push([...ids]);
        return ids.map((id) => (id in standings ? identity(id) : null));
      },
    },
    policies: {
      currentRevision: async (tenantId: string) => {
        calls.currentRevision.push(tenantId);
        return revisions[tenantId] ?? 0;
      },
    },
  } as unknown as DataAccess;
  return { data, calls };
}

const clock = { now: () => new Date('2030-01-01T00:00:00Z') };

describe('WorkerBatches', () => {
  it("touches the heartbeats that arrive within the linger in one statement, answering each worker's standing", async () => {
    const { data, calls } = fakeData({ a: 'ACTIVE', b: 'DRAINING' });
    const batches = new WorkerBatches(data, clock, () => undefined);
    const started = Date.now();
    const first = batches.heartbeat('a');
    await new Promise((resolve) => setTimeout(resolve, HEARTBEAT_LINGER_MS / 2));
    const standings = await Promise.all([first, batches.heartbeat('b'), batches.heartbeat('gone')]);

    expect(standings).toEqual(['ACTIVE', 'DRAINING', 'REVOKED']);
    expect(calls.touchMany).toEqual([['a', 'b', 'gone']]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(HEARTBEAT_LINGER_MS - 1);
  });

  it('drops a handshake step whose worker left before its batch ran, counting it once', async () => {
    const { data, calls } = fakeData({ a: 'ACTIVE', b: 'ACTIVE' });
    const abandoned: number[] = [];
    const batches = new WorkerBatches(data, clock, (steps) => abandoned.push(steps));
    const [kept, dropped] = await Promise.all([
      batches.findIdentity({ workerId: 'a', abandoned: () => false }),
      batches.findIdentity({ workerId: 'b', abandoned: () => true }),
    ]);

    expect(kept).toMatchObject({ id: 'a' });
    expect(dropped).toBe(ABANDONED);
    expect(calls.findIdentities).toEqual([['a']]);
    expect(abandoned).toEqual([1]);
    expect(batches.handshakeStepsWaiting).toBe(0);
  });

  it('reads the policy revision of each tenant of a batch once', async () => {
    const { data, calls } = fakeData({}, { t1: 3, t2: 7 });
    const batches = new WorkerBatches(data, clock, () => undefined);
    const revisions = await Promise.all(['t1', 't2', 't1', 't1'].map((tenantId) => batches.policyRevision(tenantId)));

    expect(revisions).toEqual([3, 7, 3, 3]);
    expect(calls.currentRevision.sort()).toEqual(['t1', 't2']);
  });
});
