import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ForgeDouble, giteaApi, type RecordedForgeRequest, startForgeDouble } from '@airlock/local-stack';
import type { ForgeConfig } from '../../config/worker-config.loader';
import type { ForgeError, ForgeFailure, MergeRequestDraft } from './forge-client';
import { createForgeRepository, forgeConfigOf, forgeFailureOf, recordingSleep } from './forge-test.fixture';
import { GiteaForge } from './gitea.forge';

// Each test cites the Gitea 1.22 documentation of the routes it exercises (Forgejo serves the same API).
const PROJECT = 'platform/payments';
const PULLS_PATH = '/api/v1/repos/platform/payments/pulls';
const LABELS_PATH = '/api/v1/repos/platform/payments/labels';
const TOKEN = 'gitea-double-token-0123456789abcdef01234567';
const ROTATED_TOKEN = 'gitea-rotated-token-76543210fedcba9876543210';
const WRONG_TOKEN = 'gitea-wrong-token-00000000000000000000000000';
const BOT = 'airlock-bot';
const JOB_BRANCH = `airlock/${randomUUID()}`;
const OTHER_JOB_BRANCHES = [`airlock/${randomUUID()}`, `airlock/${randomUUID()}`, `airlock/${randomUUID()}`, `airlock/${randomUUID()}`];
const RETRY_BUDGET_MS = 60_000;

