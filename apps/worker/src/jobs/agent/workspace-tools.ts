import { lstat, readdir, readFile, realpath, rm } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { GitRunner } from '../../git/git-runner';
import type { EditBlockApplier, EditOutcome } from '../edits/edit-block.applier';
import { EditPathRejectedError } from '../edits/edit-path-rejected.error';
import type { ToolCall } from '../inference/conversation';
import type { JobContext } from '../pipeline/job-context';
import { SANDBOX_LIMIT_NAMES } from '../sandbox/sandbox-limiter';
import { type SuiteRun, isGreen } from '../verification/change-verdict';
import type { TestSuiteRunner } from '../verification/test-suite.runner';
import { FINISH_TOOL, REVERT_TOOL } from './agent-tools';
import { EDIT_TOOL } from './text-tool.dialect';

/** Bounds on what one tool result puts in front of the model. */
export const TOOL_RESULT_LIMITS = { maxChars: 24_000, maxReadLines: 400, maxListEntries: 300, maxSearchLines: 60, testOutputChars: 4_000 } as const;

/** What a tool call did, for the loop's bookkeeping. */
export interface ToolResult {
  /** What the model is told. */
  readonly content: string;
  /** An edit: whether it applied (counted as editsProposed / editsApplied). */
  readonly edit?: EditOutcome;
  /** A test run the model asked for. */
  readonly testRun?: SuiteRun;
  /** A file put back as it was at the base commit (removed, if the base did not have it). */
  readonly reverted?: { readonly path: string; readonly existedAtBase: boolean };
  readonly finished?: boolean;
}

/** Ranked files and definitions for a query (the context engine), if the worker has an index of the worktree. */
export interface CodeRanking {
  /** One line per file or definition (`src/cart.ts:12 method Cart.total`), best first; none when nothing ranks. */
  rank(query: string, signal: AbortSignal): Promise<readonly string[]>;
}

/**
 * The tools of the agent loop, over one attempt's worktree. Every path is resolved inside
 * the worktree by the edit applier's rules: `.git`, `.airlock.yml`, absolute paths, `..`
 * and symlinks leading out are refused. A read that is refused is told to the model; an
 * edit that is refused throws EditPathRejectedError, which ends the job PATCH_APPLY_FAILED
 * (a model that tries to rewrite the test command or the git dir is trusted no further).
 * Tool output is the repository's own content going to the local model: it never leaves
 * the worker, beyond the local job record.
 */
export class WorkspaceTools {
  private testRuns = 0;

  constructor(
    private readonly deps: {
      readonly applier: Pick<EditBlockApplier, 'applyEdit' | 'resolveInside'>;
      readonly git: Pick<GitRunner, 'run'>;
      readonly suites: Pick<TestSuiteRunner, 'run'>;
      readonly ranking?: CodeRanking;
      readonly maxTestRuns: number;
    },
  ) {}

  /** Test runs made so far (reported as verification.agentTestRuns). */
  get testRunsMade(): number {
    return this.testRuns;
  }

