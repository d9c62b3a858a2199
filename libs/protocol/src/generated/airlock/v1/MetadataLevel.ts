// Original file: proto/airlock/v1/worker_gateway.proto

export const MetadataLevel = {
  METADATA_LEVEL_UNSPECIFIED: 'METADATA_LEVEL_UNSPECIFIED',
  METADATA_LEVEL_MINIMAL: 'METADATA_LEVEL_MINIMAL',
  METADATA_LEVEL_STANDARD: 'METADATA_LEVEL_STANDARD',
  METADATA_LEVEL_STANDARD_BUCKETED: 'METADATA_LEVEL_STANDARD_BUCKETED',
} as const;

export type MetadataLevel =
  | 'METADATA_LEVEL_UNSPECIFIED'
  | 0
  | 'METADATA_LEVEL_MINIMAL'
  | 1
  | 'METADATA_LEVEL_STANDARD'
  | 2
  | 'METADATA_LEVEL_STANDARD_BUCKETED'
  | 3

export type MetadataLevel__Output = typeof MetadataLevel[keyof typeof MetadataLevel]
