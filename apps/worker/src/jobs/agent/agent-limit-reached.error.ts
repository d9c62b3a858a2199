import { FailureCode } from '@airlock/protocol';
import type { LogFields } from '../../logging/json-logger';
import { JobError } from '../job.error';

/** Which of the agent loop's local limits ended the job, each with its own failure code. */
const CODES = {
  turns: FailureCode.AGENT_TURNS_EXHAUSTED,
  tokens: FailureCode.TOKEN_BUDGET_EXHAUSTED,
  time: FailureCode.AGENT_TIME_EXHAUSTED,
} as const;

/** The agent loop ran into one of the worker's limits (`limits.maxAgentTurns`, `maxJobTokens`, `agentTimeout`) before it finished. */
export class AgentLimitReachedError extends JobError {
  override readonly name = 'AgentLimitReachedError';
  readonly code = 'AGENT_LIMIT_REACHED';
  override readonly failureCode: (typeof CODES)[keyof typeof CODES];

  constructor(
    readonly limit: keyof typeof CODES,
    readonly used: number,
    readonly allowed: number,
  ) {
    super(`agent loop out of ${limit}: ${used} used of ${allowed}`);
    this.failureCode = CODES[limit];
  }

  override get logFields(): LogFields {
    return { limit: this.limit, used: this.used, allowed: this.allowed };
  }
}
