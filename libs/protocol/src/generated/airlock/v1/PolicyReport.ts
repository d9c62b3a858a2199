// Original file: proto/airlock/v1/worker_gateway.proto

import type { RuleDecision as _airlock_v1_RuleDecision, RuleDecision__Output as _airlock_v1_RuleDecision__Output } from '../../airlock/v1/RuleDecision';

export interface PolicyReport {
  'revision'?: (number);
  'shadowRevision'?: (number);
  'decisions'?: (_airlock_v1_RuleDecision)[];
}

export interface PolicyReport__Output {
  'revision': (number);
  'shadowRevision': (number);
  'decisions': (_airlock_v1_RuleDecision__Output)[];
}
