import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createDemoRepository,
  DEMO_REVIEW_COMMENTS,
  DEMO_REVIEW_PROMPT_OPENING,
  demoFixEdits,
  type ForgeDouble,
  gitlabApi,
  launchProgram,
  type ManagedProcess,
  startForgeDouble,
  writeDemoScenarios,
} from '@airlock/local-stack';
import { FailureCode, JobOutcome, Phase, validateWorkerFrame, type JobResult__Output } from '@airlock/protocol';
import type { ForgeConfig, RepositoryConfig } from '../../config/worker-config.loader';
import { createForgeClient } from '../../delivery/forge/forge.factory';
import { GitRunner } from '../../git/git-runner';
import { JsonLogger } from '../../logging/json-logger';
import type { JobPolicy } from '../../policy/job-policy';
import { localJobPolicy } from '../../policy/local-job-policy.mock';
import { governedJobPolicy } from '../governance/governed-job-policy.mock';
import { git } from '../../testing/git-fixture.mock';
import { textAnswer } from '../../testing/scripted-model.mock';
import type { ChatAnswer, ChatRequest } from '../inference/conversation';
import { InferenceClient } from '../inference/inference.client';
import { JobRecordStore } from '../record/job-record.store';
import { REVIEW_PROMPT_OPENING } from '../review/review-prompt';
import { WorkspaceManager } from '../workspace/workspace.manager';
import { ReviewJobPipeline } from './review-job.pipeline';

jest.setTimeout(60_000);

/**
 * The review job end to end: the demo repository in a real bare repository, the demo fix on
 * a branch with its merge request on the GitLab double, the worker's real git, workspace,
 * forge client and job record. The model is the inference simulator answering the demo's
 * review scenario, or a scripted one where a row needs another answer.
 */
const host = { path: process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin', lang: 'C.UTF-8' };
const CANARY = `CANARY-review-${randomUUID().slice(0, 8)}`;
const PROJECT = 'billing/demo';
const FORK = 'someone/demo';
const TOKEN = 'glpat-review-pipeline-spec';
const BOT = 'airlock-bot';
const BRANCH = `airlock/${randomUUID()}`;
const LIMITS = { maxContextFiles: 8, maxContextBytes: 200 * 1024, maxModelTokens: 1024, maxJobTokens: 100_000, agentTimeout: 20_000, maxReviewComments: 30 };

let root: string;
let bare: string;
let head: string;
let sim: ManagedProcess;
let simUrl: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'airlock-review-pipeline-'));
  bare = createDemoRepository(root, 'demo', { canary: CANARY });
  // The demo fix on Airlock's branch, as a fix job pushes it.
  const work = join(root, 'work');
  git(root, 'clone', '--quiet', bare, work);
  git(work, 'checkout', '--quiet', '-b', BRANCH);
  for (const edit of demoFixEdits({ canary: CANARY })) {
    const file = join(work, edit.path);
    writeFileSync(file, readFileSync(file, 'utf8').replace(edit.search, edit.replace));
  }
  git(work, 'commit', '--quiet', '-am', 'Invoice total subtracts the discount');
  git(work, 'push', '--quiet', 'origin', `HEAD:refs/heads/${BRANCH}`);
  head = git(work, 'rev-parse', 'HEAD').trim();
  // A second branch whose change only deletes a line: nothing for a comment to go on.
  git(work, 'checkout', '--quiet', '-b', 'chore/trim', 'origin/main');
  writeFileSync(join(work, 'README.md'), '# demo-billing\n');
  git(work, 'commit', '--quiet', '-am', 'Trim the README');
  git(work, 'push', '--quiet', 'origin', 'HEAD:refs/heads/chore/trim');
  const scenarios = join(root, 'scenarios');
  mkdirSync(scenarios);
  writeDemoScenarios(scenarios, { canary: CANARY });
  sim = launchProgram({ program: 'inference-sim', args: ['--port', '0', '--scenarios', scenarios], logDir: root });
  simUrl = String((await sim.waitForEvent((event) => event.event === 'listening', 30_000))['url']);
});
afterAll(async () => {
  await sim.stop();
  rmSync(root, { recursive: true, force: true });
});

/** What a row changes; everything else is a review of the demo fix's request by number, answered by the simulator. */
interface Scenario {
  readonly target?: { readonly mergeRequest: number } | { readonly branch: string };
  /** The scripted model; the inference simulator when absent. */
  readonly model?: (request: ChatRequest, forge: ForgeDouble) => Promise<ChatAnswer>;
  readonly forge?: boolean;
  readonly limits?: Partial<typeof LIMITS>;
  readonly policy?: JobPolicy;
  /** What people did on the forge before the review. */
  readonly prepare?: (forge: ForgeDouble) => void;
}

