import { FailureCode, Phase } from '@airlock/protocol';
import type { WorkerConfig } from '../../config/worker-config.loader';
import { AgentLimitReachedError } from '../agent/agent-limit-reached.error';
import { PolicyViolationError } from '../governance/policy-violation.error';
import type { ChatAnswer, ConversationMessage } from '../inference/conversation';
import type { InferenceClient } from '../inference/inference.client';
import { InferenceRejectedError } from '../inference/inference-rejected.error';
import { InferenceStreamIncompleteError } from '../inference/inference-stream-incomplete.error';
import { InferenceUnavailableError } from '../inference/inference-unavailable.error';
import { JobPhaseFailedError } from '../job-phase-failed.error';
import type { JobPhase } from '../pipeline/phase';
import { readReviewAnswer } from '../review/review-answer';
import type { ReviewContext } from '../review/review-job';
import { reviewRetryMessage } from '../review/review-prompt';

/** Answers asked for one review: the first, and one more after telling the model what was wrong with it. */
const MAX_REQUESTS = 2;

/** The limits a review's requests run under (from `limits` in the worker config). */
export type ReviewInferenceLimits = Pick<WorkerConfig['limits'], 'maxModelTokens' | 'maxJobTokens' | 'agentTimeout' | 'maxReviewComments'>;

/**
 * INFERENCE of a review: asks the model for its comments on the change, through the
 * endpoints, token budget and time budget of the job's policy and the worker's limits, as a
 * fix's agent loop does, and checks the answer (`readReviewAnswer`): comments on a line the
 * change does not add or modify, of an unknown severity, or past `limits.maxReviewComments`
 * are dropped. An answer that cannot be read at all is sent back once with what was wrong.
 * The prompt, every answer and the verdict on each entry go to the attempt's local record.
 * Fails MODEL_OUTPUT_UNUSABLE (still unreadable), INFERENCE_UNAVAILABLE, INFERENCE_FAILED,
 * PROMPT_TRUNCATED, TOKEN_BUDGET_EXHAUSTED, AGENT_TIME_EXHAUSTED, or POLICY_VIOLATION (the
 * policy leaves the job no endpoint).
 */
export class ReviewInferencePhase implements JobPhase<ReviewContext> {
  readonly name = Phase.PHASE_INFERENCE;
  readonly defaultFailure = FailureCode.INFERENCE_UNAVAILABLE;

  constructor(
    private readonly deps: {
      readonly inference: Pick<InferenceClient, 'chat'>;
      readonly limits: ReviewInferenceLimits;
    },
    private readonly now: () => number = () => performance.now(),
  ) {}

  async run(ctx: ReviewContext): Promise<void> {
    const change = ctx.need('change');
    if (change.changedLines.size === 0) {
      ctx.logger.info('review-nothing-to-review', { reason: 'the change adds or modifies no line' });
      ctx.record.transcript({ kind: 'note', text: 'the change adds or modifies no line: the model was not asked' });
      ctx.provide('verdict', { asked: false, review: { comments: [], dropped: [] } });
      return;
    }
    const policy = ctx.request.policy.enforced;
    if (policy.inferenceEndpoints.length === 0) {
      const detail = "the policy's inference-endpoints rule allows none of the worker's configured endpoints";
      ctx.report.decisions.add({ rule: 'inference-endpoints', level: 'mandatory', outcome: 'blocked', policy: 'enforced', detail });
      throw new PolicyViolationError(['inference-endpoints'], detail);
    }
    const maxJobTokens = Math.min(this.deps.limits.maxJobTokens, policy.inferenceTokenBudget);
    const timeBudget = Math.min(this.deps.limits.agentTimeout, policy.inferenceTimeBudgetMs);
    const started = this.now();
    const deadline = AbortSignal.timeout(timeBudget);
    const signal = AbortSignal.any([ctx.signal, deadline]);
    const messages: ConversationMessage[] = [...change.prompt];
    ctx.record.transcript({ kind: 'prompt', messages: messages.map((message) => ({ role: message.role, content: 'content' in message ? message.content : '' })) });
    let problem = '';
    for (let request = 1; request <= MAX_REQUESTS; request += 1) {
      const spent = ctx.report.modelUsage.totals.promptTokens + ctx.report.modelUsage.totals.completionTokens;
      if (spent >= maxJobTokens) throw new AgentLimitReachedError('tokens', spent, maxJobTokens);
      const answer = await this.ask(ctx, messages, signal, deadline, started, timeBudget);
      const reading = readReviewAnswer(answer.content, change.changedLines, this.deps.limits.maxReviewComments);
      if (reading.usable) {
        ctx.record.transcript({ kind: 'review-checked', comments: reading.review.comments, dropped: reading.review.dropped });
        ctx.logger.info('review-answer-checked', { kept: reading.review.comments.length, dropped: reading.review.dropped.length, requests: request });
        ctx.provide('verdict', { asked: true, review: reading.review });
        return;
      }
      problem = reading.problem;
      ctx.logger.warn('review-answer-unusable', { problem, request });
      const retry = reviewRetryMessage(problem);
      messages.push({ role: 'assistant', content: answer.content, toolCalls: [] }, retry);
      if (request < MAX_REQUESTS) ctx.record.transcript({ kind: 'prompt', messages: [{ role: retry.role, content: retry.content }] });
    }
    throw new JobPhaseFailedError(FailureCode.MODEL_OUTPUT_UNUSABLE, `the model's review could not be read twice: ${problem}`);
  }

  /** One answer, counted and recorded; a request the time budget cut short is AGENT_TIME_EXHAUSTED. */
  private async ask(ctx: ReviewContext, messages: readonly ConversationMessage[], signal: AbortSignal, deadline: AbortSignal, started: number, timeBudget: number): Promise<ChatAnswer> {
    let answer: ChatAnswer;
    try {
      answer = await this.deps.inference.chat({ messages, tools: [], maxTokens: this.deps.limits.maxModelTokens, signal, endpoints: ctx.request.policy.enforced.inferenceEndpoints });
    } catch (error) {
      ctx.record.transcript({ kind: 'note', text: `no review answer: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}` });
      // Requests that failed were still made: the count says how hard the worker tried.
      if (error instanceof InferenceUnavailableError || error instanceof InferenceRejectedError || error instanceof InferenceStreamIncompleteError) ctx.report.modelUsage.addAll(error.usage);
      if (deadline.aborted && !ctx.signal.aborted) throw new AgentLimitReachedError('time', Math.round(this.now() - started), timeBudget);
      throw error;
    }
    ctx.report.modelUsage.addAll(answer.usage);
    ctx.record.transcript({ kind: 'answer', endpoint: answer.endpoint, content: answer.content, promptTokens: answer.promptTokens, completionTokens: answer.completionTokens });
    return answer;
  }
}
