import path from 'node:path';
import OpenAI from 'openai';
import { type ChatCompletionChunk, type ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { MAX_BODY_BYTES } from './json-body.reader';
import { startSimServer, type RunningSimServer, type SimServerOptions } from './sim-server';

const BASIC = path.join(__dirname, 'fixtures', 'ok', 'basic');
const WITH_DEFAULT = path.join(__dirname, 'fixtures', 'ok', 'with-default');
const MODEL = 'airlock-sim-coder';
const NOW_MS = 1_700_000_000_000;

const running: RunningSimServer[] = [];

async function start(options: Partial<SimServerOptions> = {}): Promise<{ sim: RunningSimServer; client: OpenAI }> {
  const sim = await startSimServer({ scenariosDir: BASIC, now: () => NOW_MS, ...options });
  running.push(sim);
  // No SDK retries: each test decides how many calls it makes.
  return { sim, client: new OpenAI({ baseURL: sim.url, apiKey: 'unused', maxRetries: 0 }) };
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((sim) => sim.close()));
});

function user(content: string): ChatCompletionMessageParam[] {
  return [{ role: 'user', content }];
}

function ask(client: OpenAI, content: string, model = MODEL) {
  return client.chat.completions.create({ model, messages: user(content) });
}

async function apiError(call: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  const error = await call.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (error instanceof OpenAI.APIError) return error;
  throw new Error(`expected an OpenAI.APIError, got ${String(error)}`);
}

