import type { WorkerConfig } from '../../config/worker-config.loader';
import type { CandidateReviewer, CandidateReview } from '../governance/change-governance';
import type { ChatAnswer, ConversationMessage, ToolCall } from '../inference/conversation';
import type { InferenceClient } from '../inference/inference.client';
import type { JobContext } from '../pipeline/job-context';
import { AgentLimitReachedError } from './agent-limit-reached.error';
import { AGENT_TOOLS } from './agent-tools';
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
  /** Each candidate change the loop was about to end with, and what the policy said of it. */
  readonly reviews: readonly CandidateReview[];
}

/**
 * The agent loop: the model answers, the worker runs the tools it called (read, list,
 * search, edit, revert, run the tests, finish) and sends the results back, until the model
 * calls finish or answers without a tool call — or a limit ends the job with its own code:
 * turns (AGENT_TURNS_EXHAUSTED), tokens across all requests (TOKEN_BUDGET_EXHAUSTED), wall
 * time (AGENT_TIME_EXHAUSTED). A failed edit or a failing test run is not an error: the model
 * is told and tries again. In the plain-text protocol an answer of edit blocks alone is
 * final, as a model that only knows edit blocks would write one.
 *
 * Before it ends with a change, the reviewer (governance) judges the change; feedback it
 * gives goes back to the model — as the result of its finish call, or else as a user
 * message — and the loop goes on, within the same limits.
 *
 * Everything said is kept in the attempt's local record; none of it leaves the worker.
 */
export class AgentLoop {
  constructor(
    private readonly inference: Pick<InferenceClient, 'chat'>,
    private readonly limits: AgentLimits,
    private readonly now: () => number = () => performance.now(),
  ) {}

  async run(ctx: JobContext, tools: WorkspaceTools, opening: readonly ConversationMessage[], reviewer?: CandidateReviewer): Promise<AgentOutcome> {
    const messages: ConversationMessage[] = [...opening];
    ctx.record.transcript({ kind: 'prompt', messages: opening.map((message) => ({ role: message.role, content: 'content' in message ? message.content : '' })) });
    const limits = this.limitsFor(ctx);
    const { inferenceEndpoints: endpoints } = ctx.request.policy.enforced;
    const started = this.now();
    const deadline = AbortSignal.timeout(limits.agentTimeout);
    const signal = AbortSignal.any([ctx.signal, deadline]);
    const usage = ctx.report.modelUsage;
    const touched = new Set<string>();
    let editsProposed = 0;
    let editsApplied = 0;
    for (let turn = 1; ; turn += 1) {
      if (turn > limits.maxAgentTurns) throw new AgentLimitReachedError('turns', turn - 1, limits.maxAgentTurns);
      const spent = usage.totals.promptTokens + usage.totals.completionTokens;
      if (spent >= limits.maxJobTokens) throw new AgentLimitReachedError('tokens', spent, limits.maxJobTokens);
      const elapsed = Math.round(this.now() - started);
      if (elapsed >= limits.agentTimeout) throw new AgentLimitReachedError('time', elapsed, limits.agentTimeout);
      let answer: ChatAnswer;
      try {
        answer = await this.inference.chat({ messages, tools: AGENT_TOOLS, maxTokens: limits.maxModelTokens, signal, endpoints });
      } catch (error) {
        if (deadline.aborted && !ctx.signal.aborted) throw new AgentLimitReachedError('time', Math.round(this.now() - started), limits.agentTimeout);
        throw error;
      }
      usage.addAll(answer.usage);
      ctx.record.transcript({ kind: 'answer', endpoint: answer.endpoint, content: answer.content, promptTokens: answer.promptTokens, completionTokens: answer.completionTokens });
      messages.push({ role: 'assistant', content: answer.content, toolCalls: answer.toolCalls });
      const finishCalls: ToolCall[] = [];
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
        // A file back at its base content stays in the change's paths (staging it stages no
        // difference); one the base did not have is gone, and so is any reason to stage it.
        if (result.reverted !== undefined) {
          if (result.reverted.existedAtBase) touched.add(result.reverted.path);
          else touched.delete(result.reverted.path);
        }
        if (result.finished) {
          // Its result waits for the review below: it may be the policy's feedback.
          finishCalls.push(call);
          continue;
        }
        ctx.record.transcript({ kind: 'tool-result', callId: call.id, tool: call.name, content: result.content, isError: result.content.startsWith('Error:') });
        messages.push({ role: 'tool', toolCallId: call.id, name: call.name, content: result.content });
      }
      ctx.report.verification.agentTestRuns = tools.testRunsMade;
      const editsOnly = answer.toolCalls.length > 0 && answer.toolCalls.every((call) => call.name === EDIT_TOOL);
      const ending = finishCalls.length > 0 || answer.toolCalls.length === 0 || (answer.dialect === 'text' && editsOnly);
      const feedback = ending && touched.size > 0 && reviewer !== undefined ? await reviewer.review(ctx, [...touched]) : undefined;
      for (const [index, call] of finishCalls.entries()) {
        // Every finish call is answered (a native endpoint expects a result per call); the first carries the feedback.
        const content = index === 0 && feedback !== undefined ? feedback : 'Finished.';
        ctx.record.transcript({ kind: 'tool-result', callId: call.id, tool: call.name, content, isError: false });
        messages.push({ role: 'tool', toolCallId: call.id, name: call.name, content });
      }
      if (feedback !== undefined && finishCalls.length === 0) {
        ctx.record.transcript({ kind: 'prompt', messages: [{ role: 'user', content: feedback }] });
        messages.push({ role: 'user', content: feedback });
      }
      if (ending && feedback === undefined) {
        return { finished: finishCalls.length > 0, turns: turn, editsProposed, editsApplied, touched: [...touched], reviews: reviewer?.reviews ?? [] };
      }
    }
  }

  /**
   * The job's limits: the worker's own, lowered by the job's policy where its token or time
   * budget is smaller (the effective policy already holds the stricter of the local config
   * and the central policy; the minimum keeps a caller's tighter limits too).
   */
  private limitsFor(ctx: JobContext): AgentLimits {
    const policy = ctx.request.policy.enforced;
    return {
      ...this.limits,
      maxJobTokens: Math.min(this.limits.maxJobTokens, policy.inferenceTokenBudget),
      agentTimeout: Math.min(this.limits.agentTimeout, policy.inferenceTimeBudgetMs),
    };
  }
}

function parseOrText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
