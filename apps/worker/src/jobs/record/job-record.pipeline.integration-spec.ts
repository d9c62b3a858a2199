import { TEST_AGENT_LIMITS, textAnswer } from '../../testing/scripted-model.mock';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ContextEngine } from '@airlock/context-engine';
import { FailureCode, JobOutcome, type JobResult__Output } from '@airlock/protocol';
import { GitRunner } from '../../git/git-runner';
import { JsonLogger } from '../../logging/json-logger';
import { localJobPolicy } from '../../policy/local-job-policy.mock';
import { createBareRepo, git } from '../../testing/git-fixture.mock';
import { DeliveryOutbox } from '../../delivery/delivery-outbox';
import { InMemoryForge } from '../../delivery/in-memory-forge.mock';
import { EditBlockApplier } from '../edits/edit-block.applier';
import { FixJobPipeline } from '../pipeline/fix-job.pipeline';
import { TestSandbox } from '../sandbox/test-sandbox';
import { DependencyCache } from '../setup/dependency-cache';
import { SetupRunner } from '../setup/setup.runner';
import { TestCommandRunner } from '../test-command.runner';
import { WorkspaceManager } from '../workspace/workspace.manager';
import { JOB_RECORDS_DIRECTORY } from './job-record';
import { JobRecordReader, type RecordListing } from './job-record.reader';
import { JobRecordStore } from './job-record.store';

jest.setTimeout(60_000);

/**
 * The record the real fix pipeline keeps of an attempt: real git, context selector, edit
 * applier and test runner (sandbox off: it has its own spec); only the model is scripted.
 */
