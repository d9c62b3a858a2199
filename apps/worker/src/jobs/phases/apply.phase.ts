import { FailureCode, Phase } from '@airlock/protocol';
import type { GitRunner } from '../../git/git-runner';
import type { EditBlockApplier } from '../edits/edit-block.applier';
import { parseEditBlocks } from '../edits/edit-block.parser';
import { JobPhaseFailedError } from '../job-phase-failed.error';
import { keyedMac } from '../job-result.builder';
import type { JobContext } from '../pipeline/job-context';
import type { JobPhase } from '../pipeline/phase';

const GIT_TIMEOUT_MS = 120_000;

/**
 * APPLY: applies the answer's SEARCH/REPLACE blocks to the worktree, stages the result and
 * counts it. Fails MODEL_OUTPUT_UNUSABLE (no edit block), PATCH_APPLY_FAILED (no block
 * applies, or one aims outside the worktree, into `.git` or at `.airlock.yml`) or
 * PATCH_EMPTY (the edits change nothing).
 */
export class ApplyPhase implements JobPhase {
  readonly name = Phase.PHASE_APPLY;
  readonly defaultFailure = FailureCode.PATCH_APPLY_FAILED;

  constructor(
    private readonly applier: Pick<EditBlockApplier, 'apply'>,
    private readonly git: Pick<GitRunner, 'run'>,
    private readonly macKey: Buffer,
  ) {}

  async run(ctx: JobContext): Promise<void> {
    const { worktree, baseCommit } = ctx.need('workspace');
    const { change } = ctx.report;
    const parsed = parseEditBlocks(ctx.need('answer'));
    change.editsProposed = parsed.blocks.length + parsed.malformed;
    if (parsed.blocks.length === 0) throw new JobPhaseFailedError(FailureCode.MODEL_OUTPUT_UNUSABLE, 'the answer holds no edit block');
    const { applied, touched } = await this.applier.apply(worktree, parsed.blocks);
    change.editsApplied = applied;
    if (applied === 0) throw new JobPhaseFailedError(FailureCode.PATCH_APPLY_FAILED, 'no edit block applied');
    const git = (args: string[], input?: string) =>
      this.git.run(args, { cwd: worktree, signal: ctx.signal, timeoutMs: GIT_TIMEOUT_MS, ...(input === undefined ? {} : { input }) });
    // Only the files the model wrote, staged now: what setup installed and what test runs
    // leave behind (reports, caches) is never committed. Literal: a path is not a glob.
    await git(['--literal-pathspecs', 'add', '--pathspec-from-file=-', '--pathspec-file-nul'], `${touched.join('\0')}\0`);
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
  }
}
