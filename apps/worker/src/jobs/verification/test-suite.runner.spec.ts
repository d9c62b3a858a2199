import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fakeJobContext } from '../pipeline/job-context.mock';
import type { TestRunOutcome, TestRunRequest } from '../test-command.runner';
import { TestSuiteRunner } from './test-suite.runner';

const config = { stateDir: '/var/lib/airlock', limits: { testTimeout: 300_000 } };
const ran: TestRunOutcome = { started: true, exitCode: 1, timedOut: false, aborted: false };
const junit = (cases: string) => `<?xml version="1.0"?><testsuites><testsuite name="s">${cases}</testsuite></testsuites>`;

describe('TestSuiteRunner', () => {
  let worktree: string;
  beforeEach(() => {
    worktree = mkdtempSync(join(tmpdir(), 'airlock-suite-'));
  });
  afterEach(() => rmSync(worktree, { recursive: true, force: true }));

  function suiteFor(test: Record<string, unknown>, onRun: (request: TestRunRequest) => TestRunOutcome = () => ran) {
    const { ctx, logs } = fakeJobContext();
    ctx.provide('workspace', { worktree, baseCommit: 'abc123' });
    ctx.provide('repoConfig', { version: 1, test: { command: ['npm', 'test'], ...test } });
    const requests: TestRunRequest[] = [];
    const suites = new TestSuiteRunner({ run: (request) => (requests.push(request), Promise.resolve(onRun(request))) }, config);
    return { run: (label: string) => suites.run(ctx, label), requests, logs };
  }

  it("runs the repository's argv in the worktree, a log per run under stateDir/job-logs, with the default timeout", async () => {
    const { run, requests } = suiteFor({});
    await expect(run('baseline')).resolves.toEqual({ started: true, exitCode: 1, timedOut: false, report: undefined, logFile: '/var/lib/airlock/job-logs/job-1-2.baseline.log' });
    expect(requests).toEqual([
      expect.objectContaining({ argv: ['npm', 'test'], cwd: worktree, timeoutMs: 300_000, logFile: '/var/lib/airlock/job-logs/job-1-2.baseline.log' }),
    ]);
  });

  it('takes the timeout from .airlock.yml when it sets one', async () => {
    const { run, requests } = suiteFor({ timeout: 120_000 });
    await run('test');
    expect(requests[0]?.timeoutMs).toBe(120_000);
  });

  it('reads the JUnit reports the globs name, merged', async () => {
    const { run } = suiteFor({ junit: ['reports/**/*.xml'] }, () => {
      mkdirSync(join(worktree, 'reports/unit'), { recursive: true });
      writeFileSync(join(worktree, 'reports/unit/a.xml'), junit('<testcase name="x"/><testcase name="y"><failure message="no"/></testcase>'));
      writeFileSync(join(worktree, 'reports/b.xml'), junit('<testcase name="z"><skipped/></testcase><testcase name="w"/>'));
      return ran;
    });
    const suite = await run('test');
    expect({ ran: suite.report?.ran, failing: suite.report?.failing }).toEqual({ ran: 3, failing: 1 });
  });

  it("deletes an earlier run's report before running, so a run that writes none is judged by its exit code", async () => {
    mkdirSync(join(worktree, 'reports'));
    writeFileSync(join(worktree, 'reports/junit.xml'), junit('<testcase name="x"/>'));
    const { run, logs } = suiteFor({ junit: ['reports/junit.xml'] });
    expect((await run('test')).report).toBeUndefined();
    expect(logs).toContainEqual(expect.objectContaining({ event: 'test-report-unread', problem: 'no report file found' }));
  });

  it('judges by exit code when the report is not JUnit, naming the file in the local log only', async () => {
    const { run, logs } = suiteFor({ junit: ['junit.xml'] }, () => (writeFileSync(join(worktree, 'junit.xml'), '<html>oops'), ran));
    expect((await run('test')).report).toBeUndefined();
    expect(logs).toContainEqual(expect.objectContaining({ event: 'test-report-unread', problem: expect.stringContaining('junit.xml:') }));
  });

  it('never follows a symlinked report out of the worktree', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'airlock-suite-outside-'));
    try {
      writeFileSync(join(outside, 'secret.xml'), junit('<testcase name="x"/>'));
      const { run } = suiteFor({ junit: ['*.xml'] }, () => {
        symlinkSync(join(outside, 'secret.xml'), join(worktree, 'report.xml'));
        return ran;
      });
      expect((await run('test')).report).toBeUndefined();
      expect(readFileSync(join(outside, 'secret.xml'), 'utf8')).toContain('testcase');
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });
});
