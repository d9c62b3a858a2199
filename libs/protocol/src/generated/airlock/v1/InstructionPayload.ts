// Original file: proto/airlock/v1/worker_gateway.proto

import type { FixTask as _airlock_v1_FixTask, FixTask__Output as _airlock_v1_FixTask__Output } from '../../airlock/v1/FixTask';
import type { NoopTask as _airlock_v1_NoopTask, NoopTask__Output as _airlock_v1_NoopTask__Output } from '../../airlock/v1/NoopTask';
import type { ReviewTask as _airlock_v1_ReviewTask, ReviewTask__Output as _airlock_v1_ReviewTask__Output } from '../../airlock/v1/ReviewTask';
import type { IndexTask as _airlock_v1_IndexTask, IndexTask__Output as _airlock_v1_IndexTask__Output } from '../../airlock/v1/IndexTask';
import type { Long } from '@grpc/proto-loader';

export interface InstructionPayload {
  'jobId'?: (string);
  'attempt'?: (number);
  'tenantId'?: (string);
  'audience'?: (string);
  'issuedAtMs'?: (number | string | Long);
  'expiresAtMs'?: (number | string | Long);
  'nonce'?: (Buffer | Uint8Array | string);
  'policyRef'?: (string);
  'fix'?: (_airlock_v1_FixTask | null);
  'noop'?: (_airlock_v1_NoopTask | null);
  'review'?: (_airlock_v1_ReviewTask | null);
  'index'?: (_airlock_v1_IndexTask | null);
  'task'?: "fix"|"noop"|"review"|"index";
}

export interface InstructionPayload__Output {
  'jobId': (string);
  'attempt': (number);
  'tenantId': (string);
  'audience': (string);
  'issuedAtMs': (number);
  'expiresAtMs': (number);
  'nonce': (Buffer);
  'policyRef': (string);
  'fix'?: (_airlock_v1_FixTask__Output | null);
  'noop'?: (_airlock_v1_NoopTask__Output | null);
  'review'?: (_airlock_v1_ReviewTask__Output | null);
  'index'?: (_airlock_v1_IndexTask__Output | null);
  'task'?: "fix"|"noop"|"review"|"index";
}
