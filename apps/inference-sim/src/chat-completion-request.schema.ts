import { z } from 'zod';
import { formatFieldPath } from './field-path';
import { OpenAiApiError } from './openai-api.error';

const contentPartSchema = z.looseObject({ type: z.string(), text: z.string().optional() });

const messageSchema = z.looseObject({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool', 'function']),
  content: z
    .union([z.string(), z.array(contentPartSchema)], {
      error: 'expected a string, an array of content parts, or null',
    })
    .nullable()
    .optional(),
  name: z.string().optional(),
  tool_calls: z
    .array(
      z.looseObject({
        id: z.string(),
        type: z.string(),
        function: z.looseObject({ name: z.string(), arguments: z.string() }),
      }),
    )
    .optional(),
  tool_call_id: z.string().optional(),
});

/**
 * The part of an OpenAI chat completion request the simulator reads. Objects are loose on
 * purpose: clients send many parameters (`temperature`, `tools`, `max_tokens`, …) that a
 * scripted answer ignores, and a real server would not reject them.
 */
const chatCompletionRequestSchema = z.looseObject({
  model: z.string().min(1),
  messages: z.array(messageSchema).min(1),
  stream: z.boolean().nullable().optional(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullable().optional(),
});

/** A validated chat completion request. */
export type ChatCompletionRequest = z.output<typeof chatCompletionRequestSchema>;

/** One validated message of a chat completion request. */
export type ChatMessage = ChatCompletionRequest['messages'][number];

/** Roles whose text a scenario's `contains` rule searches: the instructions, not the replies. */
const INSTRUCTION_ROLES: ReadonlySet<ChatMessage['role']> = new Set(['system', 'developer', 'user']);

/**
 * Validates a parsed JSON body. Throws a 400 {@link OpenAiApiError} whose `param` names the
 * first offending field, as OpenAI does, so a client bug points at its cause.
 */
export function parseChatCompletionRequest(body: unknown): ChatCompletionRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    const message = 'The request body must be a JSON object.';
    throw new OpenAiApiError(400, message, 'invalid_request_error', null, 'invalid_body');
  }
  const result = chatCompletionRequestSchema.safeParse(body, {
    error: (issue) =>
      issue.code === 'invalid_type' ? `expected ${issue.expected}, got ${describeJsonType(issue.input)}` : undefined,
  });
  if (result.success) return result.data;

  const [issue] = result.error.issues;
  // zod always reports at least one issue on failure; this only satisfies noUncheckedIndexedAccess.
  if (issue === undefined) {
    throw new OpenAiApiError(400, 'Invalid request body.', 'invalid_request_error', null, 'invalid_value');
  }
  const param = formatFieldPath(issue.path);
  if (valueAt(body, issue.path) === undefined) {
    throw new OpenAiApiError(
      400,
      `Missing required parameter: '${param}'.`,
      'invalid_request_error',
      param,
      'missing_required_parameter',
    );
  }
  const code = issue.code === 'invalid_type' ? 'invalid_type' : 'invalid_value';
  throw new OpenAiApiError(400, `Invalid '${param}': ${issue.message}.`, 'invalid_request_error', param, code);
}

/** The plain text of a message: its string content, or the `text` of its content parts. */
export function messageText(message: ChatMessage): string {
  const { content } = message;
  if (typeof content === 'string') return content;
  return (content ?? []).map((part) => part.text ?? '').join('\n');
}

/** The text of the system, developer and user messages, which scenario `contains` rules search. */
export function instructionText(messages: readonly ChatMessage[]): string {
  return messages
    .filter((message) => INSTRUCTION_ROLES.has(message.role))
    .map(messageText)
    .join('\n');
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let value: unknown = root;
  for (const key of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

function describeJsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}
