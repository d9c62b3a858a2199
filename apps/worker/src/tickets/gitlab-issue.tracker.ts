import { FailureCode } from '@airlock/protocol';
import type { DeliveryConfig, TrackerConfig } from '../config/worker-config.loader';
import { isPositiveInteger, isRecord } from '../delivery/forge/forge-answers';
import type { ForgeHttp, ForgeHttpOptions } from '../delivery/forge/forge-http';
import { gitLabHttp } from '../delivery/forge/gitlab-http';
import { type TicketTracker, type TrackedTicket, TrackerError } from './ticket-tracker';

/** A GitLab issue's number within its project (`iid`). */
const ISSUE_IID = /^[1-9][0-9]{0,9}$/;

/**
 * Tickets as issues of one GitLab project through its REST API v4, authenticated with
 * `PRIVATE-TOKEN` (https://docs.gitlab.com/api/rest/authentication/#personalprojectgroup-access-tokens).
 * Reads an issue's title and description (https://docs.gitlab.com/api/issues/#single-project-issue)
 * and comments on it with a note (https://docs.gitlab.com/api/notes/#create-new-issue-note).
 * GitLab answers 404 alike for an issue that does not exist and one the token may not see.
 */
export class GitLabIssueTracker implements TicketTracker {
  private readonly http: ForgeHttp;
  private readonly issuesPath: string;

  constructor(
    config: Extract<TrackerConfig, { readonly type: 'gitlab' }>,
    retries: Pick<DeliveryConfig, 'maxRetries' | 'retryBudgetMs'>,
    options: { readonly sleep?: ForgeHttpOptions['sleep'] } = {},
  ) {
    // A full path travels as one URL-encoded segment (`group%2Fsub%2Fname`); a numeric id is unchanged.
    this.issuesPath = `/projects/${encodeURIComponent(config.project)}/issues`;
    this.http = gitLabHttp(config, retries, options);
  }

  async read(key: string, signal: AbortSignal): Promise<TrackedTicket> {
    const path = this.issuePath(key);
    try {
      const { body } = await this.http.request<unknown>('GET', path, { signal });
      return parseIssue(body, Number(key));
    } catch (error) {
      throw TrackerError.from(error);
    }
  }

  async comment(key: string, markdown: string, signal: AbortSignal): Promise<void> {
    const path = `${this.issuePath(key)}/notes`;
    try {
      const { body } = await this.http.request<unknown>('POST', path, { body: { body: markdown }, signal });
      if (!isRecord(body) || !isPositiveInteger(body['id'])) throw new TrackerError(FailureCode.TICKET_NOT_FOUND, 'GitLab answered a new note without its id');
    } catch (error) {
      throw TrackerError.from(error);
    }
  }

  async close(): Promise<void> {
    await this.http.close();
  }

  /** The issue's path, for a key that is an issue number; any other is refused before a request is made. */
  private issuePath(key: string): string {
    if (!ISSUE_IID.test(key)) throw new TrackerError(FailureCode.TICKET_NOT_FOUND, `${JSON.stringify(key)} is not a GitLab issue number (such as 42)`);
    return `${this.issuesPath}/${key}`;
  }
}

/** The title and description of GitLab's issue JSON, checked, for the issue asked for: the description is a string, or null when there is none. */
function parseIssue(json: unknown, iid: number): TrackedTicket {
  const refuse = (problem: string) => new TrackerError(FailureCode.TICKET_NOT_FOUND, `GitLab answered issue #${iid} ${problem}`);
  if (!isRecord(json)) throw refuse('with something other than an object');
  const { iid: answered, title, description } = json;
  if (answered !== iid) throw refuse('with another issue');
  if (typeof title !== 'string') throw refuse('without a title');
  if (description !== null && description !== undefined && typeof description !== 'string') throw refuse('whose description is not text');
  return { title, description: description ?? '' };
}
