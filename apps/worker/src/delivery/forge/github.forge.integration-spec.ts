import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ForgeDouble, githubApi, type RecordedForgeRequest, startForgeDouble } from '@airlock/local-stack';
import type { ForgeConfig } from '../../config/worker-config.loader';
import { ForgeError, type ForgeFailure, type MergeRequestDraft } from './forge-client';
import { createForgeRepository, forgeConfigOf, forgeFailureOf, recordingSleep } from './forge-test.fixture';
import { GitHubForge } from './github.forge';

// GitHub Enterprise Server 3.14's documentation; each test cites the routes it exercises.
const CREATE_PULL = 'https://docs.github.com/en/enterprise-server@3.14/rest/pulls/pulls#create-a-pull-request';
const RATE_LIMITS = 'https://docs.github.com/en/enterprise-server@3.14/rest/using-the-rest-api/rate-limits-for-the-rest-api#exceeding-the-rate-limit';

const PROJECT = 'acme/payments';
const TOKEN = 'ghp_forgeDoubleToken0123456789abcdef';
const ROTATED_TOKEN = 'ghp_rotatedForgeToken0123456789abcdef';
const BOT = 'airlock-bot';
const JOB_BRANCH = `airlock/${randomUUID()}`;
const OTHER_JOB_BRANCHES = [`airlock/${randomUUID()}`, `airlock/${randomUUID()}`, `airlock/${randomUUID()}`];
const RETRY_BUDGET_MS = 60_000;

