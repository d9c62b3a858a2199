// Original file: proto/airlock/v1/worker_gateway.proto

import type { VersionNotice as _airlock_v1_VersionNotice, VersionNotice__Output as _airlock_v1_VersionNotice__Output } from '../../airlock/v1/VersionNotice';

export interface Welcome {
  'heartbeatIntervalMs'?: (number);
  'leaseTtlMs'?: (number);
  'versionNotice'?: (_airlock_v1_VersionNotice | null);
}

export interface Welcome__Output {
  'heartbeatIntervalMs': (number);
  'leaseTtlMs': (number);
  'versionNotice': (_airlock_v1_VersionNotice__Output | null);
}