describe('GiteaForge against the Gitea double', () => {
  let root: string;
  let bareRepository: string;
  let tokenFile: string;
  let forge: ForgeDouble;
  let clients: GiteaForge[];
  let waits: number[];

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'airlock-gitea-forge-'));
    bareRepository = createForgeRepository(root, 'payments.git', [JOB_BRANCH, ...OTHER_JOB_BRANCHES]);
    tokenFile = join(root, 'gitea-token');
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  beforeEach(async () => {
    writeFileSync(tokenFile, `${TOKEN}\n`);
    forge = await startForgeDouble(giteaApi, {
      projects: { [PROJECT]: bareRepository },
      tokens: { [TOKEN]: BOT, [ROTATED_TOKEN]: BOT },
      users: ['rev-a', 'rev-b'],
      labels: ['airlock', 'bot', 'security'],
    });
    clients = [];
    waits = [];
  });

  afterEach(async () => {
    for (const client of clients) await client.close();
    await forge.stop();
  });

  const config = (overrides: Partial<ForgeConfig> = {}): ForgeConfig => forgeConfigOf({ type: 'gitea', apiUrl: forge.apiUrl, project: PROJECT, token: { file: tokenFile } }, overrides);

  /** A client whose waits between retries are recorded instead of slept. */
  const clientFor = (overrides: Partial<ForgeConfig> = {}, delivery = { maxRetries: 3, retryBudgetMs: RETRY_BUDGET_MS }): GiteaForge => {
    const client = new GiteaForge(config(overrides), delivery, { sleep: recordingSleep(waits) });
    clients.push(client);
    return client;
  };

  const draftFor = (sourceBranch: string, overrides: Partial<MergeRequestDraft> = {}): MergeRequestDraft => ({
    sourceBranch,
    targetBranch: 'main',
    title: 'Round refunds half-even',
    body: '## PAY-123\n\nRefunds are rounded half-even.\n\nTests: 41 passed.',
    labels: [],
    reviewers: [],
    draft: false,
    ...overrides,
  });

  const signal = () => AbortSignal.timeout(30_000);
  const routeOf = (request: RecordedForgeRequest) => `${request.method} ${request.path}`;

  /** The ForgeError a call failed with; none may carry a token, valid or not. */
  const failureOf = (call: Promise<unknown>, failure: ForgeFailure): Promise<ForgeError> => forgeFailureOf(call, [TOKEN, ROTATED_TOKEN, WRONG_TOKEN], failure);

  // https://docs.gitea.com/api/1.22/#tag/issue/operation/issueListLabels
  // https://docs.gitea.com/api/1.22/#tag/repository/operation/repoCreatePullRequest
  // https://docs.gitea.com/api/1.22/#tag/repository/operation/repoCreatePullReviewRequests
  // https://docs.gitea.com/1.22/development/api-usage — auth header
  it('opens a draft pull request with label ids and reviewers, in Gitea field names and its token scheme', async () => {
    const draft = draftFor(JOB_BRANCH, { labels: ['airlock', 'security'], reviewers: ['rev-a'], draft: true });

    const opened = await clientFor().open(draft, signal());

    expect(opened).toEqual({ number: 1, webUrl: `${forge.origin}/${PROJECT}/pulls/1`, state: 'open' });
    expect(forge.state.mergeRequests).toHaveLength(1);
    expect(forge.state.mergeRequests[0]).toMatchObject({
      project: PROJECT,
      sourceBranch: JOB_BRANCH,
      targetBranch: 'main',
      title: 'WIP: Round refunds half-even',
      body: draft.body,
      labels: ['airlock', 'security'],
      reviewers: ['rev-a'],
      draft: true,
      author: BOT,
      state: 'open',
    });
    // Three labels at the double's two a page: the label list takes two pages.
    expect(forge.requests.map(routeOf)).toEqual([`GET ${LABELS_PATH}`, `GET ${LABELS_PATH}`, `POST ${PULLS_PATH}`, `POST ${PULLS_PATH}/1/requested_reviewers`]);
    expect(forge.requests.map((request) => request.headers.authorization)).toEqual(Array(4).fill(`token ${TOKEN}`));
    const [, , create, review] = forge.requests;
    expect(create?.body).toEqual({ head: JOB_BRANCH, base: 'main', title: 'WIP: Round refunds half-even', body: draft.body, labels: [1, 3] });
    expect(create?.status).toBe(201);
    expect(review?.body).toEqual({ reviewers: ['rev-a'] });
    expect(review?.status).toBe(201);
  });

  // https://docs.gitea.com/api/1.22/#tag/repository/operation/repoListPullRequests
  // https://docs.gitea.com/1.22/development/api-usage — pagination
  it('finds the open pull request of a branch on a later page of the list, which Gitea cannot filter by head', async () => {
    const client = clientFor();
    // An earlier request for the same branch that a human closed: not the one to update.
    const closedEarlier = forge.state.addMergeRequest({ project: PROJECT, sourceBranch: JOB_BRANCH, targetBranch: 'main', title: 'old', body: '', labels: [], reviewers: [], draft: false, author: BOT });
    closedEarlier.state = 'closed';
    // Gitea lists newest first, so the request opened before four others is on the third page of two.
    const ours = await client.open(draftFor(JOB_BRANCH), signal());
    for (const branch of OTHER_JOB_BRANCHES) await client.open(draftFor(branch), signal());
    forge.requests.splice(0);

    const found = await client.findOpen(JOB_BRANCH, signal());

    expect(found).toEqual({ number: 2, webUrl: `${forge.origin}/${PROJECT}/pulls/2`, state: 'open' });
    expect(ours).toEqual(found);
    expect(forge.requests.map(routeOf)).toEqual(Array(3).fill(`GET ${PULLS_PATH}`));
    expect(forge.requests.map((request) => request.query.get('state'))).toEqual(['open', 'open', 'open']);
    expect(forge.requests.map((request) => request.query.get('page'))).toEqual([null, '2', '3']);
    expect(await client.findOpen(`airlock/${randomUUID()}`, signal())).toBeUndefined();
  });

  // https://docs.gitea.com/api/1.22/#tag/repository/operation/repoListPullRequests — a fork's pull request has its head in another repository
  it("does not take a fork's pull request from a branch of the same name for its own", async () => {
    const forkPull = { number: 7, html_url: `${forge.origin}/${PROJECT}/pulls/7`, state: 'open', merged: false, head: { ref: JOB_BRANCH, repo_id: 2 }, base: { ref: 'main', repo_id: 1 } };
    forge.injectAnswers(1, { status: 200, body: [forkPull], headers: { 'x-total-count': '1' } });

    expect(await clientFor().findOpen(JOB_BRANCH, signal())).toBeUndefined();
  });

  // https://docs.gitea.com/api/1.22/#tag/issue/operation/issueListLabels
  // https://docs.gitea.com/api/1.22/#tag/repository/operation/repoEditPullRequest
  // https://docs.gitea.com/api/1.22/#tag/repository/operation/repoCreatePullReviewRequests
  it('updates the title, body and labels of the open request and asks new reviewers, without opening a second one', async () => {
    const client = clientFor();
    await client.open(draftFor(JOB_BRANCH, { labels: ['airlock', 'bot'], reviewers: ['rev-a'], draft: true }), signal());
    forge.requests.splice(0);

    const updated = await client.update(1, draftFor(JOB_BRANCH, { title: 'Round refunds half-even, second attempt', body: 'Now with a test.', labels: ['security'], reviewers: ['rev-a', 'rev-b'] }), signal());

    expect(updated).toEqual({ number: 1, webUrl: `${forge.origin}/${PROJECT}/pulls/1`, state: 'open' });
    expect(forge.state.mergeRequests).toHaveLength(1);
    expect(forge.state.mergeRequests[0]).toMatchObject({ title: 'Round refunds half-even, second attempt', body: 'Now with a test.', labels: ['security'], reviewers: ['rev-a', 'rev-b'], draft: false });
    expect(forge.requests.map(routeOf)).toEqual([`GET ${LABELS_PATH}`, `GET ${LABELS_PATH}`, `PATCH ${PULLS_PATH}/1`, `POST ${PULLS_PATH}/1/requested_reviewers`]);
    const [, , edit, review] = forge.requests;
    expect(edit?.body).toEqual({ title: 'Round refunds half-even, second attempt', body: 'Now with a test.', labels: [3] });
    // Gitea answers an edit 201, not 200.
    expect(edit?.status).toBe(201);
    expect(review?.body).toEqual({ reviewers: ['rev-a', 'rev-b'] });
  });

  // https://docs.gitea.com/api/1.22/#tag/repository/operation/repoEditPullRequest — Gitea reports a merged request as `state: closed` with `merged: true`
  it('reads a request a human merged meanwhile as merged', async () => {
    const client = clientFor();
    await client.open(draftFor(JOB_BRANCH), signal());
    const merged = forge.state.mergeRequests[0];
    if (merged === undefined) throw new Error('the double holds no request');
    merged.state = 'merged';

    expect(await client.update(1, draftFor(JOB_BRANCH), signal())).toMatchObject({ number: 1, state: 'merged' });
  });

  // https://docs.gitea.com/api/1.22/#tag/repository/operation/repoCreatePullRequest — an open request for the same head and base is Gitea's 409
  it('fails `conflict` with Gitea\'s 409 when an open request for the branch already exists', async () => {
    const client = clientFor();
    await client.open(draftFor(JOB_BRANCH), signal());

    const failure = await failureOf(client.open(draftFor(JOB_BRANCH), signal()), 'conflict');

    expect(failure.status).toBe(409);
    expect(failure.body).toMatchObject({ message: expect.stringContaining('pull request already exists for these targets [id: 1, issue_id: 1') });
    expect(forge.state.mergeRequests).toHaveLength(1);
  });

  // https://docs.gitea.com/api/1.22/#tag/repository/operation/repoListPullRequests — an unknown repository is Gitea's 404 APINotFound
  it('fails `not-found` for a project the forge does not have', async () => {
    const failure = await failureOf(clientFor({ project: 'platform/missing' }).findOpen(JOB_BRANCH, signal()), 'not-found');

    expect(failure.status).toBe(404);
    expect(failure.body).toMatchObject({ message: "The target couldn't be found." });
  });

  // https://docs.gitea.com/1.22/development/api-usage — a token Gitea does not know is its 401
  it('fails `auth` with Gitea\'s 401 for a wrong token, without naming the token', async () => {
    writeFileSync(tokenFile, `${WRONG_TOKEN}\n`);

    const failure = await failureOf(clientFor().findOpen(JOB_BRANCH, signal()), 'auth');

    expect(failure.status).toBe(401);
    expect(failure.body).toMatchObject({ message: 'user does not exist [uid: 0, name: ]' });
    expect(forge.requests[0]?.headers.authorization).toBe(`token ${WRONG_TOKEN}`);
  });

  // https://docs.gitea.com/1.22/development/api-usage — the token is read for each request
  it('reads the token file anew for each request, so a rotated token needs no restart', async () => {
    const client = clientFor();
    await client.findOpen(JOB_BRANCH, signal());
    writeFileSync(tokenFile, `${ROTATED_TOKEN}\n`);
    await client.findOpen(JOB_BRANCH, signal());

    expect(forge.requests.map((request) => request.headers.authorization)).toEqual([`token ${TOKEN}`, `token ${ROTATED_TOKEN}`]);
  });

  // https://docs.gitea.com/1.22/development/api-usage — no token, no request.
  it('fails `auth` naming the token file, without a request or a retry, when the file is emptied', async () => {
    writeFileSync(tokenFile, '\n');

    const failure = await failureOf(clientFor().findOpen(JOB_BRANCH, signal()), 'auth');

    expect(failure.message).toContain(tokenFile);
    expect(forge.requests).toHaveLength(0);
    expect(waits).toEqual([]);
  });

  // https://docs.gitea.com/api/1.22/#tag/issue/operation/issueListLabels — Gitea would drop an unknown label id without a word
  it('refuses a configured label the repository lacks, naming it, before opening anything', async () => {
    const failure = await failureOf(clientFor().open(draftFor(JOB_BRANCH, { labels: ['airlock', 'needs-triage'] }), signal()), 'refused');

    expect(failure.message).toContain('"needs-triage"');
    expect(failure.message).not.toContain('"airlock"');
    expect(forge.requests.map(routeOf)).toEqual([`GET ${LABELS_PATH}`, `GET ${LABELS_PATH}`]);
    expect(forge.state.mergeRequests).toHaveLength(0);
  });

  // https://docs.gitea.com/api/1.22/#tag/repository/operation/repoCreatePullReviewRequests — an unknown user is Gitea's 404 "User '…' not exist"
  it('fails `not-found` for an unknown reviewer, leaving the opened request for a retry to update', async () => {
    const failure = await failureOf(clientFor().open(draftFor(JOB_BRANCH, { reviewers: ['nobody'] }), signal()), 'not-found');

    expect(failure.body).toMatchObject({ message: "User 'nobody' not exist" });
    expect(forge.state.mergeRequests).toHaveLength(1);
    expect(forge.state.mergeRequests[0]?.reviewers).toEqual([]);
  });

  // https://docs.gitea.com/api/1.22/#tag/repository/operation/repoCreatePullRequest — the answer is checked before it is trusted
  it('refuses a created answer without a number, or with a web URL that is not http(s)', async () => {
    const client = clientFor();
    const answer = { html_url: `${forge.origin}/${PROJECT}/pulls/1`, state: 'open', merged: false, head: { ref: JOB_BRANCH, repo_id: 1 }, base: { ref: 'main', repo_id: 1 } };
    forge.injectAnswers(1, { status: 201, body: answer });
    const noNumber = await failureOf(client.open(draftFor(JOB_BRANCH), signal()), 'refused');
    forge.injectAnswers(1, { status: 201, body: { ...answer, number: 1, html_url: 'javascript:alert(1)' } });
    const badUrl = await failureOf(client.open(draftFor(JOB_BRANCH), signal()), 'refused');

    expect(noNumber.message).toContain('`number`');
    expect(badUrl.message).toContain('`html_url`');
  });

  // https://docs.gitea.com/api/1.22/#tag/repository/operation/repoListPullRequests — a 5xx is retried with back-off
  it('retries two 503s and then succeeds, backing off 500 then 1000 ms', async () => {
    forge.injectAnswers(2, { status: 503, body: { message: '', url: 'http://localhost:3000/api/swagger' } });

    expect(await clientFor().findOpen(JOB_BRANCH, signal())).toBeUndefined();

    expect(forge.requests.map((request) => request.status)).toEqual([503, 503, 200]);
    expect(waits).toEqual([500, 1_000]);
  });

  // https://docs.gitea.com/api/1.22/#tag/repository/operation/repoListPullRequests — a 429 (from Gitea or the proxy in front of it) says how long to wait
  it('waits the 7 s a 429 asks for in Retry-After, then succeeds', async () => {
    forge.injectAnswers(1, { status: 429, headers: { 'retry-after': '7' }, body: { message: 'rate limit exceeded' } });

    expect(await clientFor().findOpen(JOB_BRANCH, signal())).toBeUndefined();

    expect(waits).toEqual([7_000]);
    expect(forge.requests.map((request) => request.status)).toEqual([429, 200]);
  });

  // https://docs.gitea.com/api/1.22/#tag/repository/operation/repoListPullRequests — a wait longer than the budget is not waited at all
  it('fails `rate-limited` without waiting when Retry-After is beyond the retry budget', async () => {
    forge.injectAnswers(1, { status: 429, headers: { 'retry-after': '7' }, body: { message: 'rate limit exceeded' } });

    const failure = await failureOf(clientFor({}, { maxRetries: 3, retryBudgetMs: 5_000 }).findOpen(JOB_BRANCH, signal()), 'rate-limited');

    expect(failure.status).toBe(429);
    expect(waits).toEqual([]);
    expect(forge.requests).toHaveLength(1);
  });

  // https://docs.gitea.com/api/1.22/#tag/repository/operation/repoListPullRequests — a forge that resets every connection
  it('fails `unavailable` when the forge is down, after its retries', async () => {
    forge.down();

    const failure = await failureOf(clientFor({}, { maxRetries: 2, retryBudgetMs: RETRY_BUDGET_MS }).findOpen(JOB_BRANCH, signal()), 'unavailable');

    expect(failure.status).toBeUndefined();
    expect(waits).toEqual([500, 1_000]);
  });
});
