import { Prisma, type Role } from '@prisma/client';
import type { DatabaseClient, DatabaseTransaction } from '../database-client';
import { appendAuditEntry, lockTenantAdminActions, type AuditActor } from './admin-audit.repository';
import { revokeUserSessions } from './user-session.repository';

/** A person as the people pages show them. Never their password hash. */
export interface UserView {
  readonly id: string;
  readonly tenantId: string;
  readonly email: string;
  readonly displayName: string;
  readonly role: Role;
  readonly createdAt: Date;
  readonly lastLoginAt: Date | null;
  /** Set while wrong passwords keep the account locked; may lie in the past. */
  readonly lockedUntil: Date | null;
  readonly disabledAt: Date | null;
  /** Whether the person has a password (false: signs in by OIDC only). */
  readonly passwordLogin: boolean;
}

/** What checking a password needs. */
export interface UserCredentials {
  readonly id: string;
  readonly tenantId: string;
  readonly email: string;
  readonly displayName: string;
  readonly role: Role;
  /** argon2id PHC string; null for an account that signs in by OIDC only. */
  readonly passwordHash: string | null;
  readonly lockedUntil: Date | null;
  readonly disabledAt: Date | null;
}

/** The fields an admin may change; absent ones stay as they are. */
export interface UserChanges {
  readonly displayName?: string;
  readonly role?: Role;
  readonly disabled?: boolean;
}

/** Who a person is at an OpenID Connect identity provider: unique together, across tenants. */
export interface OidcIdentity {
  readonly issuer: string;
  readonly subject: string;
}

/** What a single sign-on needs to know of a person. */
export interface OidcAccount {
  readonly id: string;
  readonly tenantId: string;
  readonly email: string;
  readonly displayName: string;
  readonly role: Role;
  readonly disabledAt: Date | null;
  /** The identity the person is linked to; null until their first single sign-on. */
  readonly oidcIssuer: string | null;
  readonly oidcSubject: string | null;
}

export type LinkOidcIdentityOutcome =
  | { readonly kind: 'LINKED'; readonly user: OidcAccount }
  /** The person was linked (to any identity) meanwhile: nothing changed. */
  | { readonly kind: 'ALREADY_LINKED' }
  /** Another person holds this identity already: nothing changed. */
  | { readonly kind: 'IDENTITY_TAKEN' };

export type CreateOidcUserOutcome = { readonly kind: 'CREATED'; readonly user: OidcAccount } | { readonly kind: 'EMAIL_TAKEN' } | { readonly kind: 'IDENTITY_TAKEN' };

export type CreateUserOutcome = { readonly kind: 'CREATED'; readonly user: UserView } | { readonly kind: 'EMAIL_TAKEN' };
export type CreateFirstAdminOutcome = CreateUserOutcome | { readonly kind: 'ALREADY_BOOTSTRAPPED' };
export type UpdateUserOutcome =
  | { readonly kind: 'UPDATED'; readonly user: UserView }
  | { readonly kind: 'USER_NOT_FOUND' }
  /** The change would leave the tenant without an enabled ADMIN. */
  | { readonly kind: 'LAST_ADMIN' };

const VIEW_SELECT = {
  id: true,
  tenantId: true,
  email: true,
  displayName: true,
  role: true,
  createdAt: true,
  lastLoginAt: true,
  lockedUntil: true,
  disabledAt: true,
  passwordHash: true,
} as const satisfies Prisma.UserSelect;

const CREDENTIALS_SELECT = {
  id: true,
  tenantId: true,
  email: true,
  displayName: true,
  role: true,
  passwordHash: true,
  lockedUntil: true,
  disabledAt: true,
} as const satisfies Prisma.UserSelect;

const OIDC_ACCOUNT_SELECT = {
  id: true,
  tenantId: true,
  email: true,
  displayName: true,
  role: true,
  disabledAt: true,
  oidcIssuer: true,
  oidcSubject: true,
} as const satisfies Prisma.UserSelect;

class EmailTaken extends Error {
  override readonly name = 'EmailTaken';
}

function toView(row: Prisma.UserGetPayload<{ select: typeof VIEW_SELECT }>): UserView {
  const { passwordHash, ...rest } = row;
  return { ...rest, passwordLogin: passwordHash !== null };
}

function isUniqueViolation(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002';
}

class OidcIdentityTaken extends Error {
  override readonly name = 'OidcIdentityTaken';
}

/** The person as the audit log names them when they act on their own account (their first single sign-on). */
function selfActor(user: OidcAccount, sourceIp: string | null): AuditActor {
  return { kind: 'USER', id: user.id, name: user.displayName, sourceIp };
}

