// Original file: proto/airlock/v1/worker_gateway.proto

import type { PolicyRule as _airlock_v1_PolicyRule, PolicyRule__Output as _airlock_v1_PolicyRule__Output } from '../../airlock/v1/PolicyRule';
import type { RuleLevel as _airlock_v1_RuleLevel, RuleLevel__Output as _airlock_v1_RuleLevel__Output } from '../../airlock/v1/RuleLevel';
import type { RuleOutcome as _airlock_v1_RuleOutcome, RuleOutcome__Output as _airlock_v1_RuleOutcome__Output } from '../../airlock/v1/RuleOutcome';

export interface RuleDecision {
  'rule'?: (_airlock_v1_PolicyRule);
  'level'?: (_airlock_v1_RuleLevel);
  'outcome'?: (_airlock_v1_RuleOutcome);
}

export interface RuleDecision__Output {
  'rule': (_airlock_v1_PolicyRule__Output);
  'level': (_airlock_v1_RuleLevel__Output);
  'outcome': (_airlock_v1_RuleOutcome__Output);
}
