import { createHash } from 'node:crypto';
import pg from 'pg';
import { createDatabase, startPostgresCluster, type PostgresCluster } from '@airlock/testing';
import { openDataAccess, type DataAccess } from './data-access';
import { GENESIS_AUDIT_HASH, auditEntryHash, canonicalJson, type AuditActor } from './repositories/admin-audit.repository';
import type { LayerSetCheck, PolicySlot } from './repositories/policy.repository';
import { parsePostgresUrl } from './postgres/postgres-connection';

jest.setTimeout(60_000);

let cluster: PostgresCluster;
let data: DataAccess;
let sql: pg.Client;

beforeAll(async () => {
  cluster = await startPostgresCluster();
  const url = await createDatabase(cluster.url, 'policy_audit_it');
  data = await openDataAccess({ kind: 'url', url });
  sql = new pg.Client(parsePostgresUrl(url));
  await sql.connect();
});

afterAll(async () => {
  await sql?.end();
  await data?.close();
  await cluster?.stop();
});

let tenantCounter = 0;

async function tenantWithAdmin(): Promise<{ tenantId: string; actor: AuditActor }> {
  tenantCounter += 1;
  const tenant = await data.tenants.create(`policy-audit-${tenantCounter}`);
  const token = await data.apiTokens.create({ tenantId: tenant.id, name: 'ops admin', scopes: ['policy:write'], tokenHash: tenantCounter.toString(16).padStart(64, 'a') });
  return { tenantId: tenant.id, actor: { kind: 'API_TOKEN', id: token.id, name: 'ops admin', sourceIp: '127.0.0.1' } };
}

const documentWith = (max: number) => ({ schemaVersion: 1, rules: { 'max-files-changed': { max } } });
const TENANT_ENFORCE: PolicySlot = { scope: 'TENANT', key: '', mode: 'ENFORCE' };
const acceptAll: LayerSetCheck = () => undefined;

async function createdPolicy(tenantId: string, actor: AuditActor, name = 'baseline'): Promise<string> {
  const created = await data.policies.create({ tenantId, name, document: documentWith(10), actor, now: new Date() });
  if (created.kind !== 'CREATED') throw new Error(`policy ${name} not created`);
  return created.policy.id;
}

