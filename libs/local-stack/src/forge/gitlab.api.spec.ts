import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { callDouble, createDoubleRepository, type DoubleAnswer } from './forge-api.fixture';
import { type ForgeDouble, startForgeDouble } from './forge-double';
import { gitlabApi } from './gitlab.api';

const PROJECT = 'group/sub/app';
const MERGE_REQUESTS = `/projects/${encodeURIComponent(PROJECT)}/merge_requests`;
const TOKEN = 'glpat-double-spec-token';

describe('the GitLab API of the forge double', () => {
  let root: string;
  let bareRepository: string;
  let double: ForgeDouble;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'airlock-gitlab-double-'));
    bareRepository = createDoubleRepository(root, 'app.git', ['topic', 'other']);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  beforeEach(async () => {
    double = await startForgeDouble(gitlabApi, { projects: { [PROJECT]: bareRepository }, tokens: { [TOKEN]: 'bot' }, users: ['alice', 'bob'] });
  });
  afterEach(() => double.stop());

  const call = (method: string, path: string, options: { readonly body?: unknown; readonly headers?: Record<string, string> } = {}): Promise<DoubleAnswer> =>
    callDouble(double, method, path, { body: options.body, headers: { 'PRIVATE-TOKEN': TOKEN, ...options.headers } });
  const create = (body: Record<string, unknown>) => call('POST', MERGE_REQUESTS, { body: { source_branch: 'topic', target_branch: 'main', title: 'A change', ...body } });

  // https://docs.gitlab.com/api/rest/authentication/#personalprojectgroup-access-tokens
  it('takes the token as PRIVATE-TOKEN or as Authorization: Bearer, and answers 401 without one', async () => {
    expect((await call('GET', MERGE_REQUESTS, { headers: { 'PRIVATE-TOKEN': '', authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    expect(await call('GET', MERGE_REQUESTS, { headers: { 'PRIVATE-TOKEN': '' } })).toMatchObject({ status: 401, json: { message: '401 Unauthorized' } });
  });

  // https://docs.gitlab.com/api/rest/troubleshooting/#status-codes
  it('answers 404 as GitLab words it for an unknown route, project or merge request', async () => {
    expect(await call('GET', '/nothing/here')).toMatchObject({ status: 404, json: { error: '404 Not Found' } });
    expect(await call('GET', '/projects/9/merge_requests')).toMatchObject({ status: 404, json: { message: '404 Project Not Found' } });
    expect(await call('GET', `${MERGE_REQUESTS}/5`)).toMatchObject({ status: 404, json: { message: '404 Not found' } });
  });

  // https://docs.gitlab.com/api/merge_requests/#create-mr
  it('refuses a create with a parameter missing or mistyped, as Grape words it', async () => {
    expect(await call('POST', MERGE_REQUESTS, { body: { title: 'x' } })).toMatchObject({ status: 400, json: { error: 'source_branch is missing, target_branch is missing' } });
    expect(await create({ title: 7 })).toMatchObject({ status: 400, json: { error: 'title is invalid' } });
    expect(await create({ reviewer_ids: ['alice'] })).toMatchObject({ status: 400, json: { error: 'reviewer_ids is invalid' } });
    expect(await create({ labels: { name: 'bug' } })).toMatchObject({ status: 400, json: { error: 'labels is invalid' } });
    expect(double.state.mergeRequests).toEqual([]);
  });

  // https://docs.gitlab.com/api/merge_requests/#create-mr
  it('refuses the same branch as source and target (422), a branch the repository lacks and a blank or long title (400 by field)', async () => {
    expect(await create({ source_branch: 'main' })).toMatchObject({ status: 422, json: { message: ["You can't use same project/branch for source and target"] } });
    expect(await create({ source_branch: 'missing' })).toMatchObject({ status: 400, json: { message: { source_branch: ['does not exist'] } } });
    expect(await create({ target_branch: 'missing' })).toMatchObject({ status: 400, json: { message: { target_branch: ['does not exist'] } } });
    expect(await create({ title: '  ' })).toMatchObject({ status: 400, json: { message: { title: ["can't be blank"] } } });
    expect(await create({ title: 'x'.repeat(256) })).toMatchObject({ status: 400, json: { message: { title: ['is too long (maximum is 255 characters)'] } } });
    expect(double.state.mergeRequests).toEqual([]);
  });

  // https://docs.gitlab.com/api/merge_requests/#create-mr
  it('allows the same source branch to another target, and answers 409 only for the same source and target', async () => {
    expect((await create({})).status).toBe(201);
    expect((await create({ target_branch: 'other' })).status).toBe(201);
    expect(await create({})).toMatchObject({ status: 409, json: { message: ['Another open merge request already exists for this source branch: !1'] } });
  });

  // https://docs.gitlab.com/api/merge_requests/#create-mr
  it('takes labels as an array too and creates those the project lacks; drops reviewer ids that are no user, as GitLab does', async () => {
    const created = await create({ labels: ['bug', ' ui ', 'bug'], reviewer_ids: '2,99' });
    expect(created).toMatchObject({ status: 201, json: { iid: 1, labels: ['bug', 'ui'], reviewers: [{ id: 2, username: 'bob' }], source_branch: 'topic', target_branch: 'main' } });
    expect(double.state.labels).toEqual(['bug', 'ui']);
  });

  // https://docs.gitlab.com/user/project/merge_requests/drafts/#mark-merge-requests-as-drafts
  // https://docs.gitlab.com/api/merge_requests/#update-mr
  it('reads draft from any of the title prefixes GitLab knows, and a retitle without one marks the request ready', async () => {
    const created = await create({ title: '(draft) not yet' });
    expect(created.json).toMatchObject({ draft: true, work_in_progress: true, detailed_merge_status: 'draft_status' });
    expect((await call('PUT', `${MERGE_REQUESTS}/1`, { body: { title: '[Draft] still not' } })).json).toMatchObject({ draft: true });
    expect((await call('PUT', `${MERGE_REQUESTS}/1`, { body: { title: 'Ready now' } })).json).toMatchObject({ draft: false, title: 'Ready now' });
  });

  // https://docs.gitlab.com/api/merge_requests/#update-mr
  it('refuses an update that sets nothing, and replaces labels and reviewers when given', async () => {
    await create({ labels: 'one,two', reviewer_ids: [1] });
    const empty = await call('PUT', `${MERGE_REQUESTS}/1`, { body: { unknown: true } });
    expect(empty.status).toBe(400);
    expect(empty.json).toMatchObject({ error: expect.stringContaining('at least one parameter must be provided') });
    const updated = await call('PUT', `${MERGE_REQUESTS}/1`, { body: { labels: '', reviewer_ids: [2] } });
    expect(updated.json).toMatchObject({ labels: [], reviewers: [{ username: 'bob' }], title: 'A change' });
  });

  // https://docs.gitlab.com/api/merge_requests/#list-project-merge-requests
  it('filters the listing by state and branches, and refuses a state GitLab does not know', async () => {
    await create({});
    await create({ target_branch: 'other' });
    const merged = double.state.mergeRequest(PROJECT, 1);
    if (merged === undefined) throw new Error('the double did not store the request');
    merged.state = 'merged';

    const iidsOf = async (query: string) => ((await call('GET', `${MERGE_REQUESTS}?${query}`)).json as { iid: number }[]).map((mr) => mr.iid);
    expect(await iidsOf('state=merged')).toEqual([1]);
    expect(await iidsOf('state=opened&source_branch=topic')).toEqual([2]);
    expect(await iidsOf('target_branch=main')).toEqual([1]);
    expect(await iidsOf('')).toEqual([2, 1]);
    expect(await call('GET', `${MERGE_REQUESTS}?state=open`)).toMatchObject({ status: 400, json: { error: 'state does not have a valid value' } });
  });

  // https://docs.gitlab.com/api/rest/#other-pagination-headers
  it("pages with GitLab's Link and X-* headers", async () => {
    for (const target of ['main', 'other']) await create({ target_branch: target });
    await create({ source_branch: 'other' });
    const second = await call('GET', `${MERGE_REQUESTS}?per_page=1&page=2`);
    expect((second.json as unknown[]).length).toBe(1);
    expect(Object.fromEntries(['x-page', 'x-per-page', 'x-next-page', 'x-prev-page', 'x-total', 'x-total-pages'].map((name) => [name, second.headers.get(name)]))).toEqual({
      'x-page': '2',
      'x-per-page': '1',
      'x-next-page': '3',
      'x-prev-page': '1',
      'x-total': '3',
      'x-total-pages': '3',
    });
    expect(second.headers.get('link')).toContain(`<${double.apiUrl}${MERGE_REQUESTS}?per_page=1&page=3>; rel="next"`);
  });

  // https://docs.gitlab.com/api/users/#list-users
  it('lists users, or the one of a name matched case-insensitively, or none', async () => {
    expect((await call('GET', '/users?username=ALICE')).json).toMatchObject([{ id: 1, username: 'alice', state: 'active' }]);
    expect((await call('GET', '/users?username=mallory')).json).toEqual([]);
    expect(((await call('GET', '/users?per_page=100')).json as { username: string }[]).map((user) => user.username)).toEqual(['alice', 'bob', 'bot']);
  });
});
