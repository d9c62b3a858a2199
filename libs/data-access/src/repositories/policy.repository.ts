import type { PolicyMode, PolicyRevisionChange, PolicyScope, Prisma } from '@prisma/client';
import type { DatabaseClient, DatabaseTransaction } from '../database-client';
import { appendAuditEntry, lockTenantAdminActions, type AuditActor } from './admin-audit.repository';

export interface PolicySummary {
  readonly id: string;
  readonly name: string;
  readonly createdAt: Date;
  /** The highest version number (every policy has version 1). */
  readonly latestVersion: number;
}

export interface PolicyVersionSummary {
  readonly number: number;
  readonly comment: string | null;
  readonly authorId: string;
  readonly authorName: string;
  readonly createdAt: Date;
}

export interface PolicyDetail extends PolicySummary {
  readonly versions: readonly PolicyVersionSummary[];
}

export interface PolicyVersionDetail extends PolicyVersionSummary {
  readonly policyId: string;
  /** The document as the admin wrote it (validated before it was stored). */
  readonly document: unknown;
}

/** Where a layer applies: the tenant (key ''), a pool (its label) or a repository (its alias), enforced or in shadow. */
export interface PolicySlot {
  readonly scope: PolicyScope;
  readonly key: string;
  readonly mode: PolicyMode;
}

/** A layer by reference: what a revision's history keeps. */
export interface PolicyLayerRef extends PolicySlot {
  readonly policyId: string;
  readonly version: number;
}

/** A layer in force, with its document. */
export interface PublishedLayer extends PolicyLayerRef {
  readonly policyName: string;
  readonly document: unknown;
  /** The revision that published it. */
  readonly revision: number;
  readonly publishedAt: Date;
  readonly publishedById: string;
  readonly publishedByName: string;
}

/** A layer in force after some revision, with its version's document as stored. */
export interface RevisionLayer extends PolicyLayerRef {
  readonly document: unknown;
}

/** A tenant's policy as it stands: its revision (0: never published) and every layer in force. */
export interface CurrentPolicy {
  readonly revision: number;
  readonly layers: readonly PublishedLayer[];
}

export interface PolicyRevisionView extends PolicySlot {
  readonly revision: number;
  readonly change: PolicyRevisionChange;
  /** The version published, or the one the withdraw took out of force. */
  readonly policyId: string;
  readonly version: number;
  /** Every layer in force after this revision. */
  readonly layers: readonly PolicyLayerRef[];
  readonly actorId: string;
  readonly actorName: string;
  readonly at: Date;
}

export interface PolicyDecisionView {
  readonly jobId: string;
  readonly attempt: number;
  readonly rule: string;
  readonly level: string;
  readonly outcome: string;
  readonly revision: number;
  readonly shadowRevision: number;
  readonly at: Date;
}

export type CreatePolicyOutcome = { readonly kind: 'CREATED'; readonly policy: PolicyDetail } | { readonly kind: 'NAME_TAKEN' };
export type AddVersionOutcome = { readonly kind: 'CREATED'; readonly version: PolicyVersionDetail } | { readonly kind: 'POLICY_NOT_FOUND' };
export type PublishOutcome = { readonly kind: 'PUBLISHED'; readonly revision: number; readonly layer: PublishedLayer } | { readonly kind: 'VERSION_NOT_FOUND' };
export type WithdrawOutcome = { readonly kind: 'WITHDRAWN'; readonly revision: number; readonly withdrawn: PolicyLayerRef } | { readonly kind: 'LAYER_NOT_FOUND' };

/**
 * Called inside a publish, before it commits, with every layer that would then be in
 * force; it throws to refuse the publish (e.g. a bundle that would not fit on the wire).
 */
export type LayerSetCheck = (layers: readonly PublishedLayer[]) => void;

const VERSION_SUMMARY_SELECT = { number: true, comment: true, authorId: true, authorName: true, createdAt: true } as const satisfies Prisma.PolicyVersionSelect;

const LAYER_SELECT = {
  scope: true,
  key: true,
  mode: true,
  revision: true,
  publishedAt: true,
  publishedById: true,
  publishedByName: true,
  version: { select: { number: true, document: true, policy: { select: { id: true, name: true } } } },
} as const satisfies Prisma.PolicyLayerSelect;

// Tenant, then pools, then repositories (the enum's order), each by key, enforce before shadow.
const LAYER_ORDER = [{ scope: 'asc' }, { key: 'asc' }, { mode: 'asc' }] as const satisfies Prisma.PolicyLayerOrderByWithRelationInput[];

