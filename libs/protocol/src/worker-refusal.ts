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
