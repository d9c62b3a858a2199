/** Raised when no configured inference endpoint could be reached or all answered 5xx. */
export class InferenceUnavailableError extends Error {
  override readonly name = 'InferenceUnavailableError';
  readonly code = 'INFERENCE_UNAVAILABLE';

  constructor(readonly requests: number) {
    super(`no inference endpoint answered (${requests} tried)`);
  }
}
