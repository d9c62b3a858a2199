import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ContextEngine } from '@airlock/context-engine';
import { type ForgeDouble, jiraApi, protectBranches, startForgeDouble } from '@airlock/local-stack';
import { Delivery, FailureCode, JobOutcome, Phase, PhaseState, validateWorkerFrame, type JobResult__Output } from '@airlock/protocol';
import type { ForgeConfig, RepositoryConfig, TrackerConfig } from '../../config/worker-config.loader';
import { DeliveryOutbox } from '../../delivery/delivery-outbox';
import { ForgeError } from '../../delivery/forge/forge-client';
import { InMemoryForge } from '../../delivery/in-memory-forge.mock';
import { GitRunner } from '../../git/git-runner';
import { JsonLogger } from '../../logging/json-logger';
import type { JobPolicy } from '../../policy/job-policy';
import { localJobPolicy } from '../../policy/local-job-policy.mock';
import { FakeInferenceServer } from '../../testing/fake-inference-server.mock';
import { ticketCommentListener } from '../../tickets/ticket-comment.listener';
import { createTicketTracker } from '../../tickets/tracker.factory';
import { createBareRepo, git } from '../../testing/git-fixture.mock';
import { SCRIPTED_ENDPOINT, TEST_AGENT_LIMITS, textAnswer, toolBlock } from '../../testing/scripted-model.mock';
import { EditBlockApplier } from '../edits/edit-block.applier';
import { governedJobPolicy } from '../governance/governed-job-policy.mock';
import type { ChatAnswer, ChatRequest } from '../inference/conversation';
import { PromptTruncatedError } from '../inference/prompt-truncated.error';
import { InferenceRejectedError } from '../inference/inference-rejected.error';
import { InferenceUnavailableError } from '../inference/inference-unavailable.error';
import { InferenceClient } from '../inference/inference.client';
import { JobPhaseFailedError } from '../job-phase-failed.error';
import { type FailureCodeName, type PhaseName, keyedMac } from '../job-result.builder';
import { TestSandbox } from '../sandbox/test-sandbox';
import { TestCommandRunner } from '../test-command.runner';
import { JobRecordStore } from '../record/job-record.store';
import { DependencyCache } from '../setup/dependency-cache';
import { SetupRunner } from '../setup/setup.runner';
import { WorkspaceManager } from '../workspace/workspace.manager';
import { ABORT_REASON, FixJobPipeline } from './fix-job.pipeline';

jest.setTimeout(30_000);

/**
 * Every failure code the fix pipeline can end an attempt with, each produced by the phase
 * that owns it, through the real pipeline: real git (mirror, worktree, commit, push), the
 * real context selector, edit applier and test runner (its sandbox turned off: the sandbox
 * has its own spec). Only the model and the daemon's lease guard are fakes, scripted per row.
 */
