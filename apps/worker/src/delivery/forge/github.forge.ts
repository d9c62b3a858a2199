import type { IncomingHttpHeaders } from 'node:http';
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
  type MergeRequestReviewKind,
  type ReviewDraft,
} from './forge-client';
import { ForgeHttp, type ForgeHttpOptions, headerValue } from './forge-http';
import { headerSafeToken } from './forge-token';

/** The REST API version the client is written for; GitHub Enterprise Server takes it from 3.9 on. */
const API_VERSION = '2022-11-28';
/** Items per page of the listings the delivery watch reads: GitHub's largest page. */
const PAGE_SIZE = 100;
/** The review states that are a person's submitted review; PENDING (not submitted) and DISMISSED are left out. */
const REVIEW_KINDS: Readonly<Record<string, MergeRequestReviewKind>> = { APPROVED: 'approved', CHANGES_REQUESTED: 'changes-requested', COMMENTED: 'commented' };

/** A pull request as far as the client reads GitHub's answer, checked field by field. */
interface GitHubPull {
  readonly request: MergeRequest;
  readonly headRef: string;
  /** `owner:branch`: which repository the head branch lives in. */
  readonly headLabel: string;
  readonly baseRef: string;
  /** The login that opened it; GitHub refuses to ask its author for a review. */
  readonly author: string | undefined;
}

/**
 * Pull requests on GitHub Enterprise Server through its REST API v3 (`/api/v3`), with the
 * token as `Authorization: Bearer`. Draft is GitHub's own `draft` flag, set when the request
 * is opened (the REST API cannot change it later). Labels go through the issues API, which
 * replaces them, so an update is idempotent; reviewers are logins, asked after the request exists.
 */
export class GitHubForge implements ForgeClient {
  private readonly http: ForgeHttp;
  private readonly owner: string;
  private readonly repositoryPath: string;

  constructor(
    private readonly config: ForgeConfig,
    delivery: Pick<DeliveryConfig, 'maxRetries' | 'retryBudgetMs'>,
    options: { readonly sleep?: ForgeHttpOptions['sleep'] } = {},
  ) {
    const [owner, name, ...rest] = config.project.split('/');
    if (owner === undefined || owner === '' || name === undefined || name === '' || rest.length > 0) {
      throw new ForgeError('refused', `a GitHub project is owner/name, not ${config.project}`);
    }
    this.owner = owner;
    this.repositoryPath = `/repos/${encodeURIComponent(owner)}/${encodeURIComponent(name)}`;
    this.http = new ForgeHttp({
      forge: 'GitHub',
      apiUrl: config.apiUrl,
      headers: async () => ({ authorization: `Bearer ${await headerSafeToken('GitHub', config.token)}`, accept: 'application/vnd.github+json', 'x-github-api-version': API_VERSION }),
      caPem: config.caPem,
      timeoutMs: config.timeoutMs,
      maxRetries: delivery.maxRetries,
      retryBudgetMs: delivery.retryBudgetMs,
      isRateLimited: isGitHubRateLimit,
      ...(options.sleep === undefined ? {} : { sleep: options.sleep }),
    });
  }

  /**
   * GitHub filters by `head=owner:branch` (without the owner it ignores the filter), and the
   * answer is checked again here. One head may be proposed to several bases: the configured
   * target branch's request wins, else the oldest — the one the worker opened on first delivery.
   */
  async findOpen(sourceBranch: string, signal: AbortSignal): Promise<MergeRequest | undefined> {
    const where = `GET ${this.repositoryPath}/pulls`;
    const listed = await this.call(() => this.http.getAll<unknown>(`${this.repositoryPath}/pulls`, { query: { state: 'open', head: `${this.owner}:${sourceBranch}` }, signal }));
    const candidates = listed
      .map((pull) => parsePull(pull, where))
      .filter((pull) => pull.request.state === 'open' && pull.headRef === sourceBranch && pull.headLabel.toLowerCase() === `${this.owner}:${sourceBranch}`.toLowerCase())
      .filter((pull) => this.config.targetBranch === undefined || pull.baseRef === this.config.targetBranch)
      .sort((a, b) => a.request.number - b.request.number);
    return candidates[0]?.request;
  }