/**
 * Central policies, their immutable versions, the layers published from them and the
 * tenant's revision counter. Every query is scoped by tenant: another tenant's policy is
 * not found. Every change takes the tenant's admin lock and appends its audit entry in
 * the same transaction, so the change and its record commit together or not at all.
 * Versions are only ever created: there is no update path.
 */
export class PolicyRepository {
  constructor(private readonly db: DatabaseClient) {}

  async create(input: { tenantId: string; name: string; document: unknown; actor: AuditActor; now: Date }): Promise<CreatePolicyOutcome> {
    const { tenantId, actor, now } = input;
    return this.db.$transaction(async (tx) => {
      await lockTenantAdminActions(tx, tenantId);
      // Under the lock no other create of this tenant runs, so the check holds until commit.
      if (await tx.policy.findUnique({ where: { tenantId_name: { tenantId, name: input.name } }, select: { id: true } })) return { kind: 'NAME_TAKEN' };
      const policy = await tx.policy.create({ data: { tenantId, name: input.name, createdAt: now }, select: { id: true, name: true, createdAt: true } });
      const version = await tx.policyVersion.create({
        data: { tenantId, policyId: policy.id, number: 1, document: input.document as Prisma.InputJsonValue, authorId: actor.id, authorName: actor.name, createdAt: now },
        select: VERSION_SUMMARY_SELECT,
      });
      await appendAuditEntry(tx, tenantId, actor, { action: 'policy.created', target: `policy:${policy.id}`, details: { name: policy.name, version: 1 } }, now);
      return { kind: 'CREATED', policy: { ...policy, latestVersion: 1, versions: [version] } };
    });
  }

  async addVersion(input: { tenantId: string; policyId: string; document: unknown; comment: string | null; actor: AuditActor; now: Date }): Promise<AddVersionOutcome> {
    const { tenantId, policyId, actor, now } = input;
    return this.db.$transaction(async (tx) => {
      await lockTenantAdminActions(tx, tenantId);
      const policy = await tx.policy.findFirst({ where: { id: policyId, tenantId }, select: { id: true } });
      if (!policy) return { kind: 'POLICY_NOT_FOUND' };
      const latest = await tx.policyVersion.findFirst({ where: { policyId }, orderBy: { number: 'desc' }, select: { number: true } });
      const number = (latest?.number ?? 0) + 1;
      const version = await tx.policyVersion.create({
        data: { tenantId, policyId, number, document: input.document as Prisma.InputJsonValue, comment: input.comment, authorId: actor.id, authorName: actor.name, createdAt: now },
        select: { ...VERSION_SUMMARY_SELECT, policyId: true, document: true },
      });
      await appendAuditEntry(tx, tenantId, actor, { action: 'policy.version.created', target: `policy:${policyId}`, details: { version: number } }, now);
      return { kind: 'CREATED', version };
    });
  }

  async list(tenantId: string): Promise<PolicySummary[]> {
    const policies = await this.db.policy.findMany({
      where: { tenantId },
      orderBy: { name: 'asc' },
      select: { id: true, name: true, createdAt: true, versions: { orderBy: { number: 'desc' }, take: 1, select: { number: true } } },
    });
    return policies.map(({ versions, ...policy }) => ({ ...policy, latestVersion: versions[0]?.number ?? 0 }));
  }

  async find(tenantId: string, policyId: string): Promise<PolicyDetail | null> {
    const policy = await this.db.policy.findFirst({
      where: { id: policyId, tenantId },
      select: { id: true, name: true, createdAt: true, versions: { orderBy: { number: 'asc' }, select: VERSION_SUMMARY_SELECT } },
    });
    if (!policy) return null;
    return { ...policy, latestVersion: policy.versions[policy.versions.length - 1]?.number ?? 0 };
  }

  async findVersion(tenantId: string, policyId: string, number: number): Promise<PolicyVersionDetail | null> {
    return this.db.policyVersion.findFirst({
      where: { tenantId, policyId, number },
      select: { ...VERSION_SUMMARY_SELECT, policyId: true, document: true },
    });
  }

