import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { callDouble, createDoubleRepository, type DoubleAnswer } from './forge-api.fixture';
import { type ForgeDouble, startForgeDouble } from './forge-double';
import { giteaApi } from './gitea.api';

// The double's behaviour that the worker's Gitea client never asks for, checked against
// Gitea 1.22's documentation (each test cites its page; Forgejo serves the same API).

const PROJECT = 'platform/payments';
const TOKEN = 'gitea-double-spec-token-0123456789';
const BOT = 'airlock-bot';
const SWAGGER_URL = 'http://localhost:3000/api/swagger';

describe('the Gitea forge double', () => {
  let root: string;
  let bareRepository: string;
  let forge: ForgeDouble;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'airlock-gitea-double-'));
    bareRepository = createDoubleRepository(root, 'payments.git', ['feature-a', 'feature-b', 'feature-c']);
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  beforeEach(async () => {
    forge = await startForgeDouble(giteaApi, { projects: { [PROJECT]: bareRepository }, tokens: { [TOKEN]: BOT }, users: ['rev-a'], labels: ['bug', 'airlock'] });
  });

  afterEach(() => forge.stop());

  const call = (method: string, path: string, body?: unknown, authorization = `token ${TOKEN}`): Promise<DoubleAnswer> => callDouble(forge, method, path, { body, headers: { authorization } });

  const open = async (head: string, title = `from ${head}`, extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> => {
    const answer = await call('POST', `/repos/${PROJECT}/pulls`, { head, base: 'main', title, ...extra });
    expect(answer.status).toBe(201);
    return answer.json as Record<string, unknown>;
  };

  // https://docs.gitea.com/1.22/development/api-usage — `Authorization: token …`; Gitea also reads a Bearer token.
  it('takes "token <t>" (that scheme spelt exactly so) and "Bearer <t>" in any case, and answers anything else 401', async () => {
    expect((await call('GET', `/repos/${PROJECT}/pulls`)).status).toBe(200);
    expect((await call('GET', `/repos/${PROJECT}/pulls`, undefined, `bearer ${TOKEN}`)).status).toBe(200);
    for (const authorization of [`Token ${TOKEN}`, `token ${TOKEN} extra`, 'token not-a-token']) {
      const refused = await call('GET', `/repos/${PROJECT}/pulls`, undefined, authorization);
      expect(refused.status).toBe(401);
      expect(refused.json).toEqual({ message: 'user does not exist [uid: 0, name: ]', url: SWAGGER_URL });
    }
  });

  // https://docs.gitea.com/api/1.22/#tag/repository/operation/repoCreatePullRequest
  it("refuses a create form Gitea's binding refuses, head equal to base, and branches it cannot find, in Gitea's words", async () => {
    const refusal = async (body: unknown) => {
      const answer = await call('POST', `/repos/${PROJECT}/pulls`, body);
      return { status: answer.status, json: answer.json };
    };

    expect(await refusal({ head: 'feature-a', base: 'main' })).toEqual({ status: 422, json: { message: '[Title]: Required', url: SWAGGER_URL } });
    expect(await refusal({ head: 'feature-a', base: 'main', title: 't', labels: ['bug'] })).toEqual({
      status: 422,
      json: { message: '[]: json: cannot unmarshal string into Go struct field CreatePullRequestOption.labels of type int64', url: SWAGGER_URL },
    });
    expect(await refusal([])).toEqual({ status: 422, json: { message: '[]: json: cannot unmarshal array into Go value of type structs.CreatePullRequestOption', url: SWAGGER_URL } });
    expect(await refusal({ head: 'main', base: 'main', title: 't' })).toEqual({
      status: 422,
      json: { message: 'Invalid PullRequest: There are no changes between the head and the base', url: SWAGGER_URL },
    });
    expect(await refusal({ head: 'gone', base: 'main', title: 't' })).toEqual({
      status: 404,
      json: { errors: [`could not find 'gone' to be a commit, branch or tag in the head repository ${PROJECT}`], message: "The target couldn't be found.", url: SWAGGER_URL },
    });
    expect((await refusal({ head: 'feature-a', base: 'gone', title: 't' })).status).toBe(404);
    expect((await refusal({ head: 'someone-else:feature-a', base: 'main', title: 't' })).status).toBe(404);
    expect(forge.state.mergeRequests).toHaveLength(0);
  });

  // https://docs.gitea.com/api/1.22/#tag/repository/operation/repoCreatePullRequest — labels are ids; Gitea drops one it does not know.
  // https://docs.gitea.com/1.22/usage/pull-request#work-in-progress-pull-requests — `WIP:` or `[WIP]`, in any case, marks a draft.
  it('takes head as owner:branch, drops unknown label ids without a word, and derives draft from the title', async () => {
    const pull = await open('platform:feature-a', '[wip] rounding', { labels: [2, 99], body: 'text' });

    expect(pull).toMatchObject({ number: 1, title: '[wip] rounding', body: 'text', draft: true, state: 'open', merged: false, head: { ref: 'feature-a', repo_id: 1 }, base: { ref: 'main', repo_id: 1 } });
    expect((pull['labels'] as { name: string }[]).map((label) => label.name)).toEqual(['airlock']);
    expect((await open('feature-b', 'Round refunds'))['draft']).toBe(false);
  });

  // https://docs.gitea.com/api/1.22/#tag/repository/operation/repoListPullRequests
  // https://docs.gitea.com/1.22/development/api-usage — pagination: `Link` and `X-Total-Count`.
  it('lists every state when `state` is absent, filters open or closed, newest first, and pages with page and limit', async () => {
    for (const head of ['feature-a', 'feature-b', 'feature-c']) await open(head);
    const [first, second] = forge.state.mergeRequests;
    if (first === undefined || second === undefined) throw new Error('the double holds fewer requests than opened');
    first.state = 'merged';
    second.state = 'closed';
    const numbersOf = (answer: DoubleAnswer) => (answer.json as { number: number }[]).map((pull) => pull.number);

    expect(numbersOf(await call('GET', `/repos/${PROJECT}/pulls?limit=10`))).toEqual([3, 2, 1]);
    expect(numbersOf(await call('GET', `/repos/${PROJECT}/pulls?state=open`))).toEqual([3]);
    const closed = await call('GET', `/repos/${PROJECT}/pulls?state=closed`);
    expect(numbersOf(closed)).toEqual([2, 1]);
    expect(closed.json).toEqual([expect.objectContaining({ state: 'closed', merged: false }), expect.objectContaining({ state: 'closed', merged: true })]);

    const firstPage = await call('GET', `/repos/${PROJECT}/pulls?state=all`);
    expect(numbersOf(firstPage)).toEqual([3, 2]);
    expect(firstPage.headers.get('x-total-count')).toBe('3');
    const next = /<([^>]+)>; rel="next"/.exec(firstPage.headers.get('link') ?? '')?.[1];
    expect(next).toBe(`${forge.origin}/api/v1/repos/${PROJECT}/pulls?state=all&page=2&limit=2`);
    expect(numbersOf(await call('GET', next ?? ''))).toEqual([1]);
  });

  // https://docs.gitea.com/api/1.22/#tag/repository/operation/repoGetPullRequest
  it("answers one pull request, and Gitea's APINotFound for an unknown one or an unknown repository", async () => {
    await open('feature-a');

    const found = await call('GET', `/repos/${PROJECT}/pulls/1`);
    expect(found.status).toBe(200);
    expect(found.json).toMatchObject({ number: 1, html_url: `${forge.origin}/${PROJECT}/pulls/1`, user: { login: BOT } });
    for (const path of [`/repos/${PROJECT}/pulls/2`, '/repos/platform/missing/pulls/1']) {
      expect(await call('GET', path)).toMatchObject({ status: 404, json: { errors: [], message: "The target couldn't be found.", url: SWAGGER_URL } });
    }
  });

  // https://docs.gitea.com/api/1.22/#tag/repository/operation/repoEditPullRequest
  it('edits with 201, ignores an empty title, keeps the body when none is sent, and clears labels with an empty list', async () => {
    await open('feature-a', 'WIP: rounding', { labels: [1], body: 'kept' });

    const edited = await call('PATCH', `/repos/${PROJECT}/pulls/1`, { title: '', labels: [] });
    expect(edited.status).toBe(201);
    expect(edited.json).toMatchObject({ title: 'WIP: rounding', body: 'kept', labels: [], draft: true });
    const ready = await call('PATCH', `/repos/${PROJECT}/pulls/1`, { title: 'rounding' });
    expect(ready.json).toMatchObject({ title: 'rounding', draft: false });
    expect(forge.state.mergeRequests[0]).toMatchObject({ title: 'rounding', draft: false, labels: [] });
  });

  // https://docs.gitea.com/api/1.22/#tag/repository/operation/repoCreatePullReviewRequests
  it("asks a reviewer once with 201, and refuses the request's author with Gitea's 422, asking no one", async () => {
    await open('feature-a');

    const asked = await call('POST', `/repos/${PROJECT}/pulls/1/requested_reviewers`, { reviewers: ['rev-a'] });
    expect(asked.status).toBe(201);
    expect(asked.json).toEqual([expect.objectContaining({ state: 'REQUEST_REVIEW', user: expect.objectContaining({ login: 'rev-a' }) })]);
    expect(await call('POST', `/repos/${PROJECT}/pulls/1/requested_reviewers`, { reviewers: ['rev-a'] })).toMatchObject({ status: 201, json: [] });
    const author = await call('POST', `/repos/${PROJECT}/pulls/1/requested_reviewers`, { reviewers: [BOT] });
    expect(author).toMatchObject({ status: 422, json: { message: expect.stringMatching(/^poster of pr can't be reviewer \[user_id: \d+, repo_id: 1\]$/) } });
    expect(forge.state.mergeRequests[0]?.reviewers).toEqual(['rev-a']);
  });
});
