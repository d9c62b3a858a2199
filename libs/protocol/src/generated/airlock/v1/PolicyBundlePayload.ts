// Original file: proto/airlock/v1/worker_gateway.proto

import type { Long } from '@grpc/proto-loader';

export interface PolicyBundlePayload {
  'tenantId'?: (string);
  'audience'?: (string);
  'revision'?: (number);
  'issuedAtMs'?: (number | string | Long);
  'expiresAtMs'?: (number | string | Long);
  'layersJson'?: (string);
}

export interface PolicyBundlePayload__Output {
  'tenantId': (string);
  'audience': (string);
  'revision': (number);
  'issuedAtMs': (number);
  'expiresAtMs': (number);
  'layersJson': (string);
}
