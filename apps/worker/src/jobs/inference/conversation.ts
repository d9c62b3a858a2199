/**
 * A conversation with the model in the worker's own terms, independent of how an endpoint
 * is asked for tools: natively (OpenAI `tools` and `tool_calls`) or through the plain-text
 * protocol (see `agent/text-tool.dialect.ts`). The inference client renders it for the
 * endpoint that takes the request, so a fallback to an endpoint of the other kind keeps the
 * conversation intact.
 */

/** A call the model made; `arguments` is the JSON text it wrote, parsed by the tool. */
export interface ToolCall {
  readonly id: string;
  readonly name: string;
  readonly arguments: string;
}

export type ConversationMessage =
  | { readonly role: 'system'; readonly content: string }
  | { readonly role: 'user'; readonly content: string }
  | { readonly role: 'assistant'; readonly content: string; readonly toolCalls: readonly ToolCall[] }
  | { readonly role: 'tool'; readonly toolCallId: string; readonly name: string; readonly content: string };

/** A tool the model may call: what the endpoint is told about it. */
export interface ToolSpec {
  readonly name: string;
  readonly description: string;
  /** JSON Schema of the arguments object. */
  readonly parameters: Record<string, unknown>;
}

/** How an endpoint is asked for tools. */
export type ToolDialect = 'native' | 'text';

/**
 * What one configured endpoint cost: requests sent to it (the failed tries included) and the
 * tokens its answers counted. Metadata only: it crosses to the control plane as
 * JobResult.model_usage, so it holds the endpoint's config names and nothing it was told.
 */
export interface EndpointUsage {
  /** The endpoint's place in the worker's configured list (inference.endpoints): 0 is the primary. */
  readonly endpointIndex: number;
  /** Its `name` in the config. */
  readonly endpoint: string;
  /** Its `model` in the config, as sent to its server. */
  readonly model: string;
  readonly requests: number;
  readonly promptTokens: number;
  readonly completionTokens: number;
}

/** The model's answer to one request of a conversation, and what it cost. */
export interface ChatAnswer {
  readonly content: string;
  readonly toolCalls: readonly ToolCall[];
  /** The dialect the answer came in: a text-dialect answer of edits alone ends the loop (see AgentLoop). */
  readonly dialect: ToolDialect;
  /** Requests sent for this answer, on every endpoint asked: the sum over `usage`. */
  readonly requests: number;
  readonly promptTokens: number;
  readonly completionTokens: number;
  /** The endpoint that answered, for the local record. */
  readonly endpoint: string;
  /**
   * Per endpoint asked for this answer, in configured order: those that failed before it
   * (requests, no tokens) and the one that answered. Adds up to requests and tokens above.
   */
  readonly usage: readonly EndpointUsage[];
}

/** One request of a conversation. */
export interface ChatRequest {
  readonly messages: readonly ConversationMessage[];
  readonly tools: readonly ToolSpec[];
  readonly maxTokens: number;
  readonly signal: AbortSignal;
  /** Names of the configured endpoints this request may use (the job's policy); absent: all of them. */
  readonly endpoints?: readonly string[];
}