/**
 * People who log in to the dashboard. Emails are unique across tenants (the login form has
 * no tenant field) and stored as given, which the control plane lowercases first. Every
 * change an admin makes takes the tenant's admin lock and appends its audit entry in the
 * same transaction; the lock also makes the last-admin check hold until commit.
 */
export class UserRepository {
  constructor(private readonly db: DatabaseClient) {}

  async findCredentialsByEmail(email: string): Promise<UserCredentials | null> {
    return this.db.user.findUnique({ where: { email }, select: CREDENTIALS_SELECT });
  }

  async findCredentials(tenantId: string, userId: string): Promise<UserCredentials | null> {
    return this.db.user.findFirst({ where: { id: userId, tenantId }, select: CREDENTIALS_SELECT });
  }

  /** The person linked to this identity-provider account, in whichever tenant. */
  async findByOidcIdentity(identity: OidcIdentity): Promise<OidcAccount | null> {
    return this.db.user.findUnique({ where: { oidcIssuer_oidcSubject: { oidcIssuer: identity.issuer, oidcSubject: identity.subject } }, select: OIDC_ACCOUNT_SELECT });
  }

  /** The person with this (normalised) email, as a single sign-on matches a verified email. */
  async findOidcAccountByEmail(email: string): Promise<OidcAccount | null> {
    return this.db.user.findUnique({ where: { email }, select: OIDC_ACCOUNT_SELECT });
  }

  /**
   * Links a person not yet linked to any identity to this one, audited as user.oidc-linked
   * with the person as actor (their own sign-in proved the identity and the email). Only a
   * person linked to nothing is changed, so a concurrent link is never overwritten.
   */
  async linkOidcIdentityAudited(input: { userId: string; tenantId: string; identity: OidcIdentity; sourceIp: string | null; now: Date }): Promise<LinkOidcIdentityOutcome> {
    const { tenantId, identity, now } = input;
    try {
      return await this.db.$transaction(async (tx) => {
        await lockTenantAdminActions(tx, tenantId);
        const linked = await tx.user.updateMany({
          where: { id: input.userId, tenantId, oidcIssuer: null, oidcSubject: null },
          data: { oidcIssuer: identity.issuer, oidcSubject: identity.subject },
        });
        if (linked.count === 0) return { kind: 'ALREADY_LINKED' as const };
        const user = await tx.user.findUniqueOrThrow({ where: { id: input.userId }, select: OIDC_ACCOUNT_SELECT });
        await appendAuditEntry(
          tx,
          tenantId,
          selfActor(user, input.sourceIp),
          { action: 'user.oidc-linked', target: `user:${user.id}`, details: { issuer: identity.issuer, subject: identity.subject } },
          now,
        );
        return { kind: 'LINKED' as const, user };
      });
    } catch (error) {
      // The update changes no email: a unique violation can only be the identity's index.
      if (isUniqueViolation(error)) return { kind: 'IDENTITY_TAKEN' };
      throw error;
    }
  }

  /**
   * Creates a person on their first single sign-on (no password; they sign in by OIDC only),
   * linked to their identity and audited as user.created (email, role, method oidc) with the
   * person as actor. The unique indexes decide races on the email or the identity.
   */
  async createFromOidcAudited(input: {
    tenantId: string;
    email: string;
    displayName: string;
    role: Role;
    identity: OidcIdentity;
    sourceIp: string | null;
    now: Date;
  }): Promise<CreateOidcUserOutcome> {
    const { tenantId, identity, now } = input;
    try {
      return await this.db.$transaction(async (tx) => {
        await lockTenantAdminActions(tx, tenantId);
        if (await tx.user.findUnique({ where: { email: input.email }, select: { id: true } })) throw new EmailTaken();
        const identityHolder = await tx.user.findUnique({
          where: { oidcIssuer_oidcSubject: { oidcIssuer: identity.issuer, oidcSubject: identity.subject } },
          select: { id: true },
        });
        if (identityHolder) throw new OidcIdentityTaken();
        const user = await tx.user.create({
          data: {
            tenantId,
            email: input.email,
            displayName: input.displayName,
            role: input.role,
            passwordHash: null,
            oidcIssuer: identity.issuer,
            oidcSubject: identity.subject,
            createdAt: now,
            lastLoginAt: now,
          },
          select: OIDC_ACCOUNT_SELECT,
        });
        await appendAuditEntry(
          tx,
          tenantId,
          selfActor(user, input.sourceIp),
          { action: 'user.created', target: `user:${user.id}`, details: { email: user.email, role: user.role, method: 'oidc' } },
          now,
        );
        return { kind: 'CREATED' as const, user };
      });
    } catch (error) {
      if (error instanceof OidcIdentityTaken) return { kind: 'IDENTITY_TAKEN' };
      if (error instanceof EmailTaken) return { kind: 'EMAIL_TAKEN' };
      // Lost a race the tenant's lock does not serialise (emails and identities are unique
      // across tenants): which index refused it is told by who holds the identity now.
      if (isUniqueViolation(error)) return (await this.findByOidcIdentity(identity)) ? { kind: 'IDENTITY_TAKEN' } : { kind: 'EMAIL_TAKEN' };
      throw error;
    }
  }

