import { Inject, Injectable } from '@nestjs/common';
import { DataAccess, type AuditActor, type EnrolledWorker } from '@airlock/data-access';
import { ENROLLMENT_TOKEN_PREFIX, generateSecretToken, hashSecretToken } from '../auth/secret-token';
import { CLOCK, type Clock } from '../common/clock';

/** Default lifetime of an enrollment token (docs/worker-protocol.md). */
export const DEFAULT_ENROLLMENT_TOKEN_TTL_SECONDS = 3_600;

/** Issues one-time enrollment tokens and exchanges them for worker identities. */
@Injectable()
export class EnrollmentService {
  constructor(
    private readonly data: DataAccess,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** Creates a token and its audit entry (enrollment-token.created: the token's id and expiry, never the token). */
  async createToken(tenantId: string, actor: AuditActor, ttlSeconds = DEFAULT_ENROLLMENT_TOKEN_TTL_SECONDS): Promise<{ token: string; expiresAt: Date }> {
    const token = generateSecretToken(ENROLLMENT_TOKEN_PREFIX);
    const now = this.clock.now();
    const expiresAt = new Date(now.getTime() + ttlSeconds * 1_000);
    await this.data.enrollment.createAuditedToken({ tenantId, tokenHash: hashSecretToken(token), expiresAt, actor, now });
    return { token, expiresAt };
  }

  /** Null when the token is unknown, used or expired; the caller must not say which. */
  enroll(token: string, publicKey: Buffer, version: string): Promise<EnrolledWorker | null> {
    return this.data.enrollment.enroll({ tokenHash: hashSecretToken(token), publicKey, version, now: this.clock.now() });
  }
}
