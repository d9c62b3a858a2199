import type { DatabaseClient, DatabaseTransaction } from '../database-client';
import { appendAuditEntry, lockTenantAdminActions, type AuditActor } from './admin-audit.repository';
import { toBytesColumn } from './bytes';

/**
 * Where a signing key is in its rotation (docs/operations/key-rotation.md): STAGED keys are
 * published for worker operators to pin and sign nothing; the one ACTIVE key signs every
 * instruction, policy bundle and control frame; a RETIRED key signed until `retiredAt`.
 */
export type SigningKeyState = 'STAGED' | 'ACTIVE' | 'RETIRED';

/** A key pair about to be stored: the private key already in the form it is stored in. */
export interface NewSigningKey {
  readonly keyId: string;
  readonly publicKey: Buffer;
  /**
   * The PKCS#8 PEM as stored: a sealed value (`airlock-sealed:v1:…`, @airlock/sealed-secrets)
   * when the control plane has a key-encryption key, the PEM itself otherwise. Opening it is
   * the control plane's business, not this repository's.
   */
  readonly privateKeyPem: string;
}

/** An instruction-signing key pair of the control plane, with its rotation dates. */
export interface SigningKeyRecord extends NewSigningKey {
  readonly createdAt: Date;
  /** When it began to sign; null while it is staged. */
  readonly activatedAt: Date | null;
  readonly retiredAt: Date | null;
}

/** A signing key without its private half: what is shown to people and to workers. */
export type SigningPublicKeyRecord = Omit<SigningKeyRecord, 'privateKeyPem'>;

export type StageSigningKeyOutcome = { readonly kind: 'STAGED'; readonly key: SigningPublicKeyRecord } | { readonly kind: 'ALREADY_STAGED'; readonly stagedKeyId: string };

export type ActivateSigningKeyOutcome =
  | { readonly kind: 'ACTIVATED'; readonly activated: SigningPublicKeyRecord; readonly retired: SigningPublicKeyRecord | null }
  | { readonly kind: 'NOT_FOUND' }
  | { readonly kind: 'NOT_STAGED'; readonly state: Exclude<SigningKeyState, 'STAGED'> };

export type DiscardSigningKeyOutcome =
  | { readonly kind: 'DISCARDED'; readonly key: SigningPublicKeyRecord }
  | { readonly kind: 'NOT_FOUND' }
  | { readonly kind: 'NOT_STAGED'; readonly state: Exclude<SigningKeyState, 'STAGED'> };

/** The state a key's dates say it is in. */
export function signingKeyState(key: Pick<SigningKeyRecord, 'activatedAt' | 'retiredAt'>): SigningKeyState {
  if (key.retiredAt !== null) return 'RETIRED';
  return key.activatedAt === null ? 'STAGED' : 'ACTIVE';
}

// Serialises first-start key generation, staging and activation across replicas.
const SIGNING_KEY_ADVISORY_LOCK = 4_177_001;

const PUBLIC_COLUMNS = { keyId: true, publicKey: true, createdAt: true, activatedAt: true, retiredAt: true } as const;

function toPublicRecord(row: { keyId: string; publicKey: Uint8Array; createdAt: Date; activatedAt: Date | null; retiredAt: Date | null }): SigningPublicKeyRecord {
  return { keyId: row.keyId, publicKey: Buffer.from(row.publicKey), createdAt: row.createdAt, activatedAt: row.activatedAt, retiredAt: row.retiredAt };
}