  async execute(ctx: JobContext, call: ToolCall): Promise<ToolResult> {
    let args: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(call.arguments || '{}');
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { content: 'Error: the arguments must be a JSON object.' };
      args = parsed as Record<string, unknown>;
    } catch {
      return { content: 'Error: the arguments are not valid JSON.' };
    }
    switch (call.name) {
      case 'read_file':
        return this.readFile(ctx, args);
      case 'list_dir':
        return this.listDir(ctx, args);
      case 'search_code':
        return this.searchCode(ctx, args);
      case EDIT_TOOL:
        return this.editFile(ctx, args);
      case 'run_tests':
        return this.runTests(ctx);
      case REVERT_TOOL:
        return this.revertFile(ctx, args);
      case FINISH_TOOL:
        return { content: 'Finished.', finished: true };
      case 'invalid_tool_call':
        return { content: `Error: your tool call could not be read: ${String(args['problem'] ?? 'unknown problem')}.` };
      default:
        return { content: `Error: there is no tool named ${JSON.stringify(call.name.slice(0, 100))}. Use one of read_file, list_dir, search_code, edit_file, revert_file, run_tests, finish.` };
    }
  }

  private async readFile(ctx: JobContext, args: Record<string, unknown>): Promise<ToolResult> {
    const path = stringArg(args, 'path');
    if (path === undefined) return { content: 'Error: read_file needs a path.' };
    const target = await this.resolveForReading(ctx, path);
    if (typeof target !== 'string') return target;
    let text: string;
    try {
      const info = await lstat(target);
      if (!info.isFile()) return { content: `Error: ${path} is not a file.` };
      if (info.size > 4 * 1024 * 1024) return { content: `Error: ${path} is larger than 4 MiB; search it instead.` };
      text = await readFile(target, 'utf8');
    } catch {
      return { content: `Error: ${path} does not exist.` };
    }
    const lines = text.split('\n');
    const start = Math.max(1, integerArg(args, 'start_line') ?? 1);
    const end = Math.min(lines.length, integerArg(args, 'end_line') ?? lines.length, start + TOOL_RESULT_LIMITS.maxReadLines - 1);
    const numbered = lines.slice(start - 1, end).map((line, index) => `${String(start + index).padStart(5)} | ${line}`);
    const more = end < lines.length ? `\n(${lines.length - end} more lines; read from line ${end + 1} to see them)` : '';
    return { content: bound(`${path} (lines ${start}-${end} of ${lines.length})\n${numbered.join('\n')}${more}`) };
  }

  private async listDir(ctx: JobContext, args: Record<string, unknown>): Promise<ToolResult> {
    const path = (stringArg(args, 'path') ?? '').replace(/^\.\/?$/, '').replace(/\/+$/, '');
    const { worktree } = ctx.need('workspace');
    const target = path === '' ? worktree : await this.resolveForReading(ctx, path);
    if (typeof target !== 'string') return target;
    let names: string[];
    try {
      names = (await readdir(target)).filter((name) => name !== '.git').sort();
    } catch {
      return { content: `Error: ${path || '.'} is not a directory.` };
    }
    const entries: string[] = [];
    for (const name of names.slice(0, TOOL_RESULT_LIMITS.maxListEntries)) {
      const info = await lstat(join(target, name)).catch(() => undefined);
      entries.push(info?.isDirectory() ? `${name}/` : name);
    }
    const more = names.length > entries.length ? `\n(${names.length - entries.length} more entries)` : '';
    return { content: `${path || '.'}:\n${entries.join('\n')}${more}` };
  }

  private async searchCode(ctx: JobContext, args: Record<string, unknown>): Promise<ToolResult> {
    const query = stringArg(args, 'query')?.trim();
    if (!query) return { content: 'Error: search_code needs a query.' };
    const { worktree } = ctx.need('workspace');
    const sections: string[] = [];
    if (this.deps.ranking !== undefined) {
      const ranked = await this.deps.ranking.rank(query, ctx.signal);
      if (ranked.length > 0) sections.push(`Files and definitions that rank highest for "${query}" (as the code was before your edits):\n${ranked.join('\n')}`);
    }
    // Tracked and untracked (not ignored) files as they are now, the repository config left
    // out; the query goes in as a fixed string (-F -e), never as a pattern or a pathspec.
    const grep = await this.deps.git
      .run(['grep', '--untracked', '-n', '-I', '-i', '-F', '--max-count=5', '-e', query.slice(0, 200), '--', '.', ':(exclude).airlock.yml'], {
        cwd: worktree,
        signal: ctx.signal,
        timeoutMs: 30_000,
      })
      .then(
        (result) => result.stdout,
        // git grep exits 1 when nothing matches.
        () => '',
      );
    const lines = grep.split('\n').filter(Boolean);
    sections.push(
      lines.length === 0
        ? `No line contains "${query}".`
        : `Lines containing "${query}":\n${lines.slice(0, TOOL_RESULT_LIMITS.maxSearchLines).join('\n')}${lines.length > TOOL_RESULT_LIMITS.maxSearchLines ? `\n(${lines.length - TOOL_RESULT_LIMITS.maxSearchLines} more)` : ''}`,
    );
    return { content: bound(sections.join('\n\n')) };
  }

  private async editFile(ctx: JobContext, args: Record<string, unknown>): Promise<ToolResult> {
    const path = stringArg(args, 'path');
    const search = stringArg(args, 'search');
    const replace = stringArg(args, 'replace');
    if (path === undefined || search === undefined || replace === undefined) return { content: 'Error: edit_file needs path, search and replace (strings).' };
    const { worktree } = ctx.need('workspace');
    const toLines = (text: string) => (text === '' ? [] : text.replace(/\r\n/g, '\n').replace(/\n$/, '').split('\n'));
    // Throws EditPathRejectedError for .git, .airlock.yml or a path leading out: the job ends there.
    const outcome = await this.deps.applier.applyEdit(worktree, { path, search: toLines(search), replace: toLines(replace) });
    return { content: describeEdit(outcome), edit: outcome };
  }

  /**
   * Puts a file back as it was at the base commit, or removes it (and any staged copy) when the
   * base did not have it: how the model undoes a change the policy refuses, which edit_file
   * cannot do for a file it created. The path is held to the same rules as an edit's.
   */
  private async revertFile(ctx: JobContext, args: Record<string, unknown>): Promise<ToolResult> {
    const path = stringArg(args, 'path');
    if (path === undefined) return { content: 'Error: revert_file needs a path.' };
    const { worktree, baseCommit } = ctx.need('workspace');
    const root = await realpath(worktree);
    // Throws EditPathRejectedError for .git, .airlock.yml or a path leading out, as an edit does: the job ends there.
    const target = await this.deps.applier.resolveInside(root, path);
    const file = relative(root, target).split(sep).join('/');
    const git = (gitArgs: string[]) => this.deps.git.run(['--literal-pathspecs', ...gitArgs], { cwd: worktree, signal: ctx.signal, timeoutMs: 60_000 });
    const existedAtBase = await git(['cat-file', '-e', `${baseCommit}:${file}`]).then(
      () => true,
      () => false,
    );
    if (existedAtBase) {
      await git(['restore', `--source=${baseCommit}`, '--worktree', '--', file]);
      return { content: `Reverted ${file} to how it was before your change.`, reverted: { path: file, existedAtBase } };
    }
    const info = await lstat(target).catch(() => undefined);
    if (info !== undefined && !info.isFile()) return { content: `Error: ${file} is not a file.` };
    await rm(target, { force: true });
    await git(['rm', '--cached', '--quiet', '--ignore-unmatch', '--', file]);
    return { content: `Removed ${file}: it did not exist before your change.`, reverted: { path: file, existedAtBase } };
  }

  private async runTests(ctx: JobContext): Promise<ToolResult> {
    if (this.testRuns >= this.deps.maxTestRuns) return { content: `Error: the tests may run at most ${this.deps.maxTestRuns} times in one job; finish when you are confident.` };
    this.testRuns += 1;
    const run = await this.deps.suites.run(ctx, `agent-${this.testRuns}`);
    return { content: bound(await describeTestRun(run, ctx.need('baseline'))), testRun: run };
  }

  private async resolveForReading(ctx: JobContext, path: string): Promise<string | ToolResult> {
    try {
      return await this.deps.applier.resolveInside(ctx.need('workspace').worktree, path);
    } catch (error) {
      if (error instanceof EditPathRejectedError) return { content: `Error: ${path} is not readable here (${error.reason}).` };
      throw error;
    }
  }
}

