import { LLAMA_SERVER_TRANSCRIPTS, loadRecordedExchanges, startTranscriptReplay, type TranscriptReplay } from '@airlock/inference-replay';
import { JsonLogger } from '../../logging/json-logger';
import { InferenceRejectedError } from './inference-rejected.error';
import { InferenceStreamIncompleteError } from './inference-stream-incomplete.error';
import { InferenceUnavailableError } from './inference-unavailable.error';
import { InferenceClient } from './inference.client';
import { PromptTruncatedError } from './prompt-truncated.error';

const recordings = loadRecordedExchanges(LLAMA_SERVER_TRANSCRIPTS);
const quietLogger = new JsonLogger(() => undefined);
const prompt = [{ role: 'user' as const, content: 'fix the bug' }];
const TOOL = { name: 'run_tests', description: 'Run the tests.', parameters: { type: 'object', properties: {} } };
const endpoint = (name: string, baseUrl: string) => ({ name, baseUrl, model: 'tiny-random', apiKey: undefined, timeoutMs: 5_000, toolCalling: 'auto' as const });

/** What the client made of one answer: a completion, or the class and code of its failure. */
type Verdict = { readonly completion: { promptTokens: number; completionTokens: number; chars: number } } | { readonly failure: string; readonly failureCode: string };

/**
 * The worker's inference client against every chat completion recorded from a real llama.cpp
 * `llama-server` (libs/inference-replay), replayed byte for byte. Each row is what a worker
 * must make of that answer; the README beside the recordings says why each one looks the
 * way it does.
 */
