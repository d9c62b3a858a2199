import { FailureCode } from '@airlock/protocol';
import type { LogFields } from '../../logging/json-logger';
import { JobError } from '../job.error';

/**
 * The server answered, but counted far fewer prompt tokens than the worker sent: it dropped
 * the front of the prompt to fit its context window (llama.cpp's server does so without a
 * word, the system prompt with it), so the answer is to a question nobody asked.
 */
export class PromptTruncatedError extends JobError {
  override readonly name = 'PromptTruncatedError';
  readonly code = 'PROMPT_TRUNCATED';
  override readonly failureCode = FailureCode.PROMPT_TRUNCATED;

  constructor(
    readonly promptTokens: number,
    readonly estimatedTokens: number,
  ) {
    super(`the server counted ${promptTokens} prompt tokens of about ${estimatedTokens} sent: the prompt was truncated`);
  }

  override get logFields(): LogFields {
    return { promptTokens: this.promptTokens, estimatedTokens: this.estimatedTokens };
  }
}