async function collect(stream: AsyncIterable<ChatCompletionChunk>): Promise<ChatCompletionChunk[]> {
  const chunks: ChatCompletionChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

describe('inference simulator over HTTP with the openai SDK', () => {
  it('binds 127.0.0.1 on a free port and answers /health', async () => {
    const { sim } = await start();

    expect(sim.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    const health = await fetch(new URL('/health', sim.url));
    expect(health.status).toBe(200);
  });

  it('lists --model and the models scenarios name', async () => {
    const { client } = await start();

    const page = await client.models.list();

    expect(page.data).toEqual([
      { id: MODEL, object: 'model', created: NOW_MS / 1000, owned_by: 'airlock-sim' },
      { id: 'airlock-sim-reviewer', object: 'model', created: NOW_MS / 1000, owned_by: 'airlock-sim' },
    ]);
  });

  it('answers a non-streaming completion with usage', async () => {
    const { client } = await start();

    const completion = await ask(client, 'please say hello');

    expect(completion).toMatchObject({
      object: 'chat.completion',
      created: NOW_MS / 1000,
      model: MODEL,
      choices: [
        {
          index: 0,
          finish_reason: 'stop',
          message: { role: 'assistant', content: 'Hello from the Airlock inference simulator.' },
        },
      ],
      // prompt: 3 + 4 + ceil(16 / 4); completion: ceil(43 / 4)
      usage: { prompt_tokens: 11, completion_tokens: 11, total_tokens: 22 },
    });
    expect(completion.id).toMatch(/^chatcmpl-/);
  });

  it('streams chunks, then a usage chunk and [DONE] when include_usage is set', async () => {
    const { client } = await start();

    const chunks = await collect(
      await client.chat.completions.create({
        model: MODEL,
        messages: user('please say hello'),
        stream: true,
        stream_options: { include_usage: true },
      }),
    );

    const text = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe('Hello from the Airlock inference simulator.');
    expect(chunks.length).toBeGreaterThan(3);
    expect(chunks.every((chunk) => chunk.object === 'chat.completion.chunk')).toBe(true);
    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant');
    const [finish, usage] = chunks.slice(-2);
    expect(finish?.choices[0]?.finish_reason).toBe('stop');
    expect(finish?.usage).toBeNull();
    expect(usage?.choices).toEqual([]);
    expect(usage?.usage).toEqual({ prompt_tokens: 11, completion_tokens: 11, total_tokens: 22 });
  });

  it('streams without a usage chunk unless asked', async () => {
    const { client } = await start();

    const chunks = await collect(
      await client.chat.completions.create({ model: MODEL, messages: user('please say hello'), stream: true }),
    );

    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');
    expect(chunks.some((chunk) => chunk.usage !== undefined)).toBe(false);
  });

  it('returns tool calls, then the answer once tool results come back', async () => {
    const { client } = await start();

    const first = await ask(client, 'read the config please');
    const choice = first.choices[0];
    expect(choice?.finish_reason).toBe('tool_calls');
    expect(choice?.message.content).toBeNull();
    const calls = (choice?.message.tool_calls ?? []).filter((call) => call.type === 'function');
    expect(calls.map((call) => [call.function.name, JSON.parse(call.function.arguments)])).toEqual([
      ['read_file', { path: 'config/airlock.yaml' }],
      ['list_dir', { path: 'config', recursive: false }],
    ]);
    expect(new Set(calls.map((call) => call.id)).size).toBe(2);

    const second = await client.chat.completions.create({
      model: MODEL,
      messages: [
        ...user('read the config please'),
        { role: 'assistant', content: null, tool_calls: choice?.message.tool_calls },
        ...calls.map((call): ChatCompletionMessageParam => ({ role: 'tool', tool_call_id: call.id, content: 'ok' })),
      ],
    });
    expect(second.choices[0]?.message.content).toBe('The config enables two repositories.');
  });

  it('answers a scripted conversation turn by turn, counting the assistant messages sent back', async () => {
    const { client } = await start();
    const conversation: ChatCompletionMessageParam[] = user('please fix the scripted bug');
    const answers: string[] = [];
    for (let turn = 0; turn < 4; turn += 1) {
      const message = (await client.chat.completions.create({ model: MODEL, messages: conversation })).choices[0]?.message;
      const calls = (message?.tool_calls ?? []).filter((call) => call.type === 'function');
      answers.push(calls.length > 0 ? calls.map((call) => call.function.name).join(',') : (message?.content ?? ''));
      conversation.push({ role: 'assistant', content: message?.content ?? null, ...(calls.length > 0 ? { tool_calls: calls } : {}) });
      for (const call of calls) conversation.push({ role: 'tool', tool_call_id: call.id, content: 'ok' });
    }
    // The script has three turns; past its end the last one repeats.
    expect(answers).toEqual(['read_file', 'run_tests', 'Done.', 'Done.']);
  });

  it('streams tool call deltas the SDK assembles into whole calls', async () => {
    const { client } = await start();

    const stream = client.chat.completions.stream({ model: MODEL, messages: user('read the config please') });
    const deltas: ChatCompletionChunk.Choice.Delta.ToolCall[] = [];
    stream.on('chunk', (chunk) => deltas.push(...(chunk.choices[0]?.delta.tool_calls ?? [])));
    const completion = await stream.finalChatCompletion();

    const choice = completion.choices[0];
    expect(choice?.finish_reason).toBe('tool_calls');
    const calls = (choice?.message.tool_calls ?? []).filter((call) => call.type === 'function');
    expect(calls.map((call) => [call.function.name, JSON.parse(call.function.arguments)])).toEqual([
      ['read_file', { path: 'config/airlock.yaml' }],
      ['list_dir', { path: 'config', recursive: false }],
    ]);
    // Each call opens with its id and name, then its arguments arrive in several fragments.
    const openings = deltas.filter((delta) => delta.id !== undefined);
    expect(openings.map((delta) => [delta.index, delta.function?.name])).toEqual([
      [0, 'read_file'],
      [1, 'list_dir'],
    ]);
    expect(deltas.filter((delta) => delta.index === 0 && delta.id === undefined).length).toBeGreaterThan(1);
  });

  it('surfaces an injected scenario error as OpenAI.APIError, streaming or not', async () => {
    const { client } = await start();

    const plain = await apiError(ask(client, 'trigger overload'));
    const streamed = await apiError(
      client.chat.completions.create({ model: MODEL, messages: user('trigger overload'), stream: true }),
    );

    for (const error of [plain, streamed]) {
      expect(error.status).toBe(503);
      expect(error.type).toBe('server_error');
      expect(error.code).toBe('engine_overloaded');
      expect(error.message).toContain('The simulated engine is overloaded.');
    }
  });

  it('fails the first fail_times requests, then succeeds', async () => {
    const { client, sim } = await start();

    const failure = await apiError(ask(client, 'a flaky request'));
    const success = await ask(client, 'a flaky request');

    expect(failure.status).toBe(500);
    expect(success.choices[0]?.message.content).toBe('Recovered after one failure.');
    const counts = (await (await fetch(`${sim.url}/sim/requests`)).json()) as unknown;
    expect(counts).toEqual({ count: 2, byScenario: { flaky: 2 } });
  });

  it('waits at least latency_ms before answering', async () => {
    const { client } = await start({ latencyMs: 50 });
    const startedAt = performance.now();

    await ask(client, 'take your time');

    // 300 ms from the scenario plus 50 ms from --latency-ms; 1 ms of slack because Node
    // timers measure from libuv's cached loop time and may fire that much early.
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(349);
  });

  it('spaces stream chunks by chunk_delay_ms', async () => {
    const { client } = await start();
    const arrivals: number[] = [];

    for await (const _chunk of await client.chat.completions.create({
      model: MODEL,
      messages: user('take your time'),
      stream: true,
    })) {
      arrivals.push(performance.now());
    }

    // Role chunk, six words, finish chunk: seven gaps of 20 ms, minus 1 ms timer slack each.
    expect(arrivals.length).toBe(8);
    expect((arrivals.at(-1) ?? 0) - (arrivals[0] ?? 0)).toBeGreaterThanOrEqual(7 * 19);
  });

  it('fails requests at --error-rate, the same ones for the same seed', async () => {
    const outcomes = async (seed: number): Promise<string[]> => {
      const { client } = await start({ errorRate: 0.5, seed });
      const results: string[] = [];
      for (let attempt = 0; attempt < 16; attempt += 1) {
        const result = await client.chat.completions
          .create({ model: MODEL, messages: user('please say hello') })
          .then(
            () => 'ok',
            (error: unknown) => (error instanceof OpenAI.APIError ? `${error.status} ${error.code}` : String(error)),
          );
        results.push(result);
      }
      return results;
    };

    const first = await outcomes(42);
    const replay = await outcomes(42);

    expect(replay).toEqual(first);
    expect(first).toContain('ok');
    expect(first).toContain('503 sim_injected_fault');
  });

  it('answers 400 naming the field for a malformed body', async () => {
    const { sim } = await start();
    const post = (body: string) =>
      fetch(`${sim.url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

    const notJson = await post('{"model":');
    const missing = await post(JSON.stringify({ model: MODEL }));
    const wrongType = await post(JSON.stringify({ model: MODEL, messages: user('hi'), stream: 'yes' }));

    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({
      error: { type: 'invalid_request_error', code: 'invalid_json', param: null },
    });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toEqual({
      error: {
        message: "Missing required parameter: 'messages'.",
        type: 'invalid_request_error',
        param: 'messages',
        code: 'missing_required_parameter',
      },
    });
    expect(wrongType.status).toBe(400);
    expect(await wrongType.json()).toMatchObject({ error: { param: 'stream', code: 'invalid_type' } });
  });

  it('answers 413 for a body over the limit', async () => {
    const { sim } = await start();

    const response = await fetch(`${sim.url}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: 'x'.repeat(MAX_BODY_BYTES + 1),
    });

    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ error: { code: 'request_too_large' } });
  });

  it('answers 404 model_not_found for an unknown model', async () => {
    const { client } = await start();

    const error = await apiError(ask(client, 'please say hello', 'gpt-4o'));

    expect(error.status).toBe(404);
    expect(error.code).toBe('model_not_found');
    expect(error.param).toBe('model');
  });

  it('serves a model that only a scenario names', async () => {
    const { client } = await start();

    const completion = await ask(client, 'review this diff', 'airlock-sim-reviewer');

    expect(completion.choices[0]?.message.content).toBe('LGTM.');
  });

  it('answers 422 when no scenario matches and there is no default', async () => {
    const { client } = await start();

    const error = await apiError(ask(client, 'something unscripted'));

    expect(error.status).toBe(422);
    expect(error.code).toBe('no_scenario_matched');
  });

  it('answers unmatched requests from the default scenario when there is one', async () => {
    const { client } = await start({ scenariosDir: WITH_DEFAULT });

    const unmatched = await ask(client, 'something unscripted');
    const matched = await ask(client, 'a specific question');

    expect(unmatched.choices[0]?.message.content).toBe('I am the default answer.');
    expect(matched.choices[0]?.message.content).toBe('A specific answer.');
  });

  it('counts chat completion requests on /v1/sim/requests', async () => {
    const { client, sim } = await start();
    const counts = async (): Promise<unknown> => (await fetch(`${sim.url}/sim/requests`)).json();

    const before = await counts();
    await ask(client, 'please say hello');
    await apiError(ask(client, 'something unscripted'));

    expect(before).toEqual({ count: 0, byScenario: {} });
    expect(await counts()).toEqual({ count: 2, byScenario: { greeting: 1 } });
  });

  it('reports --context-window where llama.cpp (GET /props n_ctx) and vLLM (max_model_len) do', async () => {
    const { sim, client } = await start({ contextWindow: 12_288 });

    const props = await fetch(new URL('/props', sim.url));
    const page = await client.models.list();

    expect(props.status).toBe(200);
    expect(await props.json()).toMatchObject({ default_generation_settings: { n_ctx: 12_288 }, total_slots: 1 });
    expect(page.data.map((model) => (model as unknown as { max_model_len: unknown }).max_model_len)).toEqual([12_288, 12_288]);
  });

  it('reports no context window unless started with one: /props is 404 and models carry no max_model_len', async () => {
    const { sim, client } = await start();

    const props = await fetch(new URL('/props', sim.url));
    const page = await client.models.list();

    expect(props.status).toBe(404);
    expect(page.data.every((model) => !('max_model_len' in model))).toBe(true);
  });

  it('answers unknown paths with 404 and wrong methods with 405, in the error shape', async () => {
    const { sim } = await start();

    const unknown = await fetch(`${sim.url}/completions`, { method: 'POST', body: '{}' });
    const wrongMethod = await fetch(`${sim.url}/chat/completions`);

    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: 'unknown_url' } });
    expect(wrongMethod.status).toBe(405);
    expect(await wrongMethod.json()).toMatchObject({ error: { code: 'method_not_allowed' } });
  });

  it('lets an in-flight request finish when closed', async () => {
    const { client, sim } = await start();

    const slow = ask(client, 'take your time');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const closedAt = performance.now();
    const closed = sim.close();

    const answer = await slow;
    expect(answer.choices[0]?.message.content).toBe('Slow and steady wins the race.');
    await expect(closed).resolves.toBeUndefined();
    // Well under the 5 s grace period: close() must not wait for the client's keep-alive socket.
    expect(performance.now() - closedAt).toBeLessThan(2_000);
  });

  it('refuses to start when a scenario file is invalid, naming the file and the field', async () => {
    const dir = path.join(__dirname, 'fixtures', 'not-ok', 'bad-tool-name');

    await expect(startSimServer({ scenariosDir: dir })).rejects.toThrow(
      `Scenario file "${path.join(dir, '10-bad-tool.yaml')}" is invalid at "response.tool_calls[1].name"`,
    );
  });
});