describe('InferenceClient against recorded llama-server answers', () => {
  const replays: TranscriptReplay[] = [];
  afterEach(async () => {
    for (const replay of replays.splice(0)) await replay.close();
  });

  async function serve(name: string): Promise<TranscriptReplay> {
    const exchange = recordings.get(name);
    if (!exchange) throw new Error(`no recording named ${name}`);
    const replay = await startTranscriptReplay([exchange]);
    replays.push(replay);
    return replay;
  }

  async function verdictOf(client: InferenceClient): Promise<Verdict> {
    try {
      const completion = await client.complete(prompt, 8, AbortSignal.timeout(30_000));
      return { completion: { promptTokens: completion.promptTokens, completionTokens: completion.completionTokens, chars: completion.content.length } };
    } catch (error) {
      const failure = error as Error & { failureCode?: string };
      return { failure: failure.name, failureCode: failure.failureCode ?? 'none' };
    }
  }

  it.each([
    ['03-chat-stream-include-usage', 'a normal stream: usage rides on the chunk with finish_reason', { promptTokens: 60, completionTokens: 8 }],
    ['04-chat-stream-no-stream-options', 'usage is sent even without stream_options', { promptTokens: 60, completionTokens: 8 }],
    ['08d-overflow-shift-stream', 'a prompt the server silently cut to its last 270 tokens: a normal-looking answer', { promptTokens: 270, completionTokens: 8 }],
    ['10c-max-tokens-0-stream', 'max_tokens 0 still generates one token', { promptTokens: 60, completionTokens: 1 }],
  ])('takes %s as an answer (%s)', async (name, _why, usage) => {
    const verdict = await verdictOf(new InferenceClient([endpoint('llama', (await serve(name)).url)], quietLogger));
    expect(verdict).toEqual({ completion: { ...usage, chars: expect.any(Number) as number } });
    expect((verdict as { completion: { chars: number } }).completion.chars).toBeGreaterThan(0);
  });

  it.each([
    ['07b-overflow-noshift-stream', 'HTTP 200, an error: line, then [DONE]: no chunk at all'],
    ['07c-overflow-noshift-stream-no-options', 'the same without stream_options'],
    ['10e-max-tokens-minus-1-noshift-stream', '20 chunks, then an error: line and [DONE], no finish_reason'],
  ])('fails %s with INFERENCE_FAILED, not as unusable model output (%s)', async (name) => {
    const replay = await serve(name);
    const verdict = await verdictOf(new InferenceClient([endpoint('llama', replay.url), endpoint('never-asked', 'http://127.0.0.1:9/v1')], quietLogger));
    expect(verdict).toEqual({ failure: InferenceStreamIncompleteError.name, failureCode: 'INFERENCE_FAILED' });
    // A refusal after acceptance is not retried, nor passed on to the next endpoint.
    expect(replay.served).toBe(1);
  });

  it('fails a prompt over the context (400) with INFERENCE_FAILED at once', async () => {
    const replay = await serve('07a-overflow-noshift-nonstream');
    const verdict = await verdictOf(new InferenceClient([endpoint('llama', replay.url)], quietLogger));
    expect(verdict).toEqual({ failure: InferenceRejectedError.name, failureCode: 'INFERENCE_FAILED' });
    expect(replay.served).toBe(1);
  });

  it.each(['06-tools-auto-stream', '09a-malformed-json', '09b-missing-messages', '09d-n-2-stream', '10d-max-tokens-minus-1-noshift'])(
    'treats %s (a client mistake the server answers 500) as the endpoint failing: retried twice, then INFERENCE_UNAVAILABLE',
    async (name) => {
      const replay = await serve(name);
      const verdict = await verdictOf(new InferenceClient([endpoint('llama', replay.url)], quietLogger));
      expect(verdict).toEqual({ failure: InferenceUnavailableError.name, failureCode: 'INFERENCE_UNAVAILABLE' });
      expect(replay.served).toBe(3); // the first try and two retries, never more
    },
  );

  it('fails PROMPT_TRUNCATED when the server counts far fewer prompt tokens than were sent (08d: 270 of about 2500)', async () => {
    const exchange = recordings.get('08d-overflow-shift-stream');
    const longPrompt = (JSON.parse(exchange?.request.body ?? '{}') as { messages: Array<{ role: 'user'; content: string }> }).messages;
    const client = new InferenceClient([endpoint('llama', (await serve('08d-overflow-shift-stream')).url)], quietLogger);
    await expect(client.complete(longPrompt, 8, AbortSignal.timeout(30_000))).rejects.toBeInstanceOf(PromptTruncatedError);
  });

  it('asks an endpoint with native tools, unstreamed, and takes a plain answer (05: no tool call) as one without calls', async () => {
    const client = new InferenceClient([endpoint('llama', (await serve('05-tools-auto-nonstream')).url)], quietLogger);
    const answer = await client.chat({ messages: prompt, tools: [TOOL], maxTokens: 8, signal: AbortSignal.timeout(30_000) });
    expect(answer).toMatchObject({ dialect: 'native', toolCalls: [], requests: 1 });
    expect(answer.content.length).toBeGreaterThan(0);
  });

  it('switches an auto endpoint that refuses a tools request (500) to the text protocol, streamed, for good', async () => {
    const refusing = recordings.get('09c-n-2');
    const streaming = recordings.get('03-chat-stream-include-usage');
    if (!refusing || !streaming) throw new Error('recordings missing');
    const replay = await startTranscriptReplay([refusing, streaming]);
    replays.push(replay);
    const client = new InferenceClient([endpoint('llama', replay.url)], quietLogger);
    const ask = () => client.chat({ messages: prompt, tools: [TOOL], maxTokens: 8, signal: AbortSignal.timeout(30_000) });
    await expect(ask()).resolves.toMatchObject({ dialect: 'text', promptTokens: 60 });
    expect(replay.served).toBe(2);
    // The next request goes straight to the text protocol.
    await expect(ask()).resolves.toMatchObject({ dialect: 'text' });
    expect(replay.served).toBe(3);
  });

  it('falls back to the next endpoint when the first answers 500, and counts both', async () => {
    const failing = await serve('09c-n-2');
    const working = await serve('03-chat-stream-include-usage');
    const client = new InferenceClient([endpoint('primary', failing.url), endpoint('fallback', working.url)], quietLogger);
    const completion = await client.complete(prompt, 8, AbortSignal.timeout(30_000));
    // Three tries on the first endpoint, one on the second: every request made is counted.
    expect(completion).toMatchObject({ requests: 4, promptTokens: 60, completionTokens: 8 });
    expect(failing.served).toBe(3);
    expect(working.served).toBe(1);
  });
});
