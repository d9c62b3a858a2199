import { createHash } from 'node:crypto';
import type { Prisma } from '@prisma/client';
import type { DatabaseClient, DatabaseTransaction } from '../database-client';

/** What kind of principal acted. */
export type ActorKind = 'USER' | 'API_TOKEN';

/** Who did an admin action: the user or API token, its name at the time, and where the request came from. */
export interface AuditActor {
  readonly kind: ActorKind;
  /** The user's or the API token's id. */
  readonly id: string;
  readonly name: string;
  /** The client's address as the control plane saw it, or null when unknown. */
  readonly sourceIp: string | null;
}

/** A small JSON object about the action. Never a secret, never a whole document. */
export type AuditDetails = Readonly<Record<string, string | number | boolean | null>>;

/** What an audited change appends, besides its actor and time. */
export interface AuditRecord {
  /** e.g. `policy.published`. */
  readonly action: string;
  /** What the action was done to, e.g. `policy:<uuid>`. */
  readonly target: string;
  readonly details: AuditDetails;
}

export interface AdminAuditEntryView {
  readonly seq: number;
  readonly at: Date;
  readonly actorKind: ActorKind;
  readonly actorId: string;
  readonly actorName: string;
  readonly action: string;
  readonly target: string;
  readonly details: AuditDetails;
  readonly sourceIp: string | null;
  readonly prevHash: string;
  readonly hash: string;
}

/** Which entries a reader wants; every field narrows, none widens. */
export interface AuditLogFilter {
  /** An exact action (`policy.published`) or a family ending in a dot (`policy.`). */
  readonly action?: string;
  readonly actorId?: string;
  /** Inclusive start and exclusive end of `at`. */
  readonly from?: Date;
  readonly to?: Date;
}

/** A page of a filtered listing. */
export interface AuditLogPage {
  readonly order: 'asc' | 'desc';
  /** For `asc`: entries after this seq (0: from the first). */
  readonly afterSeq?: number;
  /** For `desc`: entries before this seq (absent: from the newest). */
  readonly beforeSeq?: number;
  readonly limit: number;
}

/** What recomputing a tenant's chain found. */
export interface AuditChainVerification {
  readonly ok: boolean;
  /** Entries checked (all of the tenant's). */
  readonly entries: number;
  /** The first entry whose hash, link or sequence number does not hold; absent when ok. */
  readonly firstBrokenSeq?: number;
}

/** The prevHash of a tenant's first entry. */
export const GENESIS_AUDIT_HASH = '0'.repeat(64);

// The two-key advisory lock space keeps these locks apart from the migration lock (one bigint key).
const AUDIT_LOCK_CLASS = 0x41554454; // "AUDT"
const VERIFY_PAGE_SIZE = 1_000;

const ENTRY_SELECT = {
  tenantId: true,
  seq: true,
  at: true,
  actorKind: true,
  actorId: true,
  actorName: true,
  action: true,
  target: true,
  details: true,
  sourceIp: true,
  prevHash: true,
  hash: true,
} as const satisfies Prisma.AdminAuditEntrySelect;

/** JSON with object keys sorted at every level and no whitespace: one text per value. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, member]) => member !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, member]) => `${JSON.stringify(key)}:${canonicalJson(member)}`).join(',')}}`;
}

/**
 * SHA-256 (hex) of the canonical JSON of every field of an entry but its own hash. The actor
 * is covered under a key that names its kind: `actorTokenId` for an API token (the key of
 * entries written before people could log in, so their hashes still verify) and
 * `actorUserId` for a user.
 */
export function auditEntryHash(entry: Omit<AdminAuditEntryView, 'hash'> & { readonly tenantId: string }): string {
  const covered = {
    tenantId: entry.tenantId,
    seq: entry.seq,
    at: entry.at.toISOString(),
    [entry.actorKind === 'USER' ? 'actorUserId' : 'actorTokenId']: entry.actorId,
    actorName: entry.actorName,
    action: entry.action,
    target: entry.target,
    details: entry.details,
    sourceIp: entry.sourceIp,
    prevHash: entry.prevHash,
  };
  return createHash('sha256').update(canonicalJson(covered), 'utf8').digest('hex');
}

/**
 * Serialises the tenant's admin actions for the rest of the transaction. Every audited
 * change takes it first, so the change, the next sequence number and the link to the
 * previous hash are decided by one writer at a time and commit together.
 */
