import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Dispatcher } from 'undici';
import type { InferenceEndpointConfig } from '../../config/worker-config.loader';
import { loadUndici } from '../../http/undici.lazy';
import { ModelListUnavailableError } from './model-list-unavailable.error';

/**
 * Something that knows how many tokens the model's context holds (prompt and answer together):
 * what the CONTEXT phase sizes its prompt budget by. undefined when no endpoint says.
 */
export interface ContextWindowProvider {
  contextWindow(signal: AbortSignal): Promise<number | undefined>;
}

/** Which server answer a discovered context window came from, for the local log. */
export type ContextWindowOrigin = 'llama-server /props' | 'vllm /v1/models' | 'ollama /api/show' | 'tgi /info';

/** What asking an endpoint's server found. */
export interface ContextWindowDiscovery {
  readonly tokens: number | undefined;
  readonly source: ContextWindowOrigin | undefined;
  /**
   * Whether the server answered at all (any HTTP status): then the result holds for the
   * worker's life. When every probe failed to connect or timed out it is worth asking again.
   */
  readonly serverAnswered: boolean;
  /** Why nothing was found, when a server answered but its answer does not give the window. */
  readonly note?: string;
}

/** Each probe's bound: discovery must never hold up a job for long. */
export const PROBE_TIMEOUT_MS = 2_000;
/**
 * The largest probe answer read. `/props` carries the chat template and Ollama's `/api/show`
 * the model's license and template: tens of KiB; anything far past that is not the answer sought.
 */
export const PROBE_MAX_BODY_BYTES = 1024 * 1024;

type ProbeAnswer = { readonly kind: 'json'; readonly value: unknown } | { readonly kind: 'status'; readonly status: number } | { readonly kind: 'unreachable'; readonly error: string };

/** An endpoint's connection pool, made on first use (undici is loaded then, not before). */
export type DispatcherSource = () => Promise<Dispatcher>;

/**
 * Asks an endpoint's server for its context window, in the places each kind of server says
 * it, all at once (each bounded by PROBE_TIMEOUT_MS and PROBE_MAX_BODY_BYTES), and takes the
 * first that gives one in this order: llama.cpp `GET /props`, vLLM `GET /v1/models`, Ollama
 * `POST /api/show`, TGI `GET /info`. Paths other than `/v1/models` are the server's root: the
 * base URL without its trailing `/v1`. Never throws: a probe that fails counts as no answer.
 * Redirects are not followed (undici's `request` follows none), as for completions.
 */
export async function discoverContextWindow(endpoint: InferenceEndpointConfig, dispatcherOf: DispatcherSource): Promise<ContextWindowDiscovery> {
  const apiBase = apiBaseOf(endpoint);
  const serverRoot = apiBase.replace(/\/v1$/, '');
  const headers = requestHeaders(endpoint);
  const ask = (url: string, method: 'GET' | 'POST', body?: unknown) => probe(dispatcherOf, url, method, headers, body, AbortSignal.timeout(PROBE_TIMEOUT_MS));
  const [props, models, show, info] = await Promise.all([
    ask(`${serverRoot}/props`, 'GET'),
    ask(`${apiBase}/models`, 'GET'),
    ask(`${serverRoot}/api/show`, 'POST', { model: endpoint.model }),
    ask(`${serverRoot}/info`, 'GET'),
  ]);
  const serverAnswered = [props, models, show, info].some((answer) => answer.kind !== 'unreachable');
  const candidates: Array<[ContextWindowOrigin, number | undefined]> = [
    ['llama-server /props', props.kind === 'json' ? llamaServerContextWindow(props.value) : undefined],
    ['vllm /v1/models', models.kind === 'json' ? vllmContextWindow(models.value, endpoint.model) : undefined],
    ['ollama /api/show', show.kind === 'json' ? ollamaContextWindow(show.value).tokens : undefined],
    ['tgi /info', info.kind === 'json' ? tgiContextWindow(info.value) : undefined],
  ];
  const found = candidates.find(([, tokens]) => tokens !== undefined);
  if (found) return { tokens: found[1], source: found[0], serverAnswered };
  const ollamaNote = show.kind === 'json' ? ollamaContextWindow(show.value).note : undefined;
  return { tokens: undefined, source: undefined, serverAnswered, note: ollamaNote ?? (serverAnswered ? 'no probe answer names a context window' : 'the server did not answer') };
}

/** llama.cpp's `GET /props`: `default_generation_settings.n_ctx`, the context of one slot (`-c` / `-np`). */
export function llamaServerContextWindow(props: unknown): number | undefined {
  return positiveInteger(field(field(props, 'default_generation_settings'), 'n_ctx'));
}

/** vLLM's `GET /v1/models`: `max_model_len` of the entry whose `id` is the endpoint's model. */
export function vllmContextWindow(models: unknown, model: string): number | undefined {
  const data = field(models, 'data');
  if (!Array.isArray(data)) return undefined;
  const entry: unknown = data.find((candidate) => field(candidate, 'id') === model);
  return positiveInteger(field(entry, 'max_model_len'));
}

/**
 * Ollama's `POST /api/show`: the context Ollama runs the model with is `num_ctx`, which a
 * Modelfile sets in `parameters` (lines of `name value`); `model_info["<arch>.context_length"]`
 * is only what the model was trained for, and caps it. Without `num_ctx`, Ollama uses its own
 * default (2048 tokens in older versions, more in newer ones, or OLLAMA_CONTEXT_LENGTH), which
 * no API reports and which the OpenAI-compatible API cannot change per request: then the
 * window is unknown rather than a guess — the trained length would overstate it many times
 * over, and the prompt would be cut to fit.
 */
