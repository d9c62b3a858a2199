import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ForgeApi, type ForgeDouble, gitlabApi, JIRA_DOCS, GITLAB_DOCS, jiraApi, startForgeDouble } from '@airlock/local-stack';
import { FailureCode } from '@airlock/protocol';
import type { ForgeTokenSource, TrackerConfig } from '../config/worker-config.loader';
import { recordingSleep } from '../delivery/forge/forge-test.fixture';
import type { FailureCodeName } from '../jobs/job-result.builder';
import { GitLabIssueTracker } from './gitlab-issue.tracker';
import { JiraTracker } from './jira.tracker';
import { type TicketTracker, TrackerError } from './ticket-tracker';

const TOKEN = `tracker-token-${randomBytes(12).toString('hex')}`;
const ROTATED_TOKEN = `tracker-token-${randomBytes(12).toString('hex')}`;
const WRONG_TOKEN = `tracker-token-${randomBytes(12).toString('hex')}`;
const BOT = 'airlock-bot';
const RETRIES = { maxRetries: 3, retryBudgetMs: 60_000 };
const TICKET = { title: 'Refunds round down', description: 'A refund of 0.015 becomes 0.01; it must round half up.' };
const COMMENT = 'Airlock opened a merge request for this ticket: https://git.corp.example/pay/-/merge_requests/3';

/** What differs between the trackers; every case below runs against each. */
interface Flavour {
  readonly name: string;
  readonly api: ForgeApi;
  /** The project the ticket is filed in, as the double stores it. */
  readonly project: string;
  readonly key: string;
  /** A key the tracker could hold, but does not. */
  readonly missingKey: string;
  /** Keys this tracker could never hold: refused before any request. */
  readonly malformedKeys: readonly string[];
  /** The path of the ticket's read, below the double's origin. */
  readonly readPath: string;
  readonly docs: { readonly read: string; readonly comment: string };
  client(double: ForgeDouble, token: ForgeTokenSource, waits: number[]): TicketTracker;
  /** The token the request carried, as the tracker's auth scheme sends it. */
  tokenSent(headers: Record<string, unknown>): unknown;
}

const trackerConfig = (token: ForgeTokenSource) => ({ name: 'tickets', token, timeoutMs: 5_000, comment: false, caPem: undefined });

const FLAVOURS: readonly Flavour[] = [
  {
    name: 'Jira',
    api: jiraApi,
    project: 'PAY',
    key: 'PAY-7',
    missingKey: 'PAY-9',
    malformedKeys: ['pay-7', 'PAY-07', 'PAY-7/../../admin', '7', 'P A Y-7'],
    readPath: '/rest/api/2/issue/PAY-7',
    docs: { read: JIRA_DOCS.getIssue, comment: JIRA_DOCS.addComment },
    client: (double, token, waits) => new JiraTracker({ ...trackerConfig(token), type: 'jira', apiUrl: double.origin } satisfies TrackerConfig, RETRIES, { sleep: recordingSleep(waits) }),
    tokenSent: (headers) => headers['authorization'],
  },
  {
    name: 'GitLab',
    api: gitlabApi,
    project: 'pay/refunds',
    key: '42',
    missingKey: '43',
    malformedKeys: ['PAY-7', '042', '0', '4/../1', '12345678901'],
    readPath: `/api/v4/projects/${encodeURIComponent('pay/refunds')}/issues/42`,
    docs: { read: GITLAB_DOCS.singleProjectIssue, comment: GITLAB_DOCS.createIssueNote },
    client: (double, token, waits) =>
      new GitLabIssueTracker({ ...trackerConfig(token), type: 'gitlab', apiUrl: double.apiUrl, project: 'pay/refunds' } satisfies TrackerConfig, RETRIES, { sleep: recordingSleep(waits) }),
    tokenSent: (headers) => headers['private-token'],
  },
];