export async function lockTenantAdminActions(tx: DatabaseTransaction, tenantId: string): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(${AUDIT_LOCK_CLASS}::int4, hashtext(${tenantId}))`;
}

/**
 * Appends one entry to the tenant's chain inside the caller's transaction, which must hold
 * `lockTenantAdminActions` for the tenant.
 */
export async function appendAuditEntry(tx: DatabaseTransaction, tenantId: string, actor: AuditActor, record: AuditRecord, at: Date): Promise<AdminAuditEntryView> {
  const last = await tx.adminAuditEntry.findFirst({ where: { tenantId }, orderBy: { seq: 'desc' }, select: { seq: true, hash: true } });
  const entry = {
    tenantId,
    seq: (last?.seq ?? 0) + 1,
    at,
    actorKind: actor.kind,
    actorId: actor.id,
    actorName: actor.name,
    action: record.action,
    target: record.target,
    details: record.details,
    sourceIp: actor.sourceIp,
    prevHash: last?.hash ?? GENESIS_AUDIT_HASH,
  };
  const hash = auditEntryHash(entry);
  await tx.adminAuditEntry.create({ data: { ...entry, details: entry.details as Prisma.InputJsonObject, hash } });
  return { ...entry, hash };
}

/**
 * The append-only, hash-chained log of admin actions. Entries are written only by
 * `appendAuditEntry`, inside the transaction of the change they record; the database
 * refuses UPDATE, DELETE and TRUNCATE of the table (a trigger of the migration).
 */
export class AdminAuditRepository {
  constructor(private readonly db: DatabaseClient) {}

  /** Appends an entry for an action that changes nothing else in the database. */
  async append(tenantId: string, actor: AuditActor, record: AuditRecord, at: Date): Promise<AdminAuditEntryView> {
    return this.db.$transaction(async (tx) => {
      await lockTenantAdminActions(tx, tenantId);
      return appendAuditEntry(tx, tenantId, actor, record, at);
    });
  }

  /**
   * One page of the tenant's entries that match the filter. Oldest first pages forward from
   * `afterSeq`; newest first pages back from `beforeSeq`.
   */
  async list(tenantId: string, filter: AuditLogFilter, page: AuditLogPage): Promise<AdminAuditEntryView[]> {
    const seq = page.order === 'asc' ? { gt: page.afterSeq ?? 0 } : page.beforeSeq !== undefined ? { lt: page.beforeSeq } : undefined;
    const rows = await this.db.adminAuditEntry.findMany({
      where: { ...auditFilterWhere(tenantId, filter), ...(seq ? { seq } : {}) },
      orderBy: { seq: page.order },
      take: page.limit,
      select: ENTRY_SELECT,
    });
    return rows.map(toView);
  }

  /**
   * Recomputes the tenant's chain from the first entry: each seq one more than the last,
   * each prevHash the previous hash (zeros for the first), each hash over its own fields.
   */
  async verify(tenantId: string): Promise<AuditChainVerification> {
    let expectedSeq = 1;
    let prevHash = GENESIS_AUDIT_HASH;
    for (;;) {
      const rows = await this.db.adminAuditEntry.findMany({
        where: { tenantId, seq: { gte: expectedSeq } },
        orderBy: { seq: 'asc' },
        take: VERIFY_PAGE_SIZE,
        select: ENTRY_SELECT,
      });
      for (const row of rows) {
        const intact = row.seq === expectedSeq && row.prevHash === prevHash && auditEntryHash({ ...toView(row), tenantId }) === row.hash;
        if (!intact) return { ok: false, entries: await this.db.adminAuditEntry.count({ where: { tenantId } }), firstBrokenSeq: expectedSeq };
        expectedSeq += 1;
        prevHash = row.hash;
      }
      if (rows.length < VERIFY_PAGE_SIZE) return { ok: true, entries: expectedSeq - 1 };
    }
  }
}

function auditFilterWhere(tenantId: string, filter: AuditLogFilter): Prisma.AdminAuditEntryWhereInput {
  const action = filter.action === undefined ? undefined : filter.action.endsWith('.') ? { startsWith: filter.action } : filter.action;
  const at = filter.from || filter.to ? { ...(filter.from ? { gte: filter.from } : {}), ...(filter.to ? { lt: filter.to } : {}) } : undefined;
  return { tenantId, ...(action ? { action } : {}), ...(filter.actorId ? { actorId: filter.actorId } : {}), ...(at ? { at } : {}) };
}

function toView(row: Prisma.AdminAuditEntryGetPayload<{ select: typeof ENTRY_SELECT }>): AdminAuditEntryView {
  return {
    seq: row.seq,
    at: row.at,
    actorKind: row.actorKind === 'USER' ? 'USER' : 'API_TOKEN',
    actorId: row.actorId,
    actorName: row.actorName,
    action: row.action,
    target: row.target,
    details: row.details as AuditDetails,
    sourceIp: row.sourceIp,
    prevHash: row.prevHash,
    hash: row.hash,
  };
}
