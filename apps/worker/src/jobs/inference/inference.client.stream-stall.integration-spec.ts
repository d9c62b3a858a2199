import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { LLAMA_SERVER_TRANSCRIPTS, loadRecordedExchange } from '@airlock/inference-replay';
import { JsonLogger } from '../../logging/json-logger';
import { InferenceUnavailableError } from './inference-unavailable.error';
import { InferenceClient } from './inference.client';

const prompt = [{ role: 'user' as const, content: 'fix the bug' }];
/** A real llama-server answer stream (8 content chunks, a finish chunk with usage, [DONE]), event by event. */
const recordedEvents = loadRecordedExchange(join(LLAMA_SERVER_TRANSCRIPTS, '03-chat-stream-include-usage.json')).response.body.split(/(?<=\n\n)/);
const endpoint = (name: string, baseUrl: string, timing: { idleTimeoutMs: number; timeoutMs: number }) => ({
  name,
  baseUrl,
  model: 'tiny-random',
  apiKey: undefined,
  toolCalling: 'text' as const,
  ...timing,
});

interface PacedServer {
  readonly url: string;
  readonly served: () => number;
  /** Requests whose connection the client closed before the server ended the answer. */
  readonly cutOff: () => number;
  close(): Promise<void>;
}

/** Streams the recorded events with `pace(index)` ms before each (undefined: stop sending, keep the connection open). */
async function pacedServer(pace: (index: number) => number | undefined): Promise<PacedServer> {
  let served = 0;
  let cutOff = 0;
  const server = createServer((request, response: ServerResponse) => {
    request.resume();
    request.on('end', () => {
      served += 1;
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.flushHeaders();
      let ended = false;
      response.on('close', () => {
        if (!ended) cutOff += 1;
      });
      const send = (index: number) => {
        if (index >= recordedEvents.length) {
          ended = true;
          response.end();
          return;
        }
        const delayMs = pace(index);
        if (delayMs === undefined) return; // stalls: nothing more, and no end
        setTimeout(() => {
          if (response.destroyed) return;
          response.write(recordedEvents[index]);
          send(index + 1);
        }, delayMs);
      };
      send(0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    served: () => served,
    cutOff: () => cutOff,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('InferenceClient on a stream that stalls', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  function track<T extends { close(): Promise<void> }>(closable: T): T {
    cleanups.push(() => closable.close());
    return closable;
  }

  it('aborts a stream silent for longer than idleTimeout, retries it, then takes the next endpoint', async () => {
    // Three chunks, then silence with the connection held open, on every try.
    const stalling = track(await pacedServer((index) => (index < 3 ? 0 : undefined)));
    const working = track(await pacedServer(() => 0));
    const lines: string[] = [];
    const client = track(
      new InferenceClient(
        [endpoint('stalling', stalling.url, { idleTimeoutMs: 1_000, timeoutMs: 60_000 }), endpoint('working', working.url, { idleTimeoutMs: 1_000, timeoutMs: 60_000 })],
        new JsonLogger((line) => lines.push(line)),
        { settings: { attemptsPerEndpoint: 2, backoffBaseMs: 1 } },
      ),
    );

    const started = performance.now();
    const completion = await client.complete(prompt, 8, AbortSignal.timeout(30_000));
    const elapsedMs = performance.now() - started;

    expect(completion).toMatchObject({ endpoint: 'working', requests: 3, promptTokens: 60, completionTokens: 8 });
    expect(stalling.served()).toBe(2);
    // Two silences of about a second each, nowhere near the 60 s request timeout.
    expect(elapsedMs).toBeGreaterThanOrEqual(1_900);
    expect(elapsedMs).toBeLessThan(10_000);
    // The client hung up on both stalled answers, freeing the server's slot.
    await waitFor(() => stalling.cutOff() === 2);
    const stalls = lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line['event'] === 'inference-stream-stalled');
    expect(stalls).toEqual([
      expect.objectContaining({ level: 'warn', endpoint: 'stalling', reason: 'idle', limitMs: 1_000, chunks: 3 }),
      expect.objectContaining({ level: 'warn', endpoint: 'stalling', reason: 'idle', limitMs: 1_000, chunks: 3 }),
    ]);
  });

  it('takes a stream that is slow but never silent for idleTimeout, though it lasts longer than that', async () => {
    // 10 events 300 ms apart: 3 s in all, each silence well under the 1 s bound.
    const slow = track(await pacedServer(() => 300));
    const client = track(new InferenceClient([endpoint('slow', slow.url, { idleTimeoutMs: 1_000, timeoutMs: 60_000 })], new JsonLogger(() => undefined)));

    const started = performance.now();
    const completion = await client.complete(prompt, 8, AbortSignal.timeout(30_000));

    expect(performance.now() - started).toBeGreaterThanOrEqual(2_500);
    expect(completion).toMatchObject({ endpoint: 'slow', requests: 1, promptTokens: 60, completionTokens: 8 });
    expect(slow.served()).toBe(1);
    expect(slow.cutOff()).toBe(0);
  });

  it('still bounds the whole streamed request by timeout, however steadily it trickles', async () => {
    const endless = track(await endlessServer());
    const lines: string[] = [];
    const client = track(
      new InferenceClient([endpoint('endless', endless.url, { idleTimeoutMs: 1_000, timeoutMs: 1_500 })], new JsonLogger((line) => lines.push(line)), {
        settings: { attemptsPerEndpoint: 1 },
      }),
    );

    const started = performance.now();
    await expect(client.complete(prompt, 8, AbortSignal.timeout(30_000))).rejects.toBeInstanceOf(InferenceUnavailableError);

    expect(performance.now() - started).toBeLessThan(5_000);
    expect(lines.map((line) => JSON.parse(line) as Record<string, unknown>)).toContainEqual(
      expect.objectContaining({ event: 'inference-stream-stalled', reason: 'deadline', limitMs: 1_500 }),
    );
  });

  it('reports a job cancelled mid-stream as the cancel, not as a stall', async () => {
    const stalling = track(await pacedServer((index) => (index < 2 ? 0 : undefined)));
    const client = track(new InferenceClient([endpoint('stalling', stalling.url, { idleTimeoutMs: 5_000, timeoutMs: 60_000 })], new JsonLogger(() => undefined)));
    const cancel = new AbortController();
    setTimeout(() => cancel.abort(new Error('cancelled by the control plane')), 300);

    await expect(client.complete(prompt, 8, cancel.signal)).rejects.toThrow('cancelled by the control plane');
    expect(stalling.served()).toBe(1);
  });
});

/** A server that sends the recording's first content chunk every 100 ms and never finishes. */
async function endlessServer(): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((request, response) => {
    request.resume();
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    const timer = setInterval(() => response.write(recordedEvents[0]), 100);
    response.on('close', () => clearInterval(timer));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function waitFor(condition: () => boolean, timeoutMs = 3_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition() && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 20));
  expect(condition()).toBe(true);
}
