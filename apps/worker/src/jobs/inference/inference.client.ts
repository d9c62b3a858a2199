import type OpenAI from 'openai';
import type { ClientOptions } from 'openai';
import type { Dispatcher } from 'undici';
import type { ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import { FailureCode } from '@airlock/protocol';
import type { InferenceEndpointConfig } from '../../config/worker-config.loader';
import type { Logger } from '../../logging/json-logger';
import { JobPhaseFailedError } from '../job-phase-failed.error';
import { InferenceRejectedError } from './inference-rejected.error';
import { InferenceStreamIncompleteError } from './inference-stream-incomplete.error';
import { InferenceUnavailableError } from './inference-unavailable.error';
import { EndpointCircuitBreaker } from './endpoint-circuit.breaker';
import { TextToolDialect } from '../agent/text-tool.dialect';
import type { ChatAnswer, ChatRequest, ConversationMessage, ToolDialect, ToolSpec } from './conversation';
import { EndpointUsageTally } from './endpoint-usage.tally';
import { PromptTruncatedError } from './prompt-truncated.error';
import { type ContextWindowProvider, discoverContextWindow, listServedModels } from './context-window.discovery';
import { loadUndici } from '../../http/undici.lazy';
import { createEndpointDispatcher, DEFAULT_STREAM_IDLE_TIMEOUT_MS } from './endpoint-dispatcher';
import { InferenceStreamStalledError } from './inference-stream-stalled.error';
import { StreamWatchdog } from './stream-watchdog';

/** A chat message sent to the model. */
export type ChatMessage = ConversationMessage;

/** The model's whole answer and what it cost. */
export interface Completion {
  readonly content: string;
  readonly requests: number;
  readonly promptTokens: number;
  readonly completionTokens: number;
  /** The name of the endpoint that answered, for the local job record. */
  readonly endpoint?: string;
}

/** The longest answer read from a model; an edit-block answer for a ticket is far smaller. */
export const MAX_MODEL_ANSWER_CHARS = 1024 * 1024;

/** How the client retries and when it stops asking an endpoint. */
export interface InferenceClientSettings {
  /** Calls per endpoint for one completion: the first and its retries. @default 3 */
  readonly attemptsPerEndpoint: number;
  /** Backoff between tries without a Retry-After: full jitter up to base × 2^n, capped. */
  readonly backoffBaseMs: number;
  readonly backoffCapMs: number;
  /** The longest Retry-After the client honours; a server asking for more gets this. */
  readonly maxRetryAfterMs: number;
  /** Whole completions an endpoint may fail in a row before it is skipped for a while. */
  readonly circuitFailureThreshold: number;
  readonly circuitCooldownMs: number;
}

export const DEFAULT_INFERENCE_CLIENT_SETTINGS: InferenceClientSettings = {
  attemptsPerEndpoint: 3,
  backoffBaseMs: 500,
  backoffCapMs: 8_000,
  maxRetryAfterMs: 30_000,
  circuitFailureThreshold: 3,
  circuitCooldownMs: 30_000,
};

/**
 * Statuses with which a server refuses a request for having `tools` (llama.cpp's server
 * answers 500 "Cannot use tools with stream"; others 400, 404 or 501): in `toolCalling:
 * auto`, the endpoint is asked in the plain-text tool protocol from then on.
 */
const TOOLS_REFUSED_STATUSES: ReadonlySet<number> = new Set([400, 404, 422, 500, 501]);

/**
 * A prompt the server counted at less than this share of the worker's estimate (characters
 * / 4) was cut by the server to fit its context (llama.cpp's server does so silently).
 * Estimates are rough, hence the wide margin, and only prompts past TRUNCATION_CHECK_MIN_TOKENS are judged.
 */
const TRUNCATION_RATIO = 0.5;
const TRUNCATION_CHECK_MIN_TOKENS = 1_500;

/** Statuses that say "not now" rather than "not this": retried, then the next endpoint. */
const TRANSIENT_STATUSES: ReadonlySet<number> = new Set([408, 409, 429]);

/**
 * The openai SDK, imported when the first request needs it (174 KiB of the bundle, minified,
 * and the objects it builds): a daemon that has run no job yet does not hold it. Errors the SDK throws
 * exist only once it is loaded, so `sdkError` needs no import to say an error is not one.
 */
let sdk: typeof OpenAI | undefined;
let sdkLoading: Promise<typeof OpenAI> | undefined;
function loadSdk(): Promise<typeof OpenAI> {
  // A load that failed (a bundle's chunk missing mid-upgrade) is tried again by the next request.
  sdkLoading ??= import('openai').then(
    (module) => (sdk = module.default),
    (error: unknown) => {
      sdkLoading = undefined;
      throw error;
    },
  );
  return sdkLoading;
}

/** The SDK's API error (a status the server answered), or undefined for any other error. */
function sdkError(error: unknown): InstanceType<typeof OpenAI.APIError> | undefined {
  return sdk !== undefined && error instanceof sdk.APIError ? error : undefined;
}

/** How long a readiness or doctor check waits for an endpoint's model list. */
const MODEL_LIST_TIMEOUT_MS = 10_000;

/** How long `close()` lets requests still running finish before it cuts their connections. */
const CLOSE_GRACE_MS = 1_000;

/** One endpoint's answer as it read it; `chat` adds what the whole call cost. */
type EndpointAnswer = Omit<ChatAnswer, 'requests' | 'usage'>;

/** One configured endpoint and what the client keeps for it. */
interface EndpointEntry {
  readonly endpoint: InferenceEndpointConfig;
  /** Made on its first request (see loadSdk). */
  client?: Promise<OpenAI>;
  /** Its own keep-alive pool (through its proxy, if any), made on its first request, closed with the client. */
  dispatcher?: Promise<Dispatcher>;
  /** The context window its server reported, once it answered (undefined: it answered without one). */
  discoveredContextWindow?: { readonly tokens: number | undefined };
  contextWindowProbe?: Promise<number | undefined>;
}

/**
 * Streams a chat completion from the first endpoint that answers, trying the configured
 * endpoints in order. A connection failure, a timeout, a stream that stalls (no chunk for
 * the endpoint's `idleTimeout`; see StreamWatchdog), 408/409/429 or a 5xx is retried on
 * the same endpoint (honouring Retry-After up to a bound, sleeping no longer than the job
 * lives), then the next endpoint is tried; an endpoint that failed several completions in a
 * row is skipped for a while (EndpointCircuitBreaker). Any other 4xx stops (the request
 * itself is wrong, and every endpoint would say so), and so does a stream that the server
 * ended without a `finish_reason` (it refused the request after accepting it; see
 * InferenceStreamIncompleteError). The SDK's own retries are off: they obey any Retry-After
 * and any `x-should-retry` header a server sends, and sleep through the job's cancel.
 */
export class InferenceClient implements ContextWindowProvider {
  private readonly clients: readonly EndpointEntry[];
  private readonly settings: InferenceClientSettings;
  private readonly breaker: EndpointCircuitBreaker;
  private readonly random: () => number;
  /** Endpoints in `toolCalling: auto` that refused a request for its tools: asked in text from then on. */
  private readonly textOnly = new Set<string>();
  private closing: Promise<void> | undefined;

  constructor(
    endpoints: readonly InferenceEndpointConfig[],
    private readonly logger: Logger,
    options: { readonly settings?: Partial<InferenceClientSettings>; readonly now?: () => number; readonly random?: () => number } = {},
  ) {
    this.settings = { ...DEFAULT_INFERENCE_CLIENT_SETTINGS, ...options.settings };
    this.breaker = new EndpointCircuitBreaker(
      { failureThreshold: this.settings.circuitFailureThreshold, cooldownMs: this.settings.circuitCooldownMs },
      options.now ?? (() => performance.now()),
    );
    this.random = options.random ?? Math.random;
    this.clients = endpoints.map((endpoint) => ({ endpoint }));
  }

  /** The SDK client of an endpoint, made on first use over the endpoint's own dispatcher. */
  private clientOf(entry: EndpointEntry): Promise<OpenAI> {
    if (entry.client !== undefined) return entry.client;
    const client = Promise.all([loadSdk(), loadUndici(), this.dispatcherOf(entry)]).then(
      ([Sdk, undici, dispatcher]) =>
        new Sdk({
          baseURL: entry.endpoint.baseUrl,
          // Local servers rarely need a key, but the SDK insists on a non-empty one.
          apiKey: entry.endpoint.apiKey ?? 'not-needed',
          timeout: entry.endpoint.timeoutMs,
          maxRetries: 0,
          // The dispatcher and the fetch must come from the same undici: Node's built-in fetch
          // bundles an older one, which refuses a dispatcher of this version.
          // (@types/node describes Node's bundled undici, whose Request and Response lack
          // members this version has and the SDK never uses: hence the cast.)
          fetch: undici.fetch as unknown as NonNullable<ClientOptions['fetch']>,
          // The locality check holds for the configured URL only; a redirect would carry the
          // prompt (code) to wherever it points, so none is followed.
          fetchOptions: { dispatcher, redirect: 'error' },
        }),
    );
    entry.client = client;
    client.catch(() => {
      if (entry.client === client) entry.client = undefined;
    });
    return client;
  }

  /** An endpoint's connection pool, made (and undici loaded) on first use. */
  private dispatcherOf(entry: EndpointEntry): Promise<Dispatcher> {
    if (entry.dispatcher !== undefined) return entry.dispatcher;
    // A pool made after close() would never be closed, and would keep the process alive.
    if (this.closing !== undefined) return Promise.reject(new Error('the inference client is closed'));
    const dispatcher = createEndpointDispatcher(entry.endpoint);
    entry.dispatcher = dispatcher;
    dispatcher.catch(() => {
      if (entry.dispatcher === dispatcher) entry.dispatcher = undefined;
    });
    return dispatcher;
  }

  /**
   * Closes every endpoint's connection pool: requests still running get CLOSE_GRACE_MS to
   * finish, then their connections are cut. The client is unusable afterwards; calling
   * `close()` again returns the same promise.
   */
  close(): Promise<void> {
    this.closing ??= Promise.all(
      this.clients.map(async (entry) => {
        const dispatcher = await entry.dispatcher?.catch(() => undefined);
        if (dispatcher === undefined) return;
        let timer: NodeJS.Timeout | undefined;
        const graceOver = new Promise<'grace-over'>((resolve) => (timer = setTimeout(() => resolve('grace-over'), CLOSE_GRACE_MS)));
        const closed = await Promise.race([dispatcher.close().then(() => 'closed' as const), graceOver]);
        clearTimeout(timer);
        if (closed === 'grace-over') await dispatcher.destroy();
      }),
    ).then(() => undefined);
    return this.closing;
  }

  /**
   * The context window, in tokens, of the first endpoint (in order, skipping those whose
   * circuit is open, and those not in `endpoints` when given) that has a known one: see
   * `contextWindowOf`. undefined when none does. Throws only the signal's reason, when the
   * job is cancelled.
   */
  async contextWindow(signal: AbortSignal, endpoints?: readonly string[]): Promise<number | undefined> {
    for (const { endpoint } of this.clients) {
      if (endpoints !== undefined && !endpoints.includes(endpoint.name)) continue;
      if (this.breaker.isOpen(endpoint.name)) continue;
      const tokens = await this.contextWindowOf(endpoint, signal);
      if (tokens !== undefined) return tokens;
    }
    return undefined;
  }

  /**
   * An endpoint's context window in tokens: `contextWindow` from its config, else what its
   * server reports (see discoverContextWindow), asked once and kept for the worker's life.
   * A server that could not be reached is asked again next time; one that answered without a
   * window is not. Never fails a job: a probe that fails is logged and gives undefined.
   */
  async contextWindowOf(endpoint: InferenceEndpointConfig, signal: AbortSignal): Promise<number | undefined> {
    signal.throwIfAborted();
    if (endpoint.contextWindow !== undefined) return endpoint.contextWindow;
    const entry = this.entryOf(endpoint);
    if (entry.discoveredContextWindow) return entry.discoveredContextWindow.tokens;
    // One probe at a time per endpoint, shared by every job asking meanwhile; it is bounded
    // on its own (PROBE_TIMEOUT_MS), so one job's cancel does not cut it short for the others.
    entry.contextWindowProbe ??= discoverContextWindow(endpoint, () => this.dispatcherOf(entry))
      .then((found) => {
        if (found.tokens !== undefined) this.logger.info('inference-context-window', { endpoint: endpoint.name, tokens: found.tokens, source: found.source });
        else this.logger.warn('inference-context-window-unknown', { endpoint: endpoint.name, serverAnswered: found.serverAnswered, note: found.note });
        if (found.serverAnswered) entry.discoveredContextWindow = { tokens: found.tokens };
        return found.tokens;
      })
      .finally(() => {
        entry.contextWindowProbe = undefined;
      });
    return untilAborted(entry.contextWindowProbe, signal);
  }

  /** One answer without tools (plain text); see `chat`. */
  async complete(messages: readonly ChatMessage[], maxTokens: number, signal: AbortSignal): Promise<Completion> {
    const answer = await this.chat({ messages, tools: [], maxTokens, signal });
    return { content: answer.content, requests: answer.requests, promptTokens: answer.promptTokens, completionTokens: answer.completionTokens, endpoint: answer.endpoint };
  }

  /**
   * Asks for the next answer of a conversation, offering `tools`; throws
   * InferenceUnavailableError, InferenceRejectedError, InferenceStreamIncompleteError or
   * PromptTruncatedError. Each endpoint is asked in its tool dialect: `native` (OpenAI
   * `tools`, not streamed, since some servers refuse tools with streaming) or `text` (the
   * protocol of TextToolDialect, streamed); `auto` is native until the endpoint refuses a
   * request for its tools, then text for the rest of the worker's life. The answer, and each
   * of those errors but PromptTruncatedError, counts the requests sent and the tokens
   * answered per endpoint, by its index in the configured list (see EndpointUsage).
   */
  async chat(request: ChatRequest): Promise<ChatAnswer> {
    const usage = new EndpointUsageTally();
    for (const [endpointIndex, entry] of this.clients.entries()) {
      const { endpoint } = entry;
      request.signal.throwIfAborted();
      // The job's policy may allow fewer endpoints than the worker has; order stays the config's.
      if (request.endpoints !== undefined && !request.endpoints.includes(endpoint.name)) continue;
      if (!this.breaker.allows(endpoint.name)) {
        this.logger.warn('inference-endpoint-skipped', { endpoint: endpoint.name, reason: 'circuit-open' });
        continue;
      }
      for (let attempt = 1; ; attempt += 1) {
        usage.requestSent(endpointIndex, endpoint);
        try {
          const answer = await this.ask(await this.clientOf(entry), endpoint, request, usage);
          this.breaker.succeeded(endpoint.name);
          usage.answered(endpointIndex, endpoint, answer.promptTokens, answer.completionTokens);
          const { requests, promptTokens, completionTokens } = usage.totals;
          return { ...answer, requests, promptTokens, completionTokens, usage: usage.entries() };
        } catch (error) {
          request.signal.throwIfAborted();
          if (error instanceof JobPhaseFailedError || error instanceof InferenceStreamIncompleteError || error instanceof PromptTruncatedError) throw error;
          const status = sdkError(error)?.status;
          if (status !== undefined && status >= 400 && status < 500 && !TRANSIENT_STATUSES.has(status)) {
            this.logger.warn('inference-rejected', { endpoint: endpoint.name, status });
            throw new InferenceRejectedError(status, usage.entries());
          }
          if (attempt >= this.settings.attemptsPerEndpoint) {
            this.breaker.failed(endpoint.name);
            this.logger.warn('inference-endpoint-unavailable', { endpoint: endpoint.name, status: status ?? null, error: error as Error, circuitOpen: this.breaker.isOpen(endpoint.name) });
            break;
          }
          const delayMs = this.retryDelayMs(error, attempt);
          this.logger.info('inference-retry', { endpoint: endpoint.name, status: status ?? null, attempt, delayMs });
          await abortableSleep(delayMs, request.signal);
        }
      }
    }
    throw new InferenceUnavailableError(usage.entries());
  }

  /** The dialect an endpoint is asked in now. */
  dialectOf(endpoint: InferenceEndpointConfig): ToolDialect {
    if (endpoint.toolCalling === 'text' || this.textOnly.has(endpoint.name)) return 'text';
    return 'native';
  }

  private async ask(client: OpenAI, endpoint: InferenceEndpointConfig, request: ChatRequest, usage: EndpointUsageTally): Promise<EndpointAnswer> {
    if (request.tools.length > 0 && this.dialectOf(endpoint) === 'native') {
      try {
        return await this.askNative(client, endpoint, request, usage);
      } catch (error) {
        const status = sdkError(error)?.status;
        if (endpoint.toolCalling !== 'auto' || status === undefined || !TOOLS_REFUSED_STATUSES.has(status)) throw error;
        // Not a failure of the endpoint: it cannot take tools, so it gets the text protocol.
        this.textOnly.add(endpoint.name);
        this.logger.warn('inference-tools-refused', { endpoint: endpoint.name, status, nowUsing: 'text' });
      }
    }
    return this.askText(client, endpoint, request, usage);
  }

  /** Native tools: one non-streamed request with `tools`; an answer that ignores them but writes the text protocol is read as text. */
  private async askNative(client: OpenAI, endpoint: InferenceEndpointConfig, request: ChatRequest, usage: EndpointUsageTally): Promise<EndpointAnswer> {
    const messages = renderNative(request.messages);
    const completion = await client.chat.completions.create(
      { model: endpoint.model, messages, tools: request.tools.map(toNativeTool), tool_choice: 'auto', max_tokens: request.maxTokens, stream: false },
      { signal: request.signal },
    );
    const choice = completion.choices[0];
    const content = choice?.message.content ?? '';
    if (content.length > MAX_MODEL_ANSWER_CHARS) throw new JobPhaseFailedError(FailureCode.MODEL_OUTPUT_UNUSABLE, `model answer longer than ${MAX_MODEL_ANSWER_CHARS} characters`);
    if (!choice?.finish_reason) {
      this.logger.warn('inference-answer-incomplete', { endpoint: endpoint.name });
      throw new InferenceStreamIncompleteError(0, usage.entries());
    }
    const promptTokens = completion.usage?.prompt_tokens ?? 0;
    this.checkNotTruncated(endpoint, JSON.stringify(messages) + JSON.stringify(request.tools), promptTokens);
    const native = (choice.message.tool_calls ?? []).flatMap((call) => (call.type === 'function' ? [{ id: call.id, name: call.function.name, arguments: call.function.arguments }] : []));
    const textCalls = native.length === 0 ? TextToolDialect.parse(content) : [];
    return {
      content,
      toolCalls: native.length > 0 ? native : textCalls,
      dialect: native.length === 0 && textCalls.length > 0 ? 'text' : 'native',
      promptTokens,
      completionTokens: completion.usage?.completion_tokens ?? 0,
      endpoint: endpoint.name,
    };
  }

  /** The text protocol (or no tools at all): streamed, the tools described in the system prompt, calls read from the answer. */
  private async askText(client: OpenAI, endpoint: InferenceEndpointConfig, request: ChatRequest, usage: EndpointUsageTally): Promise<EndpointAnswer> {
    const startedAt = performance.now();
    const messages = TextToolDialect.render(request.messages);
    if (request.tools.length > 0) {
      const system = messages.find((message) => message.role === 'system');
      const description = TextToolDialect.describeTools(request.tools);
      if (system) system.content = `${system.content}\n\n${description}`;
      else messages.unshift({ role: 'system', content: description });
    }
    const stream = await client.chat.completions.create(
      { model: endpoint.model, messages, max_tokens: request.maxTokens, stream: true, stream_options: { include_usage: true } },
      { signal: request.signal },
    );
    let content = '';
    let promptTokens = 0;
    let completionTokens = 0;
    let chunks = 0;
    let finished = false;
    const idleTimeoutMs = endpoint.idleTimeoutMs ?? DEFAULT_STREAM_IDLE_TIMEOUT_MS;
    // The SDK's timeout ends when the headers arrive: from then on the watchdog bounds the
    // silence between chunks and, still, the whole request. Expired, it cuts the connection.
    const watchdog = new StreamWatchdog(idleTimeoutMs, () => stream.controller.abort());
    watchdog.start(endpoint.timeoutMs, startedAt);
    try {
      for await (const chunk of stream) {
        watchdog.chunkArrived();
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
    } catch (error) {
      if (watchdog.expired === undefined) throw error;
    } finally {
      watchdog.stop();
    }
    // The SDK ends an aborted stream quietly or with an abort error: either way, it stalled.
    if (watchdog.expired !== undefined) {
      const limitMs = watchdog.expired === 'idle' ? idleTimeoutMs : endpoint.timeoutMs;
      this.logger.warn('inference-stream-stalled', { endpoint: endpoint.name, reason: watchdog.expired, limitMs, chunks });
      throw new InferenceStreamStalledError(watchdog.expired, limitMs, chunks);
    }
    if (!finished) {
      this.logger.warn('inference-stream-incomplete', { endpoint: endpoint.name, chunks });
      throw new InferenceStreamIncompleteError(chunks, usage.entries());
    }
    this.checkNotTruncated(endpoint, messages.map((message) => message.content).join(''), promptTokens);
    return { content, toolCalls: request.tools.length > 0 ? TextToolDialect.parse(content) : [], dialect: 'text', promptTokens, completionTokens, endpoint: endpoint.name };
  }

  /** Throws PromptTruncatedError when the server counted far fewer prompt tokens than were sent. */
  private checkNotTruncated(endpoint: InferenceEndpointConfig, sentText: string, promptTokens: number): void {
    const estimated = Math.ceil(sentText.length / 4);
    if (promptTokens > 0 && estimated >= TRUNCATION_CHECK_MIN_TOKENS && promptTokens < estimated * TRUNCATION_RATIO) {
      this.logger.warn('inference-prompt-truncated', { endpoint: endpoint.name, promptTokens, estimatedTokens: estimated });
      throw new PromptTruncatedError(promptTokens, estimated);
    }
  }

  /** Retry-After (seconds or an HTTP date) or retry-after-ms when the server gave one, bounded; else full-jitter backoff. */
  private retryDelayMs(error: unknown, attempt: number): number {
    const headers = sdkError(error)?.headers;
    const afterMs = parseRetryAfterMs(headers?.get('retry-after-ms') ?? null, headers?.get('retry-after') ?? null, Date.now());
    if (afterMs !== undefined) return Math.min(afterMs, this.settings.maxRetryAfterMs);
    const ceiling = Math.min(this.settings.backoffCapMs, this.settings.backoffBaseMs * 2 ** (attempt - 1));
    return Math.floor(this.random() * ceiling);
  }

  /**
   * Lists the models an endpoint serves (`GET /v1/models`), for doctor and readiness checks,
   * without the SDK (see listServedModels); throws ModelListUnavailableError.
   */
  async listModels(endpoint: InferenceEndpointConfig, signal?: AbortSignal): Promise<string[]> {
    const bound = AbortSignal.timeout(Math.min(endpoint.timeoutMs, MODEL_LIST_TIMEOUT_MS));
    const entry = this.entryOf(endpoint);
    return listServedModels(endpoint, () => this.dispatcherOf(entry), signal === undefined ? bound : AbortSignal.any([signal, bound]));
  }

  private entryOf(endpoint: InferenceEndpointConfig): EndpointEntry {
    const entry = this.clients.find((candidate) => candidate.endpoint === endpoint);
    if (!entry) throw new RangeError(`unknown endpoint ${endpoint.name}`);
    return entry;
  }
}

/** A server's Retry-After, in milliseconds from now, or undefined when it gave none that parses. */
export function parseRetryAfterMs(retryAfterMs: string | null, retryAfter: string | null, nowMs: number): number | undefined {
  if (retryAfterMs !== null && /^\d+(\.\d+)?$/.test(retryAfterMs.trim())) return Math.max(0, Number(retryAfterMs));
  if (retryAfter === null) return undefined;
  if (/^\d+(\.\d+)?$/.test(retryAfter.trim())) return Math.max(0, Number(retryAfter) * 1000);
  const at = Date.parse(retryAfter);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/** `work`'s outcome, or the abort reason as soon as the job is cancelled (the work itself goes on). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error as Error);
      },
    );
  });
}

/** Sleeps, but wakes (throwing the abort reason) as soon as the job is cancelled. */
function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function toNativeTool(tool: ToolSpec): ChatCompletionTool {
  return { type: 'function', function: { name: tool.name, description: tool.description, parameters: tool.parameters } };
}

function renderNative(messages: readonly ConversationMessage[]): ChatCompletionMessageParam[] {
  return messages.map((message): ChatCompletionMessageParam => {
    switch (message.role) {
      case 'assistant':
        return message.toolCalls.length === 0
          ? { role: 'assistant', content: message.content }
          : {
              role: 'assistant',
              content: message.content === '' ? null : message.content,
              tool_calls: message.toolCalls.map((call) => ({ id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } })),
            };
      case 'tool':
        return { role: 'tool', tool_call_id: message.toolCallId, content: message.content };
      default:
        return { role: message.role, content: message.content };
    }
  });
}