function describeEdit(outcome: EditOutcome): string {
  if (outcome.applied) {
    const how = { exact: '', whitespace: ' (matched ignoring indentation)', fuzzy: ' (matched the most similar lines; check the result)', created: ' (new file)' }[outcome.match];
    return `Edited ${outcome.path}${how}.`;
  }
  const why = {
    'not-found': 'the search text was not found; read the file and copy the lines exactly',
    ambiguous: 'the search text occurs more than once; include more surrounding lines',
    'file-exists': 'the file exists; give search lines to replace instead of creating it',
    'no-such-file': 'the file does not exist; give an empty search to create it',
    'not-a-file': 'the path is not a regular file',
  }[outcome.problem];
  return `Error: ${outcome.path} not edited: ${why}.`;
}

async function describeTestRun(run: SuiteRun, baseline: SuiteRun): Promise<string> {
  const lines: string[] = [];
  if (!run.started) lines.push('The test command could not be started.');
  else if (run.limit !== undefined) lines.push(`The tests ran past the sandbox's ${SANDBOX_LIMIT_NAMES[run.limit]} limit and were stopped (exit ${run.exitCode}).`);
  else if (run.timedOut) lines.push('The tests timed out.');
  else lines.push(isGreen(run) ? `All tests passed (exit ${run.exitCode}).` : `Tests failed (exit ${run.exitCode}).`);
  if (run.report !== undefined) {
    const failing = run.report.idsWith('failed');
    const before = baseline.report;
    const fixed = before?.idsWith('failed').filter((id) => run.report?.statusOf(id) === 'passed') ?? [];
    const broken = failing.filter((id) => before?.statusOf(id) === 'passed');
    lines.push(`${run.report.ran} tests ran, ${failing.length} failed.`);
    if (fixed.length > 0) lines.push(`Failing before your change, passing now: ${fixed.slice(0, 20).join('; ')}`);
    if (broken.length > 0) lines.push(`Passing before your change, failing now: ${broken.slice(0, 20).join('; ')}`);
    if (failing.length > 0) lines.push(`Failing: ${failing.slice(0, 20).join('; ')}${failing.length > 20 ? ' …' : ''}`);
  }
  if (run.logFile !== undefined) {
    const output = await readFile(run.logFile, 'utf8').catch(() => '');
    if (output !== '') lines.push(`End of the output:\n${output.slice(-TOOL_RESULT_LIMITS.testOutputChars)}`);
  }
  return lines.join('\n');
}

function stringArg(args: Record<string, unknown>, name: string): string | undefined {
  const value = args[name];
  return typeof value === 'string' ? value : undefined;
}

function integerArg(args: Record<string, unknown>, name: string): number | undefined {
  const value = args[name];
  return typeof value === 'number' && Number.isInteger(value) ? value : undefined;
}

function bound(text: string): string {
  return text.length <= TOOL_RESULT_LIMITS.maxChars ? text : `${text.slice(0, TOOL_RESULT_LIMITS.maxChars)}\n(cut at ${TOOL_RESULT_LIMITS.maxChars} characters)`;
}
