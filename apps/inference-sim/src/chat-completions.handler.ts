import { type IncomingMessage, type ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type ChatCompletion,
  type ChatCompletionChunk,
  type ChatCompletionMessageFunctionToolCall,
} from 'openai/resources/chat/completions';
import { type CompletionUsage } from 'openai/resources/completions';
import { parseChatCompletionRequest, type ChatCompletionRequest } from './chat-completion-request.schema';
import { MAX_BODY_BYTES, readJsonBody } from './json-body.reader';
import { sendJson } from './json-response';
import { OpenAiApiError } from './openai-api.error';
import { type RequestLedger } from './request-ledger';
import { type ScenarioCatalog } from './scenario-catalog';
import { type ScenarioResponse, turnFor } from './scenario.schema';
import { SseWriter } from './sse-writer';
import { estimateCompletionTokens, estimatePromptTokens } from './token-estimator';

/**
 * Tool call arguments are streamed in fragments of this many characters, so clients must
 * stitch them together exactly as they do with real servers that emit them token by token.
 */
const TOOL_ARGUMENT_FRAGMENT_CHARS = 12;

/** Faults from the command line, applied to every chat completion on top of its scenario's own. */
export interface GlobalFaults {
  /** Added to each scenario's `latency_ms`. */
  latencyMs: number;
  /** Share of matched requests, 0..1, answered with a 503 instead. */
  errorRate: number;
  /** Seeded, so which requests fail is reproducible. One draw per matched request. */
  random: () => number;
}

/** What the handler needs; built once per server. */
export interface ChatCompletionsHandlerDeps {
  catalog: ScenarioCatalog;
  ledger: RequestLedger;
  /** Models the server serves; any other `model` gets a 404. */
  modelIds: ReadonlySet<string>;
  faults: GlobalFaults;
  /** Epoch milliseconds; injected so tests control `created`. */
  now: () => number;
}

/** A scenario's answer, rendered once and then sent either whole or as a stream. */
interface ScriptedReply {
  id: string;
  created: number;
  model: string;
  content: string | null;
  toolCalls: ChatCompletionMessageFunctionToolCall[];
  finishReason: 'stop' | 'tool_calls';
  usage: CompletionUsage;
  chunkDelayMs: number;
}

/**
 * `POST /v1/chat/completions`: validates the request, picks its scenario, applies injected
 * faults, then answers as a `chat.completion` or, with `stream: true`, a stream of
 * `chat.completion.chunk` events. Refusals are thrown as {@link OpenAiApiError}.
 */
export class ChatCompletionsHandler {
  private completions = 0;

  constructor(private readonly deps: ChatCompletionsHandlerDeps) {}

  /** @param signal Aborted when the client disconnects; waits and writes stop. */
  async handle(req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void> {
    const { catalog, ledger, modelIds, faults } = this.deps;
    ledger.recordRequest();
    const request = parseChatCompletionRequest(await readJsonBody(req, MAX_BODY_BYTES));
    if (!modelIds.has(request.model)) {
      throw new OpenAiApiError(
        404,
        `The model \`${request.model}\` does not exist.`,
        'invalid_request_error',
        'model',
        'model_not_found',
      );
    }
    const scenario = catalog.match(request);
    if (scenario === undefined) {
      throw new OpenAiApiError(
        422,
        `No scenario matched this request (model \`${request.model}\`) and there is no \`default\` scenario.`,
        'invalid_request_error',
        null,
        'no_scenario_matched',
      );
    }
    const attempt = ledger.recordMatch(scenario.name);
    const response = turnFor(scenario, request.messages.filter((message) => message.role === 'assistant').length);
    // Drawn before waiting, so the outcome follows arrival order rather than timer order.
    const injectFault = faults.random() < faults.errorRate;

    const latencyMs = faults.latencyMs + response.latency_ms;
    if (latencyMs > 0) await sleep(latencyMs, undefined, { signal });

    if (injectFault) {
      throw new OpenAiApiError(503, 'Injected fault (--error-rate).', 'server_error', null, 'sim_injected_fault');
    }
    const { error, fail_times: failTimes } = response;
    if (error !== undefined && (failTimes === undefined || attempt <= failTimes)) {
      throw new OpenAiApiError(error.status, error.message, error.type, null, error.code ?? null);
    }

    const reply = this.render(response, request);
    // cut_times: the first N matching requests lose their connection halfway through the answer.
    const cut = response.cut_times !== undefined && attempt <= response.cut_times;
    if (request.stream === true) {
      await streamReply(reply, request.stream_options?.include_usage === true, new SseWriter(res, signal), signal, cut);
    } else if (cut) {
      sendHalfAndCut(res, JSON.stringify(toCompletion(reply)));
    } else {
      sendJson(res, 200, toCompletion(reply));
    }
  }

  private render(response: ScenarioResponse, request: ChatCompletionRequest): ScriptedReply {
    this.completions += 1;
    // Sequential ids keep transcripts of a run identical from one run to the next.
    const id = `chatcmpl-sim-${this.completions}`;
    const content = response.content ?? null;
    const toolCalls = (response.tool_calls ?? []).map(
      (call, index): ChatCompletionMessageFunctionToolCall => ({
        id: `call_sim_${this.completions}_${index}`,
        type: 'function',
        function: { name: call.name, arguments: JSON.stringify(call.arguments) },
      }),
    );
    const promptTokens = estimatePromptTokens(request.messages);
    const completionTokens = estimateCompletionTokens(
      content,
      toolCalls.map((call) => call.function),
    );
    return {
      id,
      created: Math.floor(this.deps.now() / 1000),
      model: request.model,
      content,
      toolCalls,
      finishReason: toolCalls.length > 0 ? 'tool_calls' : 'stop',
      usage: {
        prompt_tokens: promptTokens,
        completion_tokens: completionTokens,
        total_tokens: promptTokens + completionTokens,
      },
      chunkDelayMs: response.chunk_delay_ms,
    };
  }
}

function toCompletion(reply: ScriptedReply): ChatCompletion {
  return {
    id: reply.id,
    object: 'chat.completion',
    created: reply.created,
    model: reply.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: reply.content,
          refusal: null,
          ...(reply.toolCalls.length > 0 ? { tool_calls: reply.toolCalls } : {}),
        },
        logprobs: null,
        finish_reason: reply.finishReason,
      },
    ],
    usage: reply.usage,
  };
}

