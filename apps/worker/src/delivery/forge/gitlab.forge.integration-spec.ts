import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ForgeDouble, gitlabApi, startForgeDouble } from '@airlock/local-stack';
import type { ForgeConfig } from '../../config/worker-config.loader';
import type { ForgeError, MergeRequestDraft } from './forge-client';
import { createForgeRepository, forgeConfigOf, forgeFailureOf, recordingSleep } from './forge-test.fixture';
import { GitLabForge } from './gitlab.forge';

const PROJECT = 'platform/tools/web-app';
const PROJECT_PATH = `/api/v4/projects/${encodeURIComponent(PROJECT)}/merge_requests`;
const TOKEN = `glpat-${randomBytes(12).toString('hex')}`;
const ROTATED_TOKEN = `glpat-${randomBytes(12).toString('hex')}`;
const WRONG_TOKEN = `glpat-${randomBytes(12).toString('hex')}`;
const BOT = 'airlock-bot';
const JOB_BRANCH = `airlock/${randomUUID()}`;
const OTHER_BRANCHES = ['feature/a', 'feature/b', 'feature/c', 'release/1', 'release/2'];
const DELIVERY = { maxRetries: 3, retryBudgetMs: 60_000 };

describe('GitLabForge against the GitLab forge double', () => {
  let root: string;
  let repository: string;
  let double: ForgeDouble;
  /** What the clients would have slept, in order: the transport's waits, recorded instead of slept. */
  let waits: number[];
  const clients: GitLabForge[] = [];

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'airlock-gitlab-forge-'));
    repository = createForgeRepository(root, 'web-app.git', [JOB_BRANCH, ...OTHER_BRANCHES]);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  beforeEach(async () => {
    waits = [];
    double = await startForgeDouble(gitlabApi, { projects: { [PROJECT]: repository }, tokens: { [TOKEN]: BOT, [ROTATED_TOKEN]: BOT }, users: ['alice', 'bob'] });
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) await client.close();
    await double.stop();
  });

  const configOf = (overrides: Partial<ForgeConfig> = {}): ForgeConfig =>
    forgeConfigOf({ type: 'gitlab', apiUrl: double.apiUrl, project: PROJECT, token: { env: 'AIRLOCK_GITLAB_TOKEN', value: TOKEN } }, overrides);
  const clientOf = (overrides: Partial<ForgeConfig> = {}, delivery = DELIVERY): GitLabForge => {
    const client = new GitLabForge(configOf(overrides), delivery, { sleep: recordingSleep(waits) });
    clients.push(client);
    return client;
  };
  const draftOf = (overrides: Partial<MergeRequestDraft> = {}): MergeRequestDraft => ({
    sourceBranch: JOB_BRANCH,
    targetBranch: 'main',
    title: 'Fix the login page',
    body: '## Ticket\nThe login page rejects valid passwords.\n\n## Tests\n12 passed',
    labels: [],
    reviewers: [],
    draft: false,
    ...overrides,
  });
  const signal = () => AbortSignal.timeout(30_000);
  const addHumanRequest = (sourceBranch: string, targetBranch: string) =>
    double.state.addMergeRequest({ project: PROJECT, sourceBranch, targetBranch, title: `${sourceBranch} into ${targetBranch}`, body: '', labels: [], reviewers: [], draft: false, author: 'alice' });
  /** The ForgeError a call failed with; neither its message nor its body carries any token. */
  const failureOf = (call: Promise<unknown>): Promise<ForgeError> => forgeFailureOf(call, [TOKEN, ROTATED_TOKEN, WRONG_TOKEN]);

  // https://docs.gitlab.com/api/merge_requests/#create-mr
  // https://docs.gitlab.com/api/users/#list-users
  // https://docs.gitlab.com/api/rest/authentication/#personalprojectgroup-access-tokens
  it('opens a draft request with its branches, description, labels and reviewers, authenticated with PRIVATE-TOKEN', async () => {
    const draft = draftOf({ labels: ['airlock', 'needs review'], reviewers: ['alice', 'Bob'], draft: true });
    const opened = await clientOf().open(draft, signal());

    expect(opened).toEqual({ number: 1, webUrl: `${double.origin}/${PROJECT}/-/merge_requests/1`, state: 'open' });
    expect(double.state.mergeRequest(PROJECT, 1)).toMatchObject({
      sourceBranch: JOB_BRANCH,
      targetBranch: 'main',
      title: 'Draft: Fix the login page',
      body: draft.body,
      labels: ['airlock', 'needs review'],
      reviewers: ['alice', 'bob'],
      draft: true,
      author: BOT,
    });
    // User names are resolved one by one; GitLab matches them case-insensitively.
    expect(double.requests.filter((request) => request.path === '/api/v4/users').map((request) => request.query.get('username'))).toEqual(['alice', 'Bob']);
    const create = double.requests.find((request) => request.method === 'POST');
    expect(create).toMatchObject({ path: PROJECT_PATH, status: 201 });
    expect(create?.headers['private-token']).toBe(TOKEN);
    expect(create?.headers.authorization).toBeUndefined();
    // The double numbers users in the order it knows them: alice 1, bob 2.
    expect(create?.body).toEqual({
      source_branch: JOB_BRANCH,
      target_branch: 'main',
      title: 'Draft: Fix the login page',
      description: draft.body,
      labels: 'airlock,needs review',
      reviewer_ids: [1, 2],
    });
  });

  // https://docs.gitlab.com/api/merge_requests/#create-mr
  // https://docs.gitlab.com/user/project/merge_requests/drafts/#mark-merge-requests-as-drafts
  it('opens a ready request under its own title, and does not prefix a title GitLab already reads as draft', async () => {
    const client = clientOf();
    await client.open(draftOf({ sourceBranch: 'feature/a', title: 'Ready as written' }), signal());
    await client.open(draftOf({ sourceBranch: 'feature/b', title: '[Draft] marked by the ticket', draft: true }), signal());

    expect(double.state.mergeRequest(PROJECT, 1)).toMatchObject({ title: 'Ready as written', draft: false });
    expect(double.state.mergeRequest(PROJECT, 2)).toMatchObject({ title: '[Draft] marked by the ticket', draft: true });
  });

  // https://docs.gitlab.com/api/merge_requests/#create-mr
  it("cuts a title longer than GitLab's 255 characters by whole characters", async () => {
    await clientOf().open(draftOf({ title: '🚀'.repeat(300) }), signal());
    expect(double.state.mergeRequest(PROJECT, 1)?.title).toBe('🚀'.repeat(255));
  });

  // https://docs.gitlab.com/api/merge_requests/#create-mr
  it('reaches a project by its numeric id as well as by its full path', async () => {
    await clientOf({ project: '1' }).open(draftOf(), signal());
    expect(double.requests.find((request) => request.method === 'POST')).toMatchObject({ path: '/api/v4/projects/1/merge_requests', status: 201 });
    expect(double.state.mergeRequest(PROJECT, 1)?.sourceBranch).toBe(JOB_BRANCH);
  });

  // https://docs.gitlab.com/api/merge_requests/#list-project-merge-requests
  // https://docs.gitlab.com/api/rest/#pagination-link-header
  it('finds the open request from the job branch to the target branch across pages, past newer ones to other targets', async () => {
    for (const branch of ['feature/a', 'feature/b', 'feature/c']) addHumanRequest(branch, 'main');
    const client = clientOf();
    const opened = await client.open(draftOf(), signal());
    // Someone proposes the job's branch to release branches too: GitLab lists those first, newest first.
    addHumanRequest(JOB_BRANCH, 'release/1');
    const newest = addHumanRequest(JOB_BRANCH, 'release/2');
    const before = double.requests.length;

    await expect(client.findOpen(JOB_BRANCH, signal())).resolves.toEqual(opened);
    const listings = double.requests.slice(before);
    expect(listings.map((request) => [request.method, request.path, request.query.get('state'), request.query.get('source_branch'), request.query.get('page')])).toEqual([
      ['GET', PROJECT_PATH, 'opened', JOB_BRANCH, null],
      ['GET', PROJECT_PATH, 'opened', JOB_BRANCH, '2'],
    ]);
    // Without a configured target branch, the newest open request from the branch is the one.
    await expect(clientOf({ targetBranch: undefined }).findOpen(JOB_BRANCH, signal())).resolves.toMatchObject({ number: newest.number });
  });

  // https://docs.gitlab.com/api/merge_requests/#list-project-merge-requests
  it('finds nothing for a branch whose request was merged, or that has none', async () => {
    const client = clientOf();
    const opened = await client.open(draftOf(), signal());
    const stored = double.state.mergeRequest(PROJECT, opened.number);
    if (stored === undefined) throw new Error('the double did not store the opened request');
    stored.state = 'merged';

    await expect(client.findOpen(JOB_BRANCH, signal())).resolves.toBeUndefined();
    await expect(client.findOpen('feature/a', signal())).resolves.toBeUndefined();
  });

  // https://docs.gitlab.com/api/merge_requests/#update-mr
  // https://docs.gitlab.com/api/merge_requests/#get-single-mr
  it('updates title, description and labels in place, keeps a reviewer a human added, and opens no second request', async () => {
    const client = clientOf();
    const opened = await client.open(draftOf({ labels: ['airlock'], reviewers: ['alice'], draft: true }), signal());
    double.state.mergeRequest(PROJECT, opened.number)?.reviewers.push('bob');

    const updated = await client.update(opened.number, draftOf({ title: 'Fix the login page, second attempt', body: 'Second attempt.', labels: ['airlock', 'retried'], reviewers: ['alice'] }), signal());

    expect(updated).toEqual(opened);
    expect(double.state.mergeRequests).toHaveLength(1);
    expect(double.state.mergeRequest(PROJECT, 1)).toMatchObject({
      title: 'Fix the login page, second attempt',
      body: 'Second attempt.',
      labels: ['airlock', 'retried'],
      reviewers: ['alice', 'bob'],
      draft: false,
    });
    expect(double.requests.find((request) => request.method === 'GET' && request.path === `${PROJECT_PATH}/1`)).toMatchObject({ status: 200 });
    const put = double.requests.find((request) => request.method === 'PUT');
    expect(put).toMatchObject({ path: `${PROJECT_PATH}/1`, status: 200 });
    expect(put?.headers['private-token']).toBe(TOKEN);
    expect(put?.body).toEqual({ title: 'Fix the login page, second attempt', description: 'Second attempt.', labels: 'airlock,retried', reviewer_ids: [1, 2] });
  });

  // https://docs.gitlab.com/api/merge_requests/#update-mr
  it('leaves the reviewers alone when the draft names none', async () => {
    const client = clientOf();
    const opened = await client.open(draftOf({ reviewers: ['bob'] }), signal());
    await client.update(opened.number, draftOf({ title: 'Retitled' }), signal());

    expect(double.state.mergeRequest(PROJECT, 1)).toMatchObject({ title: 'Retitled', reviewers: ['bob'] });
    expect(double.requests.find((request) => request.method === 'PUT')?.body).not.toHaveProperty('reviewer_ids');
  });

  // https://docs.gitlab.com/api/merge_requests/#create-mr
  it("reports GitLab's 409 for a second open request from the same branch as conflict", async () => {
    const client = clientOf();
    await client.open(draftOf(), signal());

    const failure = await failureOf(client.open(draftOf(), signal()));
    expect(failure).toMatchObject({ failure: 'conflict', status: 409, body: { message: ['Another open merge request already exists for this source branch: !1'] } });
    expect(double.state.mergeRequests).toHaveLength(1);
  });

  // https://docs.gitlab.com/api/rest/troubleshooting/#status-codes
  it('reports an unknown project as not-found', async () => {
    const failure = await failureOf(clientOf({ project: 'platform/tools/gone' }).findOpen(JOB_BRANCH, signal()));
    expect(failure).toMatchObject({ failure: 'not-found', status: 404, body: { message: '404 Project Not Found' } });
  });

  // https://docs.gitlab.com/api/users/#list-users
  it('refuses a reviewer GitLab does not know, naming them, before opening anything', async () => {
    const failure = await failureOf(clientOf().open(draftOf({ reviewers: ['alice', 'mallory'] }), signal()));
    expect(failure.failure).toBe('refused');
    expect(failure.message).toContain('mallory');
    expect(double.requests.filter((request) => request.method === 'POST')).toEqual([]);
  });

  // https://docs.gitlab.com/api/rest/authentication/#personalprojectgroup-access-tokens
  // https://docs.gitlab.com/api/rest/troubleshooting/#status-codes
  it("reports a refused token as auth with GitLab's 401 body, without retrying", async () => {
    const failure = await failureOf(clientOf({ token: { env: 'AIRLOCK_GITLAB_TOKEN', value: WRONG_TOKEN } }).open(draftOf(), signal()));
    expect(failure).toMatchObject({ failure: 'auth', status: 401, body: { message: '401 Unauthorized' } });
    expect(double.requests).toHaveLength(1);
    expect(waits).toEqual([]);
  });

  // https://docs.gitlab.com/api/rest/authentication/#personalprojectgroup-access-tokens
  it('reads the token at each request, so a rotated token file needs no restart, and reports an unreadable one as auth', async () => {
    const tokenFile = join(mkdtempSync(join(root, 'token-')), 'gitlab-token');
    writeFileSync(tokenFile, `${TOKEN}\n`);
    const client = clientOf({ token: { file: tokenFile } });
    await client.findOpen(JOB_BRANCH, signal());
    writeFileSync(tokenFile, `${ROTATED_TOKEN}\n`);
    await client.findOpen(JOB_BRANCH, signal());
    expect(double.requests.map((request) => request.headers['private-token'])).toEqual([TOKEN, ROTATED_TOKEN]);

    rmSync(tokenFile);
    const failure = await failureOf(client.findOpen(JOB_BRANCH, signal()));
    expect(failure.failure).toBe('auth');
    expect(double.requests).toHaveLength(2);
    expect(waits).toEqual([]);
  });

  // https://docs.gitlab.com/api/rest/troubleshooting/#status-codes
  it('retries a 503 with growing back-off and then opens the request', async () => {
    double.injectAnswers(2, { status: 503, body: { message: '503 Service Unavailable' } });
    const opened = await clientOf().open(draftOf(), signal());

    expect(opened.number).toBe(1);
    expect(waits).toEqual([500, 1_000]);
    expect(double.requests.map((request) => [request.method, request.status])).toEqual([
      ['POST', 503],
      ['POST', 503],
      ['POST', 201],
    ]);
  });

  // https://docs.gitlab.com/administration/settings/user_and_ip_rate_limits/#response-headers
  it("waits the Retry-After of GitLab's 429 and then succeeds", async () => {
    const resetAt = String(Math.ceil(Date.now() / 1000) + 7);
    double.injectAnswers(1, {
      status: 429,
      headers: { 'retry-after': '7', 'ratelimit-name': 'throttle_authenticated_api', 'ratelimit-limit': '60', 'ratelimit-observed': '61', 'ratelimit-remaining': '0', 'ratelimit-reset': resetAt },
    });
    await expect(clientOf().findOpen(JOB_BRANCH, signal())).resolves.toBeUndefined();

    expect(waits).toEqual([7_000]);
    expect(double.requests.map((request) => request.status)).toEqual([429, 200]);
  });

  // https://docs.gitlab.com/administration/settings/user_and_ip_rate_limits/#response-headers
  it('gives up as rate-limited, without waiting, when Retry-After is beyond the retry budget', async () => {
    double.injectAnswers(1, { status: 429, headers: { 'retry-after': '3600', 'ratelimit-remaining': '0' } });
    const failure = await failureOf(clientOf().findOpen(JOB_BRANCH, signal()));

    expect(failure).toMatchObject({ failure: 'rate-limited', status: 429 });
    expect(waits).toEqual([]);
    expect(double.requests).toHaveLength(1);
  });

  // https://docs.gitlab.com/api/merge_requests/#list-project-merge-requests
  it('reports a forge that is down as unavailable once the retries are spent', async () => {
    double.down();
    const failure = await failureOf(clientOf().findOpen(JOB_BRANCH, signal()));

    expect(failure.failure).toBe('unavailable');
    expect(failure.status).toBeUndefined();
    expect(waits).toEqual([500, 1_000, 2_000]);
  });

  // https://docs.gitlab.com/api/merge_requests/#create-mr
  // https://docs.gitlab.com/api/merge_requests/#list-project-merge-requests
  it('refuses answers without an iid or with a web_url that is not http(s), rather than trusting them', async () => {
    const client = clientOf();
    double.injectAnswers(1, { status: 201, body: { id: 7, web_url: `${double.origin}/${PROJECT}/-/merge_requests/1`, state: 'opened', source_branch: JOB_BRANCH, target_branch: 'main' } });
    const withoutIid = await failureOf(client.open(draftOf(), signal()));
    expect(withoutIid.failure).toBe('refused');
    expect(withoutIid.message).toContain('iid');

    double.injectAnswers(1, { status: 200, body: [{ iid: 1, web_url: 'javascript:alert(1)', state: 'opened', source_branch: JOB_BRANCH, target_branch: 'main' }] });
    const scriptUrl = await failureOf(client.findOpen(JOB_BRANCH, signal()));
    expect(scriptUrl.failure).toBe('refused');
    expect(scriptUrl.message).toContain('web_url');

    double.injectAnswers(1, { status: 200, body: { iid: 2, web_url: `${double.origin}/${PROJECT}/-/merge_requests/2`, state: 'opened', source_branch: JOB_BRANCH, target_branch: 'main' } });
    const otherRequest = await failureOf(client.update(1, draftOf(), signal()));
    expect(otherRequest.failure).toBe('refused');
    expect(otherRequest.message).toContain('!2');
  });

  // https://docs.gitlab.com/api/merge_requests/#create-mr
  // https://docs.gitlab.com/api/merge_requests/#update-mr
  it('refuses, before asking GitLab, a label with a comma (GitLab would read two) and an iid that is not one', async () => {
    const client = clientOf();
    expect((await failureOf(client.open(draftOf({ labels: ['bug,ui'] }), signal()))).failure).toBe('refused');
    expect((await failureOf(client.update(0, draftOf(), signal()))).failure).toBe('refused');
    expect(double.requests).toEqual([]);
  });
});
