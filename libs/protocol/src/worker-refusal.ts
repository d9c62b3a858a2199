import { status, type Metadata } from '@grpc/grpc-js';

/**
 * How the control plane tells a worker it was revoked — the one refusal reconnecting can
 * never cure: the Connect stream ends with PERMISSION_DENIED and this entry in its trailing
 * metadata. A worker that sees it stops at once instead of retrying; every other refusal
 * (an identity a control plane does not know yet, say) it keeps retrying for a while.
 */
export const WORKER_REVOKED_REFUSAL = {
  status: status.PERMISSION_DENIED,
  metadataKey: 'airlock-refusal',
  metadataValue: 'worker-revoked',
} as const;

/** Whether a call's final status is the control plane's refusal of a revoked worker. */
export function isWorkerRevokedRefusal(error: { readonly code?: number; readonly metadata?: Pick<Metadata, 'get'> }): boolean {
  return (
    error.code === WORKER_REVOKED_REFUSAL.status &&
    (error.metadata?.get(WORKER_REVOKED_REFUSAL.metadataKey) ?? []).some((value) => value === WORKER_REVOKED_REFUSAL.metadataValue)
  );
}