export function ollamaContextWindow(show: unknown): { readonly tokens: number | undefined; readonly note?: string } {
  const modelInfo = field(show, 'model_info');
  const architecture = field(modelInfo, 'general.architecture');
  const trained = typeof architecture === 'string' ? positiveInteger(field(modelInfo, `${architecture}.context_length`)) : undefined;
  const parameters = field(show, 'parameters');
  const numCtxLine = typeof parameters === 'string' ? /^num_ctx\s+(\d+)\s*$/m.exec(parameters) : null;
  const numCtx = positiveInteger(numCtxLine ? Number(numCtxLine[1]) : undefined);
  if (numCtx === undefined) {
    return { tokens: undefined, note: `Ollama model sets no num_ctx: it runs with the server's default context, which its API does not report${trained ? ` (trained for ${trained})` : ''}` };
  }
  return { tokens: trained === undefined ? numCtx : Math.min(numCtx, trained) };
}

/**
 * TGI's `GET /info`: `max_input_tokens` (`max_input_length` before TGI 2.1), the longest prompt
 * it accepts, else `max_total_tokens` (prompt and answer). The input bound is the tighter of
 * the two, so a prompt sized within it is never refused for its length.
 */
export function tgiContextWindow(info: unknown): number | undefined {
  return positiveInteger(field(info, 'max_input_tokens')) ?? positiveInteger(field(info, 'max_input_length')) ?? positiveInteger(field(info, 'max_total_tokens'));
}

/**
 * The model ids an endpoint's server lists (`GET <baseUrl>/models`, OpenAI's list shape), for
 * the readiness check and `doctor`, asked without the openai SDK. A direct endpoint is asked
 * over node:http, so a daemon that has run no job has loaded neither the SDK nor undici; one
 * behind a `proxy` through its own dispatcher, which goes through the proxy as completions do.
 * Bounded by `signal` and PROBE_MAX_BODY_BYTES; follows no redirect. Throws
 * ModelListUnavailableError saying what the server did.
 */
export async function listServedModels(endpoint: InferenceEndpointConfig, dispatcherOf: DispatcherSource, signal: AbortSignal): Promise<string[]> {
  const url = `${apiBaseOf(endpoint)}/models`;
  const answer = endpoint.proxy === undefined ? await probeDirect(url, requestHeaders(endpoint), signal) : await probe(dispatcherOf, url, 'GET', requestHeaders(endpoint), undefined, signal);
  if (answer.kind === 'unreachable') throw new ModelListUnavailableError(`unreachable (${answer.error})`);
  if (answer.kind === 'status') {
    throw new ModelListUnavailableError(answer.status === 200 ? `answered with no JSON model list within ${PROBE_MAX_BODY_BYTES} bytes` : `answered HTTP ${answer.status}`);
  }
  const data = field(answer.value, 'data');
  if (!Array.isArray(data)) throw new ModelListUnavailableError('answered without a `data` list of models');
  return data.map((entry) => field(entry, 'id')).filter((id): id is string => typeof id === 'string');
}

const apiBaseOf = (endpoint: InferenceEndpointConfig): string => endpoint.baseUrl.replace(/\/+$/, '');

function requestHeaders(endpoint: InferenceEndpointConfig): Record<string, string> {
  const headers: Record<string, string> = { accept: 'application/json' };
  // The same server that gets the completions: a key it wants for them it may want here too.
  if (endpoint.apiKey !== undefined) headers['authorization'] = `Bearer ${endpoint.apiKey}`;
  return headers;
}

async function probe(dispatcherOf: DispatcherSource, url: string, method: 'GET' | 'POST', headers: Record<string, string>, body: unknown, signal: AbortSignal): Promise<ProbeAnswer> {
  try {
    const [{ request }, dispatcher] = await Promise.all([loadUndici(), dispatcherOf()]);
    const response = await request(url, {
      dispatcher,
      method,
      signal,
      headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.statusCode !== 200) {
      await response.body.dump();
      return { kind: 'status', status: response.statusCode };
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > PROBE_MAX_BODY_BYTES) {
        response.body.destroy();
        return { kind: 'status', status: response.statusCode };
      }
      chunks.push(chunk);
    }
    return { kind: 'json', value: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown };
  } catch (error) {
    // A body that is not JSON still came from a server; a refused connection or a timeout did not.
    if (error instanceof SyntaxError) return { kind: 'status', status: 200 };
    return { kind: 'unreachable', error: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * `GET url` over node:http(s) on a connection of its own, answered as `probe` answers: the
 * JSON body of a 200 within PROBE_MAX_BODY_BYTES, another status, or why nothing answered.
 */
function probeDirect(url: string, headers: Record<string, string>, signal: AbortSignal): Promise<ProbeAnswer> {
  return new Promise((resolve) => {
    const send = new URL(url).protocol === 'https:' ? httpsRequest : httpRequest;
    const unreachable = (error: Error): void => resolve({ kind: 'unreachable', error: error.message });
    const request = send(url, { method: 'GET', headers, signal, agent: false }, (response) => {
      const status = response.statusCode ?? 0;
      if (status !== 200) {
        response.resume();
        resolve({ kind: 'status', status });
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= PROBE_MAX_BODY_BYTES) return void chunks.push(chunk);
        response.destroy();
        resolve({ kind: 'status', status });
      });
      response.on('end', () => {
        try {
          resolve({ kind: 'json', value: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown });
        } catch {
          // A body that is not JSON still came from a server.
          resolve({ kind: 'status', status });
        }
      });
      response.on('error', unreachable);
    });
    request.on('error', unreachable);
    request.end();
  });
}

function field(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null && Object.hasOwn(value, name) ? (value as Record<string, unknown>)[name] : undefined;
}

function positiveInteger(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : undefined;
}