describe('policies', () => {
  it('numbers versions 1..n per policy and keeps each as written', async () => {
    const { tenantId, actor } = await tenantWithAdmin();
    const policyId = await createdPolicy(tenantId, actor);
    const second = await data.policies.addVersion({ tenantId, policyId, document: documentWith(20), comment: 'looser', actor, now: new Date() });
    expect(second).toMatchObject({ kind: 'CREATED', version: { number: 2, comment: 'looser', authorName: 'ops admin', document: documentWith(20) } });
    const detail = await data.policies.find(tenantId, policyId);
    expect(detail?.versions.map((version) => version.number)).toEqual([1, 2]);
    expect(detail?.latestVersion).toBe(2);
    expect((await data.policies.findVersion(tenantId, policyId, 1))?.document).toEqual(documentWith(10));
  });

  it('refuses a second policy of the same name in a tenant, not in another', async () => {
    const { tenantId, actor } = await tenantWithAdmin();
    await createdPolicy(tenantId, actor, 'same');
    expect(await data.policies.create({ tenantId, name: 'same', document: documentWith(1), actor, now: new Date() })).toEqual({ kind: 'NAME_TAKEN' });
    const other = await tenantWithAdmin();
    expect((await data.policies.create({ tenantId: other.tenantId, name: 'same', document: documentWith(1), actor: other.actor, now: new Date() })).kind).toBe('CREATED');
  });

  it("answers another tenant's policy, version and layers as not found", async () => {
    const owner = await tenantWithAdmin();
    const stranger = await tenantWithAdmin();
    const policyId = await createdPolicy(owner.tenantId, owner.actor);
    expect(await data.policies.find(stranger.tenantId, policyId)).toBeNull();
    expect(await data.policies.findVersion(stranger.tenantId, policyId, 1)).toBeNull();
    expect(await data.policies.addVersion({ tenantId: stranger.tenantId, policyId, document: documentWith(1), comment: null, actor: stranger.actor, now: new Date() })).toEqual({
      kind: 'POLICY_NOT_FOUND',
    });
    const publish = { policyId, version: 1, slot: TENANT_ENFORCE, now: new Date(), check: acceptAll };
    expect(await data.policies.publish({ ...publish, tenantId: stranger.tenantId, actor: stranger.actor })).toEqual({ kind: 'VERSION_NOT_FOUND' });
    expect(await data.policies.current(stranger.tenantId)).toEqual({ revision: 0, layers: [] });
  });

  it('refuses UPDATE and DELETE of a version in the database itself', async () => {
    const { tenantId, actor } = await tenantWithAdmin();
    const policyId = await createdPolicy(tenantId, actor);
    await expect(sql.query(`UPDATE "PolicyVersion" SET "document" = '{}' WHERE "policyId" = $1`, [policyId])).rejects.toThrow(/immutable/);
    await expect(sql.query(`DELETE FROM "PolicyVersion" WHERE "policyId" = $1`, [policyId])).rejects.toThrow(/immutable/);
  });

  it('counts a revision per publish and withdraw, and keeps what each revision contained', async () => {
    const { tenantId, actor } = await tenantWithAdmin();
    const policyId = await createdPolicy(tenantId, actor);
    await data.policies.addVersion({ tenantId, policyId, document: documentWith(5), comment: null, actor, now: new Date() });
    const pool: PolicySlot = { scope: 'POOL', key: 'gpu', mode: 'SHADOW' };
    const first = await data.policies.publish({ tenantId, policyId, version: 1, slot: TENANT_ENFORCE, actor, now: new Date(), check: acceptAll });
    const second = await data.policies.publish({ tenantId, policyId, version: 2, slot: pool, actor, now: new Date(), check: acceptAll });
    const third = await data.policies.publish({ tenantId, policyId, version: 2, slot: TENANT_ENFORCE, actor, now: new Date(), check: acceptAll });
    expect([first, second, third].map((outcome) => (outcome.kind === 'PUBLISHED' ? outcome.revision : null))).toEqual([1, 2, 3]);
    const withdrawn = await data.policies.withdraw({ tenantId, slot: pool, actor, now: new Date() });
    expect(withdrawn).toEqual({ kind: 'WITHDRAWN', revision: 4, withdrawn: { ...pool, policyId, version: 2 } });
    expect(await data.policies.withdraw({ tenantId, slot: pool, actor, now: new Date() })).toEqual({ kind: 'LAYER_NOT_FOUND' });

    const current = await data.policies.current(tenantId);
    expect(current.revision).toBe(4);
    expect(current.layers).toEqual([expect.objectContaining({ ...TENANT_ENFORCE, policyId, version: 2, revision: 3, document: documentWith(5) })]);
    expect(await data.policies.findRevision(tenantId, 2)).toMatchObject({
      change: 'PUBLISHED',
      ...pool,
      version: 2,
      layers: [
        { ...TENANT_ENFORCE, policyId, version: 1 },
        { ...pool, policyId, version: 2 },
      ],
    });
    expect(await data.policies.findRevision(tenantId, 4)).toMatchObject({ change: 'WITHDRAWN', version: 2, layers: [{ ...TENANT_ENFORCE, policyId, version: 2 }] });
  });

  it("reads the layers of any revision with their versions' documents, and nothing for a revision not reached", async () => {
    const { tenantId, actor } = await tenantWithAdmin();
    const policyId = await createdPolicy(tenantId, actor);
    await data.policies.addVersion({ tenantId, policyId, document: documentWith(5), comment: null, actor, now: new Date() });
    const pool: PolicySlot = { scope: 'POOL', key: 'gpu', mode: 'ENFORCE' };
    await data.policies.publish({ tenantId, policyId, version: 1, slot: TENANT_ENFORCE, actor, now: new Date(), check: acceptAll });
    await data.policies.publish({ tenantId, policyId, version: 2, slot: pool, actor, now: new Date(), check: acceptAll });
    await data.policies.withdraw({ tenantId, slot: pool, actor, now: new Date() });
    await data.policies.withdraw({ tenantId, slot: TENANT_ENFORCE, actor, now: new Date() });

    expect(await data.policies.revisionLayers(tenantId, 1)).toEqual([{ ...TENANT_ENFORCE, policyId, version: 1, document: documentWith(10) }]);
    expect(await data.policies.revisionLayers(tenantId, 2)).toEqual([
      { ...TENANT_ENFORCE, policyId, version: 1, document: documentWith(10) },
      { ...pool, policyId, version: 2, document: documentWith(5) },
    ]);
    // Everything withdrawn: the revision exists, with no layer.
    expect(await data.policies.revisionLayers(tenantId, 4)).toEqual([]);
    expect(await data.policies.revisionLayers(tenantId, 5)).toBeNull();
    expect(await data.policies.revisionLayers(tenantId, 0)).toBeNull();
    const stranger = await tenantWithAdmin();
    expect(await data.policies.revisionLayers(stranger.tenantId, 2)).toBeNull();
  });

  it('rolls a publish back, revision and audit entry included, when the layer check refuses it', async () => {
    const { tenantId, actor } = await tenantWithAdmin();
    const policyId = await createdPolicy(tenantId, actor);
    const refuse: LayerSetCheck = (layers) => {
      throw new Error(`refused ${layers.length} layer(s)`);
    };
    await expect(data.policies.publish({ tenantId, policyId, version: 1, slot: TENANT_ENFORCE, actor, now: new Date(), check: refuse })).rejects.toThrow('refused 1 layer(s)');
    expect(await data.policies.current(tenantId)).toEqual({ revision: 0, layers: [] });
    expect((await data.audit.list(tenantId, {}, { order: 'asc', afterSeq: 0, limit: 10 })).map((entry) => entry.action)).toEqual(['policy.created']);
  });
});

