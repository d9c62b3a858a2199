import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { callDouble, createDoubleRepository, type DoubleAnswer } from './forge-api.fixture';
import { type ForgeDouble, startForgeDouble } from './forge-double';
import { GITHUB_DOCS, githubApi } from './github.api';

// The double's behaviour that the worker's GitHub client never asks for, checked against
// GitHub Enterprise Server 3.14's documentation (each test cites its page).

const PROJECT = 'acme/payments';
const TOKEN = 'ghp_doubleSpecToken0123456789';

describe('the GitHub Enterprise Server forge double', () => {
  let root: string;
  let bareRepository: string;
  let forge: ForgeDouble;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'airlock-github-double-'));
    bareRepository = createDoubleRepository(root, 'payments.git', ['feature-a', 'feature-b', 'release']);
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  beforeEach(async () => {
    forge = await startForgeDouble(githubApi, { projects: { [PROJECT]: bareRepository }, tokens: { [TOKEN]: 'airlock-bot' }, users: ['alice'] });
  });

  afterEach(() => forge.stop());

  const call = (method: string, path: string, body?: unknown, authorization = `Bearer ${TOKEN}`): Promise<DoubleAnswer> => callDouble(forge, method, path, { body, headers: { authorization } });

  const open = async (head: string, base = 'main', title = `from ${head}`): Promise<{ number: number }> => {
    const answer = await call('POST', `/repos/${PROJECT}/pulls`, { title, head, base });
    expect(answer.status).toBe(201);
    return answer.json as { number: number };
  };

  // https://docs.github.com/en/enterprise-server@3.14/rest/using-the-rest-api/troubleshooting-the-rest-api
  it('takes the token as "token <t>" as well as "Bearer <t>", and answers anything else 401 Bad credentials', async () => {
    expect((await call('GET', `/repos/${PROJECT}/pulls`, undefined, `token ${TOKEN}`)).status).toBe(200);
    const refused = await call('GET', `/repos/${PROJECT}/pulls`, undefined, `Basic ${TOKEN}`);
    expect(refused.status).toBe(401);
    expect(refused.json).toMatchObject({ message: 'Bad credentials' });
  });

  // https://docs.github.com/en/enterprise-server@3.14/rest/pulls/pulls#create-a-pull-request
  it('opens with 201 and a Location, takes head as owner:branch, and refuses a head, title or field it cannot use with 422', async () => {
    const created = await call('POST', `/repos/${PROJECT}/pulls`, { title: 'Fix', head: 'acme:feature-a', base: 'main' });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`${forge.apiUrl}/repos/${PROJECT}/pulls/1`);
    expect(created.json).toMatchObject({ number: 1, state: 'open', draft: false, merged: false, body: null, head: { ref: 'feature-a', label: 'acme:feature-a' }, base: { ref: 'main' } });

    const fromFork = await call('POST', `/repos/${PROJECT}/pulls`, { title: 'Fix', head: 'mallory:feature-b', base: 'main' });
    expect(fromFork.json).toMatchObject({ message: 'Validation Failed', errors: [{ resource: 'PullRequest', field: 'head', code: 'invalid' }] });
    const noHead = await call('POST', `/repos/${PROJECT}/pulls`, { title: 'Fix', base: 'main' });
    expect(noHead.status).toBe(422);
    expect(noHead.json).toMatchObject({ message: 'Invalid request.\n\n"head" wasn\'t supplied.' });
    const noTitle = await call('POST', `/repos/${PROJECT}/pulls`, { head: 'feature-b', base: 'main' });
    expect(noTitle.json).toMatchObject({ errors: [{ field: 'title', code: 'missing_field' }] });
    const draftAsText = await call('POST', `/repos/${PROJECT}/pulls`, { title: 'Fix', head: 'feature-b', base: 'main', draft: 'yes' });
    expect(draftAsText.status).toBe(422);
    expect(draftAsText.json).toMatchObject({ message: 'Invalid request.\n\nFor \'properties/draft\', "yes" is not a boolean.' });
    expect(forge.state.mergeRequests).toHaveLength(1);
  });

  // https://docs.github.com/en/enterprise-server@3.14/rest/pulls/pulls#list-pull-requests
  it('ignores a head filter without its owner, and filters by state and base', async () => {
    await open('feature-a');
    await open('feature-b', 'release');
    const merged = forge.state.mergeRequest(PROJECT, 2);
    if (merged === undefined) throw new Error('the double lost the pull request');
    merged.state = 'merged';
    merged.mergedAt = new Date().toISOString();

    const numbers = async (query: string) => ((await call('GET', `/repos/${PROJECT}/pulls?per_page=100&${query}`)).json as { number: number }[]).map((pull) => pull.number);
    expect(await numbers('head=feature-b&state=all')).toEqual([2, 1]);
    expect(await numbers('head=acme:feature-b&state=all')).toEqual([2]);
    expect(await numbers('state=open')).toEqual([1]);
    expect(await numbers('state=closed')).toEqual([2]);
    expect(await numbers('state=all&base=release')).toEqual([2]);
    expect(await numbers('state=all&direction=asc')).toEqual([1, 2]);
  });

  // https://docs.github.com/en/enterprise-server@3.14/rest/using-the-rest-api/using-pagination-in-the-rest-api
  it('pages with per_page and page, linking next and last pages on its own origin', async () => {
    await open('feature-a');
    await open('feature-b');
    await open('feature-a', 'release');

    const first = await call('GET', `/repos/${PROJECT}/pulls?per_page=2`);
    expect((first.json as unknown[]).length).toBe(2);
    const link = first.headers.get('link') ?? '';
    const next = /<([^>]+)>; rel="next"/.exec(link)?.[1];
    expect(next).toBe(`${forge.apiUrl}/repos/${PROJECT}/pulls?per_page=2&page=2`);
    expect(link).toContain(`<${forge.apiUrl}/repos/${PROJECT}/pulls?per_page=2&page=2>; rel="last"`);
    const second = await call('GET', next ?? '');
    expect((second.json as { number: number }[]).map((pull) => pull.number)).toEqual([1]);
    expect(second.headers.get('link')).not.toContain('rel="next"');
  });

  // https://docs.github.com/en/enterprise-server@3.14/rest/pulls/pulls#get-a-pull-request
  it('answers one pull request with merged, which listings leave out, and 404 Not Found for an unknown one', async () => {
    await open('feature-a');
    const pull = forge.state.mergeRequest(PROJECT, 1);
    if (pull === undefined) throw new Error('the double lost the pull request');
    pull.state = 'merged';
    pull.mergedAt = '2024-05-01T10:00:00.123Z';

    expect((await call('GET', `/repos/${PROJECT}/pulls/1`)).json).toMatchObject({ state: 'closed', merged: true, merged_at: '2024-05-01T10:00:00Z' });
    expect((await call('GET', `/repos/${PROJECT}/pulls?state=all`)).json).toEqual([expect.not.objectContaining({ merged: expect.anything() })]);
    const unknown = await call('GET', `/repos/${PROJECT}/pulls/9`);
    expect(unknown.status).toBe(404);
    expect(unknown.json).toEqual({ message: 'Not Found', documentation_url: GITHUB_DOCS.getPull });
  });

  // https://docs.github.com/en/enterprise-server@3.14/rest/pulls/pulls#update-a-pull-request
  it('ignores draft on update, as the REST API cannot change it', async () => {
    await open('feature-a');

    const updated = await call('PATCH', `/repos/${PROJECT}/pulls/1`, { title: 'Renamed', draft: true });
    expect(updated.status).toBe(200);
    expect(updated.json).toMatchObject({ title: 'Renamed', draft: false });
    expect((await call('PATCH', `/repos/${PROJECT}/pulls/1`, { title: 7 })).status).toBe(422);
  });

  // https://docs.github.com/en/enterprise-server@3.14/rest/issues/labels#set-labels-for-an-issue
  it('sets labels from a bare array too, creating missing ones, and refuses what is not a list of names', async () => {
    await open('feature-a');

    const set = await call('PUT', `/repos/${PROJECT}/issues/1/labels`, ['brand-new']);
    expect(set.status).toBe(200);
    expect(set.json).toEqual([expect.objectContaining({ name: 'brand-new' })]);
    expect(forge.state.labels).toContain('brand-new');
    expect((await call('PUT', `/repos/${PROJECT}/issues/1/labels`, { labels: 'brand-new' })).status).toBe(422);
    expect((await call('PUT', `/repos/${PROJECT}/issues/9/labels`, { labels: [] })).status).toBe(404);
  });

  // https://docs.github.com/en/enterprise-server@3.14/rest/pulls/review-requests#request-reviewers-for-a-pull-request
  it("adds reviewers to those asked, and refuses the author, teams it does not know, or no one with 422", async () => {
    await open('feature-a');

    expect((await call('POST', `/repos/${PROJECT}/pulls/1/requested_reviewers`, { reviewers: ['Alice'] })).status).toBe(201);
    expect((await call('POST', `/repos/${PROJECT}/pulls/1/requested_reviewers`, { reviewers: ['alice'] })).json).toMatchObject({ requested_reviewers: [{ login: 'alice' }] });
    const author = await call('POST', `/repos/${PROJECT}/pulls/1/requested_reviewers`, { reviewers: ['airlock-bot'] });
    expect(author.status).toBe(422);
    expect(author.json).toMatchObject({ message: 'Review cannot be requested from pull request author.' });
    expect((await call('POST', `/repos/${PROJECT}/pulls/1/requested_reviewers`, { team_reviewers: ['core'] })).status).toBe(422);
    expect((await call('POST', `/repos/${PROJECT}/pulls/1/requested_reviewers`, {})).status).toBe(422);
    expect(forge.state.mergeRequest(PROJECT, 1)?.reviewers).toEqual(['alice']);
  });
});
