import { FailureCode } from '@airlock/protocol';
import { JobError } from '../job.error';
import type { EndpointUsage } from './conversation';

/** Raised when no configured inference endpoint could be reached or all answered 5xx. */
export class InferenceUnavailableError extends JobError {
  override readonly name = 'InferenceUnavailableError';
  readonly code = 'INFERENCE_UNAVAILABLE';
  override readonly failureCode = FailureCode.INFERENCE_UNAVAILABLE;

  /** Requests sent, on every endpoint tried. */
  readonly requests: number;

  /** `usage`: the requests sent to each endpoint tried, in configured order. */
  constructor(readonly usage: readonly EndpointUsage[]) {
    const requests = usage.reduce((sum, entry) => sum + entry.requests, 0);
    super(`no inference endpoint answered (${requests} tried)`);
    this.requests = requests;
  }
}
