import { FailureCode, Phase } from '@airlock/protocol';
import type { GitRunner } from '../../git/git-runner';
import { stageChange } from '../governance/candidate-change';
import { judgeFinalChange } from '../governance/change-governance';
import { JobPhaseFailedError } from '../job-phase-failed.error';
import { keyedMac } from '../job-result.builder';
import type { JobContext } from '../pipeline/job-context';
import type { JobPhase } from '../pipeline/phase';

const GIT_TIMEOUT_MS = 120_000;

/**
 * APPLY: stages the files the agent's edits wrote — and nothing else: what setup installed
 * and what test runs left (reports, caches) never enters the change — then counts the change
 * and keeps it in the local record. Then governance, the gate before the change is committed:
 * the staged patch is judged against the job's effective policy (protected paths, size,
 * secrets, dependency manifests, denied packages and licences), after the agent loop's
 * rounds of feedback. Fails MODEL_OUTPUT_UNUSABLE (the model proposed no edit),
 * PATCH_APPLY_FAILED (none applied), PATCH_EMPTY (they change nothing in the end),
 * CHANGE_TOO_LARGE (the size rules — `limits.maxChangedFiles` and `maxChangedLines` merged
 * with central policy — are the only mandatory rules broken) or POLICY_VIOLATION (any other
 * mandatory rule broken); nothing is committed or pushed then.
 */
export class ApplyPhase implements JobPhase {
  readonly name = Phase.PHASE_APPLY;
  readonly defaultFailure = FailureCode.PATCH_APPLY_FAILED;

  constructor(
    private readonly git: Pick<GitRunner, 'run'>,
    private readonly macKey: Buffer,
  ) {}

  async run(ctx: JobContext): Promise<void> {
    const workspace = ctx.need('workspace');
    const agent = ctx.need('agent');
    const { change } = ctx.report;
    change.editsProposed = agent.editsProposed;
    change.editsApplied = agent.editsApplied;
    if (agent.editsProposed === 0) throw new JobPhaseFailedError(FailureCode.MODEL_OUTPUT_UNUSABLE, 'the model proposed no edit');
    if (agent.touched.length === 0) throw new JobPhaseFailedError(FailureCode.PATCH_APPLY_FAILED, 'no edit applied');
    const patch = await stageChange(this.git, workspace, agent.touched, ctx.signal);
    // Kept before anything below can reject it: a rejected candidate is what the customer's engineers need to see.
    if (patch.length > 0) ctx.record.patch(patch);
    if (patch.length === 0) throw new JobPhaseFailedError(FailureCode.PATCH_EMPTY, 'the edits change nothing');
    const numstat = await this.git.run(['diff', '--cached', '--numstat', workspace.baseCommit], { cwd: workspace.worktree, signal: ctx.signal, timeoutMs: GIT_TIMEOUT_MS });
    for (const line of numstat.stdout.split('\n').filter(Boolean)) {
      const [added, removed] = line.split('\t');
      change.filesChanged += 1;
      change.linesAdded += Number(added) || 0; // "-" for binary files
      change.linesRemoved += Number(removed) || 0;
    }
    ctx.report.changeMac = keyedMac(this.macKey, 'change', Buffer.from(patch, 'utf8'));
    await judgeFinalChange(ctx, this.git, patch);
  }
}
