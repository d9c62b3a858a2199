import { callDouble, type DoubleAnswer } from './forge-api.fixture';
import { type ForgeDouble, startForgeDouble } from './forge-double';
import { JIRA_DOCS, jiraApi } from './jira.api';

const TOKEN = 'jira-pat-double-spec-token';
const NOT_FOUND = { errorMessages: ['Issue does not exist or you do not have permission to see it.'], errors: {} };

describe('the Jira API of the tracker double', () => {
  let double: ForgeDouble;

  beforeEach(async () => {
    double = await startForgeDouble(jiraApi, { projects: {}, tokens: { [TOKEN]: 'airlock-bot' } });
    double.state.addIssue({ project: 'PAY', key: 'PAY-7', title: 'Refunds round down', description: 'A refund of 0.015 becomes 0.01.' });
    double.state.addIssue({ project: 'PAY', key: 'PAY-8', title: 'No description', description: null });
  });
  afterEach(() => double.stop());

  const call = (method: string, path: string, options: { readonly body?: unknown; readonly headers?: Record<string, string> } = {}): Promise<DoubleAnswer> =>
    callDouble(double, method, path, { body: options.body, headers: { authorization: `Bearer ${TOKEN}`, ...options.headers } });

  it('cites the documentation of each route', () => {
    expect(jiraApi.routes.map((route) => route.docs)).toEqual([JIRA_DOCS.getIssue, JIRA_DOCS.addComment]);
    expect(double.apiUrl).toBe(`${double.origin}/rest/api/2`);
  });

  // https://confluence.atlassian.com/enterprise/using-personal-access-tokens-1026032365.html
  it('takes a personal access token as Authorization: Bearer, and answers 401 with the login reason to an unknown one or none', async () => {
    expect((await call('GET', '/issue/PAY-7')).status).toBe(200);
    for (const headers of [{ authorization: 'Bearer wrong-token' }, { authorization: '' }, { authorization: `Basic ${Buffer.from(`bot:${TOKEN}`).toString('base64')}` }]) {
      const refused = await call('GET', '/issue/PAY-7', { headers });
      expect(refused).toMatchObject({ status: 401, json: { errorMessages: [expect.stringContaining('not authenticated')], errors: {} } });
      expect(refused.headers.get('x-seraph-loginreason')).toBe('AUTHENTICATED_FAILED');
    }
  });

  // https://docs.atlassian.com/software/jira/docs/api/REST/9.12.0/#api/2/issue-getIssue
  it('answers an issue by key (any case) or id, with only the fields asked for', async () => {
    const issue = await call('GET', '/issue/PAY-7?fields=summary,description');
    expect(issue).toMatchObject({ status: 200, json: { id: '10001', key: 'PAY-7', self: `${double.origin}/rest/api/2/issue/10001` } });
    expect((issue.json as { fields: unknown }).fields).toEqual({ summary: 'Refunds round down', description: 'A refund of 0.015 becomes 0.01.' });
    expect((await call('GET', '/issue/pay-7?fields=summary')).json).toMatchObject({ key: 'PAY-7', fields: { summary: 'Refunds round down' } });
    expect((await call('GET', '/issue/10002')).json).toMatchObject({ key: 'PAY-8', fields: { summary: 'No description', description: null, project: { key: 'PAY' }, comment: { total: 0 } } });
  });

  // https://docs.atlassian.com/software/jira/docs/api/REST/9.12.0/#api/2/issue-getIssue
  it('answers 404 in the same words for an issue that does not exist, a route it does not model, and a comment on no issue', async () => {
    expect(await call('GET', '/issue/PAY-9')).toMatchObject({ status: 404, json: NOT_FOUND });
    expect(await call('GET', '/project/PAY')).toMatchObject({ status: 404, json: NOT_FOUND });
    expect(await call('POST', '/issue/PAY-9/comment', { body: { body: 'hello' } })).toMatchObject({ status: 404, json: NOT_FOUND });
  });

  // https://docs.atlassian.com/software/jira/docs/api/REST/9.12.0/#api/2/issue-addComment
  it('adds a comment by the token\'s user and answers 201 with it; refuses a missing or blank body by field', async () => {
    const added = await call('POST', '/issue/PAY-7/comment', { body: { body: 'Airlock opened a merge request for this ticket: https://git.example/mr/1' } });
    expect(added).toMatchObject({ status: 201, json: { id: '10001', body: 'Airlock opened a merge request for this ticket: https://git.example/mr/1', author: { name: 'airlock-bot' } } });
    expect((added.json as { created: string }).created).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/);
    expect(double.state.issue('PAY', 'PAY-7')?.comments).toEqual([expect.objectContaining({ author: 'airlock-bot', body: 'Airlock opened a merge request for this ticket: https://git.example/mr/1' })]);
    for (const body of [{}, { body: '  ' }, { body: 7 }]) {
      expect(await call('POST', '/issue/PAY-7/comment', { body })).toMatchObject({ status: 400, json: { errorMessages: [], errors: { comment: 'Comment body can not be empty!' } } });
    }
    expect(double.state.issue('PAY', 'PAY-7')?.comments).toHaveLength(1);
  });
});