describe('admin audit log', () => {
  it('chains every admin action from the genesis hash and verifies', async () => {
    const { tenantId, actor } = await tenantWithAdmin();
    const policyId = await createdPolicy(tenantId, actor);
    await data.policies.publish({ tenantId, policyId, version: 1, slot: TENANT_ENFORCE, actor, now: new Date(), check: acceptAll });
    await data.enrollment.createAuditedToken({ tenantId, tokenHash: 'e'.repeat(63) + String(tenantCounter % 10), expiresAt: new Date(Date.now() + 60_000), actor, now: new Date() });

    const entries = await data.audit.list(tenantId, {}, { order: 'asc', afterSeq: 0, limit: 100 });
    expect(entries.map((entry) => [entry.seq, entry.action])).toEqual([
      [1, 'policy.created'],
      [2, 'policy.published'],
      [3, 'enrollment-token.created'],
    ]);
    expect(entries[0]!.prevHash).toBe(GENESIS_AUDIT_HASH);
    expect(entries[1]!.prevHash).toBe(entries[0]!.hash);
    expect(entries[1]).toMatchObject({ actorKind: 'API_TOKEN', actorId: actor.id, actorName: 'ops admin', sourceIp: '127.0.0.1', target: `policy:${policyId}` });
    expect(entries[1]!.details).toEqual({ version: 1, scope: 'TENANT', key: '', mode: 'ENFORCE', revision: 1 });
    expect(entries[2]!.hash).toBe(auditEntryHash({ ...entries[2]!, tenantId }));
    expect(await data.audit.verify(tenantId)).toEqual({ ok: true, entries: 3 });
    expect((await data.audit.list(tenantId, {}, { order: 'asc', afterSeq: 1, limit: 1 })).map((entry) => entry.seq)).toEqual([2]);
  });

  it('refuses UPDATE, DELETE and TRUNCATE in the database itself', async () => {
    const { tenantId, actor } = await tenantWithAdmin();
    await createdPolicy(tenantId, actor);
    await expect(sql.query(`UPDATE "AdminAuditEntry" SET "actorName" = 'someone else' WHERE "tenantId" = $1`, [tenantId])).rejects.toThrow(/append-only: UPDATE refused/);
    await expect(sql.query(`DELETE FROM "AdminAuditEntry" WHERE "tenantId" = $1`, [tenantId])).rejects.toThrow(/append-only: DELETE refused/);
    await expect(sql.query(`TRUNCATE "AdminAuditEntry"`)).rejects.toThrow(/append-only: TRUNCATE refused/);
    expect(await data.audit.verify(tenantId)).toEqual({ ok: true, entries: 1 });
  });

  it('names the first entry whose content, link or sequence was tampered with', async () => {
    const { tenantId, actor } = await tenantWithAdmin();
    const policyId = await createdPolicy(tenantId, actor);
    for (let n = 0; n < 3; n += 1) await data.policies.addVersion({ tenantId, policyId, document: documentWith(n + 2), comment: null, actor, now: new Date() });
    expect(await data.audit.verify(tenantId)).toEqual({ ok: true, entries: 4 });
    // Only someone who can switch the trigger off (the table's owner) can tamper; the chain still shows it.
    await tamper(`UPDATE "AdminAuditEntry" SET "details" = '{"version": 9}' WHERE "tenantId" = $1 AND "seq" = 3`, [tenantId]);
    expect(await data.audit.verify(tenantId)).toEqual({ ok: false, entries: 4, firstBrokenSeq: 3 });
    await tamper(`DELETE FROM "AdminAuditEntry" WHERE "tenantId" = $1 AND "seq" = 2`, [tenantId]);
    expect(await data.audit.verify(tenantId)).toEqual({ ok: false, entries: 3, firstBrokenSeq: 2 });
  });

  it('keeps the chain gapless under concurrent appends of one tenant', async () => {
    const { tenantId, actor } = await tenantWithAdmin();
    const policyId = await createdPolicy(tenantId, actor);
    const slots: PolicySlot[] = Array.from({ length: 12 }, (_, n) => ({ scope: 'REPOSITORY', key: `repo-${n}`, mode: 'ENFORCE' }));
    const outcomes = await Promise.all(slots.map((slot) => data.policies.publish({ tenantId, policyId, version: 1, slot, actor, now: new Date(), check: acceptAll })));
    const revisions = outcomes.map((outcome) => (outcome.kind === 'PUBLISHED' ? outcome.revision : 0)).sort((a, b) => a - b);
    expect(revisions).toEqual(Array.from({ length: 12 }, (_, n) => n + 1));
    const entries = await data.audit.list(tenantId, {}, { order: 'asc', afterSeq: 0, limit: 100 });
    expect(entries.map((entry) => entry.seq)).toEqual(Array.from({ length: 13 }, (_, n) => n + 1));
    expect(await data.audit.verify(tenantId)).toEqual({ ok: true, entries: 13 });
  });
});

