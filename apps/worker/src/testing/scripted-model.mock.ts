import { TextToolDialect } from '../jobs/agent/text-tool.dialect';
import type { ChatAnswer, EndpointUsage } from '../jobs/inference/conversation';

/** The one endpoint a scripted model stands for: the primary of the worker's list. */
export const SCRIPTED_ENDPOINT = { endpointIndex: 0, endpoint: 'scripted', model: 'scripted-model' } as const;

/** What one request answered at once by the scripted endpoint costs. */
export function scriptedUsage(promptTokens: number, completionTokens: number): EndpointUsage[] {
  return [{ ...SCRIPTED_ENDPOINT, requests: 1, promptTokens, completionTokens }];
}

/**
 * A model's answer in the plain-text tool protocol, as the inference client would hand it
 * to the agent loop: edit blocks and fenced tool blocks read out of `content` as calls. An
 * answer of edit blocks alone ends the loop, as a one-shot model's would.
 */
export function textAnswer(content: string, usage: { readonly promptTokens?: number; readonly completionTokens?: number } = {}): ChatAnswer {
  const promptTokens = usage.promptTokens ?? 100;
  const completionTokens = usage.completionTokens ?? 20;
  return {
    content,
    toolCalls: TextToolDialect.parse(content),
    dialect: 'text',
    requests: 1,
    promptTokens,
    completionTokens,
    endpoint: SCRIPTED_ENDPOINT.endpoint,
    usage: scriptedUsage(promptTokens, completionTokens),
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
