import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { InferenceEndpointConfig } from '../../config/worker-config.loader';
import { JsonLogger } from '../../logging/json-logger';
import { FakeInferenceServer } from '../../testing/fake-inference-server.mock';
import type { EndpointUsage } from './conversation';
import { InferenceRejectedError } from './inference-rejected.error';
import { InferenceUnavailableError } from './inference-unavailable.error';
import { InferenceClient } from './inference.client';

const quietLogger = new JsonLogger(() => undefined);
const prompt = [{ role: 'user' as const, content: 'fix the bug' }];
const endpoint = (name: string, baseUrl: string, model: string): InferenceEndpointConfig => ({ name, baseUrl, model, apiKey: undefined, timeoutMs: 5_000, toolCalling: 'auto' });
/** Fast retries: the backoff is not what these tests look at. */
const settings = { backoffBaseMs: 5, backoffCapMs: 20 };

const sum = (usage: readonly EndpointUsage[], figure: 'requests' | 'promptTokens' | 'completionTokens') => usage.reduce((total, entry) => total + entry[figure], 0);

describe('InferenceClient: requests and tokens per endpoint, against real HTTP servers', () => {
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
  });

  /** A server answering every chat request with `status` and an OpenAI error body. */
  async function failingServer(status: number): Promise<{ url: string; served: () => number }> {
    let served = 0;
    const server = createServer((request, response: ServerResponse) => {
      request.resume();
      request.on('end', () => {
        served += 1;
        response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'no', type: 'server_error' } }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise((resolve) => server.close(() => resolve())));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, served: () => served };
  }

  async function answeringServer(model: string): Promise<FakeInferenceServer> {
    const server = new FakeInferenceServer(model, () => 'Done.');
    await server.start();
    closers.push(() => server.stop());
    return server;
  }

  /** A loopback URL nothing listens on: the port of a server that was just closed. */
  async function unreachableUrl(): Promise<string> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return `http://127.0.0.1:${port}/v1`;
  }

  it('gives a primary that answered 5xx and the fallback that answered an entry each, by configured index, adding up to the totals', async () => {
    const primary = await failingServer(503);
    const fallback = await answeringServer('qwen2.5-coder:7b');
    const client = new InferenceClient([endpoint('gpu-box', primary.url, 'Qwen/Qwen2.5-Coder-32B-Instruct'), endpoint('cpu-box', fallback.baseUrl, 'qwen2.5-coder:7b')], quietLogger, { settings });

    const answer = await client.chat({ messages: prompt, tools: [], maxTokens: 8, signal: AbortSignal.timeout(30_000) });

    expect(answer.usage).toEqual([
      { endpointIndex: 0, endpoint: 'gpu-box', model: 'Qwen/Qwen2.5-Coder-32B-Instruct', requests: 3, promptTokens: 0, completionTokens: 0 },
      { endpointIndex: 1, endpoint: 'cpu-box', model: 'qwen2.5-coder:7b', requests: 1, promptTokens: 321, completionTokens: 54 },
    ]);
    expect([answer.requests, answer.promptTokens, answer.completionTokens]).toEqual([sum(answer.usage, 'requests'), sum(answer.usage, 'promptTokens'), sum(answer.usage, 'completionTokens')]);
    expect([primary.served(), fallback.chats.length]).toEqual([3, 1]);
    expect(fallback.chats[0]?.model).toBe('qwen2.5-coder:7b');
  });

  it('keeps the index of the configured list when the policy leaves out an endpoint before the one that answered', async () => {
    const skipped = await answeringServer('a');
    const unreachable = await unreachableUrl();
    const third = await answeringServer('c');
    const client = new InferenceClient([endpoint('first', skipped.baseUrl, 'a'), endpoint('second', unreachable, 'b'), endpoint('third', third.baseUrl, 'c')], quietLogger, { settings });

    const answer = await client.chat({ messages: prompt, tools: [], maxTokens: 8, signal: AbortSignal.timeout(30_000), endpoints: ['second', 'third'] });

    expect(answer.usage).toEqual([
      { endpointIndex: 1, endpoint: 'second', model: 'b', requests: 3, promptTokens: 0, completionTokens: 0 },
      { endpointIndex: 2, endpoint: 'third', model: 'c', requests: 1, promptTokens: 321, completionTokens: 54 },
    ]);
    expect(skipped.chats).toHaveLength(0);
  });

  it('counts the requests of every endpoint tried when none answers', async () => {
    const first = await failingServer(500);
    const second = await failingServer(502);
    const client = new InferenceClient([endpoint('first', first.url, 'a'), endpoint('second', second.url, 'b')], quietLogger, { settings });

    const failure = await client.chat({ messages: prompt, tools: [], maxTokens: 8, signal: AbortSignal.timeout(30_000) }).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(InferenceUnavailableError);
    const { usage, requests } = failure as InferenceUnavailableError;
    expect(usage).toEqual([
      { endpointIndex: 0, endpoint: 'first', model: 'a', requests: 3, promptTokens: 0, completionTokens: 0 },
      { endpointIndex: 1, endpoint: 'second', model: 'b', requests: 3, promptTokens: 0, completionTokens: 0 },
    ]);
    expect(requests).toBe(6);
  });

  it('counts the refused request on the endpoint that refused it', async () => {
    const primary = await failingServer(503);
    const refusing = await failingServer(400);
    const client = new InferenceClient([endpoint('first', primary.url, 'a'), endpoint('second', refusing.url, 'b')], quietLogger, { settings });

    const failure = await client.chat({ messages: prompt, tools: [], maxTokens: 8, signal: AbortSignal.timeout(30_000) }).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(InferenceRejectedError);
    expect((failure as InferenceRejectedError).usage).toEqual([
      { endpointIndex: 0, endpoint: 'first', model: 'a', requests: 3, promptTokens: 0, completionTokens: 0 },
      { endpointIndex: 1, endpoint: 'second', model: 'b', requests: 1, promptTokens: 0, completionTokens: 0 },
    ]);
  });
});
