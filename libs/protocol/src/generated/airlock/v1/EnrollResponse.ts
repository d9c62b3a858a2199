// Original file: proto/airlock/v1/worker_gateway.proto

import type { SigningPublicKey as _airlock_v1_SigningPublicKey, SigningPublicKey__Output as _airlock_v1_SigningPublicKey__Output } from '../../airlock/v1/SigningPublicKey';

export interface EnrollResponse {
  'workerId'?: (string);
  'tenantId'?: (string);
  'signingKeys'?: (_airlock_v1_SigningPublicKey)[];
  'pool'?: (string);
  'clientCertificatePem'?: (string);
}

export interface EnrollResponse__Output {
  'workerId': (string);
  'tenantId': (string);
  'signingKeys': (_airlock_v1_SigningPublicKey__Output)[];
  'pool': (string);
  'clientCertificatePem': (string);
}