/**
 * Streams `reply` in the order OpenAI and vLLM use: a role chunk, content pieces, each tool
 * call's id and name followed by argument fragments, a chunk carrying `finish_reason`, then,
 * if asked for, a usage chunk with empty `choices`, and `[DONE]`.
 */
async function streamReply(
  reply: ScriptedReply,
  includeUsage: boolean,
  sse: SseWriter,
  signal: AbortSignal,
  cutHalfway = false,
): Promise<void> {
  const chunk = (
    delta: ChatCompletionChunk.Choice.Delta,
    finishReason: ChatCompletionChunk.Choice['finish_reason'] = null,
  ): ChatCompletionChunk => ({
    id: reply.id,
    object: 'chat.completion.chunk',
    created: reply.created,
    model: reply.model,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    // With include_usage, OpenAI sets `usage: null` on every chunk but the last.
    ...(includeUsage ? { usage: null } : {}),
  });

  const chunks: ChatCompletionChunk[] = [chunk({ role: 'assistant', content: '' })];
  for (const piece of splitWords(reply.content ?? '')) chunks.push(chunk({ content: piece }));
  reply.toolCalls.forEach((call, index) => {
    const { name } = call.function;
    chunks.push(chunk({ tool_calls: [{ index, id: call.id, type: 'function', function: { name, arguments: '' } }] }));
    for (const fragment of splitEvery(call.function.arguments, TOOL_ARGUMENT_FRAGMENT_CHARS)) {
      chunks.push(chunk({ tool_calls: [{ index, function: { arguments: fragment } }] }));
    }
  });
  chunks.push(chunk({}, reply.finishReason));
  if (includeUsage) {
    chunks.push({
      id: reply.id,
      object: 'chat.completion.chunk',
      created: reply.created,
      model: reply.model,
      choices: [],
      usage: reply.usage,
    });
  }

  sse.open();
  const sent = cutHalfway ? chunks.slice(0, Math.max(1, Math.floor(chunks.length / 2))) : chunks;
  for (const [position, event] of sent.entries()) {
    if (position > 0 && reply.chunkDelayMs > 0) await sleep(reply.chunkDelayMs, undefined, { signal });
    await sse.send(event);
  }
  if (cutHalfway) sse.cut();
  else sse.done();
}

/** Promises the whole body (content-length), sends half of it, then drops the connection: a network cut mid-answer. */
function sendHalfAndCut(res: ServerResponse, body: string): void {
  const bytes = Buffer.from(body, 'utf8');
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(bytes.length) });
  res.write(bytes.subarray(0, Math.floor(bytes.length / 2)), () => res.destroy());
}

/** Splits text after each run of whitespace, keeping every character: "a b" → ["a ", "b"]. */
function splitWords(text: string): string[] {
  return text === '' ? [] : text.split(/(?<=\s)(?=\S)/);
}

function splitEvery(text: string, size: number): string[] {
  const pieces: string[] = [];
  for (let start = 0; start < text.length; start += size) pieces.push(text.slice(start, start + size));
  return pieces;
}