async function lockSigningKeys(tx: DatabaseTransaction): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(${SIGNING_KEY_ADVISORY_LOCK})`;
}

/** Takes the signing-key lock, then finds `keyId`: the key if it is STAGED, else why it cannot be acted on as one. */
async function lockStagedKey(
  tx: DatabaseTransaction,
  keyId: string,
): Promise<{ readonly kind: 'STAGED'; readonly key: SigningPublicKeyRecord } | { readonly kind: 'NOT_FOUND' } | { readonly kind: 'NOT_STAGED'; readonly state: Exclude<SigningKeyState, 'STAGED'> }> {
  await lockSigningKeys(tx);
  const key = await tx.signingKey.findUnique({ where: { keyId }, select: PUBLIC_COLUMNS });
  if (!key) return { kind: 'NOT_FOUND' };
  const state = signingKeyState(key);
  return state === 'STAGED' ? { kind: 'STAGED', key: toPublicRecord(key) } : { kind: 'NOT_STAGED', state };
}

/**
 * The control plane's instruction-signing keys. At most one is ACTIVE and at most one STAGED
 * at any time (partial unique indexes of migration 20270120000000_signing_key_rotation);
 * every change is made under one advisory lock, so replicas never race each other into them.
 */
export class SigningKeyRepository {
  constructor(private readonly db: DatabaseClient) {}

  /** The ACTIVE key with its stored private key, or null before the first start made one: what every replica signs with. */
  async findActive(): Promise<SigningKeyRecord | null> {
    const key = await this.db.signingKey.findFirst({ where: { activatedAt: { not: null }, retiredAt: null } });
    return key && { ...toPublicRecord(key), privateKeyPem: key.privateKeyPem };
  }

  /** The keys not retired and those retired at or after `retiredSince`, oldest first, without their private halves. */
  async listPublic(retiredSince: Date): Promise<SigningPublicKeyRecord[]> {
    const keys = await this.db.signingKey.findMany({
      where: { OR: [{ retiredAt: null }, { retiredAt: { gte: retiredSince } }] },
      select: PUBLIC_COLUMNS,
      orderBy: [{ createdAt: 'asc' }, { keyId: 'asc' }],
    });
    return keys.map(toPublicRecord);
  }

  /**
   * Makes sure a key is ACTIVE, storing the one `generate` makes, active from when it is
   * stored, if none is. Replicas starting together agree on a single first key. The
   * database's clock dates it: this runs at start, before anything else the control plane
   * does is timed.
   */
  async ensureActive(generate: () => NewSigningKey): Promise<void> {
    await this.db.$transaction(async (tx) => {
      await lockSigningKeys(tx);
      if ((await tx.signingKey.count({ where: { activatedAt: { not: null }, retiredAt: null } })) > 0) return;
      const key = generate();
      const created = await tx.signingKey.create({ data: { keyId: key.keyId, publicKey: toBytesColumn(key.publicKey), privateKeyPem: key.privateKeyPem }, select: { createdAt: true } });
      await tx.signingKey.update({ where: { keyId: key.keyId }, data: { activatedAt: created.createdAt } });
    });
  }

  /**
   * Stores `key` as the STAGED key unless one is staged already; audited in the actor's
   * tenant as `signing-key.staged`.
   */
  async stage(key: NewSigningKey, input: { tenantId: string; actor: AuditActor; now: Date }): Promise<StageSigningKeyOutcome> {
    const { tenantId, actor, now } = input;
    return this.db.$transaction(async (tx) => {
      await lockSigningKeys(tx);
      const staged = await tx.signingKey.findFirst({ where: { activatedAt: null, retiredAt: null }, select: { keyId: true } });
      if (staged) return { kind: 'ALREADY_STAGED', stagedKeyId: staged.keyId };
      const row = await tx.signingKey.create({
        data: { keyId: key.keyId, publicKey: toBytesColumn(key.publicKey), privateKeyPem: key.privateKeyPem },
        select: PUBLIC_COLUMNS,
      });
      await lockTenantAdminActions(tx, tenantId);
      await appendAuditEntry(tx, tenantId, actor, { action: 'signing-key.staged', target: `signing-key:${key.keyId}`, details: {} }, now);
      return { kind: 'STAGED', key: toPublicRecord(row) };
    });
  }

  /**
   * Makes the STAGED key `keyId` the ACTIVE one and retires the key that was, both as of
   * `now`, in one transaction: no moment has two ACTIVE keys or none. Audited in the actor's
   * tenant as `signing-key.activated`.
   */
  async activate(keyId: string, input: { tenantId: string; actor: AuditActor; now: Date }): Promise<ActivateSigningKeyOutcome> {
    const { tenantId, actor, now } = input;
    return this.db.$transaction(async (tx) => {
      const found = await lockStagedKey(tx, keyId);
      if (found.kind !== 'STAGED') return found;
      const previous = await tx.signingKey.findFirst({ where: { activatedAt: { not: null }, retiredAt: null }, select: PUBLIC_COLUMNS });
      // Retired first: the index allowing one ACTIVE key is checked row by row.
      const retired = previous ? await tx.signingKey.update({ where: { keyId: previous.keyId }, data: { retiredAt: now }, select: PUBLIC_COLUMNS }) : null;
      const activated = await tx.signingKey.update({ where: { keyId }, data: { activatedAt: now }, select: PUBLIC_COLUMNS });
      await lockTenantAdminActions(tx, tenantId);
      await appendAuditEntry(tx, tenantId, actor, { action: 'signing-key.activated', target: `signing-key:${keyId}`, details: { retiredKeyId: previous?.keyId ?? null } }, now);
      return { kind: 'ACTIVATED', activated: toPublicRecord(activated), retired: retired && toPublicRecord(retired) };
    });
  }

  /**
   * Deletes the STAGED key `keyId`, private half and all: it never signed, so nothing can
   * need it. An ACTIVE or RETIRED key is kept (it signed what workers may still verify).
   * Audited in the actor's tenant as `signing-key.discarded`.
   */
  async discard(keyId: string, input: { tenantId: string; actor: AuditActor; now: Date }): Promise<DiscardSigningKeyOutcome> {
    const { tenantId, actor, now } = input;
    return this.db.$transaction(async (tx) => {
      const found = await lockStagedKey(tx, keyId);
      if (found.kind !== 'STAGED') return found;
      await tx.signingKey.delete({ where: { keyId } });
      await lockTenantAdminActions(tx, tenantId);
      await appendAuditEntry(tx, tenantId, actor, { action: 'signing-key.discarded', target: `signing-key:${keyId}`, details: {} }, now);
      return { kind: 'DISCARDED', key: found.key };
    });
  }

  /** The stored private key of every key, retired ones included: what sealing at rest walks over. */
  async listStoredPrivateKeys(): Promise<{ keyId: string; privateKeyPem: string }[]> {
    return this.db.signingKey.findMany({ select: { keyId: true, privateKeyPem: true }, orderBy: { createdAt: 'asc' } });
  }

  /**
   * Replaces a key's stored private key only if it still is `expected`, and says whether it did.
   * Replicas booting together each seal or rewrap the same rows: whichever writes first wins,
   * the others find their compare failing and keep what is there, which opens just as well.
   */
  async replaceStoredPrivateKey(keyId: string, expected: string, next: string): Promise<boolean> {
    const { count } = await this.db.signingKey.updateMany({ where: { keyId, privateKeyPem: expected }, data: { privateKeyPem: next } });
    return count === 1;
  }
}
