import { FailureCode, Phase } from '@airlock/protocol';
import type { GitRunner } from '../../git/git-runner';
import { type AgentLimits, AgentLoop } from '../agent/agent-loop';
import { buildAgentPrompt } from '../agent/agent-prompt';
import { type CodeRanking, WorkspaceTools } from '../agent/workspace-tools';
import type { EditBlockApplier } from '../edits/edit-block.applier';
import { ChangeGovernance } from '../governance/change-governance';
import { PolicyViolationError } from '../governance/policy-violation.error';
import type { InferenceClient } from '../inference/inference.client';
import { InferenceRejectedError } from '../inference/inference-rejected.error';
import { InferenceStreamIncompleteError } from '../inference/inference-stream-incomplete.error';
import { InferenceUnavailableError } from '../inference/inference-unavailable.error';
import type { JobContext } from '../pipeline/job-context';
import type { JobPhase } from '../pipeline/phase';
import type { TestSuiteRunner } from '../verification/test-suite.runner';

/**
 * INFERENCE (on the wire; the agent loop): the model works on the ticket with the worker's
 * tools — reads, searches, edits the worktree, runs the tests — until it finishes (see
 * AgentLoop), counting requests and tokens. It is told the effective policy up front, and a
 * change that breaks a mandatory rule goes back to it with the policy's feedback, at most
 * `maxFixRetries` times (ChangeGovernance); APPLY has the last word. The policy's
 * endpoints, token budget and time budget bound the loop. Fails INFERENCE_UNAVAILABLE (no
 * endpoint answered), INFERENCE_FAILED (a 4xx, or an answer the server cut off),
 * PROMPT_TRUNCATED, MODEL_OUTPUT_UNUSABLE (an answer too long), AGENT_TURNS_EXHAUSTED,
 * TOKEN_BUDGET_EXHAUSTED, AGENT_TIME_EXHAUSTED, PATCH_APPLY_FAILED (an edit aimed at
 * `.git`, `.airlock.yml` or out of the worktree), or POLICY_VIOLATION (the policy leaves
 * the job no endpoint).
 */
export class AgentPhase implements JobPhase {
  readonly name = Phase.PHASE_INFERENCE;
  readonly defaultFailure = FailureCode.INFERENCE_UNAVAILABLE;
  private readonly loop: AgentLoop;

  constructor(
    private readonly deps: {
      readonly inference: Pick<InferenceClient, 'chat'>;
      readonly applier: Pick<EditBlockApplier, 'applyEdit' | 'resolveInside'>;
      readonly git: Pick<GitRunner, 'run'>;
      readonly suites: Pick<TestSuiteRunner, 'run'>;
      readonly limits: AgentLimits & { readonly maxAgentTestRuns: number };
      /** The ranked section of `search_code` for this job (the context engine's index CONTEXT opened); without it, grep alone. */
      readonly ranking?: (ctx: JobContext) => CodeRanking;
    },
  ) {
    this.loop = new AgentLoop(deps.inference, deps.limits);
  }

  async run(ctx: JobContext): Promise<void> {
    // The policy may leave none of the worker's endpoints: the job cannot ask a model at all.
    if (ctx.request.policy.enforced.inferenceEndpoints.length === 0) {
      const detail = "the policy's inference-endpoints rule allows none of the worker's configured endpoints";
      ctx.report.decisions.add({ rule: 'inference-endpoints', level: 'mandatory', outcome: 'blocked', policy: 'enforced', detail });
      throw new PolicyViolationError(['inference-endpoints'], detail);
    }
    const tools = new WorkspaceTools({
      applier: this.deps.applier,
      git: this.deps.git,
      suites: this.deps.suites,
      maxTestRuns: this.deps.limits.maxAgentTestRuns,
      ...(this.deps.ranking === undefined ? {} : { ranking: this.deps.ranking(ctx) }),
    });
    const opening = buildAgentPrompt(ctx.ticket, ctx.need('baseline'), ctx.need('context'), ctx.request.policy.enforced);
    try {
      ctx.provide('agent', await this.loop.run(ctx, tools, opening, new ChangeGovernance(this.deps.git)));
    } catch (error) {
      ctx.record.transcript({ kind: 'note', text: `the agent loop ended: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}` });
      // Requests that failed were still made: the count says how hard the worker tried.
      if (error instanceof InferenceUnavailableError || error instanceof InferenceRejectedError || error instanceof InferenceStreamIncompleteError) {
        ctx.report.modelUsage.addAll(error.usage);
      }
      throw error;
    }
  }
}