const host = { path: process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin', lang: 'C.UTF-8' };
const FILES = {
  '.airlock.yml': 'version: 1\ntest:\n  command: [node, check.js]\n',
  'src/calculator.js': 'function add(a, b) {\n  return a - b;\n}\nmodule.exports = { add };\n',
  'check.js': "const { add } = require('./src/calculator');\nif (add(2, 3) !== 5) { console.error('add is broken'); process.exit(1); }\n",
};
const TICKET = { title: 'Fix add in calculator', description: 'add returns the difference of a and b instead of their sum' };
const editBlock = (search: string, replace: string) => `src/calculator.js\n<<<<<<< SEARCH\n${search}\n=======\n${replace}\n>>>>>>> REPLACE\n`;

interface Run {
  readonly result: JobResult__Output;
  readonly listing: RecordListing | undefined;
  readonly reader: JobRecordReader;
  readonly origin: string;
  readonly jobId: string;
  readonly workspaceDir: string;
  readonly logs: ReadonlyArray<Record<string, unknown>>;
}

const cleanups: string[] = [];
afterAll(() => {
  for (const dir of cleanups) rmSync(dir, { recursive: true, force: true });
});

async function runAttempt(answer: string, options: { readonly recordsUnwritable?: boolean } = {}): Promise<Run> {
  const root = mkdtempSync(join(tmpdir(), 'airlock-record-it-'));
  const origin = createBareRepo(FILES);
  cleanups.push(root, dirname(origin));
  const stateDir = join(root, 'state');
  mkdirSync(join(stateDir, 'job-logs'), { recursive: true });
  if (options.recordsUnwritable) writeFileSync(join(stateDir, JOB_RECORDS_DIRECTORY), 'a file where the folder should be');
  const logs: Array<Record<string, unknown>> = [];
  const logger = new JsonLogger((line) => logs.push(JSON.parse(line) as Record<string, unknown>));
  const gitRunner = new GitRunner(host);
  const workspaceDir = join(root, 'workspace');
  const workspace = new WorkspaceManager(workspaceDir, gitRunner, logger);
  await workspace.removeStale();
  const pipeline = new FixJobPipeline({
    config: { stateDir, limits: { maxContextFiles: 8, maxContextBytes: 200 * 1024, maxModelTokens: 1024, testTimeout: 20_000, ...TEST_AGENT_LIMITS } },
    git: gitRunner,
    workspace,
    contextEngine: new ContextEngine({ cacheDir: join(workspaceDir, 'context-index'), git: gitRunner }),
    contextWindow: () => Promise.resolve(undefined),
    inference: { chat: () => Promise.resolve(textAnswer(answer)) },
    applier: new EditBlockApplier(),
    testRunner: new TestCommandRunner(host, new TestSandbox('none', { dirs: [], files: [] })),
    macKey: Buffer.alloc(32, 7),
    logger,
    records: new JobRecordStore(stateDir, { maxAge: 3_600_000, maxBytes: 64 * 1024 * 1024 }, logger),
    // The repository declares no setup: SETUP has nothing to do.
    setup: new SetupRunner(new TestCommandRunner(host, new TestSandbox('none', { dirs: [], files: [] })), new TestSandbox('none', { dirs: [], files: [] }), { setup: { mirrors: [], env: {}, timeout: 20_000 } }),
    dependencyCache: new DependencyCache(join(workspaceDir, 'dependency-cache'), 1024 ** 3, host),
    // The repository has a push URL and no forge: the branch, and a copy in the outbox.
    delivery: { outbox: new DeliveryOutbox(join(root, 'delivery-outbox'), gitRunner), forgeClientFor: () => new InMemoryForge() },
  });
  const jobId = randomUUID();
  const result = await pipeline.run({
    jobId,
    attempt: 1,
    task: { repoAlias: 'demo', baseRef: 'main', ticketRef: '', deliveryJobId: '', deliveryGeneration: 0, ticket: TICKET },
    repo: { alias: 'demo', cloneUrl: origin, pushUrl: origin, branchPrefix: 'airlock/', baseRefs: ['main'] },
    policy: localJobPolicy(),
    signal: new AbortController().signal,
    progress: () => undefined,
    confirmLease: () => Promise.resolve(),
  });
  const reader = new JobRecordReader(stateDir);
  const listing = options.recordsUnwritable ? undefined : reader.find(jobId);
  return { result, listing, reader, origin, jobId, workspaceDir, logs };
}

describe('FixJobPipeline keeps a local record of each attempt (real git)', () => {
  it('keeps a rejected patch after its worktree is gone, with the failure code as its verdict, beside the prompt, the answer and the test log', async () => {
    const wrongFix = editBlock('  return a - b;', '  return a * b;');
    const { result, listing, reader, origin, jobId, workspaceDir } = await runAttempt(wrongFix);
    expect(result.outcome).toBe(JobOutcome.JOB_OUTCOME_FAILED);
    expect(readdirSync(join(workspaceDir, 'jobs'))).toEqual([]);
    const record = listing!.record!;
    expect(record).toMatchObject({ jobId, attempt: 1, repoAlias: 'demo', baseRef: 'main', ticketTitle: TICKET.title, state: 'ended' });
    expect(record.baseCommit).toBe(git(origin, 'rev-parse', 'main').trim());
    expect(record.result).toMatchObject({ outcome: 'JOB_OUTCOME_FAILED', failureCode: result.failureCode, failedPhase: result.failedPhase });
    expect(record.patches).toHaveLength(1);
    expect(record.patches[0]!.verdict).toBe(result.failureCode);
    expect(record.patches[0]!.verdicts.map((entry) => entry.verdict)).toEqual(['staged', 'tests-failed', result.failureCode]);
    const patch = readFileSync(join(listing!.directory, record.patches[0]!.file), 'utf8');
    expect(patch).toContain('-  return a - b;');
    expect(patch).toContain('+  return a * b;');
    const transcript = reader.transcript(listing!);
    expect(transcript.map((entry) => entry.kind)).toEqual(['prompt', 'answer', 'tool-call', 'tool-result', 'policy-review']);
    const prompt = JSON.stringify(transcript[0]);
    expect(prompt).toContain(TICKET.description);
    expect(prompt).toContain('return a - b;'); // the file content the model was shown
    expect(transcript[1]).toMatchObject({ kind: 'answer', endpoint: 'scripted', content: wrongFix, promptTokens: 100, completionTokens: 20 });
    expect(reader.logs(`${jobId}-1`).map((log) => log.name)).toContain('test');
  });

  it('marks the delivered patch delivered', async () => {
    const { result, listing } = await runAttempt(editBlock('  return a - b;', '  return a + b;'));
    expect(result.outcome).toBe(JobOutcome.JOB_OUTCOME_SUCCEEDED);
    expect(listing!.record!.result).toMatchObject({ outcome: 'JOB_OUTCOME_SUCCEEDED', deliveryMac: result.deliveryMac.toString('hex') });
    expect(listing!.record!.patches.map((patch) => patch.verdicts.map((entry) => entry.verdict))).toEqual([['staged', 'tests-passed', 'delivered']]);
  });

  it('keeps no patch when the edits change nothing (PATCH_EMPTY), but still the answer that made none', async () => {
    const { result, listing, reader } = await runAttempt(editBlock('  return a - b;', '  return a - b;'));
    expect(result.failureCode).toBe(FailureCode.PATCH_EMPTY);
    expect(listing!.record!.patches).toEqual([]);
    expect(listing!.record!.result?.failureCode).toBe('PATCH_EMPTY');
    expect(reader.transcript(listing!).map((entry) => entry.kind)).toEqual(['prompt', 'answer', 'tool-call', 'tool-result', 'policy-review']);
  });

  it('delivers all the same when the record cannot be written, and says so in the local log', async () => {
    const { result, origin, jobId, logs } = await runAttempt(editBlock('  return a - b;', '  return a + b;'), { recordsUnwritable: true });
    expect(result.outcome).toBe(JobOutcome.JOB_OUTCOME_SUCCEEDED);
    expect(git(origin, 'show', `airlock/${jobId}:src/calculator.js`)).toContain('return a + b;');
    expect(logs.filter((line) => line['event'] === 'job-record-write-failed').length).toBeGreaterThan(0);
    expect(logs.some((line) => line['event'] === 'job-record-retention-failed')).toBe(true);
  });
});