describe.each(FLAVOURS)('$name tracker client against its double', (flavour) => {
  let root: string;
  let double: ForgeDouble;
  /** What the clients would have slept, in order: the transport's waits, recorded instead of slept. */
  let waits: number[];
  const clients: TicketTracker[] = [];

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'airlock-tracker-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  beforeEach(async () => {
    waits = [];
    // GitLab's issues belong to a project the forge knows; the double checks only that it does.
    double = await startForgeDouble(flavour.api, { projects: flavour.api === gitlabApi ? { [flavour.project]: root } : {}, tokens: { [TOKEN]: BOT, [ROTATED_TOKEN]: BOT } });
    double.state.addIssue({ project: flavour.project, key: flavour.key, ...TICKET });
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) await client.close();
    await double.stop();
  });

  const clientOf = (token: ForgeTokenSource = { env: 'AIRLOCK_TRACKER_TOKEN', value: TOKEN }): TicketTracker => {
    const client = flavour.client(double, token, waits);
    clients.push(client);
    return client;
  };
  const signal = () => AbortSignal.timeout(30_000);
  /** The TrackerError a call failed with, of the code expected; its message carries no token, right or wrong. */
  const failureOf = async (call: Promise<unknown>, failureCode: FailureCodeName): Promise<TrackerError> => {
    const error = await call.then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(TrackerError);
    expect((error as TrackerError).failureCode).toBe(failureCode);
    for (const token of [TOKEN, ROTATED_TOKEN, WRONG_TOKEN]) expect((error as TrackerError).message).not.toContain(token);
    return error as TrackerError;
  };

  it('reads the ticket with the tracker\'s own auth scheme, on the documented route', async () => {
    await expect(clientOf().read(flavour.key, signal())).resolves.toEqual(TICKET);
    const [request, ...others] = double.requests;
    expect(others).toEqual([]);
    expect(request).toMatchObject({ method: 'GET', path: flavour.readPath, status: 200 });
    expect(String(flavour.tokenSent(request?.headers ?? {}))).toContain(TOKEN);
    expect(double.state.issue(flavour.project, flavour.key)?.comments).toEqual([]);
    expect(flavour.api.routes.map((route) => route.docs)).toEqual(expect.arrayContaining([flavour.docs.read, flavour.docs.comment]));
  });

  it('reads a ticket without a description as an empty one', async () => {
    const issue = double.state.issue(flavour.project, flavour.key);
    if (issue === undefined) throw new Error('the double did not store the issue');
    issue.description = null;
    await expect(clientOf().read(flavour.key, signal())).resolves.toEqual({ title: TICKET.title, description: '' });
  });

  it("comments on the ticket as the token's user", async () => {
    await clientOf().comment(flavour.key, COMMENT, signal());
    expect(double.state.issue(flavour.project, flavour.key)?.comments).toEqual([expect.objectContaining({ author: BOT, body: COMMENT })]);
    expect(double.requests.map((request) => [request.method, request.status])).toEqual([['POST', 201]]);
  });

  it('fails TICKET_NOT_FOUND for a ticket the tracker does not hold (404), without retrying', async () => {
    await failureOf(clientOf().read(flavour.missingKey, signal()), FailureCode.TICKET_NOT_FOUND);
    await failureOf(clientOf().comment(flavour.missingKey, COMMENT, signal()), FailureCode.TICKET_NOT_FOUND);
    expect(double.requests.map((request) => request.status)).toEqual([404, 404]);
    expect(waits).toEqual([]);
  });

  it('fails TICKET_NOT_FOUND for a key this tracker could never hold, before any request', async () => {
    for (const key of flavour.malformedKeys) {
      await failureOf(clientOf().read(key, signal()), FailureCode.TICKET_NOT_FOUND);
      await failureOf(clientOf().comment(key, COMMENT, signal()), FailureCode.TICKET_NOT_FOUND);
    }
    expect(double.requests).toEqual([]);
  });

  it('fails TICKET_NOT_FOUND for an answer that is not the ticket, rather than believing it', async () => {
    for (const body of [[], { fields: { summary: 7 } }, { iid: 1, title: 7 }, 'ticket']) {
      double.injectAnswers(1, { status: 200, body });
      await failureOf(clientOf().read(flavour.key, signal()), FailureCode.TICKET_NOT_FOUND);
    }
  });

  it('fails TRACKER_AUTH_FAILED for a refused token (401), without retrying, and never names the token', async () => {
    await failureOf(clientOf({ env: 'AIRLOCK_TRACKER_TOKEN', value: WRONG_TOKEN }).read(flavour.key, signal()), FailureCode.TRACKER_AUTH_FAILED);
    await failureOf(clientOf({ env: 'AIRLOCK_TRACKER_TOKEN', value: WRONG_TOKEN }).comment(flavour.key, COMMENT, signal()), FailureCode.TRACKER_AUTH_FAILED);
    expect(double.requests.map((request) => request.status)).toEqual([401, 401]);
    expect(waits).toEqual([]);
  });

  it('reads the token at each request, so a rotated token file needs no restart; an empty or header-unsafe one is TRACKER_AUTH_FAILED', async () => {
    const tokenFile = join(mkdtempSync(join(root, 'token-')), 'tracker-token');
    writeFileSync(tokenFile, `${TOKEN}\n`);
    const client = clientOf({ file: tokenFile });
    await client.read(flavour.key, signal());
    writeFileSync(tokenFile, `${ROTATED_TOKEN}\n`);
    await client.read(flavour.key, signal());
    expect(double.requests.map((request) => String(flavour.tokenSent(request.headers)))).toEqual([expect.stringContaining(TOKEN), expect.stringContaining(ROTATED_TOKEN)]);

    writeFileSync(tokenFile, '\n');
    await failureOf(client.read(flavour.key, signal()), FailureCode.TRACKER_AUTH_FAILED);
    writeFileSync(tokenFile, `${WRONG_TOKEN}\r\nX-Injected: 1\n`);
    await failureOf(client.read(flavour.key, signal()), FailureCode.TRACKER_AUTH_FAILED);
    expect(double.requests).toHaveLength(2);
  });

  it('retries a 503 with growing back-off and then reads the ticket', async () => {
    double.injectAnswers(2, { status: 503, body: { message: '503 Service Unavailable' } });
    await expect(clientOf().read(flavour.key, signal())).resolves.toEqual(TICKET);
    expect(waits).toEqual([500, 1_000]);
    expect(double.requests.map((request) => request.status)).toEqual([503, 503, 200]);
  });

  it("waits the tracker's Retry-After on a 429 and then comments", async () => {
    double.injectAnswers(1, { status: 429, headers: { 'retry-after': '7' } });
    await clientOf().comment(flavour.key, COMMENT, signal());
    expect(waits).toEqual([7_000]);
    expect(double.requests.map((request) => request.status)).toEqual([429, 201]);
    expect(double.state.issue(flavour.project, flavour.key)?.comments).toHaveLength(1);
  });

  it('fails TRACKER_UNAVAILABLE once the retries are spent on 5xx, on a rate limit past the budget, or a tracker that is down', async () => {
    double.injectAnswers(4, { status: 502 });
    await failureOf(clientOf().read(flavour.key, signal()), FailureCode.TRACKER_UNAVAILABLE);
    expect(waits).toEqual([500, 1_000, 2_000]);

    waits.length = 0;
    double.injectAnswers(1, { status: 429, headers: { 'retry-after': '3600' } });
    await failureOf(clientOf().read(flavour.key, signal()), FailureCode.TRACKER_UNAVAILABLE);
    expect(waits).toEqual([]);

    double.down();
    await failureOf(clientOf().read(flavour.key, signal()), FailureCode.TRACKER_UNAVAILABLE);
    expect(waits).toEqual([500, 1_000, 2_000]);
  });
});
