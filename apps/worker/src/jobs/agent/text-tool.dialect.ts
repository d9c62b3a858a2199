import { randomUUID } from 'node:crypto';
import { parseEditBlocks } from '../edits/edit-block.parser';
import type { ConversationMessage, ToolCall, ToolSpec } from '../inference/conversation';

/** The name edit blocks are turned into: the same tool a native endpoint calls to edit. */
export const EDIT_TOOL = 'edit_file';

const TOOL_FENCE = /```tool[ \t]*\r?\n([\s\S]*?)\r?\n```/g;

/**
 * The plain-text tool protocol, for endpoints that cannot take OpenAI `tools` (or answer
 * 500 when asked while streaming, as llama.cpp's server does): tools are described in the
 * system prompt; the model edits with SEARCH/REPLACE blocks and calls other tools with
 * fenced blocks
 *
 *     ```tool
 *     {"name": "run_tests", "arguments": {}}
 *     ```
 *
 * and gets their results back as a user message. Edit blocks become `edit_file` calls, so
 * the loop sees one kind of call whichever protocol the endpoint speaks.
 */
export const TextToolDialect = {
  /** The system prompt's appendix that teaches the protocol and lists the tools. */
  describeTools(tools: readonly ToolSpec[]): string {
    const listed = tools
      .filter((tool) => tool.name !== EDIT_TOOL)
      .map((tool) => `- ${tool.name}: ${tool.description}\n  arguments: ${JSON.stringify(tool.parameters['properties'] ?? {})}`)
      .join('\n');
    return [
      'You work with tools. To call one, write a fenced block tagged tool holding one JSON object:',
      '```tool',
      '{"name": "read_file", "arguments": {"path": "src/index.ts"}}',
      '```',
      'To change a file, write an edit block: the file path on its own line, then',
      '<<<<<<< SEARCH',
      'the exact lines to replace (empty to create a new file)',
      '=======',
      'the new lines',
      '>>>>>>> REPLACE',
      'The results of your calls come back in the next message. An answer with edit blocks and no tool block is your final answer.',
      'Tools:',
      listed,
    ].join('\n');
  },

  /** Renders a conversation for a text endpoint: assistant calls as the text that made them, results as user messages. */
  render(messages: readonly ConversationMessage[]): Array<{ role: 'system' | 'user' | 'assistant'; content: string }> {
    const rendered: Array<{ role: 'system' | 'user' | 'assistant'; content: string }> = [];
    for (const message of messages) {
      if (message.role === 'tool') {
        const result = `Result of ${message.name} (${message.toolCallId}):\n${message.content}`;
        const last = rendered.at(-1);
        // Results of one answer's calls go back together, as one message.
        if (last?.role === 'user' && last.content.startsWith('Result of ')) last.content += `\n\n${result}`;
        else rendered.push({ role: 'user', content: result });
      } else if (message.role === 'assistant') {
        rendered.push({ role: 'assistant', content: message.content || message.toolCalls.map(renderCall).join('\n') });
      } else {
        const last = rendered.at(-1);
        // Feedback after an answer's results (the policy's, on a final answer of edits) joins
        // them: chat templates of text endpoints often insist that user and assistant alternate.
        if (message.role === 'user' && last?.role === 'user') last.content += `\n\n${message.content}`;
        else rendered.push({ role: message.role, content: message.content });
      }
    }
    return rendered;
  },

  /**
   * Reads the calls out of a text answer: edit blocks first (as `edit_file`), then tool
   * blocks, in the order written. A tool block that is not a JSON object naming a tool
   * becomes a call to `invalid_tool_call`, so the model is told what was wrong.
   */
  parse(content: string): ToolCall[] {
    const calls: ToolCall[] = [];
    const edits = parseEditBlocks(content.replace(TOOL_FENCE, ''));
    for (const block of edits.blocks) {
      calls.push(call(EDIT_TOOL, { path: block.path, search: block.search.join('\n'), replace: block.replace.join('\n') }));
    }
    if (edits.malformed > 0) calls.push(call('invalid_tool_call', { problem: `${edits.malformed} edit block(s) could not be read: each needs a path line, <<<<<<< SEARCH, =======, >>>>>>> REPLACE` }));
    for (const match of content.matchAll(TOOL_FENCE)) {
      const body = match[1] ?? '';
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        calls.push(call('invalid_tool_call', { problem: 'a tool block is not valid JSON' }));
        continue;
      }
      const record = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
      if (typeof record['name'] !== 'string') {
        calls.push(call('invalid_tool_call', { problem: 'a tool block has no "name"' }));
        continue;
      }
      calls.push(call(record['name'], record['arguments'] ?? {}));
    }
    return calls;
  },
};

function call(name: string, args: unknown): ToolCall {
  return { id: `call_${randomUUID().slice(0, 8)}`, name, arguments: JSON.stringify(args) };
}

function renderCall(toolCall: ToolCall): string {
  return ['```tool', JSON.stringify({ name: toolCall.name, arguments: safeJson(toolCall.arguments) }), '```'].join('\n');
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