  /**
   * Puts a version in force for one slot (replacing whatever was there) as the tenant's
   * next revision, records the revision and audits it. `check` sees the layers that would
   * be in force and may refuse by throwing, which rolls everything back.
   */
  async publish(input: { tenantId: string; policyId: string; version: number; slot: PolicySlot; actor: AuditActor; now: Date; check: LayerSetCheck }): Promise<PublishOutcome> {
    const { tenantId, slot, actor, now } = input;
    return this.db.$transaction(async (tx) => {
      await lockTenantAdminActions(tx, tenantId);
      const version = await tx.policyVersion.findFirst({ where: { tenantId, policyId: input.policyId, number: input.version }, select: { id: true } });
      if (!version) return { kind: 'VERSION_NOT_FOUND' };
      const revision = await nextRevision(tx, tenantId);
      const published = { versionId: version.id, revision, publishedAt: now, publishedById: actor.id, publishedByName: actor.name };
      await tx.policyLayer.upsert({
        where: { tenantId_scope_key_mode: { tenantId, ...slot } },
        create: { tenantId, ...slot, ...published },
        update: published,
      });
      const layers = await layersInForce(tx, tenantId);
      input.check(layers);
      await recordRevision(tx, tenantId, { revision, change: 'PUBLISHED', slot, versionId: version.id, layers, actor, now });
      await appendAuditEntry(
        tx,
        tenantId,
        actor,
        { action: 'policy.published', target: `policy:${input.policyId}`, details: { version: input.version, ...slotDetails(slot), revision } },
        now,
      );
      const layer = layers.find((candidate) => sameSlot(candidate, slot));
      if (!layer) throw new Error('the published layer is missing from the layers in force');
      return { kind: 'PUBLISHED', revision, layer };
    });
  }

  /** Takes the layer of one slot out of force as the tenant's next revision, and audits it. */
  async withdraw(input: { tenantId: string; slot: PolicySlot; actor: AuditActor; now: Date }): Promise<WithdrawOutcome> {
    const { tenantId, slot, actor, now } = input;
    return this.db.$transaction(async (tx) => {
      await lockTenantAdminActions(tx, tenantId);
      const existing = await tx.policyLayer.findUnique({
        where: { tenantId_scope_key_mode: { tenantId, ...slot } },
        select: { versionId: true, version: { select: { number: true, policyId: true } } },
      });
      if (!existing) return { kind: 'LAYER_NOT_FOUND' };
      const revision = await nextRevision(tx, tenantId);
      await tx.policyLayer.delete({ where: { tenantId_scope_key_mode: { tenantId, ...slot } } });
      const layers = await layersInForce(tx, tenantId);
      await recordRevision(tx, tenantId, { revision, change: 'WITHDRAWN', slot, versionId: existing.versionId, layers, actor, now });
      const withdrawn = { ...slot, policyId: existing.version.policyId, version: existing.version.number };
      await appendAuditEntry(
        tx,
        tenantId,
        actor,
        { action: 'policy.withdrawn', target: `policy:${withdrawn.policyId}`, details: { version: withdrawn.version, ...slotDetails(slot), revision } },
        now,
      );
      return { kind: 'WITHDRAWN', revision, withdrawn };
    });
  }

  /** The revision and the layers in force, read from one snapshot so they always agree. */
  async current(tenantId: string): Promise<CurrentPolicy> {
    return this.db.$transaction(
      async (tx) => {
        const tenant = await tx.tenant.findUnique({ where: { id: tenantId }, select: { policyRevision: true } });
        return { revision: tenant?.policyRevision ?? 0, layers: await layersInForce(tx, tenantId) };
      },
      { isolationLevel: 'RepeatableRead' },
    );
  }

  async currentRevision(tenantId: string): Promise<number> {
    const tenant = await this.db.tenant.findUnique({ where: { id: tenantId }, select: { policyRevision: true } });
    return tenant?.policyRevision ?? 0;
  }

  async findRevision(tenantId: string, revision: number): Promise<PolicyRevisionView | null> {
    const row = await this.db.policyRevision.findUnique({
      where: { tenantId_revision: { tenantId, revision } },
      select: {
        revision: true,
        change: true,
        scope: true,
        key: true,
        mode: true,
        layers: true,
        actorId: true,
        actorName: true,
        at: true,
        version: { select: { number: true, policyId: true } },
      },
    });
    if (!row) return null;
    const { version, layers, ...rest } = row;
    return { ...rest, policyId: version.policyId, version: version.number, layers: layers as unknown as PolicyLayerRef[] };
  }

