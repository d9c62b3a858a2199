import OpenAI from 'openai';
import { FailureCode } from '@airlock/protocol';
import type { InferenceEndpointConfig } from '../../config/worker-config.loader';
import type { Logger } from '../../logging/json-logger';
import { JobPhaseFailedError } from '../job-phase-failed.error';
import { InferenceRejectedError } from './inference-rejected.error';
import { InferenceStreamIncompleteError } from './inference-stream-incomplete.error';
import { InferenceUnavailableError } from './inference-unavailable.error';

/** A chat message sent to the model. */
export interface ChatMessage {
  readonly role: 'system' | 'user';
  readonly content: string;
}

/** The model's whole answer and what it cost. */
export interface Completion {
  readonly content: string;
  readonly requests: number;
  readonly promptTokens: number;
  readonly completionTokens: number;
}

/** The longest answer read from a model; an edit-block answer for a ticket is far smaller. */
export const MAX_MODEL_ANSWER_CHARS = 1024 * 1024;

/**
 * Streams a chat completion from the first endpoint that answers, trying the configured
 * endpoints in order. Connection failures and 5xx move on to the next endpoint; a 4xx
 * stops (the request itself is wrong, and every endpoint would say so), and so does a
 * stream that the server ended without a `finish_reason` (it refused the request after
 * accepting it; see InferenceStreamIncompleteError).
 */
export class InferenceClient {
  private readonly clients: ReadonlyArray<{ readonly endpoint: InferenceEndpointConfig; readonly client: OpenAI }>;

  constructor(
    endpoints: readonly InferenceEndpointConfig[],
    private readonly logger: Logger,
  ) {
    this.clients = endpoints.map((endpoint) => ({
      endpoint,
      client: new OpenAI({
        baseURL: endpoint.baseUrl,
        // Local servers rarely need a key, but the SDK insists on a non-empty one.
        apiKey: endpoint.apiKey ?? 'not-needed',
        timeout: endpoint.timeoutMs,
        maxRetries: 2,
        // The locality check holds for the configured URL only; a redirect would carry the
        // prompt (code) to wherever it points, so none is followed.
        fetchOptions: { redirect: 'error' },
      }),
    }));
  }

  /** Runs one completion; throws InferenceUnavailableError or InferenceRejectedError. */
  async complete(messages: readonly ChatMessage[], maxTokens: number, signal: AbortSignal): Promise<Completion> {
    let requests = 0;
    for (const { endpoint, client } of this.clients) {
      signal.throwIfAborted();
      requests += 1;
      try {
        const stream = await client.chat.completions.create(
          { model: endpoint.model, messages: [...messages], max_tokens: maxTokens, stream: true, stream_options: { include_usage: true } },
          { signal },
        );
        let content = '';
        let promptTokens = 0;
        let completionTokens = 0;
        let chunks = 0;
        let finished = false;
        for await (const chunk of stream) {
          chunks += 1;
          content += chunk.choices[0]?.delta?.content ?? '';
          if (chunk.choices[0]?.finish_reason) finished = true;
          if (content.length > MAX_MODEL_ANSWER_CHARS) {
            stream.controller.abort();
            throw new JobPhaseFailedError(FailureCode.MODEL_OUTPUT_UNUSABLE, `model answer longer than ${MAX_MODEL_ANSWER_CHARS} characters`);
          }
          if (chunk.usage) {
            promptTokens = chunk.usage.prompt_tokens;
            completionTokens = chunk.usage.completion_tokens;
          }
        }
        if (!finished) {
          this.logger.warn('inference-stream-incomplete', { endpoint: endpoint.name, chunks });
          throw new InferenceStreamIncompleteError(chunks, requests);
        }
        return { content, requests, promptTokens, completionTokens };
      } catch (error) {
        signal.throwIfAborted();
        if (error instanceof JobPhaseFailedError || error instanceof InferenceStreamIncompleteError) throw error;
        if (error instanceof OpenAI.APIError && error.status !== undefined && error.status >= 400 && error.status < 500) {
          this.logger.warn('inference-rejected', { endpoint: endpoint.name, status: error.status });
          throw new InferenceRejectedError(error.status, requests);
        }
        this.logger.warn('inference-endpoint-unavailable', { endpoint: endpoint.name, error: error as Error });
      }
    }
    throw new InferenceUnavailableError(requests);
  }

  /** Lists the models an endpoint serves (`GET /v1/models`), for doctor and readiness checks. */
  async listModels(endpoint: InferenceEndpointConfig, signal?: AbortSignal): Promise<string[]> {
    const entry = this.clients.find((c) => c.endpoint === endpoint);
    if (!entry) throw new RangeError(`unknown endpoint ${endpoint.name}`);
    const ids: string[] = [];
    for await (const model of entry.client.models.list({ signal, maxRetries: 0, timeout: Math.min(endpoint.timeoutMs, 10_000) })) ids.push(model.id);
    return ids;
  }
}
