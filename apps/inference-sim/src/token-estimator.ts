import { messageText, type ChatMessage } from './chat-completion-request.schema';

/*
 * Token counts are a documented approximation, not a tokenizer: no vocabulary ships with the
 * simulator. Text costs ceil(chars / 4) tokens — OpenAI's rule of thumb for English under BPE
 * tokenizers — counted in UTF-16 code units (`String.length`). Each prompt message adds 4
 * tokens for its role and separators and every prompt adds 3 for the reply primer, the
 * overheads OpenAI documents for its chat format. The result is deterministic, so tests can
 * assert exact `usage` numbers; it is roughly right in magnitude, never exact for a real model.
 */
const CHARS_PER_TOKEN = 4;
const MESSAGE_OVERHEAD_TOKENS = 4;
const REPLY_PRIMER_TOKENS = 3;

/** A tool call as it is serialised in a reply: the function name and its JSON arguments. */
export interface ToolCallText {
  name: string;
  arguments: string;
}

/** Approximate tokens in a piece of text: ceil(chars / 4). */
export function estimateTextTokens(text: string): number {
  return Math.ceil(text.length / CHARS_PER_TOKEN);
}

/** Approximate `prompt_tokens`: 3, plus for each message 4 + ceil(chars / 4) of its text, name and tool calls. */
export function estimatePromptTokens(messages: readonly ChatMessage[]): number {
  return messages.reduce((total, message) => {
    const toolCalls = (message.tool_calls ?? []).map((call) => call.function.name + call.function.arguments).join('');
    const text = messageText(message) + (message.name ?? '') + toolCalls;
    return total + MESSAGE_OVERHEAD_TOKENS + estimateTextTokens(text);
  }, REPLY_PRIMER_TOKENS);
}

/** Approximate `completion_tokens`: ceil(chars / 4) of the content and all tool call names and arguments. */
export function estimateCompletionTokens(content: string | null, toolCalls: readonly ToolCallText[]): number {
  const toolText = toolCalls.map((call) => call.name + call.arguments).join('');
  return estimateTextTokens((content ?? '') + toolText);
}
