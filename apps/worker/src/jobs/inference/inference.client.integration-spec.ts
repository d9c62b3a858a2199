import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeInferenceServer } from '../../testing/fake-inference-server.mock';
import { JsonLogger } from '../../logging/json-logger';
import { JobPhaseFailedError } from '../job-phase-failed.error';
import { InferenceUnavailableError } from './inference-unavailable.error';
import { InferenceClient, MAX_MODEL_ANSWER_CHARS } from './inference.client';

const quietLogger = new JsonLogger(() => undefined);
const endpoint = (name: string, baseUrl: string) => ({ name, baseUrl, model: 'm', apiKey: undefined, timeoutMs: 5_000, toolCalling: 'auto' as const });
const prompt = [{ role: 'user' as const, content: 'secret source code' }];

describe('InferenceClient against real HTTP servers', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  async function startFake(answer: () => string): Promise<FakeInferenceServer> {
    const server = new FakeInferenceServer('m', answer);
    await server.start();
    cleanups.push(() => server.stop());
    return server;
  }

  it('never follows a redirect, so the prompt cannot be carried off the configured host', async () => {
    const elsewhere = await startFake(() => 'leaked');
    const redirector = createServer((_request, response) => {
      response.writeHead(307, { location: `${elsewhere.baseUrl}/chat/completions` }).end();
    });
    await new Promise<void>((resolve) => redirector.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => redirector.close(() => resolve())));
    const client = new InferenceClient([endpoint('redirecting', `http://127.0.0.1:${(redirector.address() as AddressInfo).port}/v1`)], quietLogger);

    await expect(client.complete(prompt, 100, AbortSignal.timeout(20_000))).rejects.toBeInstanceOf(InferenceUnavailableError);
    expect(elsewhere.chats).toHaveLength(0);
  });

  it('stops reading an answer past the size bound', async () => {
    const verbose = await startFake(() => 'x'.repeat(MAX_MODEL_ANSWER_CHARS + 100));
    const client = new InferenceClient([endpoint('verbose', verbose.baseUrl)], quietLogger);

    const failure = await client.complete(prompt, 100, AbortSignal.timeout(30_000)).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(JobPhaseFailedError);
    expect((failure as JobPhaseFailedError).failureCode).toBe('MODEL_OUTPUT_UNUSABLE');
    // Parsing a 1 MiB answer streamed as server-sent events is CPU work: 1.8 s here beside a
    // CI run, over Jest's default 5 s in one CI run. The test's own bound is the signal's 30 s.
  }, 30_000);
});
