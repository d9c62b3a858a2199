// Original file: proto/airlock/v1/worker_gateway.proto

import type { AttemptRef as _airlock_v1_AttemptRef, AttemptRef__Output as _airlock_v1_AttemptRef__Output } from '../../airlock/v1/AttemptRef';

export interface Hello {
  'workerId'?: (string);
  'challengeSignature'?: (Buffer | Uint8Array | string);
  'workerVersion'?: (string);
  'capacity'?: (number);
  'running'?: (_airlock_v1_AttemptRef)[];
  'localPolicyDigest'?: (Buffer | Uint8Array | string);
  'labels'?: (string)[];
  'policyRevision'?: (number);
}

export interface Hello__Output {
  'workerId': (string);
  'challengeSignature': (Buffer);
  'workerVersion': (string);
  'capacity': (number);
  'running': (_airlock_v1_AttemptRef__Output)[];
  'localPolicyDigest': (Buffer);
  'labels': (string)[];
  'policyRevision': (number);
}