  /**
   * A single sign-on: records when, and nothing else. The count of wrong passwords and a
   * lock stay: they guard the password, which this sign-in did not prove.
   */
  async recordOidcLogin(userId: string, now: Date): Promise<void> {
    await this.db.user.update({ where: { id: userId }, data: { lastLoginAt: now } });
  }

  /** Whether the tenant has any user at all (the bootstrap route works only while it has none). */
  async anyForTenant(tenantId: string): Promise<boolean> {
    return (await this.db.user.findFirst({ where: { tenantId }, select: { id: true } })) !== null;
  }

  /** The tenant's people, oldest first, at most `limit`. */
  async list(tenantId: string, limit: number): Promise<UserView[]> {
    const rows = await this.db.user.findMany({ where: { tenantId }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }], take: limit, select: VIEW_SELECT });
    return rows.map(toView);
  }

  async get(tenantId: string, userId: string): Promise<UserView | null> {
    const row = await this.db.user.findFirst({ where: { id: userId, tenantId }, select: VIEW_SELECT });
    return row ? toView(row) : null;
  }

  /** Creates a person an admin added, audited as user.created (email and role, never the password). */
  async createAudited(input: { tenantId: string; email: string; displayName: string; role: Role; passwordHash: string; actor: AuditActor; now: Date }): Promise<CreateUserOutcome> {
    return this.createInTransaction<never>(input, async () => null);
  }

  /**
   * Creates the tenant's first person, an ADMIN, only while the tenant has no user at all;
   * audited as user.created. Under the tenant's admin lock two concurrent calls cannot both
   * find the tenant empty.
   */
  async createFirstAdmin(input: { tenantId: string; email: string; displayName: string; passwordHash: string; actor: AuditActor; now: Date }): Promise<CreateFirstAdminOutcome> {
    return this.createInTransaction({ ...input, role: 'ADMIN' }, async (tx) =>
      (await tx.user.findFirst({ where: { tenantId: input.tenantId }, select: { id: true } })) ? { kind: 'ALREADY_BOOTSTRAPPED' as const } : null,
    );
  }

  private async createInTransaction<Refusal extends { kind: string }>(
    input: { tenantId: string; email: string; displayName: string; role: Role; passwordHash: string; actor: AuditActor; now: Date },
    refusal: (tx: DatabaseTransaction) => Promise<Refusal | null>,
  ): Promise<CreateUserOutcome | Refusal> {
    const { tenantId, actor, now } = input;
    try {
      return await this.db.$transaction(async (tx) => {
        await lockTenantAdminActions(tx, tenantId);
        const refused = await refusal(tx);
        if (refused) return refused;
        // Emails are unique across tenants, which this tenant's lock does not serialise: the
        // unique index decides a race, caught below.
        if (await tx.user.findUnique({ where: { email: input.email }, select: { id: true } })) throw new EmailTaken();
        const row = await tx.user.create({
          data: { tenantId, email: input.email, displayName: input.displayName, role: input.role, passwordHash: input.passwordHash, createdAt: now },
          select: VIEW_SELECT,
        });
        await appendAuditEntry(tx, tenantId, actor, { action: 'user.created', target: `user:${row.id}`, details: { email: row.email, role: row.role } }, now);
        return { kind: 'CREATED' as const, user: toView(row) };
      });
    } catch (error) {
      if (error instanceof EmailTaken || isUniqueViolation(error)) return { kind: 'EMAIL_TAKEN' };
      throw error;
    }
  }

  /**
   * Applies an admin's changes, audited as user.updated with the names of the fields that
   * changed and the role after. Disabling ends the person's sessions. Refused when it would
   * leave the tenant without an enabled ADMIN. Changes that change nothing write no entry.
   */
  async updateAudited(input: { tenantId: string; userId: string; changes: UserChanges; actor: AuditActor; now: Date }): Promise<UpdateUserOutcome> {
    const { tenantId, userId, changes, actor, now } = input;
    return this.db.$transaction(async (tx) => {
      await lockTenantAdminActions(tx, tenantId);
      const current = await tx.user.findFirst({ where: { id: userId, tenantId }, select: VIEW_SELECT });
      if (!current) return { kind: 'USER_NOT_FOUND' };
      const data: Prisma.UserUpdateInput = {};
      const changed: string[] = [];
      if (changes.displayName !== undefined && changes.displayName !== current.displayName) {
        data.displayName = changes.displayName;
        changed.push('displayName');
      }
      if (changes.role !== undefined && changes.role !== current.role) {
        data.role = changes.role;
        changed.push('role');
      }
      if (changes.disabled !== undefined && changes.disabled !== (current.disabledAt !== null)) {
        data.disabledAt = changes.disabled ? now : null;
        changed.push('disabled');
      }
      if (changed.length === 0) return { kind: 'UPDATED', user: toView(current) };
      const wasActiveAdmin = current.role === 'ADMIN' && current.disabledAt === null;
      const staysActiveAdmin = (changes.role ?? current.role) === 'ADMIN' && !(changes.disabled ?? current.disabledAt !== null);
      if (wasActiveAdmin && !staysActiveAdmin) {
        const otherActiveAdmins = await tx.user.count({ where: { tenantId, role: 'ADMIN', disabledAt: null, id: { not: userId } } });
        if (otherActiveAdmins === 0) return { kind: 'LAST_ADMIN' };
      }
      const row = await tx.user.update({ where: { id: userId }, data, select: VIEW_SELECT });
      if (changes.disabled === true && changed.includes('disabled')) await revokeUserSessions(tx, userId, now);
      await appendAuditEntry(
        tx,
        tenantId,
        actor,
        { action: 'user.updated', target: `user:${userId}`, details: { changed: changed.join(','), role: row.role, disabled: row.disabledAt !== null } },
        now,
      );
      return { kind: 'UPDATED', user: toView(row) };
    });
  }

  /**
   * Counts a wrong password. The `maxFailures`-th in a row locks the account until
   * `now + lockMs` and starts the count again; a locked account's attempts are not counted.
   * One UPDATE, so concurrent attempts (from any replica) each count once. Returns the lock
   * in force after this attempt, or null.
   */
  async recordFailedLogin(userId: string, now: Date, policy: { maxFailures: number; lockMs: number }): Promise<Date | null> {
    const lockUntil = new Date(now.getTime() + policy.lockMs);
    const updated = await this.db.$queryRaw<{ lockedUntil: Date | null }[]>`
      UPDATE "User" SET
        "failedLogins" = CASE WHEN "failedLogins" + 1 >= ${policy.maxFailures} THEN 0 ELSE "failedLogins" + 1 END,
        "lockedUntil" = CASE WHEN "failedLogins" + 1 >= ${policy.maxFailures} THEN ${lockUntil}::timestamptz ELSE "lockedUntil" END
      WHERE "id" = ${userId}::uuid AND ("lockedUntil" IS NULL OR "lockedUntil" <= ${now}::timestamptz)
      RETURNING "lockedUntil"`;
    const lockedUntil = updated[0]
      ? updated[0].lockedUntil
      : ((await this.db.user.findUnique({ where: { id: userId }, select: { lockedUntil: true } }))?.lockedUntil ?? null);
    return lockedUntil && lockedUntil.getTime() > now.getTime() ? lockedUntil : null;
  }

  /** A right password: the count of wrong ones starts again. */
  async recordSuccessfulLogin(userId: string, now: Date): Promise<void> {
    await this.db.user.update({ where: { id: userId }, data: { failedLogins: 0, lockedUntil: null, lastLoginAt: now } });
  }

  /**
   * Sets a person's new password hash and ends their other sessions (all but
   * `keepSessionId`), audited as user.password-changed (never the password or its hash).
   */
  async changePasswordAudited(input: { tenantId: string; userId: string; passwordHash: string; keepSessionId: string; actor: AuditActor; now: Date }): Promise<{ revokedSessions: number }> {
    const { tenantId, userId, actor, now } = input;
    return this.db.$transaction(async (tx) => {
      await lockTenantAdminActions(tx, tenantId);
      await tx.user.update({ where: { id: userId }, data: { passwordHash: input.passwordHash, failedLogins: 0, lockedUntil: null } });
      const revokedSessions = await revokeUserSessions(tx, userId, now, input.keepSessionId);
      await appendAuditEntry(tx, tenantId, actor, { action: 'user.password-changed', target: `user:${userId}`, details: { revokedSessions } }, now);
      return { revokedSessions };
    });
  }
}
