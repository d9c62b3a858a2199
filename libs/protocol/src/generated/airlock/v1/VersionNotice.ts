// Original file: proto/airlock/v1/worker_gateway.proto

import type { VersionStatus as _airlock_v1_VersionStatus, VersionStatus__Output as _airlock_v1_VersionStatus__Output } from '../../airlock/v1/VersionStatus';
import type { Long } from '@grpc/proto-loader';

export interface VersionNotice {
  'status'?: (_airlock_v1_VersionStatus);
  'recommendedVersion'?: (string);
  'endOfSupportAtS'?: (number | string | Long);
}

export interface VersionNotice__Output {
  'status': (_airlock_v1_VersionStatus__Output);
  'recommendedVersion': (string);
  'endOfSupportAtS': (number);
}
