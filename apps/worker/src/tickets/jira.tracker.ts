import { FailureCode } from '@airlock/protocol';
import type { DeliveryConfig, TrackerConfig } from '../config/worker-config.loader';
import { isRecord } from '../delivery/forge/forge-answers';
import { ForgeHttp, type ForgeHttpOptions } from '../delivery/forge/forge-http';
import { headerSafeToken } from '../delivery/forge/forge-token';
import { type TicketTracker, type TrackedTicket, TrackerError } from './ticket-tracker';

/** A Jira issue key: the project key (a capital letter, then capitals, digits or _) and the issue's number. */
const ISSUE_KEY = /^[A-Z][A-Z0-9_]{0,49}-[1-9][0-9]{0,9}$/;

/**
 * Tickets on Jira Data Center/Server through its REST API 2, authenticated with a personal
 * access token as `Authorization: Bearer`
 * (https://confluence.atlassian.com/enterprise/using-personal-access-tokens-1026032365.html).
 * Reads an issue's summary and description
 * (https://docs.atlassian.com/software/jira/docs/api/REST/9.12.0/#api/2/issue-getIssue) and
 * comments on it (https://docs.atlassian.com/software/jira/docs/api/REST/9.12.0/#api/2/issue-addComment).
 * Jira answers 404 alike for an issue that does not exist and one the token's user may not
 * see: both are TICKET_NOT_FOUND.
 */
export class JiraTracker implements TicketTracker {
  private readonly http: ForgeHttp;

  constructor(
    config: Extract<TrackerConfig, { readonly type: 'jira' }>,
    retries: Pick<DeliveryConfig, 'maxRetries' | 'retryBudgetMs'>,
    options: { readonly sleep?: ForgeHttpOptions['sleep'] } = {},
  ) {
    this.http = new ForgeHttp({
      forge: 'Jira',
      apiUrl: `${config.apiUrl}/rest/api/2`,
      // Read per request, so that a rotated token needs no restart.
      headers: async () => ({ authorization: `Bearer ${await headerSafeToken('Jira', config.token)}` }),
      caPem: config.caPem,
      timeoutMs: config.timeoutMs,
      maxRetries: retries.maxRetries,
      retryBudgetMs: retries.retryBudgetMs,
      ...(options.sleep === undefined ? {} : { sleep: options.sleep }),
    });
  }

  async read(key: string, signal: AbortSignal): Promise<TrackedTicket> {
    const path = issuePath(key);
    try {
      const { body } = await this.http.request<unknown>('GET', path, { query: { fields: 'summary,description' }, signal });
      return parseIssue(body);
    } catch (error) {
      throw TrackerError.from(error);
    }
  }

  async comment(key: string, markdown: string, signal: AbortSignal): Promise<void> {
    const path = `${issuePath(key)}/comment`;
    try {
      const { body } = await this.http.request<unknown>('POST', path, { body: { body: markdown }, signal });
      if (!isRecord(body) || typeof body['id'] !== 'string') throw new TrackerError(FailureCode.TICKET_NOT_FOUND, 'Jira answered a new comment without its id');
    } catch (error) {
      throw TrackerError.from(error);
    }
  }

  async close(): Promise<void> {
    await this.http.close();
  }
}

/** The issue's path, for a key Jira could hold; any other is refused before a request is made. */
function issuePath(key: string): string {
  if (!ISSUE_KEY.test(key)) throw new TrackerError(FailureCode.TICKET_NOT_FOUND, `${JSON.stringify(key)} is not a Jira issue key (such as PROJ-123)`);
  return `/issue/${key}`;
}

/** The summary and description of Jira's issue JSON, checked: the description is a string, or null when there is none. */
function parseIssue(json: unknown): TrackedTicket {
  const refuse = (problem: string) => new TrackerError(FailureCode.TICKET_NOT_FOUND, `Jira answered an issue ${problem}`);
  if (!isRecord(json) || !isRecord(json['fields'])) throw refuse('without its fields');
  const { summary, description } = json['fields'];
  if (typeof summary !== 'string') throw refuse('without a summary');
  if (description !== null && description !== undefined && typeof description !== 'string') throw refuse('whose description is not text');
  return { title: summary, description: description ?? '' };
}
