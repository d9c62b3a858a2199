import type { WorkerVersionRefusal } from '@airlock/protocol';

/**
 * The control plane refused this worker's version at the Hello (WORKER_VERSION_REFUSAL):
 * outside the window it supports. Reconnecting cannot change the version, so the daemon
 * stops at once (exit code `versionRefused`), naming its version, the versions supported
 * and the one to install, instead of retrying forever.
 */
export class WorkerVersionRefusedError extends Error {
  override readonly name = 'WorkerVersionRefusedError';
  readonly code = 'WORKER_VERSION_REFUSED';

  constructor(
    readonly version: string,
    readonly refusal: WorkerVersionRefusal,
  ) {
    const supported = refusal.supportedVersions ?? 'other versions (it did not say which)';
    const install = refusal.upgradeTo ?? 'a version it supports';
    super(
      refusal.versionStatus === 'too-new'
        ? `the control plane refused this worker's version ${version} as newer than it supports (${supported}). ` +
            `Install worker ${install} on this host, or upgrade the control plane first, then start the worker again.`
        : `the control plane refused this worker's version ${version}${refusal.versionStatus === 'too-old' ? ' as too old' : ''}: it supports ${supported}. ` +
            `Upgrade the worker to ${install}, then start it again.`,
    );
  }
}