  /**
   * The layers in force after `revision`, each with its version's document, in the order the
   * revision lists them; null when the tenant never reached that revision. One query: the
   * revision's layer list joined with the versions it names. Revisions and versions are
   * never changed once written, so the answer for a revision that exists is final.
   */
  async revisionLayers(tenantId: string, revision: number): Promise<RevisionLayer[] | null> {
    // A revision with no layer (everything withdrawn) still gives one row, with no layer in it.
    const rows = await this.db.$queryRaw<RevisionLayerRow[]>`
      SELECT entry.layer->>'scope' AS "scope", entry.layer->>'key' AS "key", entry.layer->>'mode' AS "mode",
             entry.layer->>'policyId' AS "policyId", (entry.layer->>'version')::int AS "version", ver."document"
      FROM "PolicyRevision" rev
      LEFT JOIN LATERAL jsonb_array_elements(rev."layers") WITH ORDINALITY AS entry(layer, position) ON true
      LEFT JOIN "PolicyVersion" ver
        ON ver."tenantId" = rev."tenantId" AND ver."policyId" = (entry.layer->>'policyId')::uuid AND ver."number" = (entry.layer->>'version')::int
      WHERE rev."tenantId" = ${tenantId}::uuid AND rev."revision" = ${revision}
      ORDER BY entry.position`;
    if (rows.length === 0) return null;
    return rows.flatMap(({ scope, key, mode, policyId, version, document }) =>
      scope === null || key === null || mode === null || policyId === null || version === null ? [] : [{ scope, key, mode, policyId, version, document }],
    );
  }

  /** Policy decisions of the tenant's jobs, newest first. */
  async listDecisions(tenantId: string, filter: { jobId?: string; rule?: string; limit: number }): Promise<PolicyDecisionView[]> {
    return this.db.policyDecision.findMany({
      where: { tenantId, ...(filter.jobId ? { jobId: filter.jobId } : {}), ...(filter.rule ? { rule: filter.rule } : {}) },
      orderBy: { id: 'desc' },
      take: filter.limit,
      select: { jobId: true, attempt: true, rule: true, level: true, outcome: true, revision: true, shadowRevision: true, at: true },
    });
  }
}

/** One row of `revisionLayers`' query: all null for a revision without layers. */
interface RevisionLayerRow {
  readonly scope: PolicyScope | null;
  readonly key: string | null;
  readonly mode: PolicyMode | null;
  readonly policyId: string | null;
  readonly version: number | null;
  /** Null only if the version were missing, which the versions' immutability rules out. */
  readonly document: unknown;
}

/** Increments the tenant's revision counter (its row stays locked until commit) and returns the new value. */
async function nextRevision(tx: DatabaseTransaction, tenantId: string): Promise<number> {
  const tenant = await tx.tenant.update({ where: { id: tenantId }, data: { policyRevision: { increment: 1 } }, select: { policyRevision: true } });
  return tenant.policyRevision;
}

async function layersInForce(tx: DatabaseTransaction, tenantId: string): Promise<PublishedLayer[]> {
  const rows = await tx.policyLayer.findMany({ where: { tenantId }, orderBy: [...LAYER_ORDER], select: LAYER_SELECT });
  return rows.map((row) => ({
    scope: row.scope,
    key: row.key,
    mode: row.mode,
    policyId: row.version.policy.id,
    policyName: row.version.policy.name,
    version: row.version.number,
    document: row.version.document,
    revision: row.revision,
    publishedAt: row.publishedAt,
    publishedById: row.publishedById,
    publishedByName: row.publishedByName,
  }));
}

async function recordRevision(
  tx: DatabaseTransaction,
  tenantId: string,
  input: { revision: number; change: PolicyRevisionChange; slot: PolicySlot; versionId: string; layers: readonly PublishedLayer[]; actor: AuditActor; now: Date },
): Promise<void> {
  const refs: PolicyLayerRef[] = input.layers.map(({ scope, key, mode, policyId, version }) => ({ scope, key, mode, policyId, version }));
  await tx.policyRevision.create({
    data: {
      tenantId,
      revision: input.revision,
      change: input.change,
      ...input.slot,
      versionId: input.versionId,
      layers: refs as unknown as Prisma.InputJsonArray,
      actorId: input.actor.id,
      actorName: input.actor.name,
      at: input.now,
    },
  });
}

const sameSlot = (a: PolicySlot, b: PolicySlot): boolean => a.scope === b.scope && a.key === b.key && a.mode === b.mode;

const slotDetails = (slot: PolicySlot) => ({ scope: slot.scope, key: slot.key, mode: slot.mode });
