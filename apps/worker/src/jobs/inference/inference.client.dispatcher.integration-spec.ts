import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LLAMA_SERVER_TRANSCRIPTS, loadRecordedExchange } from '@airlock/inference-replay';
import { findFreePort, waitForTcpListener } from '@airlock/testing';
import { JsonLogger } from '../../logging/json-logger';
import { InferenceUnavailableError } from './inference-unavailable.error';
import { InferenceClient } from './inference.client';

const quietLogger = new JsonLogger(() => undefined);
const prompt = [{ role: 'user' as const, content: 'fix the bug' }];
/** A real llama-server answer stream, so every request here ends in a real answer. */
const recordedStream = loadRecordedExchange(join(LLAMA_SERVER_TRANSCRIPTS, '03-chat-stream-include-usage.json')).response.body;
const endpoint = (name: string, baseUrl: string, proxy?: string) => ({ name, baseUrl, model: 'tiny-random', apiKey: undefined, timeoutMs: 10_000, toolCalling: 'text' as const, proxy });

/** An inference server that counts TCP connections and keeps the headers of every request; `/redirect/...` answers 307, `/v1/models` lists one model. */
interface CountingServer {
  readonly url: string;
  readonly connections: () => number;
  readonly openConnections: () => number;
  readonly requests: IncomingHttpHeaders[];
  close(): Promise<void>;
}

async function countingServer(redirectTo?: string): Promise<CountingServer> {
  let connections = 0;
  let open = 0;
  const requests: IncomingHttpHeaders[] = [];
  const server = createServer((request, response) => {
    requests.push(request.headers);
    request.resume();
    request.on('end', () => {
      if (request.url?.startsWith('/redirect/') && redirectTo) response.writeHead(307, { location: redirectTo }).end();
      else if (request.url === '/v1/models') response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data: [{ id: 'tiny-random' }] }));
      else response.writeHead(200, { 'content-type': 'text/event-stream' }).end(recordedStream);
    });
  });
  server.on('connection', (socket) => {
    connections += 1;
    open += 1;
    socket.on('close', () => (open -= 1));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    connections: () => connections,
    openConnections: () => open,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A real tinyproxy (scripts/ensure-system-packages.sh installs it) on loopback, its log kept. */
class Tinyproxy {
  log = '';
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {
    child.stdout?.on('data', (chunk: Buffer) => (this.log += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (this.log += chunk.toString()));
  }

  static async start(dir: string): Promise<Tinyproxy> {
    const port = await findFreePort();
    const configFile = join(dir, `tinyproxy-${port}.conf`);
    writeFileSync(configFile, [`Port ${port}`, 'Listen 127.0.0.1', 'Allow 127.0.0.1', 'LogLevel Info', 'MaxClients 20', ''].join('\n'));
    const proxy = new Tinyproxy(spawn('tinyproxy', ['-d', '-c', configFile], { stdio: ['ignore', 'pipe', 'pipe'] }), `http://127.0.0.1:${port}`);
    await waitForTcpListener(port, 5_000);
    return proxy;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }
}

if (spawnSync('tinyproxy', ['-v']).status !== 0) throw new Error('tinyproxy is missing: run scripts/ensure-system-packages.sh tests (or apt-get install -y tinyproxy)');

describe("InferenceClient's own connection pool and proxy", () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  async function serve(redirectTo?: string): Promise<CountingServer> {
    const server = await countingServer(redirectTo);
    cleanups.push(() => server.close());
    return server;
  }
  function clientFor(...endpoints: Array<ReturnType<typeof endpoint>>): InferenceClient {
    const client = new InferenceClient(endpoints, quietLogger, { settings: { attemptsPerEndpoint: 1 } });
    cleanups.push(() => client.close());
    return client;
  }

  it('sends successive requests over one kept-alive connection, and closes it when the client is closed', async () => {
    const server = await serve();
    const client = clientFor(endpoint('pooled', server.url));

    await client.complete(prompt, 8, AbortSignal.timeout(20_000));
    // As between two turns of the agent loop: the pool takes the connection back a tick after
    // the answer's last byte, and a request sent in that tick would get a new one.
    await new Promise((resolve) => setTimeout(resolve, 100));
    await client.complete(prompt, 8, AbortSignal.timeout(20_000));

    expect(server.requests).toHaveLength(2);
    expect(server.connections()).toBe(1);
    expect(server.openConnections()).toBe(1);
    const closing = performance.now();
    await client.close();
    // Closed by the pool now, not by a keep-alive timer (undici's: 4 s) running out.
    await waitFor(() => server.openConnections() === 0);
    expect(performance.now() - closing).toBeLessThan(1_000);
    await expect(client.close()).resolves.toBeUndefined();
  });

  describe('through a real HTTP proxy (tinyproxy)', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'airlock-inference-proxy-'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    async function startProxy(): Promise<Tinyproxy> {
      const proxy = await Tinyproxy.start(dir);
      cleanups.push(() => proxy.stop());
      return proxy;
    }

    it('streams an answer through the proxy, and finds no other way once the proxy is gone', async () => {
      const server = await serve();
      const proxy = await startProxy();
      const client = clientFor(endpoint('behind-proxy', server.url, proxy.url));

      const completion = await client.complete(prompt, 8, AbortSignal.timeout(20_000));

      expect(completion).toMatchObject({ endpoint: 'behind-proxy', promptTokens: 60, completionTokens: 8 });
      expect(server.requests).toHaveLength(1);
      // The proxy forwarded it (its Via header), and logged the absolute-form request it got.
      expect(server.requests[0]?.via).toMatch(/tinyproxy/);
      expect(proxy.log).toContain(`POST ${server.url}/chat/completions`);

      await proxy.stop();
      await expect(client.complete(prompt, 8, AbortSignal.timeout(20_000))).rejects.toBeInstanceOf(InferenceUnavailableError);
      // The server was up all along: the client never went around the proxy.
      expect(server.requests).toHaveLength(1);
    });

    it('lists the models through the proxy, as completions go, for the readiness check', async () => {
      const server = await serve();
      const proxy = await startProxy();
      const behindProxy = endpoint('behind-proxy', server.url, proxy.url);
      const client = clientFor(behindProxy);

      await expect(client.listModels(behindProxy)).resolves.toEqual(['tiny-random']);
      expect(server.requests[0]?.via).toMatch(/tinyproxy/);
      expect(proxy.log).toContain(`GET ${server.url}/models`);
    });

    it('still refuses a redirect through the proxy', async () => {
      const elsewhere = await serve();
      const redirecting = await serve(`${elsewhere.url}/chat/completions`);
      const proxy = await startProxy();
      const client = clientFor(endpoint('redirecting', `${redirecting.url.replace(/\/v1$/, '')}/redirect/v1`, proxy.url));

      await expect(client.complete(prompt, 8, AbortSignal.timeout(20_000))).rejects.toBeInstanceOf(InferenceUnavailableError);
      expect(redirecting.requests).toHaveLength(1);
      expect(elsewhere.requests).toHaveLength(0);
    });
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 3_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition() && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 20));
  expect(condition()).toBe(true);
}
