import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import { ContextEngine } from '@airlock/context-engine';
import { FailureCode, JobOutcome, Phase, validateWorkerFrame, type JobResult__Output } from '@airlock/protocol';
import type { RepositoryConfig } from '../../config/worker-config.loader';
import { GitRunner } from '../../git/git-runner';
import { JsonLogger } from '../../logging/json-logger';
import { localJobPolicy } from '../../policy/local-job-policy.mock';
import { createBareRepo } from '../../testing/git-fixture.mock';
import { JobRecordStore } from '../record/job-record.store';
import { WorkspaceManager } from '../workspace/workspace.manager';
import { IndexJobPipeline } from './index-job.pipeline';

jest.setTimeout(30_000);

/**
 * The index job against a real bare repository, with the worker's real git, workspace and
 * context engine caching under the workspace as a fix's CONTEXT does.
 */
const host = { path: process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin', lang: 'C.UTF-8' };
const FILES = {
  '.airlock.yml': 'version: 1\ntest:\n  command: ["node", "check.js"]\ncontext:\n  exclude: ["docs/**"]\n',
  'src/calculator.js': 'function add(a, b) {\n  return a + b;\n}\nmodule.exports = { add };\n',
  'src/format.js': 'function money(cents) {\n  return (cents / 100).toFixed(2);\n}\nmodule.exports = { money };\n',
  'docs/notes.md': '# Notes\n',
  'check.js': "require('./src/calculator');\n",
};

describe('IndexJobPipeline', () => {
  let root: string;
  let origin: string;
  let workspaceDir: string;
  let workspace: WorkspaceManager;
  let logs: Array<Record<string, unknown>>;
  let pipeline: IndexJobPipeline;
  const gitRunner = new GitRunner(host);

  beforeEach(async () => {
    root = mkdtempSync(join(tmpdir(), 'airlock-index-pipeline-'));
    origin = createBareRepo(FILES);
    workspaceDir = join(root, 'workspace');
    logs = [];
    const logger = new JsonLogger((line) => logs.push(JSON.parse(line) as Record<string, unknown>));
    workspace = new WorkspaceManager(workspaceDir, gitRunner, logger);
    await workspace.removeStale();
    pipeline = new IndexJobPipeline({
      workspace,
      contextEngine: new ContextEngine({ cacheDir: join(workspaceDir, 'context-index'), git: gitRunner }),
      logger,
      records: new JobRecordStore(join(root, 'state'), { maxAge: 3_600_000, maxBytes: 64 * 1024 * 1024 }, logger),
    });
  });
  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
    rmSync(dirname(origin), { recursive: true, force: true });
  });

  const repo = (): RepositoryConfig => ({ alias: 'demo', cloneUrl: origin, pushUrl: origin, branchPrefix: 'airlock/', baseRefs: ['main'] });
  const index = async (ref = 'main'): Promise<{ jobId: string; result: JobResult__Output }> => {
    const jobId = randomUUID();
    const result = await pipeline.run({ jobId, attempt: 1, task: { repoAlias: 'demo', ref }, repo: repo(), policy: localJobPolicy(), signal: AbortSignal.timeout(20_000), progress: () => undefined, confirmLease: () => Promise.resolve() });
    return { jobId, result };
  };
  const indexEvents = () => logs.filter((line) => line['event'] === 'context-index-built' || line['event'] === 'context-index-reused');

  it('builds the index of the ref and caches it; the next index job at that commit reuses it, and so does a fix there', async () => {
    const first = await index();
    expect(first.result).toMatchObject({ outcome: JobOutcome.JOB_OUTCOME_SUCCEEDED, tokens: { requests: 0 }, review: null });
    expect(first.result.phaseDurations.map((entry) => entry.phase)).toEqual([Phase.PHASE_WORKSPACE, Phase.PHASE_CONTEXT]);
    expect(() => validateWorkerFrame({ frame: 'result', result: first.result })).not.toThrow();
    const second = await index();
    expect(second.result.outcome).toBe(JobOutcome.JOB_OUTCOME_SUCCEEDED);

    const [built, reused, ...others] = indexEvents();
    expect(others).toEqual([]);
    expect(built).toMatchObject({ event: 'context-index-built', jobId: first.jobId, indexSource: 'full', cacheWritten: true });
    expect(reused).toMatchObject({ event: 'context-index-reused', jobId: second.jobId, indexSource: 'cache', commit: built?.['commit'] });
    // A fix job's CONTEXT at that commit, here in a worker started afresh: the same cache, the same selection from .airlock.yml.
    const checkout = await workspace.prepare(repo(), 'main', 'fix-1', AbortSignal.timeout(20_000));
    const afresh = new ContextEngine({ cacheDir: join(workspaceDir, 'context-index'), git: gitRunner });
    const opened = await afresh.open({ repositoryId: 'demo', worktree: checkout.worktree, commit: checkout.baseCommit, include: [], exclude: ['docs/**'] });
    expect(opened.report.source).toBe('cache');
    await workspace.release(repo(), 'fix-1');
    expect(readdirSync(join(workspaceDir, 'jobs'))).toEqual([]);
  });

  it('fails WORKSPACE_FAILED for a ref outside the base refs, building nothing', async () => {
    const { result } = await index('develop');
    expect(result).toMatchObject({ outcome: JobOutcome.JOB_OUTCOME_FAILED, failureCode: FailureCode.WORKSPACE_FAILED, failedPhase: Phase.PHASE_WORKSPACE });
    expect(indexEvents()).toEqual([]);
  });
});
