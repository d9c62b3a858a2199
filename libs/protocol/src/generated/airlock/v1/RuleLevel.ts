// Original file: proto/airlock/v1/worker_gateway.proto

export const RuleLevel = {
  RULE_LEVEL_UNSPECIFIED: 'RULE_LEVEL_UNSPECIFIED',
  RULE_LEVEL_ADVISORY: 'RULE_LEVEL_ADVISORY',
  RULE_LEVEL_MANDATORY: 'RULE_LEVEL_MANDATORY',
} as const;

export type RuleLevel =
  | 'RULE_LEVEL_UNSPECIFIED'
  | 0
  | 'RULE_LEVEL_ADVISORY'
  | 1
  | 'RULE_LEVEL_MANDATORY'
  | 2

export type RuleLevel__Output = typeof RuleLevel[keyof typeof RuleLevel]
