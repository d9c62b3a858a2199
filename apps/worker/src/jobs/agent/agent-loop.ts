import type { WorkerConfig } from '../../config/worker-config.loader';
import type { ChatAnswer, ConversationMessage } from '../inference/conversation';
import type { InferenceClient } from '../inference/inference.client';
import type { JobContext } from '../pipeline/job-context';
import { AgentLimitReachedError } from './agent-limit-reached.error';
import { AGENT_TOOLS, FINISH_TOOL } from './agent-tools';
import { EDIT_TOOL } from './text-tool.dialect';
import type { WorkspaceTools } from './workspace-tools';

/** The limits one job's loop runs under (from `limits` in the worker config). */
export type AgentLimits = Pick<WorkerConfig['limits'], 'maxAgentTurns' | 'maxJobTokens' | 'agentTimeout' | 'maxModelTokens'>;

/** What the loop did: the files its edits wrote, and how it ended. */
export interface AgentOutcome {
  /** The model called finish (rather than stopping with a plain answer). */
  readonly finished: boolean;
  readonly turns: number;
  readonly editsProposed: number;
  readonly editsApplied: number;
  /** Worktree-relative paths the applied edits wrote: the change, and all APPLY stages. */
  readonly touched: readonly string[];
}

/**
 * The agent loop: the model answers, the worker runs the tools it called (read, list,
 * search, edit, run the tests, finish) and sends the results back, until the model calls
 * finish or answers without a tool call — or a limit ends the job with its own code: turns
 * (AGENT_TURNS_EXHAUSTED), tokens across all requests (TOKEN_BUDGET_EXHAUSTED), wall time
 * (AGENT_TIME_EXHAUSTED). A failed edit or a failing test run is not an error: the model is
 * told and tries again. In the plain-text protocol an answer of edit blocks alone is final,
 * as a model that only knows edit blocks would write one.
 *
 * Everything said is kept in the attempt's local record; none of it leaves the worker.
 */
export class AgentLoop {
  constructor(
    private readonly inference: Pick<InferenceClient, 'chat'>,
    private readonly limits: AgentLimits,
    private readonly now: () => number = () => performance.now(),
  ) {}

  async run(ctx: JobContext, tools: WorkspaceTools, opening: readonly ConversationMessage[]): Promise<AgentOutcome> {
    const messages: ConversationMessage[] = [...opening];
    ctx.record.transcript({ kind: 'prompt', messages: opening.map((message) => ({ role: message.role, content: 'content' in message ? message.content : '' })) });
    const started = this.now();
    const deadline = AbortSignal.timeout(this.limits.agentTimeout);
    const signal = AbortSignal.any([ctx.signal, deadline]);
    const { tokens } = ctx.report;
    const touched = new Set<string>();
    let editsProposed = 0;
    let editsApplied = 0;
    for (let turn = 1; ; turn += 1) {
      if (turn > this.limits.maxAgentTurns) throw new AgentLimitReachedError('turns', turn - 1, this.limits.maxAgentTurns);
      const spent = tokens.promptTokens + tokens.completionTokens;
      if (spent >= this.limits.maxJobTokens) throw new AgentLimitReachedError('tokens', spent, this.limits.maxJobTokens);
      const elapsed = Math.round(this.now() - started);
      if (elapsed >= this.limits.agentTimeout) throw new AgentLimitReachedError('time', elapsed, this.limits.agentTimeout);
      let answer: ChatAnswer;
      try {
        answer = await this.inference.chat({ messages, tools: AGENT_TOOLS, maxTokens: this.limits.maxModelTokens, signal });
      } catch (error) {
        if (deadline.aborted && !ctx.signal.aborted) throw new AgentLimitReachedError('time', Math.round(this.now() - started), this.limits.agentTimeout);
        throw error;
      }
      tokens.requests += answer.requests;
      tokens.promptTokens += answer.promptTokens;
      tokens.completionTokens += answer.completionTokens;
      ctx.record.transcript({ kind: 'answer', endpoint: answer.endpoint, content: answer.content, promptTokens: answer.promptTokens, completionTokens: answer.completionTokens });
      messages.push({ role: 'assistant', content: answer.content, toolCalls: answer.toolCalls });
      let finished = false;
      for (const call of answer.toolCalls) {
        ctx.record.transcript({ kind: 'tool-call', endpoint: answer.endpoint, callId: call.id, tool: call.name, arguments: parseOrText(call.arguments) });
        const result = await tools.execute(ctx, call);
        ctx.signal.throwIfAborted();
        if (result.edit !== undefined) {
          editsProposed += 1;
          if (result.edit.applied) {
            editsApplied += 1;
            touched.add(result.edit.path);
          }
        }
        ctx.record.transcript({ kind: 'tool-result', callId: call.id, tool: call.name, content: result.content, isError: result.content.startsWith('Error:') });
        messages.push({ role: 'tool', toolCallId: call.id, name: call.name, content: result.content });
        if (result.finished) finished = true;
      }
      ctx.report.verification.agentTestRuns = tools.testRunsMade;
      const editsOnly = answer.toolCalls.length > 0 && answer.toolCalls.every((call) => call.name === EDIT_TOOL);
      if (finished || answer.toolCalls.length === 0 || (answer.dialect === 'text' && editsOnly)) {
        return { finished: finished || answer.toolCalls.some((call) => call.name === FINISH_TOOL), turns: turn, editsProposed, editsApplied, touched: [...touched] };
      }
    }
  }
}

function parseOrText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
