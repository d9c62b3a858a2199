import { TextToolDialect } from '../jobs/agent/text-tool.dialect';
import type { ChatAnswer } from '../jobs/inference/conversation';

/**
 * A model's answer in the plain-text tool protocol, as the inference client would hand it
 * to the agent loop: edit blocks and fenced tool blocks read out of `content` as calls. An
 * answer of edit blocks alone ends the loop, as a one-shot model's would.
 */
export function textAnswer(content: string, usage: { readonly promptTokens?: number; readonly completionTokens?: number } = {}): ChatAnswer {
  return {
    content,
    toolCalls: TextToolDialect.parse(content),
    dialect: 'text',
    requests: 1,
    promptTokens: usage.promptTokens ?? 100,
    completionTokens: usage.completionTokens ?? 20,
    endpoint: 'scripted',
  };
}

/** A fenced tool block of the text protocol. */
export function toolBlock(name: string, args: Record<string, unknown> = {}): string {
  return `\`\`\`tool\n${JSON.stringify({ name, arguments: args })}\n\`\`\`\n`;
}

/** The agent limits of the worker's defaults, scaled down for tests that run whole pipelines. */
export const TEST_AGENT_LIMITS: {
  readonly maxAgentTurns: number;
  readonly maxJobTokens: number;
  readonly agentTimeout: number;
  readonly maxAgentTestRuns: number;
  readonly maxChangedFiles: number;
  readonly maxChangedLines: number;
} = {
  maxAgentTurns: 8,
  maxJobTokens: 100_000,
  agentTimeout: 20_000,
  maxAgentTestRuns: 3,
  maxChangedFiles: 25,
  maxChangedLines: 2_000,
};
