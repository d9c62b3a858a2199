import { randomBytes, randomUUID } from 'node:crypto';

/**
 * The routing and validity fields every test instruction payload carries: fresh ids and
 * nonce, attempt 1, a one-minute window in 2023. Tests spread it and add the task. It is
 * a plain object (no protocol types) so that the protocol library's own tests can use it.
 */
export function instructionHeader() {
  return {
    jobId: randomUUID(),
    attempt: 1,
    tenantId: randomUUID(),
    audience: randomUUID(),
    issuedAtMs: 1_700_000_000_000,
    expiresAtMs: 1_700_000_060_000,
    nonce: randomBytes(16),
    policyRef: '',
  };
}
