import { FailureCode, Phase } from '@airlock/protocol';
import type { WorkerConfig } from '../../config/worker-config.loader';
import type { GitRunner } from '../../git/git-runner';
import { JobPhaseFailedError } from '../job-phase-failed.error';
import { keyedMac } from '../job-result.builder';
import type { JobContext } from '../pipeline/job-context';
import type { JobPhase } from '../pipeline/phase';

const GIT_TIMEOUT_MS = 120_000;

/**
 * APPLY: stages the files the agent's edits wrote — and nothing else: what setup installed
 * and what test runs left (reports, caches) never enters the change — then counts the change
 * and keeps it in the local record. Fails MODEL_OUTPUT_UNUSABLE (the model proposed no
 * edit), PATCH_APPLY_FAILED (none applied), PATCH_EMPTY (they change nothing in the end) or
 * CHANGE_TOO_LARGE (past `limits.maxChangedFiles` or `maxChangedLines`).
 */
export class ApplyPhase implements JobPhase {
  readonly name = Phase.PHASE_APPLY;
  readonly defaultFailure = FailureCode.PATCH_APPLY_FAILED;

  constructor(
    private readonly git: Pick<GitRunner, 'run'>,
    private readonly macKey: Buffer,
    private readonly limits: Pick<WorkerConfig['limits'], 'maxChangedFiles' | 'maxChangedLines'>,
  ) {}

  async run(ctx: JobContext): Promise<void> {
    const { worktree, baseCommit } = ctx.need('workspace');
    const agent = ctx.need('agent');
    const { change } = ctx.report;
    change.editsProposed = agent.editsProposed;
    change.editsApplied = agent.editsApplied;
    if (agent.editsProposed === 0) throw new JobPhaseFailedError(FailureCode.MODEL_OUTPUT_UNUSABLE, 'the model proposed no edit');
    if (agent.touched.length === 0) throw new JobPhaseFailedError(FailureCode.PATCH_APPLY_FAILED, 'no edit applied');
    const git = (args: string[], input?: string) =>
      this.git.run(args, { cwd: worktree, signal: ctx.signal, timeoutMs: GIT_TIMEOUT_MS, ...(input === undefined ? {} : { input }) });
    // Literal: a path is not a glob. `--all` stages a file an edit created and the model emptied away too.
    await git(['--literal-pathspecs', 'add', '--all', '--pathspec-from-file=-', '--pathspec-file-nul'], `${agent.touched.join('\0')}\0`);
    const patch = (await git(['diff', '--cached', '--binary', baseCommit])).stdout;
    // Kept before anything below can reject it: a rejected candidate is what the customer's engineers need to see.
    if (patch.length > 0) ctx.record.patch(patch);
    if (patch.length === 0) throw new JobPhaseFailedError(FailureCode.PATCH_EMPTY, 'the edits change nothing');
    for (const line of (await git(['diff', '--cached', '--numstat', baseCommit])).stdout.split('\n').filter(Boolean)) {
      const [added, removed] = line.split('\t');
      change.filesChanged += 1;
      change.linesAdded += Number(added) || 0; // "-" for binary files
      change.linesRemoved += Number(removed) || 0;
    }
    ctx.report.changeMac = keyedMac(this.macKey, Buffer.from(patch, 'utf8'));
    const lines = change.linesAdded + change.linesRemoved;
    if (change.filesChanged > this.limits.maxChangedFiles || lines > this.limits.maxChangedLines) {
      throw new JobPhaseFailedError(
        FailureCode.CHANGE_TOO_LARGE,
        `the change touches ${change.filesChanged} files and ${lines} lines (at most ${this.limits.maxChangedFiles} and ${this.limits.maxChangedLines})`,
      );
    }
  }
}
