import type { DeliveryConfig, ForgeConfig } from '../../config/worker-config.loader';
import { isCommitSha, isHttpUrl, isPositiveInteger, isRecord, isUserName, timeOf } from './forge-answers';
import {
  type ForgeClient,
  ForgeError,
  type MergeRequest,
  type MergeRequestActivity,
  type MergeRequestCommit,
  type MergeRequestDraft,
  type MergeRequestHead,
  type MergeRequestReview,
  type ReviewDraft,
} from './forge-client';
import type { ForgeHttp, ForgeHttpOptions } from './forge-http';
import { gitLabHttp } from './gitlab-http';

/** The title prefixes GitLab reads as "draft" (it has no draft field to set): https://docs.gitlab.com/user/project/merge_requests/drafts/ */
const DRAFT_TITLE = /^\s*(\[draft\]|\(draft\)|draft:)/i;
const DRAFT_PREFIX = 'Draft: ';
/** GitLab refuses a longer title (400); cut here so that a long ticket title still opens a request. */
const MAX_TITLE_CHARS = 255;

/** GitLab's states; `locked` is the short moment of a merge under way, still open. */
const STATES: Readonly<Record<string, MergeRequest['state']>> = { opened: 'open', locked: 'open', closed: 'closed', merged: 'merged' };

/** Items per page of the listings the delivery watch reads: GitLab's largest page. */
const PAGE_SIZE = 100;

/** A merge request as this client reads GitLab's answer, checked. */
interface GitLabMergeRequest {
  readonly request: MergeRequest;
  readonly sourceBranch: string;
  readonly targetBranch: string;
  readonly reviewerIds: readonly number[];
}

/**
 * Merge requests on GitLab self-managed through its REST API v4
 * (https://docs.gitlab.com/api/merge_requests/), authenticated with `PRIVATE-TOKEN`. Draft
 * is the `Draft: ` title prefix; reviewers are resolved from user names to the ids GitLab
 * takes. Every answer is checked before it is believed.
 */
export class GitLabForge implements ForgeClient {
  private readonly http: ForgeHttp;
  private readonly mergeRequestsPath: string;

  constructor(
    private readonly config: ForgeConfig,
    delivery: Pick<DeliveryConfig, 'maxRetries' | 'retryBudgetMs'>,
    options: { readonly sleep?: ForgeHttpOptions['sleep'] } = {},
  ) {
    // A full path travels as one URL-encoded segment (`group%2Fsub%2Fname`); a numeric id is unchanged.
    this.mergeRequestsPath = `/projects/${encodeURIComponent(config.project)}/merge_requests`;
    this.http = gitLabHttp(config, delivery, options);
  }

  /**
   * The open request from `sourceBranch`, newest first. GitLab allows one open request per
   * source and target, so with a configured target branch only a request to it counts: one
   * from the same branch to another target is someone else's.
   */
  async findOpen(sourceBranch: string, signal: AbortSignal): Promise<MergeRequest | undefined> {
    const listed = await this.http.getAll<unknown>(this.mergeRequestsPath, { query: { state: 'opened', source_branch: sourceBranch }, signal });
    return listed
      .map((item) => parseMergeRequest(item, 'listed'))
      .find((mr) => mr.request.state === 'open' && mr.sourceBranch === sourceBranch && (this.config.targetBranch === undefined || mr.targetBranch === this.config.targetBranch))?.request;
  }

  /** Opens the request; GitLab answers 409 when one is open for the same source and target, which the transport reports as `conflict`. */
  async open(draft: MergeRequestDraft, signal: AbortSignal): Promise<MergeRequest> {
    const reviewerIds = await this.userIdsOf(draft.reviewers, signal);
    const response = await this.http.request<unknown>('POST', this.mergeRequestsPath, {
      body: { source_branch: draft.sourceBranch, target_branch: draft.targetBranch, title: titleOf(draft), description: draft.body, labels: labelsOf(draft.labels), reviewer_ids: reviewerIds },
      signal,
    });
    return parseMergeRequest(response.body, 'created').request;
  }

