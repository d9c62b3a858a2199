import { Metadata, status } from '@grpc/grpc-js';
import { ID_PATTERNS } from './limits';

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

/**
 * How the control plane refuses a worker whose version is outside the window it supports
 * (docs/worker-protocol.md): at the Hello, after the signature check, the Connect stream
 * ends with FAILED_PRECONDITION and, in its trailing metadata, `airlock-refusal:
 * worker-version` and what the worker needs to know to be accepted — whether it is too old
 * or too new, the versions supported (`>=0.1.0 <1.0.0`) and the version to install. A worker
 * does not change version by reconnecting, so one that sees it stops.
 */
export const WORKER_VERSION_REFUSAL = {
  status: status.FAILED_PRECONDITION,
  metadataKey: 'airlock-refusal',
  metadataValue: 'worker-version',
  /** `too-old` or `too-new`. */
  versionStatusKey: 'airlock-version-status',
  /** The window at the time of the refusal, as `>=<min> <max>` (the maximum excluded). */
  supportedVersionsKey: 'airlock-supported-versions',
  /** The worker version to install: the control plane's recommended version. */
  upgradeToKey: 'airlock-upgrade-to',
} as const;

/** What a worker learns from a version refusal; a value missing or malformed is null. */
export interface WorkerVersionRefusal {
  readonly versionStatus: 'too-old' | 'too-new' | null;
  /** `>=<min> <max>`. */
  readonly supportedVersions: string | null;
  readonly upgradeTo: string | null;
}

const VERSION_STATUSES: ReadonlySet<string> = new Set(['too-old', 'too-new']);
const SEMVER = ID_PATTERNS.semver.source.slice(1, -1);
const SUPPORTED_VERSIONS = new RegExp(`^>=${SEMVER} <${SEMVER}$`);

/** The trailing metadata of a version refusal, as the control plane sends it. */
export function workerVersionRefusalMetadata(refusal: { readonly versionStatus: 'too-old' | 'too-new'; readonly supportedVersions: string; readonly upgradeTo: string }): Metadata {
  const metadata = new Metadata();
  metadata.set(WORKER_VERSION_REFUSAL.metadataKey, WORKER_VERSION_REFUSAL.metadataValue);
  metadata.set(WORKER_VERSION_REFUSAL.versionStatusKey, refusal.versionStatus);
  metadata.set(WORKER_VERSION_REFUSAL.supportedVersionsKey, refusal.supportedVersions);
  metadata.set(WORKER_VERSION_REFUSAL.upgradeToKey, refusal.upgradeTo);
  return metadata;
}

/**
 * The control plane's refusal of the worker's version, read from a call's final status; null
 * for any other end. The values are checked against their shapes before a worker logs them.
 */
export function readWorkerVersionRefusal(error: { readonly code?: number; readonly metadata?: Pick<Metadata, 'get'> }): WorkerVersionRefusal | null {
  if (error.code !== WORKER_VERSION_REFUSAL.status) return null;
  const values = (key: string) => (error.metadata?.get(key) ?? []).filter((value): value is string => typeof value === 'string');
  if (!values(WORKER_VERSION_REFUSAL.metadataKey).includes(WORKER_VERSION_REFUSAL.metadataValue)) return null;
  const first = (key: string, valid: (value: string) => boolean) => values(key).find(valid) ?? null;
  return {
    versionStatus: first(WORKER_VERSION_REFUSAL.versionStatusKey, (value) => VERSION_STATUSES.has(value)) as WorkerVersionRefusal['versionStatus'],
    supportedVersions: first(WORKER_VERSION_REFUSAL.supportedVersionsKey, (value) => SUPPORTED_VERSIONS.test(value)),
    upgradeTo: first(WORKER_VERSION_REFUSAL.upgradeToKey, (value) => ID_PATTERNS.semver.test(value)),
  };
}

/**
 * How the control plane turns a Connect away when it already has as many handshakes in
 * progress as it takes (AIRLOCK_GRPC_MAX_HANDSHAKES): at once, before any Challenge, with
 * RESOURCE_EXHAUSTED and, in the trailing metadata, `airlock-refusal: gateway-busy` and
 * `airlock-retry-after-ms`, the milliseconds after which the worker may try again. Nothing
 * was checked, so nothing is said about the worker: it waits at least that long, spread by
 * jitter, and connects again (docs/worker-protocol.md).
 */
export const GATEWAY_BUSY_REFUSAL = {
  status: status.RESOURCE_EXHAUSTED,
  metadataKey: 'airlock-refusal',
  metadataValue: 'gateway-busy',
  retryAfterKey: 'airlock-retry-after-ms',
  /** The longest wait a control plane may ask for; a larger value is read as this. */
  maxRetryAfterMs: 60_000,
} as const;

/** The trailing metadata of a busy refusal, asking the worker to wait `retryAfterMs` (a whole number, at most the maximum). */
export function gatewayBusyRefusalMetadata(retryAfterMs: number): Metadata {
  if (!Number.isSafeInteger(retryAfterMs) || retryAfterMs < 0 || retryAfterMs > GATEWAY_BUSY_REFUSAL.maxRetryAfterMs) {
    throw new RangeError(`retryAfterMs: expected a whole number of milliseconds from 0 to ${GATEWAY_BUSY_REFUSAL.maxRetryAfterMs}`);
  }
  const metadata = new Metadata();
  metadata.set(GATEWAY_BUSY_REFUSAL.metadataKey, GATEWAY_BUSY_REFUSAL.metadataValue);
  metadata.set(GATEWAY_BUSY_REFUSAL.retryAfterKey, String(retryAfterMs));
  return metadata;
}

/**
 * The wait a busy refusal asks for, read from a call's final status: null for any other end,
 * or a busy refusal whose hint is missing or not a whole number of milliseconds. A hint past
 * the maximum is read as the maximum, so a control plane cannot park a worker for longer.
 */
export function readGatewayBusyRetryAfterMs(error: { readonly code?: number; readonly metadata?: Pick<Metadata, 'get'> }): number | null {
  if (error.code !== GATEWAY_BUSY_REFUSAL.status) return null;
  const values = (key: string) => (error.metadata?.get(key) ?? []).filter((value): value is string => typeof value === 'string');
  if (!values(GATEWAY_BUSY_REFUSAL.metadataKey).includes(GATEWAY_BUSY_REFUSAL.metadataValue)) return null;
  const hint = values(GATEWAY_BUSY_REFUSAL.retryAfterKey).find((value) => /^\d{1,9}$/.test(value));
  return hint === undefined ? null : Math.min(Number(hint), GATEWAY_BUSY_REFUSAL.maxRetryAfterMs);
}