  async open(draft: MergeRequestDraft, signal: AbortSignal): Promise<MergeRequest> {
    const where = `POST ${this.repositoryPath}/pulls`;
    const created = await this.call(() =>
      this.http.request<unknown>('POST', `${this.repositoryPath}/pulls`, {
        body: { title: draft.title, head: draft.sourceBranch, base: draft.targetBranch, body: draft.body, draft: draft.draft },
        signal,
      }),
    ).catch((error: unknown) => {
      throw isAlreadyExists(error) ? new ForgeError('conflict', 'GitHub already has an open pull request from this branch into the target branch', error.status, error.body) : error;
    });
    const pull = parsePull(created.body, where);
    if (draft.labels.length > 0) await this.setLabels(pull.request.number, draft.labels, signal);
    await this.requestReviewers(pull, draft.reviewers, signal);
    return pull.request;
  }

  async update(number: number, draft: MergeRequestDraft, signal: AbortSignal): Promise<MergeRequest> {
    const path = `${this.repositoryPath}/pulls/${number}`;
    const updated = await this.call(() => this.http.request<unknown>('PATCH', path, { body: { title: draft.title, body: draft.body }, signal }));
    const pull = parsePull(updated.body, `PATCH ${path}`);
    await this.setLabels(number, draft.labels, signal);
    await this.requestReviewers(pull, draft.reviewers, signal);
    return pull.request;
  }

  /** The token's user (https://docs.github.com/en/enterprise-server@3.14/rest/users/users#get-the-authenticated-user). */
  async currentUser(signal: AbortSignal): Promise<string> {
    const { body } = await this.call(() => this.http.request<unknown>('GET', '/user', { signal }));
    const login = isRecord(body) ? body['login'] : undefined;
    if (!isUserName(login)) throw new ForgeError('refused', 'GitHub answered GET /user without a valid login');
    return login;
  }

  /**
   * The pull request, its commits (…/pulls/pulls#list-commits-on-a-pull-request: GitHub lists
   * at most 250) and its submitted reviews (…/pulls/reviews#list-reviews-for-a-pull-request).
   */
  async activity(number: number, signal: AbortSignal): Promise<MergeRequestActivity> {
    if (!isPositiveInteger(number)) throw new ForgeError('refused', `a GitHub pull request number is a positive integer, not ${number}`);
    const path = `${this.repositoryPath}/pulls/${number}`;
    const pull = (await this.call(() => this.http.request<unknown>('GET', path, { signal }))).body;
    const request = parseActivity(pull, `GET ${path}`);
    const commits = (await this.call(() => this.http.getAll<unknown>(`${path}/commits`, { query: { per_page: PAGE_SIZE }, signal }))).map((commit) => parseCommit(commit, `GET ${path}/commits`));
    const reviews = (await this.call(() => this.http.getAll<unknown>(`${path}/reviews`, { query: { per_page: PAGE_SIZE }, signal }))).flatMap((review) => parseReview(review, `GET ${path}/reviews`));
    return { ...request, commits, reviews };
  }

  /**
   * The pull request (…/pulls/pulls#get-a-pull-request) with its head commit; its head is in
   * this repository when the head's repository is the base's (a fork's is another, or null
   * once the fork was deleted).
   */
  async getMergeRequest(number: number, signal: AbortSignal): Promise<MergeRequestHead> {
    if (!isPositiveInteger(number)) throw new ForgeError('refused', `a GitHub pull request number is a positive integer, not ${number}`);
    const where = `GET ${this.repositoryPath}/pulls/${number}`;
    const body = (await this.call(() => this.http.request<unknown>('GET', `${this.repositoryPath}/pulls/${number}`, { signal }))).body;
    const pull = parsePull(body, where);
    const fields = body as Record<string, unknown>;
    const refuse = (problem: string) => new ForgeError('refused', `GitHub answered ${where} with a pull request ${problem}`);
    if (typeof fields['title'] !== 'string') throw refuse('without a title');
    const description = fields['body'] ?? '';
    if (typeof description !== 'string') throw refuse('whose body is not text');
    const head = fields['head'] as Record<string, unknown>;
    if (!isCommitSha(head['sha'])) throw refuse('without a head sha');
    const repositoryOf = (side: unknown) => (isRecord(side) && isRecord(side['repo']) && typeof side['repo']['full_name'] === 'string' ? side['repo']['full_name'].toLowerCase() : undefined);
    const baseRepository = repositoryOf(fields['base']);
    return {
      request: pull.request,
      title: fields['title'],
      description,
      sourceBranch: pull.headRef,
      targetBranch: pull.baseRef,
      headSha: head['sha'],
      fromSameRepository: baseRepository !== undefined && repositoryOf(head) === baseRepository,
    };
  }