interface Run {
  readonly result: JobResult__Output;
  readonly forge: ForgeDouble;
  readonly logs: ReadonlyArray<Record<string, unknown>>;
  readonly transcript: ReadonlyArray<Record<string, unknown>>;
  readonly workspaceDir: string;
  readonly events: readonly string[];
}

async function review(scenario: Scenario = {}): Promise<Run> {
  const dir = mkdtempSync(join(root, 'run-'));
  const workspaceDir = join(dir, 'workspace');
  const stateDir = join(dir, 'state');
  // A fork of the project, for the rows whose request comes from one: the same repository will do.
  const forge = await startForgeDouble(gitlabApi, { projects: { [PROJECT]: bare, [FORK]: bare }, tokens: { [TOKEN]: BOT }, users: ['alice'] });
  forge.state.addMergeRequest({ project: PROJECT, sourceBranch: BRANCH, targetBranch: 'main', title: 'Invoice total adds the discount instead of subtracting it', body: 'Airlock fixed the ticket.', labels: [], reviewers: [], draft: false, author: BOT });
  scenario.prepare?.(forge);
  const logs: Array<Record<string, unknown>> = [];
  const logger = new JsonLogger((line) => logs.push(JSON.parse(line) as Record<string, unknown>));
  const gitRunner = new GitRunner(host);
  const workspace = new WorkspaceManager(workspaceDir, gitRunner, logger);
  await workspace.removeStale();
  const client = new InferenceClient([{ name: 'local', baseUrl: simUrl, model: 'airlock-sim-coder', apiKey: undefined, timeoutMs: 10_000, toolCalling: 'auto' }], logger);
  const inference: Pick<InferenceClient, 'chat'> = { chat: (request) => (scenario.model ? scenario.model(request, forge) : client.chat(request)) };
  const forgeConfig: ForgeConfig = { type: 'gitlab', apiUrl: forge.apiUrl, project: PROJECT, token: { env: 'AIRLOCK_FORGE_TOKEN', value: TOKEN }, labels: [], reviewers: [], draft: false, timeoutMs: 5_000 };
  const pipeline = new ReviewJobPipeline({
    config: { limits: { ...LIMITS, ...scenario.limits } },
    git: gitRunner,
    workspace,
    contextWindow: () => Promise.resolve(undefined),
    inference,
    forgeClientFor: (config) => createForgeClient(config, { maxRetries: 0, retryBudgetMs: 0 }),
    logger,
    records: new JobRecordStore(stateDir, { maxAge: 3_600_000, maxBytes: 64 * 1024 * 1024 }, logger),
  });
  const repo: RepositoryConfig = { alias: 'demo', cloneUrl: bare, pushUrl: bare, branchPrefix: 'airlock/', baseRefs: ['main'], ...(scenario.forge === false ? {} : { forge: forgeConfig }) };
  const target = scenario.target ?? { mergeRequest: 1 };
  const events: string[] = [];
  const jobId = randomUUID();
  try {
    const result = await pipeline.run({
      jobId,
      attempt: 1,
      task: { repoAlias: 'demo', ...('branch' in target ? { target: 'branch', branch: target.branch } : { target: 'mergeRequest', mergeRequest: target.mergeRequest }) },
      repo,
      policy: scenario.policy ?? localJobPolicy(),
      signal: AbortSignal.timeout(50_000),
      progress: (phase, state) => events.push(`${phase} ${state}`),
      confirmLease: () => Promise.resolve(),
    });
    const transcriptFile = join(stateDir, 'job-records', `${jobId}-1`, 'transcript.jsonl');
    // A record gets its transcript with its first entry.
    const transcript = (existsSync(transcriptFile) ? readFileSync(transcriptFile, 'utf8') : '')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    return { result, forge, logs, transcript, workspaceDir, events };
  } finally {
    await client.close();
    await forge.stop();
  }
}

/** A scripted model answering `answers` in turn (the last repeats). */
const scripted =
  (...answers: string[]) =>
  (request: ChatRequest): Promise<ChatAnswer> =>
    Promise.resolve(textAnswer(answers[Math.min(request.messages.filter((message) => message.role === 'assistant').length, answers.length - 1)] ?? ''));
const fenced = (value: unknown) => `\`\`\`json\n${JSON.stringify(value)}\n\`\`\``;
const failureOf = (run: Run) => ({ outcome: run.result.outcome, failureCode: run.result.failureCode, failedPhase: run.result.failedPhase });
const posted = (run: Run) => run.forge.state.reviewComments.map(({ path, line, body }) => ({ path, line, body }));

