import type { PolicyMode, PolicyScope, RevisionLayer } from '@airlock/data-access';
import { LIMIT_CEILINGS } from '@airlock/policy';
import { CentralJobLimits } from './central-job-limits';

const TENANT = '7d0c1b9e-3f52-4c4f-9a51-2f0f6c1e8a01';
const POLICY = 'c2a8e4f1-6b7d-4e0a-8f3c-5d9e1a2b3c4d';

const layer = (scope: PolicyScope, key: string, mode: PolicyMode, rules: Record<string, unknown>, version = 1): RevisionLayer => ({
  scope,
  key,
  mode,
  policyId: POLICY,
  version,
  document: { schemaVersion: 1, rules },
});

/** Revisions as the repository would answer them, counting the reads. */
class StoredRevisions {
  readonly reads: string[] = [];
  constructor(private readonly revisions: Map<number, RevisionLayer[]>) {}

  publish(revision: number, layers: RevisionLayer[]): void {
    this.revisions.set(revision, layers);
  }

  revisionLayers(tenantId: string, revision: number): Promise<RevisionLayer[] | null> {
    this.reads.push(`${tenantId}#${revision}`);
    return Promise.resolve(tenantId === TENANT ? (this.revisions.get(revision) ?? null) : null);
  }
}

const noLogs = { warn: () => undefined };
const plainWorker = { labels: [], pool: null };
const CEILINGS = { filesChanged: LIMIT_CEILINGS.filesChanged, linesChanged: LIMIT_CEILINGS.linesChanged, jobTokens: LIMIT_CEILINGS.jobTokens };

describe('CentralJobLimits', () => {
  it('merges the enforce layers that reach the worker, each limit at the strictest', async () => {
    const stored = new StoredRevisions(
      new Map([
        [
          1,
          [
            layer('TENANT', '', 'ENFORCE', { 'max-files-changed': { max: 3 }, 'inference-token-budget': { max: 50_000 }, secrets: { enabled: true } }),
            layer('POOL', 'gpu', 'ENFORCE', { 'max-files-changed': { max: 8 }, 'max-lines-changed': { max: 200, level: 'advisory' } }),
          ],
        ],
      ]),
    );
    const limits = await new CentralJobLimits(stored, noLogs).forWorker(TENANT, 1, { labels: ['gpu'], pool: null });
    // A looser pool limit does not widen the tenant's; an advisory central limit still binds (a worker's own is mandatory).
    expect(limits?.('web')).toEqual({ filesChanged: 3, linesChanged: 200, jobTokens: 50_000 });
  });

  it('binds a pool layer only on workers of that pool, by label or by enrollment', async () => {
    const stored = new StoredRevisions(new Map([[1, [layer('POOL', 'gpu', 'ENFORCE', { 'max-files-changed': { max: 2 } })]]]));
    const jobLimits = new CentralJobLimits(stored, noLogs);
    expect((await jobLimits.forWorker(TENANT, 1, { labels: ['gpu'], pool: null }))?.('web').filesChanged).toBe(2);
    expect((await jobLimits.forWorker(TENANT, 1, { labels: [], pool: 'gpu' }))?.('web').filesChanged).toBe(2);
    expect((await jobLimits.forWorker(TENANT, 1, { labels: ['cpu'], pool: 'eu' }))?.('web')).toEqual(CEILINGS);
  });

  it('does not bind by a shadow layer, and binds by a repository layer only jobs on that repository', async () => {
    const stored = new StoredRevisions(
      new Map([
        [
          1,
          [
            layer('TENANT', '', 'SHADOW', { 'max-files-changed': { max: 1 }, 'inference-token-budget': { max: 1_000 } }),
            layer('REPOSITORY', 'billing', 'ENFORCE', { 'max-lines-changed': { max: 40 } }),
          ],
        ],
      ]),
    );
    const limits = await new CentralJobLimits(stored, noLogs).forWorker(TENANT, 1, plainWorker);
    expect(limits?.('web')).toEqual(CEILINGS);
    expect(limits?.(null)).toEqual(CEILINGS);
    expect(limits?.('billing')).toEqual({ ...CEILINGS, linesChanged: 40 });
  });

  it('gives nothing for revision 0 without reading, nor for a revision the tenant never reached, which it reads again later', async () => {
    const stored = new StoredRevisions(new Map());
    const jobLimits = new CentralJobLimits(stored, noLogs);
    expect(await jobLimits.forWorker(TENANT, 0, plainWorker)).toBeUndefined();
    expect(stored.reads).toEqual([]);
    expect(await jobLimits.forWorker(TENANT, 2, plainWorker)).toBeUndefined();
    stored.publish(2, [layer('TENANT', '', 'ENFORCE', { 'max-files-changed': { max: 4 } })]);
    expect((await jobLimits.forWorker(TENANT, 2, plainWorker))?.(null).filesChanged).toBe(4);
    expect(stored.reads).toEqual([`${TENANT}#2`, `${TENANT}#2`]);
  });

  it('reads a revision once, shares a read in flight, and forgets the least recently used past its capacity', async () => {
    const stored = new StoredRevisions(
      new Map([1, 2, 3].map((revision) => [revision, [layer('TENANT', '', 'ENFORCE', { 'max-files-changed': { max: revision } }, revision)]])),
    );
    const jobLimits = new CentralJobLimits(stored, noLogs, 2);
    const [first, second] = await Promise.all([jobLimits.forWorker(TENANT, 1, plainWorker), jobLimits.forWorker(TENANT, 1, plainWorker)]);
    expect([first?.(null).filesChanged, second?.(null).filesChanged]).toEqual([1, 1]);
    await jobLimits.forWorker(TENANT, 2, plainWorker);
    await jobLimits.forWorker(TENANT, 1, plainWorker); // 1 is now the most recently used
    await jobLimits.forWorker(TENANT, 3, plainWorker); // evicts 2
    await jobLimits.forWorker(TENANT, 1, plainWorker);
    await jobLimits.forWorker(TENANT, 2, plainWorker);
    expect(stored.reads).toEqual([1, 2, 3, 2].map((revision) => `${TENANT}#${revision}`));
  });

  it("never lends one tenant's revision to another", async () => {
    const stored = new StoredRevisions(new Map([[1, [layer('TENANT', '', 'ENFORCE', { 'max-files-changed': { max: 3 } })]]]));
    const jobLimits = new CentralJobLimits(stored, noLogs);
    expect(await jobLimits.forWorker(TENANT, 1, plainWorker)).toBeDefined();
    expect(await jobLimits.forWorker('0b6f4f7e-8a89-4d5e-9a0c-1c2d3e4f5a6b', 1, plainWorker)).toBeUndefined();
  });

  it('falls back to the ceilings, and says so, when a stored document no longer reads', async () => {
    const warnings: unknown[] = [];
    const stored = new StoredRevisions(new Map([[1, [layer('TENANT', '', 'ENFORCE', { 'max-files-changed': { max: 0 } })]]]));
    expect(await new CentralJobLimits(stored, { warn: (entry: unknown) => warnings.push(entry) }).forWorker(TENANT, 1, plainWorker)).toBeUndefined();
    expect(warnings).toEqual([expect.objectContaining({ event: 'policy_revision_unreadable', revision: 1 })]);
  });
});