  /**
   * One review with every comment (…/pulls/reviews#create-a-review-for-a-pull-request):
   * `event: COMMENT` neither approves nor requests changes; each comment names its line on the
   * new side (`side: RIGHT`) of `commit_id`, which GitHub refuses (422) outside the diff.
   */
  async postReview(number: number, draft: ReviewDraft, signal: AbortSignal): Promise<void> {
    if (!isPositiveInteger(number)) throw new ForgeError('refused', `a GitHub pull request number is a positive integer, not ${number}`);
    const path = `${this.repositoryPath}/pulls/${number}/reviews`;
    const comments = draft.comments.map((comment) => ({ path: comment.path, line: comment.line, side: 'RIGHT', body: comment.body }));
    const { body } = await this.call(() => this.http.request<unknown>('POST', path, { body: { commit_id: draft.headSha, event: 'COMMENT', body: draft.summary, comments }, signal }));
    if (!isRecord(body) || !isPositiveInteger(body['id'])) throw new ForgeError('refused', `GitHub answered POST ${path} without the review's id`);
  }

  /** Closes the client's connections. */
  async close(): Promise<void> {
    await this.http.close();
  }

  /** Replaces the request's labels: a pull request is an issue, and issues carry the labels. */
  private async setLabels(number: number, labels: readonly string[], signal: AbortSignal): Promise<void> {
    await this.call(() => this.http.request('PUT', `${this.repositoryPath}/issues/${number}/labels`, { body: { labels }, signal }));
  }

  /**
   * Asks the reviewers by login, once each (logins are case-insensitive), leaving out the
   * request's author, whom GitHub refuses to ask (422). Someone who is no collaborator is
   * GitHub's 422, a ForgeError `refused`.
   */
  private async requestReviewers(pull: GitHubPull, reviewers: readonly string[], signal: AbortSignal): Promise<void> {
    const leftOut = new Set(pull.author === undefined ? [] : [pull.author.toLowerCase()]);
    const logins: string[] = [];
    for (const login of reviewers) {
      if (leftOut.has(login.toLowerCase())) continue;
      leftOut.add(login.toLowerCase());
      logins.push(login);
    }
    if (logins.length === 0) return;
    await this.call(() => this.http.request('POST', `${this.repositoryPath}/pulls/${pull.request.number}/requested_reviewers`, { body: { reviewers: logins }, signal }));
  }

  /**
   * GitHub's failures as delivery acts on them: a secondary rate limit answered 403 without
   * any header to tell it by (GitHub then says so only in its message) is `rate-limited`, not `auth`.
   */
  private async call<T>(send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      if (error instanceof ForgeError && error.failure === 'auth' && error.status === 403 && /rate limit/i.test(messageOf(error.body) ?? '')) {
        throw new ForgeError('rate-limited', error.message, error.status, error.body);
      }
      throw error;
    }
  }
}

/**
 * A 403 that is a rate limit rather than a refused token: the primary limit spent
 * (`x-ratelimit-remaining: 0`, waited out until `x-ratelimit-reset`) or a secondary limit
 * with `retry-after`. GitHub answers 429 for either as well, which the transport already knows.
 */
function isGitHubRateLimit(status: number, headers: IncomingHttpHeaders): boolean {
  return status === 403 && (headerValue(headers, 'x-ratelimit-remaining')?.trim() === '0' || headerValue(headers, 'retry-after') !== undefined);
}

/** GitHub's 422 for a head and base that already have an open pull request; every other 422 stays `refused`. */
function isAlreadyExists(error: unknown): error is ForgeError {
  if (!(error instanceof ForgeError) || error.status !== 422) return false;
  const errors = (error.body as { errors?: unknown } | undefined)?.errors;
  return (
    Array.isArray(errors) &&
    errors.some((entry: unknown) => {
      const { code, message } = (entry ?? {}) as { code?: unknown; message?: unknown };
      return code === 'custom' && typeof message === 'string' && message.startsWith('A pull request already exists for ');
    })
  );
}