describe('auditEntryHash', () => {
  const entry = {
    tenantId: '00000000-0000-4000-8000-000000000001',
    seq: 1,
    at: new Date('2026-12-01T00:00:00.000Z'),
    actorId: '00000000-0000-4000-8000-000000000002',
    actorName: 'ops',
    action: 'policy.published',
    target: 'policy:x',
    details: { revision: 1 },
    sourceIp: null,
    prevHash: GENESIS_AUDIT_HASH,
  };
  const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

  it('covers a token actor as actorTokenId, as entries written before user accounts were, so their chains still verify', () => {
    expect(auditEntryHash({ ...entry, actorKind: 'API_TOKEN' })).toBe(
      sha256(
        `{"action":"policy.published","actorName":"ops","actorTokenId":"${entry.actorId}","at":"2026-12-01T00:00:00.000Z","details":{"revision":1},` +
          `"prevHash":"${GENESIS_AUDIT_HASH}","seq":1,"sourceIp":null,"target":"policy:x","tenantId":"${entry.tenantId}"}`,
      ),
    );
  });

  it('covers a user actor under its own key, so a user and a token with one id hash apart', () => {
    expect(auditEntryHash({ ...entry, actorKind: 'USER' })).not.toBe(auditEntryHash({ ...entry, actorKind: 'API_TOKEN' }));
    expect(auditEntryHash({ ...entry, actorKind: 'USER' })).toBe(sha256(canonicalJson({ ...entry, at: entry.at.toISOString(), actorId: undefined, actorUserId: entry.actorId })));
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every level and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { f: null, e: 'x' }], c: undefined } })).toBe('{"a":{"d":[2,{"e":"x","f":null}]},"b":1}');
  });
});

/** Runs a statement with the append-only trigger switched off, as a table owner could. */
async function tamper(statement: string, values: unknown[]): Promise<void> {
  await sql.query('BEGIN');
  try {
    await sql.query('ALTER TABLE "AdminAuditEntry" DISABLE TRIGGER "AdminAuditEntry_append_only"');
    await sql.query(statement, values);
    await sql.query('ALTER TABLE "AdminAuditEntry" ENABLE TRIGGER "AdminAuditEntry_append_only"');
    await sql.query('COMMIT');
  } catch (error) {
    await sql.query('ROLLBACK');
    throw error;
  }
}
