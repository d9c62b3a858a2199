import type { IncomingHttpHeaders } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import type { Dispatcher } from 'undici';
import { loadUndici } from '../../http/undici.lazy';
import { ForgeError, type ForgeFailure } from './forge-client';

/** A forge answer bigger than this is refused: no page delivery reads comes near it. */
const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;
/** Pages followed through `Link: rel="next"` before a listing is cut short. */
const DEFAULT_MAX_PAGES = 50;
/** The first back-off when the forge gave no Retry-After; doubled on each retry. */
const FIRST_BACKOFF_MS = 500;

export type ForgeMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
export type QueryValue = string | number | boolean | undefined;

export interface ForgeHttpOptions {
  /** The forge's name in messages: GitLab, GitHub, Gitea. */
  readonly forge: string;
  /** The REST API root without a trailing slash. */
  readonly apiUrl: string;
  /** Headers of every request, the token's among them; called per request (a rotated token is read anew). */
  readonly headers: () => Promise<Record<string, string>>;
  readonly caPem?: Buffer | undefined;
  readonly timeoutMs: number;
  /** Retries after a network error, a 5xx, or a rate limit. */
  readonly maxRetries: number;
  /** Milliseconds this client may wait between retries in all, Retry-After included. */
  readonly retryBudgetMs: number;
  /** Whether a 403 is a rate limit rather than a refused token (GitHub answers secondary limits with 403). */
  readonly isRateLimited?: (status: number, headers: IncomingHttpHeaders) => boolean;
  /** For tests: how to wait. */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

export interface ForgeResponse<T> {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: T;
}

export interface ForgeRequestOptions {
  readonly query?: Readonly<Record<string, QueryValue>>;
  readonly body?: unknown;
  readonly signal: AbortSignal;
}

/**
 * The transport every forge client shares: JSON over undici with the forge's auth headers,
 * a timeout per request, bounded response bodies, retries with back-off or the forge's own
 * Retry-After within one budget, and failures classified as ForgeError. It follows
 * pagination links only to its own API root, so the token never goes to another host.
 * Nothing it logs or throws carries the token.
 */
export class ForgeHttp {
  /** Made with the first request: a worker that never delivers never loads undici (see loadUndici). */
  private dispatcher: Promise<Dispatcher> | undefined;
  private readonly origin: string;
  private waitedMs = 0;

  constructor(private readonly options: ForgeHttpOptions) {
    this.origin = new URL(options.apiUrl).origin;
  }

  /** One request, retried as the options allow. A 2xx resolves; anything else throws ForgeError. */
  async request<T = unknown>(method: ForgeMethod, path: string, options: ForgeRequestOptions): Promise<ForgeResponse<T>> {
    return this.send<T>(method, this.urlOf(path, options.query), options);
  }

  /** Every item of a listing, following `Link: <…>; rel="next"` up to `maxPages` pages. */
  async getAll<T>(path: string, options: ForgeRequestOptions & { readonly maxPages?: number }): Promise<T[]> {
    const items: T[] = [];
    let url: string | undefined = this.urlOf(path, options.query);
    for (let page = 0; url !== undefined && page < (options.maxPages ?? DEFAULT_MAX_PAGES); page += 1) {
      const response: ForgeResponse<unknown> = await this.send<unknown>('GET', url, { signal: options.signal });
      if (!Array.isArray(response.body)) throw new ForgeError('refused', `${this.options.forge} answered GET ${new URL(url).pathname} with ${typeof response.body}, not a list`, response.status);
      items.push(...(response.body as T[]));
      url = this.nextPage(response.headers);
    }
    return items;
  }

  /** Closes the client's connections. */
  async close(): Promise<void> {
    await (await this.dispatcher?.catch(() => undefined))?.close();
  }

  private dispatcherOf(): Promise<Dispatcher> {
    if (this.dispatcher !== undefined) return this.dispatcher;
    const dispatcher = loadUndici().then(
      ({ Agent }) =>
        new Agent({
          connect: this.options.caPem === undefined ? {} : { ca: this.options.caPem },
          headersTimeout: this.options.timeoutMs,
          bodyTimeout: this.options.timeoutMs,
        }),
    );
    this.dispatcher = dispatcher;
    // A load that failed is tried again by the next request (see loadUndici).
    dispatcher.catch(() => {
      if (this.dispatcher === dispatcher) this.dispatcher = undefined;
    });
    return dispatcher;
  }

  private urlOf(path: string, query: Readonly<Record<string, QueryValue>> | undefined): string {
    const url = new URL(`${this.options.apiUrl}${path}`);
    for (const [key, value] of Object.entries(query ?? {})) if (value !== undefined) url.searchParams.set(key, String(value));
    return url.toString();
  }

  /** The next page's URL, if the forge gave one on our own origin; any other host is ignored. */
  private nextPage(headers: IncomingHttpHeaders): string | undefined {
    const link = headerValue(headers, 'link');
    const next = link?.split(',').map((part) => /<([^>]+)>\s*;\s*rel="?next"?/.exec(part.trim())).find((match) => match !== null)?.[1];
    if (next === undefined) return undefined;
    try {
      const url = new URL(next, this.options.apiUrl);
      return url.origin === this.origin ? url.toString() : undefined;
    } catch {
      return undefined;
    }
  }