  /**
   * Replaces the title (with its draft prefix), description and labels. GitLab replaces
   * reviewers wholesale, so the draft's are added to those already asked: a reviewer a
   * human added stays.
   */
  async update(number: number, draft: MergeRequestDraft, signal: AbortSignal): Promise<MergeRequest> {
    if (!isPositiveInteger(number)) throw new ForgeError('refused', `${number} is not a GitLab merge request iid`);
    const path = `${this.mergeRequestsPath}/${number}`;
    const body: Record<string, unknown> = { title: titleOf(draft), description: draft.body, labels: labelsOf(draft.labels) };
    if (draft.reviewers.length > 0) {
      const current = parseMergeRequest((await this.http.request<unknown>('GET', path, { signal })).body, 'read');
      body['reviewer_ids'] = [...new Set([...current.reviewerIds, ...(await this.userIdsOf(draft.reviewers, signal))])];
    }
    const updated = parseMergeRequest((await this.http.request<unknown>('PUT', path, { body, signal })).body, 'updated');
    if (updated.request.number !== number) throw new ForgeError('refused', `GitLab answered the update of !${number} with !${updated.request.number}`);
    return updated.request;
  }

  /** The token's user (https://docs.gitlab.com/api/users/#retrieve-the-current-user). */
  async currentUser(signal: AbortSignal): Promise<string> {
    const { body } = await this.http.request<unknown>('GET', '/user', { signal });
    const username = isRecord(body) ? body['username'] : undefined;
    if (!isUserName(username)) throw new ForgeError('refused', 'GitLab answered GET /user without a valid username');
    return username;
  }

  /**
   * The request (https://docs.gitlab.com/api/merge_requests/#get-single-mr), its commits
   * (…/commits), its notes (https://docs.gitlab.com/api/notes/#list-all-merge-request-notes)
   * and its approvals (https://docs.gitlab.com/api/merge_request_approvals/). GitLab has no
   * review objects: each note a person wrote (`system: false`) counts as a review with
   * comments, and each approval as an approval; system notes ("approved this merge request",
   * "requested changes") only repeat what those say.
   */
  async activity(number: number, signal: AbortSignal): Promise<MergeRequestActivity> {
    if (!isPositiveInteger(number)) throw new ForgeError('refused', `${number} is not a GitLab merge request iid`);
    const path = `${this.mergeRequestsPath}/${number}`;
    const request = parseActivity((await this.http.request<unknown>('GET', path, { signal })).body);
    const commits = (await this.http.getAll<unknown>(`${path}/commits`, { query: { per_page: PAGE_SIZE }, signal })).map(parseCommit);
    const notes = await this.http.getAll<unknown>(`${path}/notes`, { query: { per_page: PAGE_SIZE, sort: 'asc', order_by: 'created_at' }, signal });
    const comments = notes.flatMap(parsePersonsNote);
    return { ...request, commits, reviews: [...comments, ...(await this.approvals(path, signal))] };
  }

  /** The request, with its head commit and whether its source branch is in this project (https://docs.gitlab.com/api/merge_requests/#get-single-mr). */
  async getMergeRequest(number: number, signal: AbortSignal): Promise<MergeRequestHead> {
    if (!isPositiveInteger(number)) throw new ForgeError('refused', `${number} is not a GitLab merge request iid`);
    const json = (await this.http.request<unknown>('GET', `${this.mergeRequestsPath}/${number}`, { signal })).body;
    const { request, sourceBranch, targetBranch } = parseMergeRequest(json, 'read');
    const fields = json as Record<string, unknown>;
    const refuse = (problem: string) => new ForgeError('refused', `GitLab answered a read merge request ${problem}`);
    if (typeof fields['title'] !== 'string') throw refuse('without a title');
    const description = fields['description'] ?? '';
    if (typeof description !== 'string') throw refuse('whose description is not text');
    if (!isCommitSha(fields['sha'])) throw refuse('without the commit sha of its source branch');
    const { source_project_id: sourceProject, target_project_id: targetProject } = fields;
    if (!isPositiveInteger(sourceProject) || !isPositiveInteger(targetProject)) throw refuse('without its source and target project ids');
    return { request, title: fields['title'], description, sourceBranch, targetBranch, headSha: fields['sha'], fromSameRepository: sourceProject === targetProject };
  }

