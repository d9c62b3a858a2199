import { join } from 'node:path';
import type { WorkerConfig } from '../../config/worker-config.loader';
import type { JobContext } from '../pipeline/job-context';
import type { TestCommandRunner } from '../test-command.runner';
import type { SuiteRun } from './change-verdict';
import { readJunitReports, removeJunitFiles } from './junit-files';

/**
 * Runs the repository's test command (`.airlock.yml` `test`) in the attempt's worktree and
 * reads what it reports. Every run gets its own local log, `<stateDir>/job-logs/<jobKey>.<label>.log`;
 * report files named by `test.junit` are deleted before each run, so a run that writes none
 * is never judged by an earlier run's report.
 */
export class TestSuiteRunner {
  constructor(
    private readonly tests: Pick<TestCommandRunner, 'run'>,
    private readonly config: { readonly stateDir: string; readonly limits: Pick<WorkerConfig['limits'], 'testTimeout'> },
  ) {}

  /** Runs the suite; throws only when the job is aborted or the runner itself breaks. */
  async run(ctx: JobContext, label: string): Promise<SuiteRun> {
    const { worktree } = ctx.need('workspace');
    const { test } = ctx.need('repoConfig');
    const junit = test.junit ?? [];
    if (junit.length > 0) await removeJunitFiles(worktree, junit);
    const logFile = join(this.config.stateDir, 'job-logs', `${ctx.jobKey}.${label}.log`);
    const outcome = await this.tests.run({ argv: test.command, cwd: worktree, timeoutMs: test.timeout ?? this.config.limits.testTimeout, signal: ctx.signal, logFile });
    ctx.signal.throwIfAborted();
    let report: SuiteRun['report'];
    if (junit.length > 0 && outcome.started && !outcome.timedOut && outcome.limit === undefined) {
      const read = await readJunitReports(worktree, junit);
      report = read.report;
      // Local only: the problem may name a file of the repository.
      if (read.problem !== undefined) ctx.logger.warn('test-report-unread', { run: label, problem: read.problem });
    }
    ctx.logger.info('test-run', { run: label, started: outcome.started, exitCode: outcome.exitCode, timedOut: outcome.timedOut, limit: outcome.limit, tests: report?.ran, failing: report?.failing });
    return { started: outcome.started, exitCode: outcome.exitCode, timedOut: outcome.timedOut, ...(outcome.limit === undefined ? {} : { limit: outcome.limit }), report, logFile };
  }
}
