import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataAccess, type AuditActor, type EnrolledWorker, type EnrollmentTokenView } from '@airlock/data-access';
import { ENROLLMENT_TOKEN_PREFIX, generateSecretToken, hashSecretToken } from '../auth/secret-token';
import { CLOCK, type Clock } from '../common/clock';
import { EVENT_BUS, type EventBus } from '../events/event-bus';
import { EnrollmentTokenAlreadyUsedError } from './enrollment-token-already-used.error';
import { EnrollmentTokenNotFoundError } from './enrollment-token-not-found.error';

/** Default lifetime of an enrollment token (docs/worker-protocol.md). */
export const DEFAULT_ENROLLMENT_TOKEN_TTL_SECONDS = 3_600;

/** A token just created: the only time the token itself is ever shown. */
export interface CreatedEnrollmentToken {
  readonly id: string;
  readonly token: string;
  readonly expiresAt: Date;
  readonly pool: string | null;
}

/** Issues one-time enrollment tokens, lists and revokes them, and exchanges them for worker identities. */
@Injectable()
export class EnrollmentService {
  private readonly logger = new Logger(EnrollmentService.name);

  constructor(
    private readonly data: DataAccess,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(EVENT_BUS) private readonly events: EventBus,
  ) {}

  /** Creates a token and its audit entry (enrollment-token.created: the token's id, expiry and pool, never the token). */
  async createToken(
    tenantId: string,
    actor: AuditActor,
    options: { ttlSeconds?: number; pool?: string } = {},
  ): Promise<CreatedEnrollmentToken> {
    const token = generateSecretToken(ENROLLMENT_TOKEN_PREFIX);
    const now = this.clock.now();
    const expiresAt = new Date(now.getTime() + (options.ttlSeconds ?? DEFAULT_ENROLLMENT_TOKEN_TTL_SECONDS) * 1_000);
    const created = await this.data.enrollment.createAuditedToken({ tenantId, tokenHash: hashSecretToken(token), expiresAt, pool: options.pool ?? null, actor, now });
    return { id: created.id, token, expiresAt: created.expiresAt, pool: created.pool };
  }

  list(tenantId: string, limit: number): Promise<EnrollmentTokenView[]> {
    return this.data.enrollment.listForTenant(tenantId, limit, this.clock.now());
  }

  /**
   * Revokes an unused token so it enrolls nothing (audited enrollment-token.revoked).
   * Revoking it again answers the same; a used token cannot be revoked.
   */
  async revoke(tenantId: string, actor: AuditActor, tokenId: string): Promise<EnrollmentTokenView> {
    const outcome = await this.data.enrollment.revokeAudited({ tenantId, tokenId, actor, now: this.clock.now() });
    if (!outcome) throw new EnrollmentTokenNotFoundError(tokenId);
    if (outcome.kind === 'ALREADY_USED') throw new EnrollmentTokenAlreadyUsedError(tokenId, outcome.token.workerId);
    if (outcome.kind === 'REVOKED') this.logger.log({ event: 'enrollment_token_revoked', tenantId, tokenId, actorKind: actor.kind, actorId: actor.id });
    return outcome.token;
  }

  /** Null when the token is unknown, used, revoked or expired; the caller must not say which. */
  async enroll(token: string, publicKey: Buffer, version: string): Promise<EnrolledWorker | null> {
    const now = this.clock.now();
    const enrolled = await this.data.enrollment.enroll({ tokenHash: hashSecretToken(token), publicKey, version, now });
    if (enrolled) this.events.publish({ type: 'worker.changed', tenantId: enrolled.tenantId, workerId: enrolled.workerId, change: 'ENROLLED', at: now.toISOString() });
    return enrolled;
  }
}