  /**
   * GitLab has no review object: each comment is a thread on the diff
   * (https://docs.gitlab.com/api/discussions/#create-a-new-thread-in-the-merge-request-diff),
   * positioned by the request's current diff refs on a line the change added (`new_line`
   * alone), and the summary is one note on the request
   * (https://docs.gitlab.com/api/notes/#create-new-merge-request-note), posted last. The diff
   * refs are read first: a request whose head moved past `draft.headSha` is refused
   * (`conflict`), since the lines were numbered in the older commit.
   */
  async postReview(number: number, draft: ReviewDraft, signal: AbortSignal): Promise<void> {
    if (!isPositiveInteger(number)) throw new ForgeError('refused', `${number} is not a GitLab merge request iid`);
    const path = `${this.mergeRequestsPath}/${number}`;
    const refs = parseDiffRefs((await this.http.request<unknown>('GET', path, { signal })).body);
    if (refs.head_sha !== draft.headSha) throw new ForgeError('conflict', `GitLab's !${number} moved on to ${refs.head_sha} since ${draft.headSha} was reviewed`);
    let posted = 0;
    try {
      for (const comment of draft.comments) {
        const position = { position_type: 'text', ...refs, old_path: comment.oldPath ?? comment.path, new_path: comment.path, new_line: comment.line };
        const { body } = await this.http.request<unknown>('POST', `${path}/discussions`, { body: { body: comment.body, position }, signal });
        if (!isRecord(body) || typeof body['id'] !== 'string') throw new ForgeError('refused', 'GitLab answered a new thread without its id');
        posted += 1;
      }
      const { body } = await this.http.request<unknown>('POST', `${path}/notes`, { body: { body: draft.summary }, signal });
      if (!isRecord(body) || !isPositiveInteger(body['id'])) throw new ForgeError('refused', 'GitLab answered a new note without its id');
    } catch (error) {
      // The threads already posted stay on the request: say how many, for the local log.
      if (error instanceof ForgeError && posted > 0) throw new ForgeError(error.failure, `${error.message} (after ${posted} of ${draft.comments.length} comments were posted)`, error.status, error.body);
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.http.close();
  }

  /**
   * Who approved, with `approved_at` where GitLab gives it (newer versions; older ones say who
   * but not when). A GitLab without the approvals API answers 404: no approvals to count.
   */
  private async approvals(path: string, signal: AbortSignal): Promise<MergeRequestReview[]> {
    let body: unknown;
    try {
      body = (await this.http.request<unknown>('GET', `${path}/approvals`, { signal })).body;
    } catch (error) {
      if (error instanceof ForgeError && error.failure === 'not-found') return [];
      throw error;
    }
    const approvedBy = isRecord(body) ? body['approved_by'] : undefined;
    if (!Array.isArray(approvedBy)) throw new ForgeError('refused', "GitLab answered a merge request's approvals without an approved_by list");
    return approvedBy.map((approval: unknown) => {
      const username = isRecord(approval) && isRecord(approval['user']) ? approval['user']['username'] : undefined;
      if (!isUserName(username)) throw new ForgeError('refused', "GitLab answered a merge request's approvals with an approval without a valid user");
      return { author: username, at: isRecord(approval) ? timeOf(approval['approved_at']) : undefined, kind: 'approved' };
    });
  }

  /** GitLab takes reviewers by id; a name it does not know is the operator's mistake, named so it can be fixed. */
  private async userIdsOf(usernames: readonly string[], signal: AbortSignal): Promise<number[]> {
    const ids: number[] = [];
    for (const username of new Set(usernames)) {
      const { body } = await this.http.request<unknown>('GET', '/users', { query: { username }, signal });
      if (!Array.isArray(body)) throw new ForgeError('refused', 'GitLab answered a user lookup with something other than a list');
      // GitLab matches user names case-insensitively, and so does this.
      const user: unknown = body.find((candidate) => isRecord(candidate) && typeof candidate['username'] === 'string' && candidate['username'].toLowerCase() === username.toLowerCase());
      if (user === undefined) throw new ForgeError('refused', `GitLab has no user named ${username} to ask for a review: check the forge's reviewers in the worker config`);
      const id = (user as Record<string, unknown>)['id'];
      if (!isPositiveInteger(id)) throw new ForgeError('refused', `GitLab answered the user lookup of ${username} without a valid id`);
      ids.push(id);
    }
    return ids;
  }
}

function titleOf(draft: MergeRequestDraft): string {
  const title = draft.draft && !DRAFT_TITLE.test(draft.title) ? `${DRAFT_PREFIX}${draft.title}` : draft.title;
  // By code points, as GitLab counts characters, so that no character is cut in half.
  const characters = Array.from(title);
  return characters.length > MAX_TITLE_CHARS ? characters.slice(0, MAX_TITLE_CHARS).join('') : title;
}

/** GitLab takes labels as one comma-separated string, so a comma inside a name would split it into two labels. */
function labelsOf(labels: readonly string[]): string {
  const withComma = labels.find((label) => label.includes(','));
  if (withComma !== undefined) throw new ForgeError('refused', `the GitLab label "${withComma}" has a comma, which GitLab reads as two labels`);
  return labels.join(',');
}

/** GitLab's merge request JSON, checked for the fields this client relies on. */
function parseMergeRequest(json: unknown, what: string): GitLabMergeRequest {
  const refuse = (problem: string) => new ForgeError('refused', `GitLab answered a ${what} merge request ${problem}`);
  if (!isRecord(json)) throw refuse('that is not an object');
  const { iid, web_url: webUrl, state, source_branch: sourceBranch, target_branch: targetBranch, reviewers } = json;
  if (!isPositiveInteger(iid)) throw refuse('without a valid iid');
  if (!isHttpUrl(webUrl)) throw refuse('whose web_url is not an http(s) URL');
  const mapped = typeof state === 'string' ? STATES[state] : undefined;
  if (mapped === undefined) throw refuse('in an unknown state');
  if (typeof sourceBranch !== 'string' || typeof targetBranch !== 'string') throw refuse('without its source and target branches');
  const reviewerIds = Array.isArray(reviewers) ? reviewers.flatMap((reviewer) => (isRecord(reviewer) && isPositiveInteger(reviewer['id']) ? [reviewer['id']] : [])) : [];
  return { request: { number: iid, webUrl, state: mapped }, sourceBranch, targetBranch, reviewerIds };
}

/** The request's state, times and target from GitLab's merge request JSON, checked. */
function parseActivity(json: unknown): Omit<MergeRequestActivity, 'commits' | 'reviews'> {
  const refuse = (problem: string) => new ForgeError('refused', `GitLab answered a read merge request ${problem}`);
  const { request, targetBranch } = parseMergeRequest(json, 'read');
  const fields = json as Record<string, unknown>;
  const createdAt = timeOf(fields['created_at']);
  if (createdAt === undefined) throw refuse('without a valid created_at');
  const mergedAt = timeOf(fields['merged_at']);
  if (request.state === 'merged' && mergedAt === undefined) throw refuse('merged without a valid merged_at');
  // A squash with fast-forward merges leaves no merge commit, only the squash commit on the target.
  const mergeCommit = [fields['merge_commit_sha'], fields['squash_commit_sha']].find(isCommitSha);
  return { state: request.state, createdAt, mergedAt, closedAt: timeOf(fields['closed_at']), targetBranch, mergeCommitSha: mergeCommit };
}

/** A commit of the request's listing: GitLab names its sha `id`. */
function parseCommit(json: unknown): MergeRequestCommit {
  if (!isRecord(json) || !isCommitSha(json['id']) || typeof json['message'] !== 'string') throw new ForgeError('refused', "GitLab answered a merge request's commits with one without a valid id and message");
  return { sha: json['id'], message: json['message'] };
}

/** A note a person wrote, as a review with comments; none for a system note. */
function parsePersonsNote(json: unknown): MergeRequestReview[] {
  const refuse = (problem: string) => new ForgeError('refused', `GitLab answered a merge request's notes with one ${problem}`);
  if (!isRecord(json) || typeof json['system'] !== 'boolean') throw refuse('without a system flag');
  if (json['system']) return [];
  const username = isRecord(json['author']) ? json['author']['username'] : undefined;
  if (!isUserName(username)) throw refuse('without a valid author');
  const at = timeOf(json['created_at']);
  if (at === undefined) throw refuse('without a valid created_at');
  return [{ author: username, at, kind: 'commented' }];
}

/** The shas GitLab positions a diff comment by (`diff_refs` of the request: merge base, target tip, head), checked. */
function parseDiffRefs(json: unknown): { readonly base_sha: string; readonly start_sha: string; readonly head_sha: string } {
  const refs = isRecord(json) ? json['diff_refs'] : undefined;
  if (!isRecord(refs) || !isCommitSha(refs['base_sha']) || !isCommitSha(refs['start_sha']) || !isCommitSha(refs['head_sha'])) {
    throw new ForgeError('refused', 'GitLab answered a read merge request without its diff_refs (base_sha, start_sha, head_sha)');
  }
  return { base_sha: refs['base_sha'], start_sha: refs['start_sha'], head_sha: refs['head_sha'] };
}
