import type { Role } from '@prisma/client';
import type { DatabaseClient, DatabaseTransaction } from '../database-client';

/** How a session was opened (UserSession.method). */
export type SessionMethod = 'PASSWORD' | 'OIDC';

/** What a live session grants: its user, as the user is now (role changes apply at once). */
export interface SessionGrant {
  readonly sessionId: string;
  readonly tenantId: string;
  readonly userId: string;
  readonly email: string;
  readonly displayName: string;
  readonly role: Role;
  /** The absolute end of the session. */
  readonly expiresAt: Date;
}

// lastSeenAt decides the idle timeout; refreshing it at most once a minute keeps reads from
// turning every request into a write, at the price of up to a minute of slack on the timeout.
const LAST_SEEN_RESOLUTION_MS = 60_000;

/**
 * The live sessions a person may hold at once. A login beyond it ends the oldest: logins
 * are rate-limited, but nothing else would bound the rows one account accumulates.
 */
export const MAX_LIVE_SESSIONS_PER_USER = 20;

const MAX_USER_AGENT_CHARS = 200;

/** Ends every live session of a user inside the caller's transaction, but `exceptSessionId`. */
export async function revokeUserSessions(tx: DatabaseTransaction, userId: string, now: Date, exceptSessionId: string | null = null): Promise<number> {
  const revoked = await tx.userSession.updateMany({
    where: { userId, revokedAt: null, ...(exceptSessionId ? { id: { not: exceptSessionId } } : {}) },
    data: { revokedAt: now },
  });
  return revoked.count;
}

/** Dashboard sessions. Only the SHA-256 of a session's secret is stored. */
export class UserSessionRepository {
  constructor(private readonly db: DatabaseClient) {}

  /** Opens a session, ending the user's oldest live ones beyond MAX_LIVE_SESSIONS_PER_USER. */
  async create(input: {
    tenantId: string;
    userId: string;
    tokenHash: string;
    method: SessionMethod;
    now: Date;
    expiresAt: Date;
    sourceIp: string | null;
    userAgent: string | null;
  }): Promise<{ id: string; expiresAt: Date }> {
    const { now } = input;
    return this.db.$transaction(async (tx) => {
      const session = await tx.userSession.create({
        data: {
          tenantId: input.tenantId,
          userId: input.userId,
          tokenHash: input.tokenHash,
          method: input.method,
          createdAt: now,
          lastSeenAt: now,
          expiresAt: input.expiresAt,
          sourceIp: input.sourceIp,
          userAgent: input.userAgent === null ? null : input.userAgent.slice(0, MAX_USER_AGENT_CHARS),
        },
        select: { id: true, expiresAt: true },
      });
      const beyondLimit = await tx.userSession.findMany({
        where: { userId: input.userId, revokedAt: null, expiresAt: { gt: now } },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        skip: MAX_LIVE_SESSIONS_PER_USER,
        select: { id: true },
      });
      if (beyondLimit.length > 0) {
        await tx.userSession.updateMany({ where: { id: { in: beyondLimit.map((row) => row.id) } }, data: { revokedAt: now } });
      }
      return session;
    });
  }

  /**
   * The session whose secret hashes to `tokenHash`, when it is live: not revoked, not past
   * its absolute end, used within `idleTimeoutMs`, and its user not disabled. Records the use.
   */
  async authenticate(tokenHash: string, now: Date, idleTimeoutMs: number): Promise<SessionGrant | null> {
    const session = await this.db.userSession.findUnique({
      where: { tokenHash },
      select: {
        id: true,
        tenantId: true,
        lastSeenAt: true,
        expiresAt: true,
        revokedAt: true,
        user: { select: { id: true, email: true, displayName: true, role: true, disabledAt: true } },
      },
    });
    if (!session || session.revokedAt || session.user.disabledAt) return null;
    const nowMs = now.getTime();
    if (session.expiresAt.getTime() <= nowMs || session.lastSeenAt.getTime() + idleTimeoutMs <= nowMs) return null;
    if (nowMs - session.lastSeenAt.getTime() >= LAST_SEEN_RESOLUTION_MS) {
      await this.db.userSession.updateMany({ where: { id: session.id, lastSeenAt: { lt: new Date(nowMs - LAST_SEEN_RESOLUTION_MS) } }, data: { lastSeenAt: now } });
    }
    const { user } = session;
    return { sessionId: session.id, tenantId: session.tenantId, userId: user.id, email: user.email, displayName: user.displayName, role: user.role, expiresAt: session.expiresAt };
  }

  /** Ends one session (logout). Ending an ended session changes nothing. */
  async revoke(sessionId: string, now: Date): Promise<void> {
    await this.db.userSession.updateMany({ where: { id: sessionId, revokedAt: null }, data: { revokedAt: now } });
  }
}
