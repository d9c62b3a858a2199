// Original file: proto/airlock/v1/worker_gateway.proto

export const VersionStatus = {
  VERSION_STATUS_UNSPECIFIED: 'VERSION_STATUS_UNSPECIFIED',
  VERSION_STATUS_DEPRECATED: 'VERSION_STATUS_DEPRECATED',
} as const;

export type VersionStatus =
  | 'VERSION_STATUS_UNSPECIFIED'
  | 0
  | 'VERSION_STATUS_DEPRECATED'
  | 1

export type VersionStatus__Output = typeof VersionStatus[keyof typeof VersionStatus]
