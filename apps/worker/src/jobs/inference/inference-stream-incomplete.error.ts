import { FailureCode } from '@airlock/protocol';
import { JobError } from '../job.error';
import type { EndpointUsage } from './conversation';

/**
 * Raised when an answer stream ended (`[DONE]`, or the body closed) without any choice
 * saying why it finished. Servers do this when they refuse a request after accepting it:
 * llama.cpp's server sends HTTP 200, then an `error:` line the OpenAI SDK does not surface,
 * then `[DONE]` — for a prompt over its context, or a context that filled up mid-answer.
 * What arrived is not an answer, so it is an inference failure, not unusable model output.
 */
export class InferenceStreamIncompleteError extends JobError {
  override readonly name = 'InferenceStreamIncompleteError';
  readonly code = 'INFERENCE_STREAM_INCOMPLETE';
  override readonly failureCode = FailureCode.INFERENCE_FAILED;

  /** Requests sent, the cut-off one included. */
  readonly requests: number;

  /** `usage`: the requests sent to each endpoint asked, in configured order, the one that cut off last. */
  constructor(
    readonly chunks: number,
    readonly usage: readonly EndpointUsage[],
  ) {
    super(`the answer stream ended after ${chunks} chunks without a finish_reason`);
    this.requests = usage.reduce((sum, entry) => sum + entry.requests, 0);
  }

  override get logFields() {
    return { chunks: this.chunks };
  }
}
