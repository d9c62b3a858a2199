/** The error body OpenAI returns, and that vLLM, Ollama and llama.cpp's server copy. */
export interface OpenAiErrorBody {
  error: {
    message: string;
    type: string;
    param: string | null;
    code: string | null;
  };
}

/**
 * A request the simulator refuses, carrying everything the HTTP edge needs to answer in the
 * OpenAI error shape. Handlers throw it; only `sim-server.ts` turns it into a response, so
 * status codes are decided in one place.
 */
export class OpenAiApiError extends Error {
  override readonly name = 'OpenAiApiError';

  constructor(
    readonly status: number,
    message: string,
    readonly type: string,
    readonly param: string | null = null,
    readonly code: string | null = null,
  ) {
    super(message);
  }

  /** The JSON body sent to the client. */
  toBody(): OpenAiErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}
