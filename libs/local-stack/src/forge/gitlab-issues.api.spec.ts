import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { callDouble, createDoubleRepository, type DoubleAnswer } from './forge-api.fixture';
import { type ForgeDouble, startForgeDouble } from './forge-double';
import { GITLAB_DOCS, gitlabApi } from './gitlab.api';

const PROJECT = 'group/sub/app';
const ISSUES = `/projects/${encodeURIComponent(PROJECT)}/issues`;
const TOKEN = 'glpat-issues-double-spec-token';

describe('the GitLab issue and note routes of the forge double', () => {
  let root: string;
  let double: ForgeDouble;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'airlock-gitlab-issues-double-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  beforeEach(async () => {
    const bare = createDoubleRepository(mkdtempSync(join(root, 'repo-')), 'app.git', []);
    double = await startForgeDouble(gitlabApi, { projects: { [PROJECT]: bare }, tokens: { [TOKEN]: 'bot' } });
    double.state.addIssue({ project: PROJECT, key: '42', title: 'Login fails with SSO', description: 'Since 16.4 the SSO button loops.' });
  });
  afterEach(() => double.stop());

  const call = (method: string, path: string, body?: unknown): Promise<DoubleAnswer> => callDouble(double, method, path, { body, headers: { 'PRIVATE-TOKEN': TOKEN } });

  it('cites the documentation of each issue route', () => {
    const docs = gitlabApi.routes.map((route) => route.docs);
    expect(docs).toContain(GITLAB_DOCS.singleProjectIssue);
    expect(docs).toContain(GITLAB_DOCS.createIssueNote);
  });

  // https://docs.gitlab.com/api/issues/#single-project-issue
  it('answers an issue of the project by its iid, the project by path or id', async () => {
    const issue = await call('GET', `${ISSUES}/42`);
    expect(issue).toMatchObject({
      status: 200,
      json: { id: 1, iid: 42, project_id: 1, title: 'Login fails with SSO', description: 'Since 16.4 the SSO button loops.', state: 'opened', web_url: `${double.origin}/${PROJECT}/-/issues/42` },
    });
    expect((await call('GET', '/projects/1/issues/42')).json).toMatchObject({ iid: 42 });
  });

  // https://docs.gitlab.com/api/rest/troubleshooting/#status-codes
  it('answers 404 for an unknown issue or project, and 401 without a token it knows', async () => {
    expect(await call('GET', `${ISSUES}/43`)).toMatchObject({ status: 404, json: { message: '404 Not found' } });
    expect(await call('GET', '/projects/9/issues/42')).toMatchObject({ status: 404, json: { message: '404 Project Not Found' } });
    expect(await callDouble(double, 'GET', `${ISSUES}/42`, { headers: { 'PRIVATE-TOKEN': 'glpat-wrong' } })).toMatchObject({ status: 401, json: { message: '401 Unauthorized' } });
  });

  // https://docs.gitlab.com/api/notes/#create-new-issue-note
  it("creates a note by the token's user and answers 201 with it; refuses a missing, mistyped or blank body", async () => {
    const note = await call('POST', `${ISSUES}/42/notes`, { body: 'Airlock updated a merge request for this ticket: https://git.example/mr/1' });
    expect(note).toMatchObject({ status: 201, json: { id: 1, body: 'Airlock updated a merge request for this ticket: https://git.example/mr/1', author: { username: 'bot' }, noteable_type: 'Issue', noteable_iid: 42, system: false } });
    expect(await call('POST', `${ISSUES}/42/notes`, {})).toMatchObject({ status: 400, json: { error: 'body is missing' } });
    expect(await call('POST', `${ISSUES}/42/notes`, { body: ['x'] })).toMatchObject({ status: 400, json: { error: 'body is invalid' } });
    expect(await call('POST', `${ISSUES}/42/notes`, { body: ' ' })).toMatchObject({ status: 400, json: { message: { note: ["can't be blank"] } } });
    expect(await call('POST', `${ISSUES}/43/notes`, { body: 'x' })).toMatchObject({ status: 404 });
    expect(double.state.issue(PROJECT, '42')?.comments.map((comment) => comment.body)).toEqual(['Airlock updated a merge request for this ticket: https://git.example/mr/1']);
  });
});
