import type { Metadata, status } from '@grpc/grpc-js';
import { VersionStatus, WORKER_VERSION_REFUSAL, workerVersionRefusalMetadata, type VersionNotice } from '@airlock/protocol';
import { describeSupportedVersions, judgeWorkerVersion, type WorkerVersionJudgement, type WorkerVersionWindow } from '../workers/worker-version';

/** How the stream ends for a worker whose version is outside the window. */
export interface WorkerVersionRefusalVerdict {
  /** FAILED_PRECONDITION (WORKER_VERSION_REFUSAL.status). */
  readonly status: status;
  /** The status details: the refusal in words. */
  readonly details: string;
  /** WORKER_VERSION_REFUSAL's trailing metadata. */
  readonly trailers: Metadata;
  /** What the control plane logs of it: versions only, nothing secret. */
  readonly logFields: { readonly version: string; readonly versionStatus: 'TOO_OLD' | 'TOO_NEW'; readonly supportedVersions: string; readonly upgradeTo: string };
}

/** What the gateway does with a Hello's version. */
export interface HelloVersionVerdict {
  readonly judgement: WorkerVersionJudgement;
  /** Set when the worker is to be refused (TOO_OLD, TOO_NEW). */
  readonly refusal: WorkerVersionRefusalVerdict | null;
  /** The Welcome's version notice: set for a DEPRECATED worker only. */
  readonly notice: VersionNotice | null;
}

/**
 * Judges the version of a Hello whose signature checked out (docs/worker-protocol.md): a
 * worker outside the window is refused with the versions supported and the one to install;
 * a deprecated one is welcomed and told when its support ends; any other gets no notice.
 */
export function judgeHelloVersion(version: string, window: WorkerVersionWindow, now: Date): HelloVersionVerdict {
  const judgement = judgeWorkerVersion(version, window, now);
  switch (judgement.status) {
    case 'SUPPORTED':
      return { judgement, refusal: null, notice: null };
    case 'DEPRECATED':
      return {
        judgement,
        refusal: null,
        notice: {
          status: VersionStatus.VERSION_STATUS_DEPRECATED,
          recommendedVersion: window.recommended,
          // Rounded up: the worker is refused from that second on, not before.
          endOfSupportAtS: Math.ceil(judgement.endOfSupport.getTime() / 1000),
        },
      };
    case 'TOO_OLD':
    case 'TOO_NEW':
      return { judgement, refusal: versionRefusal(version, judgement.status, window, now), notice: null };
  }
}

/** The refusal of a worker of `version`, TOO_OLD or TOO_NEW at `now`. */
export function versionRefusal(version: string, versionStatus: 'TOO_OLD' | 'TOO_NEW', window: WorkerVersionWindow, now: Date): WorkerVersionRefusalVerdict {
  const supportedVersions = describeSupportedVersions(window, now);
  const upgradeTo = window.recommended;
  const details =
    versionStatus === 'TOO_OLD'
      ? `worker version ${version} is older than this control plane supports (${supportedVersions}): upgrade the worker to ${upgradeTo}`
      : `worker version ${version} is newer than this control plane supports (${supportedVersions}): install worker ${upgradeTo}, or upgrade the control plane`;
  return {
    status: WORKER_VERSION_REFUSAL.status,
    details,
    trailers: workerVersionRefusalMetadata({ versionStatus: versionStatus === 'TOO_OLD' ? 'too-old' : 'too-new', supportedVersions, upgradeTo }),
    logFields: { version, versionStatus, supportedVersions, upgradeTo },
  };
}
