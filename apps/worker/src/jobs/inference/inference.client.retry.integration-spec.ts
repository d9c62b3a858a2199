import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LLAMA_SERVER_TRANSCRIPTS, loadRecordedExchange } from '@airlock/inference-replay';
import { join } from 'node:path';
import { JsonLogger } from '../../logging/json-logger';
import { InferenceRejectedError } from './inference-rejected.error';
import { InferenceClient, parseRetryAfterMs } from './inference.client';

const quietLogger = new JsonLogger(() => undefined);
const prompt = [{ role: 'user' as const, content: 'fix the bug' }];
const endpoint = (name: string, baseUrl: string) => ({ name, baseUrl, model: 'tiny-random', apiKey: undefined, timeoutMs: 5_000, toolCalling: 'auto' as const });
/** A real llama-server answer stream, to end a scripted exchange with success. */
const goodStream = loadRecordedExchange(join(LLAMA_SERVER_TRANSCRIPTS, '03-chat-stream-include-usage.json')).response.body;

/** A server whose n-th request (1-based) gets `answer(n)`; counts what it served. */
async function scriptedServer(answer: (n: number, response: ServerResponse) => void): Promise<{ url: string; served: () => number; close: () => Promise<void> }> {
  let served = 0;
  const server = createServer((request: IncomingMessage, response) => {
    request.resume();
    request.on('end', () => answer(++served, response));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    served: () => served,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const succeed = (response: ServerResponse) => response.writeHead(200, { 'content-type': 'text/event-stream' }).end(goodStream);
const fail = (status: number, headers: Record<string, string> = {}) => (response: ServerResponse) =>
  response.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify({ error: { message: 'no', type: 'server_error' } }));

describe('InferenceClient retries, Retry-After and the circuit breaker', () => {
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
  });
  const serve = async (answer: (n: number, response: ServerResponse) => void) => {
    const server = await scriptedServer(answer);
    closers.push(server.close);
    return server;
  };

  it('honours a 429 Retry-After, then takes the answer from the same endpoint', async () => {
    const server = await serve((n, response) => (n === 1 ? fail(429, { 'retry-after': '1' })(response) : succeed(response)));
    const started = performance.now();
    const completion = await new InferenceClient([endpoint('busy', server.url)], quietLogger).complete(prompt, 8, AbortSignal.timeout(30_000));
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
    expect(completion).toMatchObject({ requests: 2, promptTokens: 60, completionTokens: 8 });
    expect(server.served()).toBe(2);
  });

  it('bounds a Retry-After: a server asking for an hour waits only maxRetryAfterMs', async () => {
    const server = await serve((n, response) => (n === 1 ? fail(503, { 'retry-after': '3600' })(response) : succeed(response)));
    const client = new InferenceClient([endpoint('greedy', server.url)], quietLogger, { settings: { maxRetryAfterMs: 100 } });
    const started = performance.now();
    await client.complete(prompt, 8, AbortSignal.timeout(30_000));
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('wakes from a Retry-After sleep as soon as the job is cancelled', async () => {
    const server = await serve((_n, response) => fail(503, { 'retry-after': '30' })(response));
    const cancel = new AbortController();
    setTimeout(() => cancel.abort(new Error('cancelled')), 200);
    const started = performance.now();
    await expect(new InferenceClient([endpoint('slow', server.url)], quietLogger).complete(prompt, 8, cancel.signal)).rejects.toThrow('cancelled');
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(server.served()).toBe(1);
  });

  it('does not retry a 400 even when the server says x-should-retry: true', async () => {
    const server = await serve((_n, response) => fail(400, { 'x-should-retry': 'true' })(response));
    await expect(new InferenceClient([endpoint('insistent', server.url)], quietLogger).complete(prompt, 8, AbortSignal.timeout(30_000))).rejects.toBeInstanceOf(
      InferenceRejectedError,
    );
    expect(server.served()).toBe(1);
  });

  it('skips an endpoint that failed whole completions in a row, and probes it again after the cooldown', async () => {
    let nowMs = 0;
    const dead = await serve((_n, response) => fail(500)(response));
    const fallback = await serve((_n, response) => succeed(response));
    const client = new InferenceClient([endpoint('primary', dead.url), endpoint('fallback', fallback.url)], quietLogger, {
      settings: { circuitFailureThreshold: 2, circuitCooldownMs: 60_000, backoffBaseMs: 5 },
      now: () => nowMs,
    });
    const ask = () => client.complete(prompt, 8, AbortSignal.timeout(30_000));
    await ask();
    await ask();
    expect(dead.served()).toBe(6); // two completions, three tries each: now the circuit is open
    const skipping = await ask();
    expect(dead.served()).toBe(6);
    expect(skipping.requests).toBe(1);
    nowMs = 60_000;
    await ask();
    expect(dead.served()).toBe(9); // one probe, with its retries; it failed, so the circuit opens again
    await ask();
    expect(dead.served()).toBe(9);
    expect(fallback.served()).toBe(5);
  });

  it("asks only the endpoints a request's policy allows, in the configured order", async () => {
    const first = await serve((_n, response) => succeed(response));
    const second = await serve((_n, response) => succeed(response));
    const client = new InferenceClient([endpoint('first', first.url), endpoint('second', second.url)], quietLogger);
    const answer = await client.chat({ messages: prompt, tools: [], maxTokens: 8, signal: AbortSignal.timeout(30_000), endpoints: ['second'] });
    expect(answer.endpoint).toBe('second');
    expect([first.served(), second.served()]).toEqual([0, 1]);
    // No endpoint allowed: nothing is asked at all.
    await expect(client.chat({ messages: prompt, tools: [], maxTokens: 8, signal: AbortSignal.timeout(30_000), endpoints: [] })).rejects.toMatchObject({ requests: 0 });
    expect([first.served(), second.served()]).toEqual([0, 1]);
  });

  it('reads Retry-After as seconds, as an HTTP date, or as retry-after-ms', () => {
    expect(parseRetryAfterMs(null, '2', 0)).toBe(2_000);
    expect(parseRetryAfterMs('150', '9', 0)).toBe(150);
    expect(parseRetryAfterMs(null, new Date(5_000).toUTCString(), 1_000)).toBe(4_000);
    expect(parseRetryAfterMs(null, 'soon', 0)).toBeUndefined();
    expect(parseRetryAfterMs(null, null, 0)).toBeUndefined();
  });
});
