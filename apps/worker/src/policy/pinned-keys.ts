import { PolicyBundleVerifier } from '@airlock/envelope';
import type { WorkerConfig } from '../config/worker-config.loader';
import type { WorkerIdentity } from '../identity/worker-identity.store';

/**
 * Longest validity window a policy bundle may claim. The control plane signs each push
 * afresh, and a bundle the worker has applied stays in force past its expiry anyway: the
 * window only bounds how long a bundle never applied can be replayed to a worker.
 */
export const MAX_BUNDLE_VALIDITY_WINDOW_MS = 24 * 60 * 60_000;

/** The control-plane keys pinned in the config (keyId → raw public key): they sign instructions and bundles alike. */
export function pinnedSigningKeys(config: Pick<WorkerConfig, 'controlPlane'>): Map<string, Buffer> {
  return new Map(config.controlPlane.trustedSigningKeys.map((key) => [key.keyId, Buffer.from(key.publicKey, 'base64')]));
}

/** The verifier of this worker's policy bundles: its pinned keys, its own id and tenant. */
export function workerBundleVerifier(
  config: Pick<WorkerConfig, 'controlPlane'>,
  identity: Pick<WorkerIdentity, 'workerId' | 'tenantId'>,
  clock: () => number,
  maxClockSkewMs: number,
): PolicyBundleVerifier {
  return new PolicyBundleVerifier({
    trustedKeys: pinnedSigningKeys(config),
    workerId: identity.workerId,
    tenantId: identity.tenantId,
    clock,
    maxClockSkewMs,
    maxValidityWindowMs: MAX_BUNDLE_VALIDITY_WINDOW_MS,
  });
}