function messageOf(body: unknown): string | undefined {
  const message = (body as { message?: unknown } | null | undefined)?.message;
  return typeof message === 'string' ? message : undefined;
}

/** GitHub's pull request JSON, checked before anything is taken from it. */
function parsePull(value: unknown, where: string): GitHubPull {
  const refuse = (what: string): never => {
    throw new ForgeError('refused', `GitHub answered ${where} with a pull request without ${what}`);
  };
  if (value === null || typeof value !== 'object') return refuse('a JSON object');
  const pull = value as Record<string, unknown>;
  const number = pull['number'];
  if (!isPositiveInteger(number)) return refuse('a positive integer number');
  const webUrl = pull['html_url'];
  if (!isHttpUrl(webUrl)) return refuse('an http(s) html_url');
  const state = pull['state'];
  if (state !== 'open' && state !== 'closed') return refuse('a state of open or closed');
  const mergedAt = pull['merged_at'];
  if (mergedAt !== undefined && mergedAt !== null && typeof mergedAt !== 'string') return refuse('a merged_at that is a timestamp or null');
  const head = branchOf(pull['head']) ?? refuse('a head with ref and label');
  const base = branchOf(pull['base']) ?? refuse('a base with ref and label');
  const user = pull['user'];
  const author = isRecord(user) && typeof user['login'] === 'string' ? user['login'] : undefined;
  // A closed pull request was merged when it has a merge time (the list omits `merged`; the single GET has both).
  const merged = pull['merged'] === true || typeof mergedAt === 'string';
  return {
    request: { number, webUrl, state: state === 'open' ? 'open' : merged ? 'merged' : 'closed' },
    headRef: head.ref,
    headLabel: head.label,
    baseRef: base.ref,
    author,
  };
}

function branchOf(value: unknown): { ref: string; label: string } | undefined {
  if (!isRecord(value)) return undefined;
  const { ref, label } = value;
  return typeof ref === 'string' && ref !== '' && typeof label === 'string' ? { ref, label } : undefined;
}

/** The pull request's state, times and base from GitHub's single-request JSON, checked. */
function parseActivity(value: unknown, where: string): Omit<MergeRequestActivity, 'commits' | 'reviews'> {
  const { request, baseRef } = parsePull(value, where);
  const pull = value as Record<string, unknown>;
  const createdAt = timeOf(pull['created_at']);
  if (createdAt === undefined) throw new ForgeError('refused', `GitHub answered ${where} with a pull request without a valid created_at`);
  // Once merged, merge_commit_sha is the merge, squash or rebased commit on the base; before, a test merge nobody sees.
  const mergeCommitSha = request.state === 'merged' && isCommitSha(pull['merge_commit_sha']) ? pull['merge_commit_sha'] : undefined;
  return { state: request.state, createdAt, mergedAt: timeOf(pull['merged_at']), closedAt: timeOf(pull['closed_at']), targetBranch: baseRef, mergeCommitSha };
}

function parseCommit(value: unknown, where: string): MergeRequestCommit {
  const message = isRecord(value) && isRecord(value['commit']) ? value['commit']['message'] : undefined;
  if (!isRecord(value) || !isCommitSha(value['sha']) || typeof message !== 'string') throw new ForgeError('refused', `GitHub answered ${where} with a commit without a valid sha and message`);
  return { sha: value['sha'], message };
}

/** A submitted review, or none for a pending or dismissed one. */
function parseReview(value: unknown, where: string): MergeRequestReview[] {
  const refuse = (problem: string) => new ForgeError('refused', `GitHub answered ${where} with a review ${problem}`);
  if (!isRecord(value) || typeof value['state'] !== 'string') throw refuse('without a state');
  const kind = REVIEW_KINDS[value['state']];
  if (kind === undefined) return [];
  const login = isRecord(value['user']) ? value['user']['login'] : undefined;
  if (!isUserName(login)) throw refuse('without a valid user');
  const at = timeOf(value['submitted_at']);
  if (at === undefined) throw refuse('without a valid submitted_at');
  return [{ author: login, at, kind }];
}