describe('ReviewJobPipeline', () => {
  it('keys the demo review scenario on the opening the worker writes', () => {
    expect(DEMO_REVIEW_PROMPT_OPENING).toBe(REVIEW_PROMPT_OPENING);
  });

  it("reviews the demo fix's merge request with the simulated model: comments on the lines the fix changed, the one elsewhere dropped, counts only upstream", async () => {
    const run = await review();

    expect(run.result).toMatchObject({ outcome: JobOutcome.JOB_OUTCOME_SUCCEEDED, review: { critical: 0, major: 1, minor: 1, info: 0, dropped: 1 } });
    expect(run.result.phaseDurations.map((entry) => entry.phase)).toEqual([Phase.PHASE_WORKSPACE, Phase.PHASE_CONTEXT, Phase.PHASE_INFERENCE, Phase.PHASE_DELIVER]);
    expect(run.result.tokens?.promptTokens).toBeGreaterThan(0);
    expect(() => validateWorkerFrame({ frame: 'result', result: run.result })).not.toThrow();
    // On the forge: a thread on each line the fix wrote, most severe first, then the summary.
    const [major, minor] = DEMO_REVIEW_COMMENTS;
    expect(posted(run)).toEqual([
      { path: 'src/invoice.js', line: 9, body: `**major**: ${major?.body}` },
      { path: 'src/invoice.js', line: 8, body: `**minor**: ${minor?.body}` },
      { path: null, line: null, body: expect.stringContaining('2 comments on the lines this change adds or modifies: 1 major, 1 minor. 1 more') as unknown },
    ]);
    expect(run.forge.state.reviewComments.every((comment) => comment.author === BOT)).toBe(true);
    // Locally: the prompt with the change, the answer, the verdict on each entry and what was posted.
    const kinds = run.transcript.map((entry) => entry['kind']);
    expect(kinds).toEqual(['note', 'prompt', 'answer', 'review-checked', 'review-posted']);
    const prompt = JSON.stringify(run.transcript[1]);
    expect(prompt).toContain(REVIEW_PROMPT_OPENING);
    expect(prompt).toContain('return subtotal - discount;');
    expect(run.transcript[3]).toMatchObject({ dropped: [{ index: 2, reason: 'line-not-changed' }] });
    expect(run.transcript[4]).toMatchObject({ mergeRequest: 1, headSha: head, comments: [{ line: 9, severity: 'major' }, { line: 8, severity: 'minor' }] });
    // Nothing of the review is in the result but counts; the worktree is gone.
    const wire = JSON.stringify(run.result);
    for (const secret of ['invoice', CANARY, BRANCH, head, 'discount']) expect(wire).not.toContain(secret);
    expect(readdirSync(join(run.workspaceDir, 'jobs'))).toEqual([]);
  });

  it('finds the request by its branch, and reports the counts at the policy metadata level', async () => {
    const run = await review({
      target: { branch: BRANCH },
      model: scripted(fenced([{ path: 'src/invoice.js', line: 9, severity: 'critical', body: 'Check the sign.' }])),
      policy: governedJobPolicy({ centralRules: { 'metadata-level': { report: 'minimal', buckets: false } } }),
    });
    expect(run.result).toMatchObject({ outcome: JobOutcome.JOB_OUTCOME_SUCCEEDED, review: null, tokens: null });
    expect(posted(run)).toEqual([{ path: 'src/invoice.js', line: 9, body: '**critical**: Check the sign.' }, expect.objectContaining({ path: null })]);
  });

  it('posts at most limits.maxReviewComments, the most severe, and counts the rest as dropped', async () => {
    const answer = fenced([
      { path: 'src/invoice.js', line: 8, severity: 'info', body: 'a' },
      { path: 'src/invoice.js', line: 9, severity: 'critical', body: 'b' },
      { path: 'src/invoice.js', line: 9, severity: 'urgent', body: 'c' },
      { path: 'src/currency.js', line: 4, severity: 'major', body: 'd' },
    ]);
    const run = await review({ model: scripted(answer), limits: { maxReviewComments: 1 } });
    expect(run.result.review).toEqual({ critical: 1, major: 0, minor: 0, info: 0, dropped: 3 });
    expect(posted(run).filter((comment) => comment.path !== null)).toEqual([{ path: 'src/invoice.js', line: 9, body: '**critical**: b' }]);
  });

  it('tells the model once what was wrong with an answer it cannot read, and posts the second', async () => {
    const seen: ChatRequest[] = [];
    const model = scripted('The fix looks right to me.', fenced([]));
    const run = await review({ model: (request) => (seen.push(request), model(request)) });
    expect(run.result).toMatchObject({ outcome: JobOutcome.JOB_OUTCOME_SUCCEEDED, review: { critical: 0, major: 0, minor: 0, info: 0, dropped: 0 } });
    expect(seen[1]?.messages.at(-1)).toMatchObject({ role: 'user', content: expect.stringContaining('no fenced ```json block') as unknown });
    expect(posted(run)).toEqual([expect.objectContaining({ path: null, body: expect.stringContaining('No comments') as unknown })]);
  });

  it('fails MODEL_OUTPUT_UNUSABLE when the second answer cannot be read either, posting nothing', async () => {
    const run = await review({ model: scripted('Looks fine.', '```json\n{"ok": true}\n```') });
    expect(failureOf(run)).toEqual({ outcome: JobOutcome.JOB_OUTCOME_FAILED, failureCode: FailureCode.MODEL_OUTPUT_UNUSABLE, failedPhase: Phase.PHASE_INFERENCE });
    expect(run.result.tokens).toMatchObject({ requests: 2 });
    expect(posted(run)).toEqual([]);
  });

  const fromFork: Scenario = {
    target: { mergeRequest: 2 },
    prepare: (forge) => forge.state.addMergeRequest({ project: PROJECT, sourceProject: FORK, sourceBranch: 'main', targetBranch: 'main', title: 'From a fork', body: '', labels: [], reviewers: [], draft: false, author: 'alice' }),
  };
  it.each<[string, Scenario, string, string | undefined]>([
    ['a number the forge has no request of', { target: { mergeRequest: 7 } }, 'no merge request 7', undefined],
    ['a branch without an open request', { target: { branch: 'chore/trim' } }, 'no open merge request from branch chore/trim', undefined],
    ['a request closed meanwhile', { prepare: (forge) => forge.state.closeMergeRequest(PROJECT, 1) }, 'is closed, not open', undefined],
    ["a fork's request, saying so in the log", fromFork, 'comes from another repository (a fork)', 'review-target-from-fork'],
  ])('fails REVIEW_TARGET_NOT_FOUND in WORKSPACE for %s, checking nothing out and asking no model', async (_what, scenario, detail, logEvent) => {
    const run = await review({ ...scenario, model: () => Promise.reject(new Error('the model must not be asked')) });
    expect(failureOf(run)).toEqual({ outcome: JobOutcome.JOB_OUTCOME_FAILED, failureCode: FailureCode.REVIEW_TARGET_NOT_FOUND, failedPhase: Phase.PHASE_WORKSPACE });
    expect(run.logs.find((line) => line['event'] === 'phase-failed')?.['error']).toMatchObject({ message: expect.stringContaining(detail) as unknown });
    if (logEvent !== undefined) expect(run.logs.filter((line) => line['event'] === logEvent)).toEqual([expect.objectContaining({ number: 2 })]);
    expect(posted(run)).toEqual([]);
    expect(readdirSync(join(run.workspaceDir, 'mirrors'))).toEqual([]);
  });

  it('fails FORGE_NOT_CONFIGURED when the catalog names no forge for the repository, before anything runs', async () => {
    const run = await review({ forge: false });
    expect(failureOf(run)).toEqual({ outcome: JobOutcome.JOB_OUTCOME_FAILED, failureCode: FailureCode.FORGE_NOT_CONFIGURED, failedPhase: Phase.PHASE_WORKSPACE });
    expect(run.forge.requests).toEqual([]);
    expect(run.result.review).toBeNull();
  });

  it("fails FORGE_AUTH_FAILED in DELIVER when the forge refuses the token as the review is posted", async () => {
    const comment = fenced([{ path: 'src/invoice.js', line: 9, severity: 'major', body: 'x' }]);
    const run = await review({
      model: (request, forge) => {
        forge.injectAnswers(1, { status: 401, body: { message: '401 Unauthorized' } });
        return scripted(comment)(request);
      },
    });
    expect(failureOf(run)).toEqual({ outcome: JobOutcome.JOB_OUTCOME_FAILED, failureCode: FailureCode.FORGE_AUTH_FAILED, failedPhase: Phase.PHASE_DELIVER });
    expect(run.result.review).toBeNull();
    expect(JSON.stringify(run.logs)).not.toContain(TOKEN);
  });

  it('asks no model and posts nothing when the change adds no line', async () => {
    const run = await review({
      target: { branch: 'chore/trim' },
      prepare: (forge) => forge.state.addMergeRequest({ project: PROJECT, sourceBranch: 'chore/trim', targetBranch: 'main', title: 'Trim', body: '', labels: [], reviewers: [], draft: false, author: 'alice' }),
      model: () => Promise.reject(new Error('the model must not be asked')),
    });
    expect(run.result).toMatchObject({ outcome: JobOutcome.JOB_OUTCOME_SUCCEEDED, review: { critical: 0, major: 0, minor: 0, info: 0, dropped: 0 } });
    expect(run.forge.requests.filter((request) => request.method === 'POST')).toEqual([]);
  });
});
