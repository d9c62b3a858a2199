import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import { type Model } from 'openai/resources/models';
import { ChatCompletionsHandler } from './chat-completions.handler';
import { sendJson } from './json-response';
import { OpenAiApiError } from './openai-api.error';
import { RequestLedger } from './request-ledger';
import { loadScenarioCatalog } from './scenario-catalog';
import { createSeededRandom } from './seeded-random';

/** Defaults shared by the CLI and in-process callers. */
export const SIM_DEFAULTS = {
  host: '127.0.0.1',
  port: 0,
  model: 'airlock-sim-coder',
  latencyMs: 0,
  errorRate: 0,
  seed: 1,
} as const;

/** How long `close()` lets in-flight requests finish before cutting their connections. */
const SHUTDOWN_GRACE_MS = 5_000;

/** Options of {@link startSimServer}. */
export interface SimServerOptions {
  /** Directory of scenario files, loaded and validated once before listening. */
  scenariosDir: string;
  /** @default '127.0.0.1' */
  host?: string;
  /** 0 picks a free port. @default 0 */
  port?: number;
  /** Model id served besides those named by scenario `match.model`. @default 'airlock-sim-coder' */
  model?: string;
  /** Latency added to every chat completion, in milliseconds. @default 0 */
  latencyMs?: number;
  /** Share of matched chat completions, 0..1, answered with an injected 503. @default 0 */
  errorRate?: number;
  /** Seed of the generator deciding which requests `errorRate` fails. @default 1 */
  seed?: number;
  /**
   * The context window to report, in tokens, where real servers report theirs: llama.cpp's
   * `GET /props` (`default_generation_settings.n_ctx`) and vLLM's `max_model_len` on every
   * `/v1/models` entry. Unset, the simulator reports none (`/props` is 404). Nothing is truncated.
   */
  contextWindow?: number | undefined;
  /** Epoch milliseconds, for `created` fields. @default Date.now */
  now?: () => number;
}

/** A listening simulator. */
export interface RunningSimServer {
  /** Base URL for OpenAI clients, ending in `/v1`. */
  url: string;
  /** Stops accepting connections, lets in-flight requests finish (5 s at most), then resolves. */
  close(): Promise<void>;
}

type RouteHandler = (req: IncomingMessage, res: ServerResponse, signal: AbortSignal) => void | Promise<void>;

/**
 * Loads the scenarios, then serves the OpenAI-compatible API on `host:port`:
 * `GET /health`, `GET /v1/models`, `POST /v1/chat/completions`, and the simulator-only
 * `GET /v1/sim/requests`. Rejects if a scenario file is invalid or the port is taken.
 */
export async function startSimServer(options: SimServerOptions): Promise<RunningSimServer> {
  const settings = {
    host: options.host ?? SIM_DEFAULTS.host,
    port: options.port ?? SIM_DEFAULTS.port,
    model: options.model ?? SIM_DEFAULTS.model,
    latencyMs: options.latencyMs ?? SIM_DEFAULTS.latencyMs,
    errorRate: options.errorRate ?? SIM_DEFAULTS.errorRate,
    seed: options.seed ?? SIM_DEFAULTS.seed,
    now: options.now ?? Date.now,
  };
  const catalog = await loadScenarioCatalog(options.scenariosDir);
  const ledger = new RequestLedger();
  const modelIds = [...new Set([settings.model, ...catalog.modelIds])];
  const startedAt = Math.floor(settings.now() / 1000);
  const { contextWindow } = options;
  const models = modelIds.map((id): Model & { max_model_len?: number } => ({
    id,
    object: 'model',
    created: startedAt,
    owned_by: 'airlock-sim',
    ...(contextWindow === undefined ? {} : { max_model_len: contextWindow }),
  }));
  const chatCompletions = new ChatCompletionsHandler({
    catalog,
    ledger,
    modelIds: new Set(modelIds),
    faults: { latencyMs: settings.latencyMs, errorRate: settings.errorRate, random: createSeededRandom(settings.seed) },
    now: settings.now,
  });

  // A Map, not an object literal, so paths like `/constructor` cannot hit prototype members.
  const routes = new Map<string, Map<string, RouteHandler>>([
    ['/health', new Map([['GET', (_req, res) => sendJson(res, 200, { status: 'ok' })]])],
    ['/v1/models', new Map([['GET', (_req, res) => sendJson(res, 200, { object: 'list', data: models })]])],
    ['/v1/chat/completions', new Map([['POST', (req, res, signal) => chatCompletions.handle(req, res, signal)]])],
    ['/v1/sim/requests', new Map([['GET', (_req, res) => sendJson(res, 200, ledger.snapshot())]])],
  ]);
  if (contextWindow !== undefined) routes.set('/props', new Map([['GET', (_req, res) => sendJson(res, 200, llamaServerProps(contextWindow, settings.model))]]));

  let closing: Promise<void> | undefined;
  const server = createServer((req, res) => {
    // Once closing, a finished request's keep-alive socket would otherwise hold close() open.
    res.on('finish', () => {
      if (closing !== undefined) server.closeIdleConnections();
    });
    void dispatch(req, res);
  });

  async function dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    try {
      const { pathname } = new URL(req.url ?? '/', 'http://inference-sim.invalid');
      const methods = routes.get(pathname);
      const handler = methods?.get(req.method ?? '');
      if (methods === undefined) {
        const message = `Unknown request URL: ${req.method} ${pathname}.`;
        throw new OpenAiApiError(404, message, 'invalid_request_error', null, 'unknown_url');
      }
      if (handler === undefined) {
        const message = `${req.method} is not allowed on ${pathname}; use ${[...methods.keys()].join(', ')}.`;
        throw new OpenAiApiError(405, message, 'invalid_request_error', null, 'method_not_allowed');
      }
      await handler(req, res, abort.signal);
    } catch (error) {
      // The client is gone: there is nobody to answer, and a disconnect is not a fault.
      if (abort.signal.aborted) return;
      let refusal: OpenAiApiError;
      if (error instanceof OpenAiApiError) {
        refusal = error;
      } else {
        // A bug in the simulator, not in the client: make it visible where the tests run.
        reportBug(error);
        const message = 'The simulator failed unexpectedly; its stderr has the details.';
        refusal = new OpenAiApiError(500, message, 'server_error', null, 'sim_internal_error');
      }
      // Once a stream has started its status is sent; cutting the connection is the only honest signal left.
      if (res.headersSent) res.destroy();
      else sendJson(res, refusal.status, refusal.toBody());
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.port, settings.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `http://${host}:${address.port}/v1`,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        const cutoff = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS).unref();
        server.close((error) => {
          clearTimeout(cutoff);
          if (error) reject(error);
          else resolve();
        });
        // Keep-alive sockets of finished requests would otherwise hold close() open.
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}

/**
 * The parts of llama.cpp's `GET /props` answer clients read (shape as recorded from
 * llama-server b4748 in libs/inference-replay): the context of a slot, and what model it is.
 */
function llamaServerProps(contextWindow: number, model: string): Record<string, unknown> {
  return {
    default_generation_settings: { id: 0, id_task: -1, n_ctx: contextWindow, is_processing: false, params: { n_predict: -1, max_tokens: -1, n_keep: 0 } },
    total_slots: 1,
    model_path: `${model}.gguf`,
    build_info: 'airlock-sim',
  };
}

function reportBug(error: unknown): void {
  process.stderr.write(`inference-sim: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
}
