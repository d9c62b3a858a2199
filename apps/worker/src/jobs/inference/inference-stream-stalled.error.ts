/**
 * Raised when a streamed answer stopped arriving: no chunk for longer than the endpoint's
 * `idleTimeout`, or the whole request ran past its `timeout`. The server is wedged or gone
 * rather than refusing the request, so this is a transient failure of the endpoint (retried,
 * then the next endpoint) — unlike InferenceStreamIncompleteError, a stream the server ended.
 */
export class InferenceStreamStalledError extends Error {
  override readonly name = 'InferenceStreamStalledError';
  readonly code = 'INFERENCE_STREAM_STALLED';

  constructor(
    /** `idle`: a silence between chunks past `idleTimeout`; `deadline`: the request past `timeout`. */
    readonly reason: 'idle' | 'deadline',
    readonly limitMs: number,
    readonly chunks: number,
  ) {
    super(reason === 'idle' ? `no answer chunk for ${limitMs} ms after ${chunks} chunks` : `the answer stream ran past the request timeout of ${limitMs} ms after ${chunks} chunks`);
  }
}