const host = { path: process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin', lang: 'C.UTF-8' };
const MAC_KEY = Buffer.alloc(32, 7);
const HANG = ['node', '-e', 'setTimeout(() => {}, 60000)'];
/** Fails at once on the broken calculator and hangs on the fixed one: BASELINE passes, TEST times out. */
const HANG_WHEN_FIXED = ['node', '-e', "if (require('./src/calculator').add(2, 3) === 5) setTimeout(() => {}, 60000); else process.exit(1)"];
/** A calculator whose tests all pass at base, with a comment-only "fix" and a real reproduction. */
const GREEN_FILES = {
  'src/calculator.js': 'function add(a, b) {\n  return a + b;\n}\nmodule.exports = { add };\n',
  'check.js': "for (const test of require('fs').readdirSync('test')) require('./test/' + test);\n",
  'test/add.test.js': "if (require('../src/calculator').add(2, 3) !== 5) process.exit(1);\n",
};
const airlockYml = (command: readonly string[], extra = '') => `version: 1\ntest:\n  command: ${JSON.stringify(command)}\n${extra}`;
const FILES: Readonly<Record<string, string>> = {
  '.airlock.yml': airlockYml(['node', 'check.js']),
  'src/calculator.js': 'function add(a, b) {\n  return a - b;\n}\nmodule.exports = { add };\n',
  'check.js': "const { add } = require('./src/calculator');\nif (add(2, 3) !== 5) { console.error('add is broken'); process.exit(1); }\n",
};
const TICKET = { title: 'Fix add in calculator', description: 'add returns the difference of a and b instead of their sum' };
const editBlock = (path: string, search: string, replace: string) => `${path}\n<<<<<<< SEARCH\n${search}\n=======\n${replace}\n>>>>>>> REPLACE\n`;
const FIX = editBlock('src/calculator.js', '  return a - b;', '  return a + b;');
/** The ticket on the Jira double, for rows that name theirs by reference: CALC-1. */
const TRACKED_TICKET = { title: 'Sums come out as differences', description: 'The calculator subtracts when asked to add: add(2, 3) gives -1.' };
const JIRA_TOKEN = 'jira-pat-pipeline-spec';
/** The Jira double those rows read their ticket from: one for the file, started before any row runs. */
let jira: ForgeDouble;
beforeAll(async () => {
  jira = await startForgeDouble(jiraApi, { projects: {}, tokens: { [JIRA_TOKEN]: 'airlock-bot' } });
  jira.state.addIssue({ project: 'CALC', key: 'CALC-1', ...TRACKED_TICKET });
});
afterAll(() => jira.stop());
/** The worker's Jira tracker `jira`, on the double. */
const jiraTracker = (overrides: { readonly token?: string; readonly comment?: boolean } = {}): TrackerConfig => ({
  name: 'jira',
  type: 'jira',
  apiUrl: jira.origin,
  token: { env: 'AIRLOCK_JIRA_TOKEN', value: overrides.token ?? JIRA_TOKEN },
  timeoutMs: 5_000,
  comment: overrides.comment ?? false,
});
/** A row whose task names its ticket by `ticketRef`, with the worker's Jira tracker in its catalog. */
const byReference = (ticketRef: string, tracker: () => TrackerConfig = () => jiraTracker()): Scenario => ({ ticketRef, trackers: () => [tracker()] });
const FORGE: ForgeConfig = {
  type: 'gitlab',
  apiUrl: 'https://gitlab.corp.example/api/v4',
  project: 'group/demo',
  token: { env: 'AIRLOCK_FORGE_TOKEN', value: 'glpat-test' },
  labels: ['airlock'],
  reviewers: ['alice'],
  draft: false,
  timeoutMs: 5_000,
};
/** The repository with FORGE, whose client is `forge`, failing its first request with `failure` when one is given. */
const onForge = (forge: InMemoryForge, failure?: ForgeError): Scenario => ({
  repo: () => ({ forge: FORGE }),
  forge: failure === undefined ? forge : forge.intercept('findOpen', failure),
});

/** Handles a row's scripts get on the running attempt. */
interface Attempt {
  readonly signal: AbortSignal;
  /** What the daemon does on Cancel (ABORT_REASON.cancelled) or a forced shutdown (ABORT_REASON.shutdown). */
  abort(reason: string): void;
  /** What `AbortSignal.timeout(limits.jobTimeout)` does when the job runs out of time. */
  timeOut(): void;
}

/** What a row changes about the attempt; everything else is the happy path. */
interface Scenario {
  /** Files of the repository over FILES; null removes one. */
  readonly files?: Readonly<Record<string, string | null>>;
  readonly baseRef?: string;
  readonly repo?: (paths: { readonly root: string }) => Partial<RepositoryConfig>;
  /** The model, given the conversation so far; by default it answers FIX. */
  readonly model?: (attempt: Attempt, request: ChatRequest) => Promise<ChatAnswer>;
  /** Agent limits over TEST_AGENT_LIMITS. */
  readonly limits?: Partial<typeof TEST_AGENT_LIMITS>;
  /** The policy the job was admitted under; by default the local policy of a worker with the config's defaults. */
  readonly policy?: JobPolicy;
  readonly sandbox?: TestSandbox;
  /** The daemon's lease guard; by default the lease is confirmed. */
  readonly confirmLease?: (attempt: Attempt) => Promise<void>;
  readonly onProgress?: (phase: PhaseName, state: string, attempt: Attempt) => void;
  /** What happens on the git server before the attempt starts (a hook, a commit on the job's branch). */
  readonly prepareOrigin?: (origin: string, jobId: string) => void;
  /** The client of the repository's forge, when the scenario gives the repository one. */
  readonly forge?: InMemoryForge;
  /** The ticket named by reference instead of typed in; the task then carries no ticket text. */
  readonly ticketRef?: string;
  /** The worker's trackers (none by default); a function, since the Jira double starts after the rows are written. */
  readonly trackers?: () => readonly TrackerConfig[];
  /** What happens on the tracker before the attempt starts (an outage). */
  readonly prepareTracker?: (tracker: ForgeDouble) => void;
}

const answer = (content: string, usage?: { promptTokens: number }): Promise<ChatAnswer> => Promise.resolve(textAnswer(content, usage));
/** The answers the model has given so far in this conversation: which turn it is on. */
const turnOf = (request: ChatRequest) => request.messages.filter((message) => message.role === 'assistant').length;

/** How a request the signal aborts ends: the openai SDK rejects with its own abort error. */
const rejectOnAbort = (signal: AbortSignal) =>
  new Promise<never>((_resolve, reject) => {
    const aborted = () => reject(new Error('Request was aborted.'));
    if (signal.aborted) aborted();
    else signal.addEventListener('abort', aborted, { once: true });
  });

interface Run {
  readonly result: JobResult__Output;
  readonly events: string[];
  readonly origin: string;
  readonly jobId: string;
  readonly workspaceDir: string;
  /** The local `phase-failed` log lines. */
  readonly failures: ReadonlyArray<Record<string, unknown>>;
}

const cleanups: string[] = [];
afterAll(() => {
  for (const dir of cleanups) rmSync(dir, { recursive: true, force: true });
});

async function runAttempt(scenario: Scenario = {}): Promise<Run> {
  const root = mkdtempSync(join(tmpdir(), 'airlock-pipeline-it-'));
  const files = Object.fromEntries(Object.entries({ ...FILES, ...scenario.files }).filter((entry): entry is [string, string] => entry[1] !== null));
  const origin = createBareRepo(files);
  cleanups.push(root, dirname(origin));
  const workspaceDir = join(root, 'workspace');
  const stateDir = join(root, 'state');
  mkdirSync(join(stateDir, 'job-logs'), { recursive: true });
  const logs: Array<Record<string, unknown>> = [];
  const logger = new JsonLogger((line) => logs.push(JSON.parse(line) as Record<string, unknown>));
  const gitRunner = new GitRunner(host);
  const cancel = new AbortController();
  const timeout = new AbortController();
  const attempt: Attempt = {
    // As the daemon composes it: its own controller and the local job timeout.
    signal: AbortSignal.any([cancel.signal, timeout.signal]),
    abort: (reason) => cancel.abort(reason),
    timeOut: () => timeout.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')),
  };
  const workspace = new WorkspaceManager(workspaceDir, gitRunner, logger);
  await workspace.removeStale(); // as the daemon does at start: creates jobs/ and mirrors/
  const setupSandbox = scenario.sandbox ?? new TestSandbox('none', { dirs: [], files: [] });
  const trackers = scenario.trackers?.() ?? [];
  // As run.command builds them, but never retrying: a retry would wait out its back-off.
  const trackerClient = (tracker: TrackerConfig) => createTicketTracker(tracker, { maxRetries: 0, retryBudgetMs: 0 });
  const pipeline = new FixJobPipeline({
    config: { stateDir, limits: { maxContextFiles: 8, maxContextBytes: 200 * 1024, maxModelTokens: 1024, testTimeout: 20_000, ...TEST_AGENT_LIMITS, ...scenario.limits } },
    git: gitRunner,
    workspace,
    contextEngine: new ContextEngine({ cacheDir: join(workspaceDir, 'context-index'), git: gitRunner }),
    contextWindow: () => Promise.resolve(undefined),
    inference: { chat: (request) => (scenario.model ? scenario.model(attempt, request) : answer(FIX)) },
    applier: new EditBlockApplier(),
    testRunner: new TestCommandRunner(host, scenario.sandbox ?? new TestSandbox('none', { dirs: [], files: [] })),
    macKey: MAC_KEY,
    logger,
    records: new JobRecordStore(stateDir, { maxAge: 3_600_000, maxBytes: 64 * 1024 * 1024 }, logger),
    setup: new SetupRunner(new TestCommandRunner(host, setupSandbox), setupSandbox, { setup: { mirrors: [], env: {}, timeout: 20_000 } }),
    dependencyCache: new DependencyCache(join(workspaceDir, 'dependency-cache'), 1024 ** 3, host),
    delivery: {
      outbox: new DeliveryOutbox(join(root, 'delivery-outbox'), gitRunner),
      forgeClientFor: () => scenario.forge ?? new InMemoryForge(),
      afterMergeRequest: [ticketCommentListener(trackers, trackerClient)],
    },
    trackerFor: (name) => {
      const tracker = trackers.find((entry) => entry.name === name);
      return tracker && trackerClient(tracker);
    },
  });
  const jobId = randomUUID();
  scenario.prepareOrigin?.(origin, jobId);
  scenario.prepareTracker?.(jira);
  const events: string[] = [];
  const repo: RepositoryConfig = { alias: 'demo', cloneUrl: origin, pushUrl: origin, branchPrefix: 'airlock/', baseRefs: ['main', 'develop'], ...scenario.repo?.({ root }) };
  const result = await pipeline.run({
    jobId,
    attempt: 1,
    task: { repoAlias: 'demo', baseRef: scenario.baseRef ?? 'main', ticketRef: scenario.ticketRef ?? '', deliveryJobId: '', deliveryGeneration: 0, ticket: scenario.ticketRef === undefined ? TICKET : null },
    repo,
    policy: scenario.policy ?? localJobPolicy(),
    signal: attempt.signal,
    progress: (phase, state) => {
      events.push(`${phase} ${state}`);
      scenario.onProgress?.(phase, state, attempt);
    },
    confirmLease: () => (scenario.confirmLease ? scenario.confirmLease(attempt) : Promise.resolve()),
  });
  return { result, events, origin, jobId, workspaceDir, failures: logs.filter((line) => line['event'] === 'phase-failed') };
}

interface Row {
  readonly code: FailureCodeName;
  readonly phase: PhaseName;
  /** The name of what the phase threw, as the local log shows it: a JobError's code wins, anything else is the phase default. */
  readonly raised: string;
  readonly how: string;
  readonly scenario: Scenario;
  /** Whether the job's branch is on the git server afterwards: pushed before the forge failed, or a person's. */
  readonly branchAfter?: boolean;
}

const row = (code: FailureCodeName, phase: PhaseName, raised: string, how: string, scenario: Scenario, branchAfter = false): Row => ({ code, phase, raised, how, scenario, branchAfter });

/** Failure code → the phase that produces it, and how. A code may have more than one row. */
const TABLE: readonly Row[] = [
  row(FailureCode.TRACKER_UNKNOWN, Phase.PHASE_TICKET, 'JobPhaseFailedError', 'the reference names a tracker the catalog does not have', byReference('youtrack:CALC-1')),
  row(FailureCode.TICKET_NOT_FOUND, Phase.PHASE_TICKET, 'TrackerError', 'the tracker has no such ticket (404)', byReference('jira:CALC-404')),
  row(FailureCode.TICKET_NOT_FOUND, Phase.PHASE_TICKET, 'TrackerError', 'the key is not a Jira key: refused before any request', byReference('jira:calc-1')),
  row(FailureCode.TRACKER_AUTH_FAILED, Phase.PHASE_TICKET, 'TrackerError', "the tracker refuses the worker's token (401)", byReference('jira:CALC-1', () => jiraTracker({ token: 'jira-pat-revoked' }))),
  row(FailureCode.TRACKER_UNAVAILABLE, Phase.PHASE_TICKET, 'TrackerError', 'the tracker answers 503 and the retries are spent', {
    ...byReference('jira:CALC-1'),
    prepareTracker: (tracker) => tracker.injectAnswers(1, { status: 503 }),
  }),
  row(FailureCode.WORKSPACE_FAILED, Phase.PHASE_WORKSPACE, 'BaseRefNotFoundError', 'the base branch does not exist', { baseRef: 'develop' }),
  row(FailureCode.WORKSPACE_FAILED, Phase.PHASE_WORKSPACE, 'GitCommandFailedError', 'the clone URL does not answer (the phase default)', {
    repo: ({ root }) => ({ cloneUrl: join(root, 'no-such-repo.git') }),
  }),
  row(FailureCode.REPO_CONFIG_INVALID, Phase.PHASE_WORKSPACE, 'RepoConfigInvalidError', 'the base branch has no .airlock.yml', { files: { '.airlock.yml': null } }),
  row(FailureCode.REPO_CONFIG_INVALID, Phase.PHASE_WORKSPACE, 'RepoConfigInvalidError', '.airlock.yml has no test command', {
    files: { '.airlock.yml': 'version: 1\ntest: {}\n' },
  }),
  row(FailureCode.SETUP_FAILED, Phase.PHASE_SETUP, 'JobPhaseFailedError', "a setup command of .airlock.yml exits non-zero", {
    files: { '.airlock.yml': airlockYml(['node', 'check.js'], 'setup:\n  commands: [["node", "-e", "process.exit(1)"]]\n') },
  }),
  row(FailureCode.SETUP_TIMED_OUT, Phase.PHASE_SETUP, 'JobPhaseFailedError', "setup outlasts .airlock.yml's setup.timeout", {
    files: { '.airlock.yml': airlockYml(['node', 'check.js'], `setup:\n  commands: [${JSON.stringify(HANG)}]\n  timeout: 300ms\n`) },
  }),
  row(FailureCode.CONTEXT_EMPTY, Phase.PHASE_CONTEXT, 'JobPhaseFailedError', ".airlock.yml's context.include matches no file", {
    files: { '.airlock.yml': airlockYml(['node', 'check.js'], "context:\n  include: ['docs/**']\n") },
  }),
  row(FailureCode.INFERENCE_UNAVAILABLE, Phase.PHASE_INFERENCE, 'InferenceUnavailableError', 'no endpoint answered', {
    model: () => Promise.reject(new InferenceUnavailableError([{ ...SCRIPTED_ENDPOINT, requests: 2, promptTokens: 0, completionTokens: 0 }])),
  }),
  row(FailureCode.INFERENCE_FAILED, Phase.PHASE_INFERENCE, 'InferenceRejectedError', 'the endpoint refused the request (4xx)', {
    model: () => Promise.reject(new InferenceRejectedError(400, [{ ...SCRIPTED_ENDPOINT, requests: 1, promptTokens: 0, completionTokens: 0 }])),
  }),
  row(FailureCode.MODEL_OUTPUT_UNUSABLE, Phase.PHASE_INFERENCE, 'JobPhaseFailedError', 'the answer outgrew the size bound (as InferenceClient reports it)', {
    model: () => Promise.reject(new JobPhaseFailedError(FailureCode.MODEL_OUTPUT_UNUSABLE, 'model answer too long')),
  }),
  row(FailureCode.MODEL_OUTPUT_UNUSABLE, Phase.PHASE_APPLY, 'JobPhaseFailedError', 'the answer holds no edit block', { model: () => answer('The bug is in add: it subtracts.') }),
  row(FailureCode.PATCH_APPLY_FAILED, Phase.PHASE_APPLY, 'JobPhaseFailedError', "no edit block's SEARCH matches the file", {
    model: () => answer(editBlock('src/calculator.js', '  return a / b;', '  return a + b;')),
  }),
  row(FailureCode.PATCH_APPLY_FAILED, Phase.PHASE_INFERENCE, 'EditPathRejectedError', 'an edit aims at .airlock.yml: the loop stops there', {
    model: () => answer(`${FIX}${editBlock('.airlock.yml', '  command: ["node","check.js"]', '  command: ["true"]')}`),
  }),
  row(FailureCode.PROMPT_TRUNCATED, Phase.PHASE_INFERENCE, 'PromptTruncatedError', 'the server counted a fraction of the prompt (as InferenceClient reports it)', {
    model: () => Promise.reject(new PromptTruncatedError(270, 2_500)),
  }),
  row(FailureCode.AGENT_TURNS_EXHAUSTED, Phase.PHASE_INFERENCE, 'AgentLimitReachedError', 'the model keeps reading and never edits', {
    model: () => answer(toolBlock('read_file', { path: 'src/calculator.js' })),
  }),
  row(FailureCode.TOKEN_BUDGET_EXHAUSTED, Phase.PHASE_INFERENCE, 'AgentLimitReachedError', 'two answers spend more tokens than the job may', {
    model: () => answer(toolBlock('list_dir'), { promptTokens: 60_000 }),
  }),
  row(FailureCode.AGENT_TIME_EXHAUSTED, Phase.PHASE_INFERENCE, 'AgentLimitReachedError', 'the model is still thinking when the loop runs out of time', {
    limits: { agentTimeout: 300 },
    model: (_attempt, request) => rejectOnAbort(request.signal),
  }),
  row(FailureCode.CHANGE_TOO_LARGE, Phase.PHASE_APPLY, 'PolicyViolationError', 'the change has more lines than limits.maxChangedLines (max-lines-changed), after the feedback rounds', {
    policy: governedJobPolicy({ limits: { maxChangedLines: 1 } }),
  }),
  row(FailureCode.POLICY_VIOLATION, Phase.PHASE_APPLY, 'PolicyViolationError', 'the change still edits a protected CI workflow after the feedback rounds', {
    files: { '.github/workflows/ci.yml': 'on: push\n' },
    model: () => answer(`${FIX}${editBlock('.github/workflows/ci.yml', 'on: push', 'on: pull_request')}`),
  }),
  row(FailureCode.POLICY_VIOLATION, Phase.PHASE_TEST, 'PolicyViolationError', 'fewer tests ran on the change than min-tests-run', {
    policy: governedJobPolicy({ centralRules: { 'min-tests-run': { min: 1, level: 'mandatory' } } }),
  }),
  row(FailureCode.PATCH_EMPTY, Phase.PHASE_APPLY, 'JobPhaseFailedError', 'the edit replaces a line with itself', {
    model: () => answer(editBlock('src/calculator.js', '  return a - b;', '  return a - b;')),
  }),
  row(FailureCode.TESTS_FAILED, Phase.PHASE_TEST, 'JobPhaseFailedError', 'the edit breaks the tests', {
    model: () => answer(editBlock('src/calculator.js', '  return a - b;', '  return a * b;')),
  }),
  row(FailureCode.TESTS_REGRESSED, Phase.PHASE_TEST, 'JobPhaseFailedError', 'every test passes at base and the edit breaks one', {
    files: GREEN_FILES,
    model: () => answer(editBlock('src/calculator.js', '  return a + b;', '  return a - b;')),
  }),
  row(FailureCode.REPRODUCTION_MISSING, Phase.PHASE_TEST, 'JobPhaseFailedError', 'every test passes at base and the change only adds a comment', {
    files: GREEN_FILES,
    model: () => answer(editBlock('src/calculator.js', '  return a + b;', '  // adds a and b\n  return a + b;')),
  }),
  row(FailureCode.REPRODUCTION_MISSING, Phase.PHASE_TEST, 'JobPhaseFailedError', 'every test passes at base and the added test passes without the fix too', {
    files: GREEN_FILES,
    model: () =>
      answer(
        `${editBlock('src/calculator.js', '  return a + b;', '  return Number(a) + Number(b);')}${editBlock('test/zero.test.js', '', "if (require('../src/calculator').add(0, 0) !== 0) process.exit(1);")}`,
      ),
  }),
  row(FailureCode.TESTS_TIMED_OUT, Phase.PHASE_BASELINE, 'JobPhaseFailedError', "the test command outlasts .airlock.yml's timeout at the base commit", {
    files: { '.airlock.yml': airlockYml(HANG, '  timeout: 300ms\n') },
  }),
  row(FailureCode.TESTS_TIMED_OUT, Phase.PHASE_TEST, 'JobPhaseFailedError', "the test command outlasts .airlock.yml's timeout on the change", {
    files: { '.airlock.yml': airlockYml(HANG_WHEN_FIXED, '  timeout: 1s\n') },
  }),
  row(FailureCode.TESTS_NOT_RUNNABLE, Phase.PHASE_BASELINE, 'JobPhaseFailedError', 'the test command does not exist, so no change could be verified', {
    files: { '.airlock.yml': airlockYml(['airlock-no-such-test-command']) },
  }),
  row(FailureCode.INTERNAL, Phase.PHASE_BASELINE, 'SandboxUnavailableError', 'the sandbox cannot be set up (the phase default)', {
    sandbox: new TestSandbox('bwrap', { dirs: ['/'], files: [] }),
  }),
  row(FailureCode.BRANCH_NOT_ALLOWED, Phase.PHASE_DELIVER, 'JobPhaseFailedError', 'the branch name is not a valid ref', { repo: () => ({ branchPrefix: 'airlock..' }) }),
  row(FailureCode.LEASE_UNCONFIRMED, Phase.PHASE_DELIVER, 'JobPhaseFailedError', 'the lease guard shows no renewal', {
    confirmLease: () => Promise.reject(new JobPhaseFailedError(FailureCode.LEASE_UNCONFIRMED, 'no lease renewal')),
  }),
  row(FailureCode.AUDIT_LOG_UNAVAILABLE, Phase.PHASE_DELIVER, 'JobPhaseFailedError', 'the lease guard could not record its heartbeat', {
    confirmLease: () => Promise.reject(new JobPhaseFailedError(FailureCode.AUDIT_LOG_UNAVAILABLE, 'heartbeat not recorded')),
  }),
  row(FailureCode.DELIVERY_FAILED, Phase.PHASE_DELIVER, 'GitCommandFailedError', 'the push URL does not answer (the phase default)', {
    repo: ({ root }) => ({ pushUrl: join(root, 'no-such-remote.git') }),
  }),
  row(FailureCode.BRANCH_PROTECTED, Phase.PHASE_DELIVER, 'JobPhaseFailedError', "a protection rule refuses the push (GitLab's message from a pre-receive hook)", {
    prepareOrigin: (origin) => protectBranches(origin, 'airlock/*', 'gitlab'),
  }),
  row(
    FailureCode.DELIVERY_SUPERSEDED,
    Phase.PHASE_DELIVER,
    'JobPhaseFailedError',
    "a person's commit is the branch tip",
    { prepareOrigin: (origin, jobId) => git(origin, 'update-ref', `refs/heads/airlock/${jobId}`, 'main') },
    true,
  ),
  row(FailureCode.FORGE_UNAVAILABLE, Phase.PHASE_DELIVER, 'JobPhaseFailedError', 'the forge does not answer', onForge(new InMemoryForge(), new ForgeError('unavailable', 'connect ECONNREFUSED')), true),
  row(FailureCode.FORGE_AUTH_FAILED, Phase.PHASE_DELIVER, 'JobPhaseFailedError', "the forge refuses the worker's token", onForge(new InMemoryForge(), new ForgeError('auth', '401 Unauthorized', 401)), true),
  row(FailureCode.FORGE_RATE_LIMITED, Phase.PHASE_DELIVER, 'JobPhaseFailedError', 'the forge still rate limits past the retry budget', onForge(new InMemoryForge(), new ForgeError('rate-limited', '429', 429)), true),
  row(
    FailureCode.FORGE_REQUEST_REFUSED,
    Phase.PHASE_DELIVER,
    'JobPhaseFailedError',
    'the forge refuses the request (an unknown target branch)',
    onForge(new InMemoryForge().intercept('open', new ForgeError('refused', '422 target branch does not exist', 422))),
    true,
  ),
  // Aborts: the abort's reason wins over whatever the interrupted work threw.
  row(FailureCode.CANCELLED, Phase.PHASE_INFERENCE, 'Error', 'a Cancel arrives while the model thinks', {
    model: (attempt) => {
      attempt.abort(ABORT_REASON.cancelled);
      return rejectOnAbort(attempt.signal);
    },
  }),
  row(FailureCode.WORKER_SHUTDOWN, Phase.PHASE_DELIVER, 'Error', 'a forced shutdown comes while the lease guard waits for a renewal', {
    confirmLease: (attempt) => {
      attempt.abort(ABORT_REASON.shutdown);
      return rejectOnAbort(attempt.signal);
    },
  }),
  row(FailureCode.JOB_TIMED_OUT, Phase.PHASE_BASELINE, 'TimeoutError', 'the job timeout fires while the tests run at the base commit', {
    files: { '.airlock.yml': airlockYml(HANG) },
    onProgress: (phase, state, attempt) => {
      if (phase === Phase.PHASE_BASELINE && state === PhaseState.PHASE_STATE_STARTED) setTimeout(() => attempt.timeOut(), 300);
    },
  }),
];

/** The codes the fix pipeline can end an attempt with: each needs a row above. */
const PIPELINE_FAILURE_CODES: readonly FailureCodeName[] = [
  FailureCode.TRACKER_UNKNOWN,
  FailureCode.TICKET_NOT_FOUND,
  FailureCode.TRACKER_AUTH_FAILED,
  FailureCode.TRACKER_UNAVAILABLE,
  FailureCode.WORKSPACE_FAILED,
  FailureCode.REPO_CONFIG_INVALID,
  FailureCode.SETUP_FAILED,
  FailureCode.SETUP_TIMED_OUT,
  FailureCode.CONTEXT_EMPTY,
  FailureCode.INFERENCE_UNAVAILABLE,
  FailureCode.INFERENCE_FAILED,
  FailureCode.MODEL_OUTPUT_UNUSABLE,
  FailureCode.PATCH_APPLY_FAILED,
  FailureCode.PATCH_EMPTY,
  FailureCode.PROMPT_TRUNCATED,
  FailureCode.AGENT_TURNS_EXHAUSTED,
  FailureCode.TOKEN_BUDGET_EXHAUSTED,
  FailureCode.AGENT_TIME_EXHAUSTED,
  FailureCode.CHANGE_TOO_LARGE,
  FailureCode.POLICY_VIOLATION,
  FailureCode.TESTS_FAILED,
  FailureCode.TESTS_TIMED_OUT,
  FailureCode.TESTS_NOT_RUNNABLE,
  FailureCode.TESTS_REGRESSED,
  FailureCode.REPRODUCTION_MISSING,
  FailureCode.DELIVERY_FAILED,
  FailureCode.BRANCH_NOT_ALLOWED,
  FailureCode.BRANCH_PROTECTED,
  FailureCode.DELIVERY_SUPERSEDED,
  FailureCode.FORGE_UNAVAILABLE,
  FailureCode.FORGE_AUTH_FAILED,
  FailureCode.FORGE_RATE_LIMITED,
  FailureCode.FORGE_REQUEST_REFUSED,
  FailureCode.CANCELLED,
  FailureCode.WORKER_SHUTDOWN,
  FailureCode.JOB_TIMED_OUT,
  FailureCode.INTERNAL,
  FailureCode.LEASE_UNCONFIRMED,
  FailureCode.AUDIT_LOG_UNAVAILABLE,
];

/**
 * The error's name in a `phase-failed` line. An Error is logged as `{name, message}`; the
 * job timeout's DOMException is not an Error in jest's realm, so it comes as `String(error)`.
 */
const errorName = (logged: unknown) => (typeof logged === 'string' ? logged.split(':')[0] : (logged as { name?: unknown } | undefined)?.name);

const CANCELLED_CODES: readonly FailureCodeName[] = [FailureCode.CANCELLED, FailureCode.WORKER_SHUTDOWN];

describe('FixJobPipeline: each failure code, from the phase that produces it (real git)', () => {
  it('has a row for every code the pipeline can produce, and no other', () => {
    expect([...new Set(TABLE.map((row) => row.code))].sort()).toEqual([...PIPELINE_FAILURE_CODES].sort());
  });

  it.each(TABLE)('$code from $phase: $how', async ({ code, phase, raised, scenario, branchAfter }) => {
    const { result, events, origin, jobId, workspaceDir, failures } = await runAttempt(scenario);
    expect({ failureCode: result.failureCode, failedPhase: result.failedPhase, outcome: result.outcome }).toEqual({
      failureCode: code,
      failedPhase: phase,
      outcome: CANCELLED_CODES.includes(code) ? JobOutcome.JOB_OUTCOME_CANCELLED : JobOutcome.JOB_OUTCOME_FAILED,
    });
    expect(events.at(-1)).toBe(`${phase} ${PhaseState.PHASE_STATE_FAILED}`);
    expect(failures.map((line) => ({ phase: line['phase'], failureCode: line['failureCode'], raised: errorName(line['error']) }))).toEqual([{ phase, failureCode: code, raised }]);
    expect(result.phaseDurations.at(-1)?.phase).toBe(phase);
    // No branch but where the push got through (or a person's was there), and the worktree is gone, however the attempt failed.
    expect(git(origin, 'for-each-ref', '--format=%(refname)').trim().split('\n')).toEqual([...(branchAfter ? [`refs/heads/airlock/${jobId}`] : []), 'refs/heads/main']);
    expect(readdirSync(join(workspaceDir, 'jobs'))).toEqual([]);
  });
});

describe('FixJobPipeline: what the result reports (real git)', () => {
  it('pushes the fix to airlock/<jobId> with every phase reported and timed, counts and MACs set, worktree removed', async () => {
    const { result, events, origin, jobId, workspaceDir } = await runAttempt();
    const phases = [Phase.PHASE_WORKSPACE, Phase.PHASE_SETUP, Phase.PHASE_BASELINE, Phase.PHASE_CONTEXT, Phase.PHASE_INFERENCE, Phase.PHASE_APPLY, Phase.PHASE_TEST, Phase.PHASE_DELIVER];
    expect(result).toMatchObject({
      outcome: JobOutcome.JOB_OUTCOME_SUCCEEDED,
      failureCode: FailureCode.FAILURE_CODE_UNSPECIFIED,
      failedPhase: Phase.PHASE_UNSPECIFIED,
      tokens: { requests: 1, promptTokens: 100, completionTokens: 20 },
      modelUsage: [{ ...SCRIPTED_ENDPOINT, requests: 1, promptTokens: 100, completionTokens: 20 }],
      change: { filesChanged: 1, linesAdded: 1, linesRemoved: 1, editsProposed: 1, editsApplied: 1 },
      verification: { testsRan: true, testExitCode: 0, baseTestsRan: true, baseTestExitCode: 1, baseReportRead: false, reportRead: false, reproductionAdded: false },
      delivery: Delivery.DELIVERY_BRANCH,
    });
    expect(result.contextFiles).toBeGreaterThan(0);
    expect(events).toEqual(phases.flatMap((phase) => [`${phase} ${PhaseState.PHASE_STATE_STARTED}`, `${phase} ${PhaseState.PHASE_STATE_COMPLETED}`]));
    expect(result.phaseDurations.map((entry) => entry.phase)).toEqual(phases);
    expect(result.deliveryMac).toEqual(keyedMac(MAC_KEY, 'delivery', `refs/heads/airlock/${jobId}`));
    expect(result.changeMac).toHaveLength(32);
    // A typed ticket names no reference: nothing to match it by.
    expect(result.ticketRefMac).toEqual(Buffer.alloc(0));
    expect(git(origin, 'show', `airlock/${jobId}:src/calculator.js`)).toContain('return a + b;');
    expect(git(origin, 'log', '-1', '--format=%an <%ae>', `airlock/${jobId}`).trim()).toBe('Airlock <airlock@localhost>');
    expect(readdirSync(join(workspaceDir, 'jobs'))).toEqual([]);
  });

  it('opens a merge request for the pushed branch on the repository\'s forge, and says so', async () => {
    const forge = new InMemoryForge();
    const { result, jobId } = await runAttempt(onForge(forge));
    expect(result).toMatchObject({ outcome: JobOutcome.JOB_OUTCOME_SUCCEEDED, delivery: Delivery.DELIVERY_MERGE_REQUEST_OPENED, deliveryMac: keyedMac(MAC_KEY, 'delivery', `refs/heads/airlock/${jobId}`) });
    expect(forge.requests.map((request) => request.draft)).toEqual([
      expect.objectContaining({ sourceBranch: `airlock/${jobId}`, targetBranch: 'main', title: TICKET.title, labels: ['airlock'], reviewers: ['alice'], draft: false }),
    ]);
    expect(forge.closed).toBe(true);
    expect(() => validateWorkerFrame({ frame: 'result', result })).not.toThrow();
  });

  it("reads a ticket named by reference first: the model, the commit and the merge request get the tracker's text, the result the reference's MAC, the ticket a comment", async () => {
    const forge = new InMemoryForge();
    const prompts: string[] = [];
    const { result, events, origin, jobId, workspaceDir } = await runAttempt({
      ...onForge(forge),
      ...byReference('jira:CALC-1', () => jiraTracker({ comment: true })),
      model: (_attempt, request) => {
        prompts.push(request.messages.map((message) => message.content).join('\n'));
        return answer(FIX);
      },
    });
    const phases = [Phase.PHASE_TICKET, Phase.PHASE_WORKSPACE, Phase.PHASE_SETUP, Phase.PHASE_BASELINE, Phase.PHASE_CONTEXT, Phase.PHASE_INFERENCE, Phase.PHASE_APPLY, Phase.PHASE_TEST, Phase.PHASE_DELIVER];
    expect(result).toMatchObject({ outcome: JobOutcome.JOB_OUTCOME_SUCCEEDED, delivery: Delivery.DELIVERY_MERGE_REQUEST_OPENED, ticketRefMac: keyedMac(MAC_KEY, 'ticket-ref', 'jira:CALC-1') });
    expect(events).toEqual(phases.flatMap((phase) => [`${phase} ${PhaseState.PHASE_STATE_STARTED}`, `${phase} ${PhaseState.PHASE_STATE_COMPLETED}`]));
    expect(result.phaseDurations.map((entry) => entry.phase)).toEqual(phases);
    expect(prompts[0]).toContain(TRACKED_TICKET.title);
    expect(prompts[0]).toContain(TRACKED_TICKET.description);
    expect(git(origin, 'log', '-1', '--format=%s', `airlock/${jobId}`).trim()).toBe(TRACKED_TICKET.title);
    const [request] = forge.requests;
    expect(request?.draft.title).toBe(TRACKED_TICKET.title);
    expect(request?.draft.body).toContain(TRACKED_TICKET.description);
    expect(jira.state.issue('CALC', 'CALC-1')?.comments.map((comment) => comment.body)).toEqual([`Airlock opened a merge request for this ticket: ${request?.webUrl ?? ''}`]);
    const transcript = readFileSync(join(dirname(workspaceDir), 'state', 'job-records', `${jobId}-1`, 'transcript.jsonl'), 'utf8');
    expect(transcript).toContain(`ticket: jira:CALC-1 read from tracker jira: ${TRACKED_TICKET.title}`);
    expect(() => validateWorkerFrame({ frame: 'result', result })).not.toThrow();
  });

  it('reports that the tests did not run when the test command does not exist, and asks the model nothing', async () => {
    let asked = 0;
    const { result } = await runAttempt({
      files: { '.airlock.yml': airlockYml(['airlock-no-such-test-command']) },
      model: () => {
        asked += 1;
        return answer(FIX);
      },
    });
    expect(result).toMatchObject({ failureCode: FailureCode.TESTS_NOT_RUNNABLE, failedPhase: Phase.PHASE_BASELINE, verification: { baseTestsRan: false, testsRan: false } });
    expect(asked).toBe(0);
  });

  it('delivers a fix on a green repository when the change brings a test that fails without it, and says so', async () => {
    const { result, origin, jobId } = await runAttempt({
      files: GREEN_FILES,
      model: () =>
        answer(
          `${editBlock('src/calculator.js', '  return a + b;', '  return Number(a) + Number(b);')}${editBlock('test/strings.test.js', '', "if (require('../src/calculator').add('2', '3') !== 5) process.exit(1);")}`,
        ),
    });
    expect(result).toMatchObject({
      outcome: JobOutcome.JOB_OUTCOME_SUCCEEDED,
      verification: { baseTestsRan: true, baseTestExitCode: 0, testsRan: true, testExitCode: 0, reproductionAdded: true, testsFixed: 0 },
      change: { filesChanged: 2 },
    });
    // The fix went back in after the reproduction run took it out.
    expect(git(origin, 'show', `airlock/${jobId}:src/calculator.js`)).toContain('Number(a) + Number(b)');
    expect(git(origin, 'show', `airlock/${jobId}:test/strings.test.js`)).toContain("add('2', '3')");
  });

  it('counts the requests of a conversation no endpoint could finish on each endpoint tried, the totals their sums', async () => {
    const primaryFailed = { endpointIndex: 0, endpoint: 'gpu-box', model: 'Qwen/Qwen2.5-Coder-32B-Instruct', requests: 3, promptTokens: 0, completionTokens: 0 };
    const { result } = await runAttempt({
      model: (_attempt, request) => {
        // Turn 1: the primary failed three tries, the fallback (index 2) answered; turn 2: both failed.
        if (turnOf(request) === 0) {
          const fallback = { endpointIndex: 2, endpoint: 'cpu-box', model: 'qwen2.5-coder:7b', requests: 1, promptTokens: 400, completionTokens: 50 };
          return Promise.resolve({ ...textAnswer(toolBlock('list_dir')), requests: 4, promptTokens: 400, completionTokens: 50, endpoint: 'cpu-box', usage: [primaryFailed, fallback] });
        }
        return Promise.reject(new InferenceUnavailableError([primaryFailed, { endpointIndex: 2, endpoint: 'cpu-box', model: 'qwen2.5-coder:7b', requests: 3, promptTokens: 0, completionTokens: 0 }]));
      },
    });
    expect(result).toMatchObject({
      failureCode: FailureCode.INFERENCE_UNAVAILABLE,
      tokens: { requests: 10, promptTokens: 400, completionTokens: 50 },
      modelUsage: [
        { endpointIndex: 0, endpoint: 'gpu-box', model: 'Qwen/Qwen2.5-Coder-32B-Instruct', requests: 6, promptTokens: 0, completionTokens: 0 },
        { endpointIndex: 2, endpoint: 'cpu-box', model: 'qwen2.5-coder:7b', requests: 4, promptTokens: 400, completionTokens: 50 },
      ],
    });
    expect(() => validateWorkerFrame({ frame: 'result', result })).not.toThrow();
  });

  it('reports a primary that answered 5xx and the fallback that answered through a real inference client: indexes 0 and 1, totals their sums', async () => {
    const primary = createServer((request, response) => {
      request.resume();
      request.on('end', () => response.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'overloaded', type: 'server_error' } })));
    });
    await new Promise<void>((resolve) => primary.listen(0, '127.0.0.1', resolve));
    const fallback = new FakeInferenceServer('qwen2.5-coder:7b', () => FIX);
    await fallback.start();
    const client = new InferenceClient(
      [
        { name: 'gpu-box', baseUrl: `http://127.0.0.1:${(primary.address() as AddressInfo).port}/v1`, model: 'Qwen/Qwen2.5-Coder-32B-Instruct', apiKey: undefined, timeoutMs: 5_000, toolCalling: 'auto' },
        { name: 'cpu-box', baseUrl: fallback.baseUrl, model: 'qwen2.5-coder:7b', apiKey: undefined, timeoutMs: 5_000, toolCalling: 'auto' },
      ],
      new JsonLogger(() => undefined),
      { settings: { backoffBaseMs: 5, backoffCapMs: 20 } },
    );
    const policy = localJobPolicy();
    try {
      const { result } = await runAttempt({
        policy: { ...policy, enforced: { ...policy.enforced, inferenceEndpoints: ['gpu-box', 'cpu-box'] } },
        model: (_attempt, request) => client.chat(request),
      });
      expect(result.outcome).toBe(JobOutcome.JOB_OUTCOME_SUCCEEDED);
      expect(result.modelUsage).toEqual([
        { endpointIndex: 0, endpoint: 'gpu-box', model: 'Qwen/Qwen2.5-Coder-32B-Instruct', requests: 3, promptTokens: 0, completionTokens: 0 },
        { endpointIndex: 1, endpoint: 'cpu-box', model: 'qwen2.5-coder:7b', requests: 1, promptTokens: 321, completionTokens: 54 },
      ]);
      expect(result.tokens).toEqual({ requests: 4, promptTokens: 321, completionTokens: 54 });
      expect(() => validateWorkerFrame({ frame: 'result', result })).not.toThrow();
    } finally {
      await client.close();
      await fallback.stop();
      primary.closeAllConnections();
      await new Promise<void>((resolve) => primary.close(() => resolve()));
    }
  });

  it('lets the model try again: a first fix that fails the tests, seen through run_tests, then one that passes', async () => {
    const conversations: string[] = [];
    const { result, origin, jobId } = await runAttempt({
      model: (_attempt, request) => {
        conversations.push(request.messages.map((message) => ('content' in message ? message.content : '')).join('\n'));
        if (turnOf(request) === 0) return answer(`${editBlock('src/calculator.js', '  return a - b;', '  return a * b;')}${toolBlock('run_tests')}`);
        return answer(`${editBlock('src/calculator.js', '  return a * b;', '  return a + b;')}${toolBlock('finish', { summary: 'add adds' })}`);
      },
    });
    expect(result).toMatchObject({
      outcome: JobOutcome.JOB_OUTCOME_SUCCEEDED,
      tokens: { requests: 2 },
      change: { editsProposed: 2, editsApplied: 2, filesChanged: 1 },
      verification: { agentTestRuns: 1, testsRan: true, testExitCode: 0 },
    });
    // The second request carried the failing run's output back to the model.
    expect(conversations[1]).toContain('Tests failed (exit 1)');
    expect(conversations[1]).toContain('add is broken');
    expect(git(origin, 'show', `airlock/${jobId}:src/calculator.js`)).toContain('return a + b;');
  });

  it('tells the model why an edit block could not be read, and takes the repaired one', async () => {
    const { result } = await runAttempt({
      model: (_attempt, request) => {
        if (turnOf(request) === 0) return answer('src/calculator.js\n<<<<<<< SEARCH\n  return a - b;\n=======\n  return a + b;\n');
        const feedback = request.messages.at(-1);
        expect(feedback && 'content' in feedback ? feedback.content : '').toContain('could not be read');
        return answer(FIX);
      },
    });
    expect(result).toMatchObject({ outcome: JobOutcome.JOB_OUTCOME_SUCCEEDED, tokens: { requests: 2 }, change: { editsProposed: 1, editsApplied: 1 } });
  });

  it('ends FAILED when the model finishes with a wrong fix it never tested', async () => {
    const { result, origin, jobId } = await runAttempt({
      model: () => answer(`${editBlock('src/calculator.js', '  return a - b;', '  return b - a;')}${toolBlock('finish', { summary: 'swapped' })}`),
    });
    expect(result).toMatchObject({ outcome: JobOutcome.JOB_OUTCOME_FAILED, failureCode: FailureCode.TESTS_FAILED, failedPhase: Phase.PHASE_TEST });
    expect(git(origin, 'ls-remote', origin, `refs/heads/airlock/${jobId}`).trim()).toBe('');
  });

  it('counts tests from JUnit reports at base and on the change, matching them one by one', async () => {
    const junitCheck = [
      "const { add } = require('./src/calculator');",
      "const cases = [['adds', add(2, 3) === 5], ['zero', add(0, 0) === 0], ['negative', add(-1, -1) === -2]];",
      "const xml = cases.map(([name, ok]) => `<testcase classname=\"calc\" name=\"${name}\">${ok ? '' : '<failure/>'}</testcase>`).join('');",
      "require('fs').mkdirSync('reports', { recursive: true });",
      "require('fs').writeFileSync('reports/junit.xml', `<testsuites><testsuite name=\"calc\">${xml}</testsuite></testsuites>`);",
      'process.exit(cases.every(([, ok]) => ok) ? 0 : 1);',
    ].join('\n');
    const { result, origin, jobId } = await runAttempt({
      files: { 'check.js': junitCheck, '.airlock.yml': airlockYml(['node', 'check.js'], '  junit: [reports/*.xml]\n') },
    });
    expect(result).toMatchObject({
      outcome: JobOutcome.JOB_OUTCOME_SUCCEEDED,
      verification: { baseReportRead: true, reportRead: true, testsBefore: 3, failingBefore: 2, testsAfter: 3, failingAfter: 0, testsFixed: 2, testsRegressed: 0 },
    });
    // What the test runs wrote is not part of the change.
    expect(git(origin, 'show', '--name-only', '--format=', `airlock/${jobId}`).trim()).toBe('src/calculator.js');
  });
});
