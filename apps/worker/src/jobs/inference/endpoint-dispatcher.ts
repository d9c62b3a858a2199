import type { Dispatcher } from 'undici';
import type { InferenceEndpointConfig } from '../../config/worker-config.loader';
import { loadUndici } from '../../http/undici.lazy';

/** When an endpoint's config names no `idleTimeout` (tests build endpoints by hand). */
export const DEFAULT_STREAM_IDLE_TIMEOUT_MS = 60_000;

/**
 * How long an idle pooled connection is kept for the next request. Below the 5 s after which
 * the servers' own HTTP stacks close idle connections (uvicorn under vLLM, cpp-httplib under
 * llama-server, Node), so the worker never sends a request on a socket the server is closing.
 */
export const KEEP_ALIVE_TIMEOUT_MS = 4_000;

/** A local server accepts a TCP connection at once or not at all; the request timeout may be minutes. */
const CONNECT_TIMEOUT_CAP_MS = 10_000;

/**
 * undici's own header and body timers sit this far behind the client's (the SDK's request
 * timeout, the stream watchdog), so the client's fire first and are reported as such; undici's
 * remain the bound where the client keeps none (a non-streamed body that stops half-way).
 */
const BACKSTOP_MARGIN_MS = 1_000;

/**
 * The HTTP connection pool of one inference endpoint: keep-alive connections to its server,
 * directly or through its `proxy`. Through a proxy, plain-HTTP requests are forwarded
 * (absolute-form, as HTTP proxies expect: many refuse CONNECT to ports other than 443) and
 * https ones tunnelled with CONNECT, so TLS still runs end to end. Proxy environment
 * variables are never read: without `proxy` the connection is direct. Loads undici on first call.
 */
export async function createEndpointDispatcher(endpoint: InferenceEndpointConfig): Promise<Dispatcher> {
  const { Agent, Pool, ProxyAgent } = await loadUndici();
  const connectTimeoutMs = Math.min(endpoint.timeoutMs, CONNECT_TIMEOUT_CAP_MS);
  const timeouts = {
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    headersTimeout: endpoint.timeoutMs + BACKSTOP_MARGIN_MS,
    bodyTimeout: (endpoint.idleTimeoutMs ?? DEFAULT_STREAM_IDLE_TIMEOUT_MS) + BACKSTOP_MARGIN_MS,
  };
  if (endpoint.proxy === undefined) return new Agent({ ...timeouts, connect: { timeout: connectTimeoutMs } });
  return new ProxyAgent({
    uri: endpoint.proxy,
    proxyTunnel: false,
    ...timeouts,
    // The connection to the proxy itself (undici builds it from these options).
    proxyTls: { timeout: connectTimeoutMs },
    // Forwarded requests go through a pool to the proxy that undici creates with no options
    // but its connector: give it the endpoint's timeouts too (never replacing the connector).
    factory: (origin, options) => new Pool(origin, { ...options, ...timeouts }),
  });
}
