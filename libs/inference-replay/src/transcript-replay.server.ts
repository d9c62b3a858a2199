import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RecordedExchange } from './recorded-exchange';

/** A running replay server. */
export interface TranscriptReplay {
  /** Base URL of the OpenAI-compatible API, e.g. `http://127.0.0.1:41234/v1`. */
  readonly url: string;
  /** Requests answered from a recording so far. */
  readonly served: number;
  close(): Promise<void>;
}

/** Headers the replay leaves to Node: framing is recomputed for the bytes actually sent. */
const FRAMING_HEADERS = new Set(['content-length', 'transfer-encoding', 'connection', 'date', 'keep-alive']);
/** A replayed request body is read and discarded, but never without bound. */
const MAX_REQUEST_BYTES = 4 * 1024 * 1024;

/**
 * Serves recorded exchanges of a real inference server, byte for byte: a request gets the
 * response recorded for the same method and path (the query string is ignored). Where
 * several recordings share a path, the one whose recorded request agrees on `"stream"`
 * (streaming or not) is used, else the first. The status line, headers (but framing) and
 * body are those recorded, and the body is written in the chunks the recording read it
 * in, so SSE framing and mid-stream errors reach the client as the real server sent them.
 * A request that matches no recording gets 404 `{"error":{"message":"no recording for …"}}`.
 */
export async function startTranscriptReplay(exchanges: readonly RecordedExchange[], options: { host?: string; port?: number } = {}): Promise<TranscriptReplay> {
  let served = 0;
  const server = createServer((request, response) => {
    readBody(request).then(
      (body) => {
        const exchange = pick(exchanges, request, body);
        if (!exchange) {
          response.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: `no recording for ${request.method} ${request.url}` } }));
          return;
        }
        served += 1;
        void replay(exchange, response);
      },
      () => response.writeHead(413).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}/v1`,
    get served() {
      return served;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function pick(exchanges: readonly RecordedExchange[], request: IncomingMessage, body: string): RecordedExchange | undefined {
  const path = (request.url ?? '/').split('?')[0];
  const candidates = exchanges.filter((exchange) => exchange.request.method === request.method && exchange.request.path === path);
  const streaming = streamFlag(body);
  return candidates.find((exchange) => streamFlag(exchange.request.body ?? '') === streaming) ?? candidates[0];
}

function streamFlag(body: string): boolean {
  try {
    return (JSON.parse(body) as { stream?: unknown }).stream === true;
  } catch {
    return false;
  }
}

async function replay(exchange: RecordedExchange, response: ServerResponse): Promise<void> {
  const { status, statusMessage, headers, body, reads } = exchange.response;
  response.writeHead(
    status,
    statusMessage,
    headers.filter(([name]) => !FRAMING_HEADERS.has(name.toLowerCase())),
  );
  const bytes = Buffer.from(body, 'utf8');
  let offset = 0;
  for (const read of reads) {
    if (offset >= bytes.length) break;
    response.write(bytes.subarray(offset, offset + read.bytes));
    offset += read.bytes;
    // Let each chunk leave as its own write, as the recording received them.
    await new Promise((resolve) => setImmediate(resolve));
  }
  response.end(bytes.subarray(offset));
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_REQUEST_BYTES) {
        request.destroy();
        reject(new RangeError('request body too large'));
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}