  private async send<T>(method: ForgeMethod, url: string, options: { readonly body?: unknown; readonly signal: AbortSignal }): Promise<ForgeResponse<T>> {
    const where = `${method} ${new URL(url).pathname}`;
    for (let retry = 0; ; retry += 1) {
      let failure: ForgeError;
      let retryAfterMs: number | undefined;
      const headers = await this.headers();
      try {
        const [{ request }, dispatcher] = await Promise.all([loadUndici(), this.dispatcherOf()]);
        const response = await request(url, {
          method,
          dispatcher,
          signal: options.signal,
          headers: { accept: 'application/json', ...(options.body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
          ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
        });
        const text = await readBounded(response.body, MAX_RESPONSE_BYTES);
        if (response.statusCode >= 200 && response.statusCode < 300) {
          return { status: response.statusCode, headers: response.headers, body: (text === '' ? undefined : parseJson(text, `${this.options.forge} ${where}`)) as T };
        }
        const kind = this.classify(response.statusCode, response.headers);
        const errorBody = parseErrorBody(text);
        failure = new ForgeError(kind, `${this.options.forge} answered ${response.statusCode} to ${where}${errorDetail(errorBody)}`, response.statusCode, errorBody);
        retryAfterMs = kind === 'rate-limited' ? retryAfterOf(response.headers, Date.now()) : undefined;
      } catch (error) {
        if (error instanceof ForgeError) throw error;
        if (options.signal.aborted) throw error;
        failure = new ForgeError('unavailable', `${this.options.forge} could not be reached for ${where}: ${(error as Error).message}`);
      }
      if (failure.failure !== 'unavailable' && failure.failure !== 'rate-limited') throw failure;
      const waitMs = retryAfterMs ?? FIRST_BACKOFF_MS * 2 ** retry;
      if (retry >= this.options.maxRetries || this.waitedMs + waitMs > this.options.retryBudgetMs) throw failure;
      this.waitedMs += waitMs;
      await (this.options.sleep ?? sleepFor)(waitMs, options.signal);
    }
  }

  /**
   * The request headers, the token's among them. A token that cannot be read (its file gone,
   * its variable empty) is the operator's to fix, not the network's: an `auth` failure that
   * is never retried. The message names where the token should be, never the token.
   */
  private async headers(): Promise<Record<string, string>> {
    try {
      return await this.options.headers();
    } catch (error) {
      if (error instanceof ForgeError) throw error;
      throw new ForgeError('auth', `the ${this.options.forge} token could not be read: ${(error as Error).message}`);
    }
  }

  private classify(status: number, headers: IncomingHttpHeaders): ForgeFailure {
    if (status === 429 || (status === 403 && this.options.isRateLimited?.(status, headers) === true)) return 'rate-limited';
    if (status >= 500) return 'unavailable';
    if (status === 401 || status === 403) return 'auth';
    if (status === 404) return 'not-found';
    if (status === 409) return 'conflict';
    return 'refused';
  }
}

const sleepFor = (ms: number, signal: AbortSignal): Promise<void> => delay(ms, undefined, { signal });

export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * How long the forge asked us to wait: `Retry-After` in seconds or as an HTTP date, else the
 * reset time of its rate-limit window (`RateLimit-Reset` on GitLab, `X-RateLimit-Reset` on
 * GitHub and Gitea, both Unix seconds). Undefined when it said nothing usable.
 */
export function retryAfterOf(headers: IncomingHttpHeaders, nowMs: number): number | undefined {
  const retryAfter = headerValue(headers, 'retry-after')?.trim();
  if (retryAfter !== undefined && retryAfter !== '') {
    if (/^\d{1,9}$/.test(retryAfter)) return Number(retryAfter) * 1000;
    const at = Date.parse(retryAfter);
    if (!Number.isNaN(at)) return Math.max(0, at - nowMs);
  }
  const reset = headerValue(headers, 'ratelimit-reset') ?? headerValue(headers, 'x-ratelimit-reset');
  if (reset !== undefined && /^\d{1,12}$/.test(reset.trim())) return Math.max(0, Number(reset) * 1000 - nowMs);
  return undefined;
}

async function readBounded(body: AsyncIterable<Buffer>, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > maxBytes) throw new ForgeError('refused', `the forge's answer is larger than ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ForgeError('refused', `${what} did not answer JSON`);
  }
}

function parseErrorBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The forge's own error message, short: GitLab `message`/`error`, GitHub and Gitea `message`. Local logs only. */
function errorDetail(body: unknown): string {
  if (body === null || typeof body !== 'object') return '';
  const { message, error } = body as { message?: unknown; error?: unknown };
  const detail = typeof (message ?? error) === 'string' ? (message ?? error) as string : JSON.stringify(message ?? error);
  return detail === undefined ? '' : `: ${detail.slice(0, 300)}`;
}