describe('GitHubForge against the GitHub Enterprise Server double', () => {
  let root: string;
  let bareRepository: string;
  let forge: ForgeDouble;
  let clients: GitHubForge[];
  let waits: number[];

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'airlock-github-forge-'));
    bareRepository = createForgeRepository(root, 'payments.git', ['release-1', 'release-2', JOB_BRANCH, ...OTHER_JOB_BRANCHES]);
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  beforeEach(async () => {
    forge = await startForgeDouble(githubApi, { projects: { [PROJECT]: bareRepository }, tokens: { [TOKEN]: BOT, [ROTATED_TOKEN]: BOT }, users: ['alice', 'bob'] });
    clients = [];
    waits = [];
  });

  afterEach(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await forge.stop();
  });

  const configOf = (overrides: Partial<ForgeConfig> = {}): ForgeConfig =>
    forgeConfigOf({ type: 'github', apiUrl: forge.apiUrl, project: PROJECT, token: { env: 'AIRLOCK_GITHUB_TOKEN', value: TOKEN } }, overrides);

  /** A client whose waits between retries are recorded instead of slept. */
  const clientOf = (overrides: Partial<ForgeConfig> = {}, maxRetries = 3): GitHubForge => {
    const client = new GitHubForge(configOf(overrides), { maxRetries, retryBudgetMs: RETRY_BUDGET_MS }, { sleep: recordingSleep(waits) });
    clients.push(client);
    return client;
  };

  const draftOf = (overrides: Partial<MergeRequestDraft> = {}): MergeRequestDraft => ({
    sourceBranch: JOB_BRANCH,
    targetBranch: 'main',
    title: 'Fix rounding of refunds',
    body: '## Ticket\nPAY-142\n\n## Tests\n`npm test`: passed',
    labels: [],
    reviewers: [],
    draft: false,
    ...overrides,
  });

  const signal = () => AbortSignal.timeout(30_000);

  /** The ForgeError a call failed with; every one is checked never to carry the token. */
  const failureOf = (call: Promise<unknown>, failure: ForgeFailure): Promise<ForgeError> => forgeFailureOf(call, [TOKEN, ROTATED_TOKEN], failure);

  const routeOf = (request: RecordedForgeRequest) => `${request.method} ${request.path} ${request.status}`;

  // https://docs.github.com/en/enterprise-server@3.14/rest/pulls/pulls#create-a-pull-request
  // https://docs.github.com/en/enterprise-server@3.14/rest/issues/labels#set-labels-for-an-issue
  // https://docs.github.com/en/enterprise-server@3.14/rest/pulls/review-requests#request-reviewers-for-a-pull-request
  it('opens a draft pull request with its labels and reviewers, through the documented routes, body fields and headers', async () => {
    const opened = await clientOf().open(draftOf({ labels: ['airlock', 'needs-review'], reviewers: ['alice', 'Bob', 'BOB', BOT], draft: true }), signal());

    expect(opened).toEqual({ number: 1, webUrl: `${forge.origin}/${PROJECT}/pull/1`, state: 'open' });
    expect(forge.state.mergeRequests).toHaveLength(1);
    expect(forge.state.mergeRequest(PROJECT, 1)).toMatchObject({
      sourceBranch: JOB_BRANCH,
      targetBranch: 'main',
      title: 'Fix rounding of refunds',
      body: draftOf().body,
      labels: ['airlock', 'needs-review'],
      reviewers: ['alice', 'bob'],
      draft: true,
      author: BOT,
    });
    expect(forge.requests.map(routeOf)).toEqual([
      `POST /api/v3/repos/${PROJECT}/pulls 201`,
      `PUT /api/v3/repos/${PROJECT}/issues/1/labels 200`,
      `POST /api/v3/repos/${PROJECT}/pulls/1/requested_reviewers 201`,
    ]);
    // GitHub's draft is a flag of its own: the title carries no marker.
    expect(forge.requests[0]?.body).toEqual({ title: 'Fix rounding of refunds', head: JOB_BRANCH, base: 'main', body: draftOf().body, draft: true });
    expect(forge.requests[1]?.body).toEqual({ labels: ['airlock', 'needs-review'] });
    // Logins are case-insensitive: Bob is asked once, and the author (GitHub refuses to ask them) not at all.
    expect(forge.requests[2]?.body).toEqual({ reviewers: ['alice', 'Bob'] });
    for (const request of forge.requests) {
      expect(request.headers.authorization).toBe(`Bearer ${TOKEN}`);
      expect(request.headers.accept).toBe('application/vnd.github+json');
      expect(request.headers['x-github-api-version']).toBe('2022-11-28');
    }
  });

  // https://docs.github.com/en/enterprise-server@3.14/rest/pulls/pulls#create-a-pull-request
  it('opens a ready pull request without labels or reviewers in one request', async () => {
    await clientOf().open(draftOf(), signal());

    expect(forge.requests.map(routeOf)).toEqual([`POST /api/v3/repos/${PROJECT}/pulls 201`]);
    expect(forge.requests[0]?.body).toMatchObject({ draft: false });
    expect(forge.state.mergeRequest(PROJECT, 1)?.draft).toBe(false);
  });

  // https://docs.github.com/en/enterprise-server@3.14/rest/pulls/pulls#list-pull-requests
  // https://docs.github.com/en/enterprise-server@3.14/rest/using-the-rest-api/using-pagination-in-the-rest-api
  it('finds the open request of a branch across pages, filtered by owner:branch, preferring the configured target branch', async () => {
    const client = clientOf();
    for (const branch of OTHER_JOB_BRANCHES) await client.open(draftOf({ sourceBranch: branch }), signal());
    const intoMain = await client.open(draftOf(), signal());
    // GitHub lets one head be proposed to other bases: newest first, these fill the first page.
    await client.open(draftOf({ targetBranch: 'release-1' }), signal());
    await client.open(draftOf({ targetBranch: 'release-2' }), signal());
    forge.requests.length = 0;

    expect(await client.findOpen(JOB_BRANCH, signal())).toEqual(intoMain);
    expect(forge.requests.map(routeOf)).toEqual([`GET /api/v3/repos/${PROJECT}/pulls 200`, `GET /api/v3/repos/${PROJECT}/pulls 200`]);
    expect(Object.fromEntries(forge.requests[0]?.query ?? [])).toEqual({ state: 'open', head: `acme:${JOB_BRANCH}` });
    expect(forge.requests[1]?.query.get('page')).toBe('2');
    expect(forge.requests[1]?.query.get('head')).toBe(`acme:${JOB_BRANCH}`);
  });

  // https://docs.github.com/en/enterprise-server@3.14/rest/pulls/pulls#list-pull-requests
  it('finds the oldest open request of a branch proposed to several bases when no target branch is configured', async () => {
    const client = clientOf({ targetBranch: undefined });
    const first = await client.open(draftOf({ targetBranch: 'release-1' }), signal());
    const intoMain = await client.open(draftOf(), signal());

    expect(await client.findOpen(JOB_BRANCH, signal())).toEqual(first);
    expect(await clientOf().findOpen(JOB_BRANCH, signal())).toEqual(intoMain);
  });

  // https://docs.github.com/en/enterprise-server@3.14/rest/pulls/pulls#list-pull-requests
  it('finds nothing for a branch without an open request, nor one whose request was closed', async () => {
    const client = clientOf();
    await client.open(draftOf(), signal());
    expect(await client.findOpen(OTHER_JOB_BRANCHES[0] ?? '', signal())).toBeUndefined();
    const pull = forge.state.mergeRequest(PROJECT, 1);
    if (pull === undefined) throw new Error('the double lost the pull request');
    pull.state = 'closed';
    pull.closedAt = new Date().toISOString();

    expect(await client.findOpen(JOB_BRANCH, signal())).toBeUndefined();
  });

  // https://docs.github.com/en/enterprise-server@3.14/rest/pulls/pulls#list-pull-requests — an answer is checked rather than trusted.
  it("keeps only the branch's own requests from a listing, and refuses one without a number or with a non-http link", async () => {
    const client = clientOf();
    await client.open(draftOf({ sourceBranch: OTHER_JOB_BRANCHES[0] ?? '' }), signal());
    const listing = (await (await fetch(`${forge.apiUrl}/repos/${PROJECT}/pulls?state=open`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as Record<string, unknown>[];
    expect(listing).toHaveLength(1);

    // A forge that ignored the head filter answers another branch's request.
    forge.injectAnswers(1, { status: 200, body: listing });
    expect(await client.findOpen(JOB_BRANCH, signal())).toBeUndefined();

    forge.injectAnswers(1, { status: 200, body: listing.map(({ number: _number, ...rest }) => rest) });
    expect((await failureOf(client.findOpen(OTHER_JOB_BRANCHES[0] ?? '', signal()), 'refused')).message).toMatch(/without a positive integer number/);

    forge.injectAnswers(1, { status: 200, body: listing.map((pull) => ({ ...pull, html_url: 'javascript:alert(1)' })) });
    expect((await failureOf(client.findOpen(OTHER_JOB_BRANCHES[0] ?? '', signal()), 'refused')).message).toMatch(/without an http\(s\) html_url/);
  });

  // https://docs.github.com/en/enterprise-server@3.14/rest/pulls/pulls#update-a-pull-request (draft is not among its fields)
  // https://docs.github.com/en/enterprise-server@3.14/rest/issues/labels#set-labels-for-an-issue
  // https://docs.github.com/en/enterprise-server@3.14/rest/pulls/review-requests#request-reviewers-for-a-pull-request
  it('updates title, body and labels in place, asks the reviewers, and opens no second request', async () => {
    const client = clientOf();
    const opened = await client.open(draftOf({ labels: ['airlock', 'stale'] }), signal());
    forge.requests.length = 0;

    const updated = await client.update(opened.number, draftOf({ title: 'Fix rounding of partial refunds', body: 'Second attempt', labels: ['airlock', 'retried'], reviewers: ['bob'], draft: true }), signal());

    expect(updated).toEqual(opened);
    expect(forge.state.mergeRequests).toHaveLength(1);
    expect(forge.state.mergeRequest(PROJECT, opened.number)).toMatchObject({ title: 'Fix rounding of partial refunds', body: 'Second attempt', labels: ['airlock', 'retried'], reviewers: ['bob'], draft: false });
    expect(forge.requests.map(routeOf)).toEqual([
      `PATCH /api/v3/repos/${PROJECT}/pulls/1 200`,
      `PUT /api/v3/repos/${PROJECT}/issues/1/labels 200`,
      `POST /api/v3/repos/${PROJECT}/pulls/1/requested_reviewers 201`,
    ]);
    // The REST API cannot change draft after creation: it is not sent.
    expect(forge.requests[0]?.body).toEqual({ title: 'Fix rounding of partial refunds', body: 'Second attempt' });
    expect(forge.requests[1]?.body).toEqual({ labels: ['airlock', 'retried'] });
  });

  // https://docs.github.com/en/enterprise-server@3.14/rest/pulls/pulls#update-a-pull-request — a closed pull request with merged_at was merged.
  it('reports a request merged meanwhile as merged when updating it', async () => {
    const client = clientOf();
    const opened = await client.open(draftOf(), signal());
    const pull = forge.state.mergeRequest(PROJECT, opened.number);
    if (pull === undefined) throw new Error('the double lost the pull request');
    pull.state = 'merged';
    pull.mergedAt = new Date().toISOString();
    pull.closedAt = pull.mergedAt;

    expect(await client.update(opened.number, draftOf(), signal())).toEqual({ ...opened, state: 'merged' });
  });

  // https://docs.github.com/en/enterprise-server@3.14/rest/pulls/pulls#create-a-pull-request — GitHub answers an existing request with a 422, not a 409.
  it('turns "A pull request already exists" into a conflict', async () => {
    const client = clientOf();
    await client.open(draftOf(), signal());

    const conflict = await failureOf(client.open(draftOf(), signal()), 'conflict');

    expect(conflict.status).toBe(422);
    expect(conflict.body).toMatchObject({ message: 'Validation Failed', errors: [{ resource: 'PullRequest', code: 'custom', message: `A pull request already exists for acme:${JOB_BRANCH}.` }] });
    expect(forge.state.mergeRequests).toHaveLength(1);
  });

  // https://docs.github.com/en/enterprise-server@3.14/rest/pulls/pulls#create-a-pull-request — every other validation failure is the request refused.
  it('leaves a 422 for an unknown base branch refused', async () => {
    const refused = await failureOf(clientOf().open(draftOf({ targetBranch: 'no-such-branch' }), signal()), 'refused');

    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({ message: 'Validation Failed', errors: [{ resource: 'PullRequest', field: 'base', code: 'invalid' }] });
    expect(forge.state.mergeRequests).toHaveLength(0);
  });

  // https://docs.github.com/en/enterprise-server@3.14/rest/pulls/review-requests#request-reviewers-for-a-pull-request
  it('is refused when a reviewer is no collaborator', async () => {
    const refused = await failureOf(clientOf().open(draftOf({ reviewers: ['mallory'] }), signal()), 'refused');

    expect(refused.status).toBe(422);
    expect(refused.message).toContain('Reviews may only be requested from collaborators');
  });

  // https://docs.github.com/en/enterprise-server@3.14/rest/using-the-rest-api/troubleshooting-the-rest-api — a repository the token cannot see is a 404.
  it('reports an unknown repository as not found', async () => {
    const notFound = await failureOf(clientOf({ project: 'acme/unknown' }).open(draftOf(), signal()), 'not-found');

    expect(notFound.status).toBe(404);
    expect(notFound.body).toMatchObject({ message: 'Not Found' });
  });

  // https://docs.github.com/en/enterprise-server@3.14/rest/using-the-rest-api/troubleshooting-the-rest-api — a refused token is 401 "Bad credentials".
  it('reports a wrong token as auth, without the token in the error', async () => {
    const wrongToken = 'ghp_notAKnownToken0123456789abcdef';
    const auth = await failureOf(clientOf({ token: { env: 'AIRLOCK_GITHUB_TOKEN', value: wrongToken } }).open(draftOf(), signal()), 'auth');

    expect(auth.status).toBe(401);
    expect(auth.body).toMatchObject({ message: 'Bad credentials' });
    expect(auth.message).not.toContain(wrongToken);
    expect(forge.requests[0]?.headers.authorization).toBe(`Bearer ${wrongToken}`);
  });

  // https://docs.github.com/en/enterprise-server@3.14/rest/pulls/pulls#create-a-pull-request, #update-a-pull-request — the token file is read again for every request.
  it('reads a rotated token from its file', async () => {
    const tokenFile = join(root, `token-${randomUUID()}`);
    writeFileSync(tokenFile, `${TOKEN}\n`);
    const client = clientOf({ token: { file: tokenFile } });
    const opened = await client.open(draftOf(), signal());
    writeFileSync(tokenFile, `${ROTATED_TOKEN}\n`);

    await client.update(opened.number, draftOf(), signal());

    expect(forge.requests.map((request) => `${request.method} ${request.headers.authorization}`)).toEqual([
      `POST Bearer ${TOKEN}`,
      `PATCH Bearer ${ROTATED_TOKEN}`,
      `PUT Bearer ${ROTATED_TOKEN}`,
    ]);
  });

  // https://docs.github.com/en/enterprise-server@3.14/rest/pulls/pulls#create-a-pull-request
  it('retries a 503 with growing back-off, then succeeds', async () => {
    forge.injectAnswers(2, { status: 503, body: { message: 'Service Unavailable' } });

    expect(await clientOf().open(draftOf(), signal())).toMatchObject({ number: 1, state: 'open' });
    expect(waits).toEqual([500, 1_000]);
    expect(forge.requests.map((request) => request.status)).toEqual([503, 503, 201]);
    expect(forge.state.mergeRequests).toHaveLength(1);
  });

  // https://docs.github.com/en/enterprise-server@3.14/rest/using-the-rest-api/rate-limits-for-the-rest-api#exceeding-the-rate-limit — 429 with retry-after.
  it('waits out a 429 for its Retry-After, then succeeds', async () => {
    forge.injectAnswers(1, { status: 429, headers: { 'retry-after': '7' }, body: { message: 'You have exceeded a secondary rate limit.', documentation_url: RATE_LIMITS } });

    expect(await clientOf().open(draftOf(), signal())).toMatchObject({ number: 1 });
    expect(waits).toEqual([7_000]);
  });

  // https://docs.github.com/en/enterprise-server@3.14/rest/using-the-rest-api/rate-limits-for-the-rest-api#exceeding-the-rate-limit — a secondary limit answered 403 with retry-after is a rate limit, not a refused token.
  it('waits out a 403 secondary rate limit with retry-after, then succeeds', async () => {
    forge.injectAnswers(1, { status: 403, headers: { 'retry-after': '7' }, body: { message: 'You have exceeded a secondary rate limit.', documentation_url: RATE_LIMITS } });

    expect(await clientOf().open(draftOf(), signal())).toMatchObject({ number: 1 });
    expect(waits).toEqual([7_000]);
  });

  // https://docs.github.com/en/enterprise-server@3.14/rest/using-the-rest-api/rate-limits-for-the-rest-api#exceeding-the-rate-limit — the primary limit: 403 with x-ratelimit-remaining 0.
  it('gives up at once on a 403 primary rate limit whose reset is beyond the retry budget', async () => {
    const resetInAnHour = String(Math.floor(Date.now() / 1000) + 3_600);
    forge.injectAnswers(1, {
      status: 403,
      headers: { 'x-ratelimit-limit': '5000', 'x-ratelimit-remaining': '0', 'x-ratelimit-used': '5000', 'x-ratelimit-reset': resetInAnHour, 'x-ratelimit-resource': 'core' },
      body: { message: 'API rate limit exceeded for user ID 1.', documentation_url: RATE_LIMITS },
    });

    const limited = await failureOf(clientOf().open(draftOf(), signal()), 'rate-limited');

    expect(limited.status).toBe(403);
    expect(waits).toEqual([]);
    expect(forge.requests).toHaveLength(1);
  });

  // https://docs.github.com/en/enterprise-server@3.14/rest/using-the-rest-api/rate-limits-for-the-rest-api#exceeding-the-rate-limit
  it('gives up at once on a 429 whose Retry-After is beyond the retry budget', async () => {
    forge.injectAnswers(1, { status: 429, headers: { 'retry-after': String(RETRY_BUDGET_MS / 1000 + 60) }, body: { message: 'You have exceeded a secondary rate limit.' } });

    await failureOf(clientOf().open(draftOf(), signal()), 'rate-limited');
    expect(waits).toEqual([]);
  });

  // https://docs.github.com/en/enterprise-server@3.14/rest/using-the-rest-api/rate-limits-for-the-rest-api#exceeding-the-rate-limit — a secondary limit may come as a bare 403 that says so only in its message.
  it('reports a 403 secondary rate limit without headers as rate-limited, and any other 403 as auth', async () => {
    forge.injectAnswers(1, { status: 403, body: { message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.', documentation_url: RATE_LIMITS } });
    await failureOf(clientOf().open(draftOf(), signal()), 'rate-limited');

    forge.injectAnswers(1, { status: 403, body: { message: 'Resource not accessible by personal access token', documentation_url: CREATE_PULL } });
    await failureOf(clientOf().open(draftOf(), signal()), 'auth');
    expect(waits).toEqual([]);
  });

  // https://docs.github.com/en/enterprise-server@3.14/rest/pulls/pulls#create-a-pull-request, #list-pull-requests
  it('reports a forge that is down as unavailable after its retries', async () => {
    forge.down();

    await failureOf(clientOf({}, 2).open(draftOf(), signal()), 'unavailable');
    await failureOf(clientOf({}, 0).findOpen(JOB_BRANCH, signal()), 'unavailable');
    expect(waits).toEqual([500, 1_000]);
    forge.up();
    expect(forge.state.mergeRequests).toHaveLength(0);
  });

  it('refuses a project that is not owner/name', () => {
    expect(() => new GitHubForge(configOf({ project: 'acme/payments/extra' }), { maxRetries: 0, retryBudgetMs: 0 })).toThrow(ForgeError);
  });

});
