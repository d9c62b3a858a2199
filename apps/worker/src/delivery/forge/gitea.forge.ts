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
import { ForgeHttp, type ForgeHttpOptions } from './forge-http';
import { headerSafeToken } from './forge-token';

/**
 * How a draft is marked on Gitea: its API has no draft flag, a title starting with one of
 * `[repository.pull-request] WORK_IN_PROGRESS_PREFIXES` is a draft, and `WIP:` is the first
 * of the defaults (https://docs.gitea.com/1.22/usage/pull-request#work-in-progress-pull-requests).
 */
const DRAFT_PREFIX = 'WIP: ';
/** Items per page of the listings the delivery watch reads: Gitea's default `[api] MAX_RESPONSE_ITEMS`. */
const PAGE_SIZE = 50;
/**
 * The review states that are a person's submitted review; PENDING (not submitted) and
 * REQUEST_REVIEW (someone was asked, nothing said yet) are left out, as are dismissed reviews.
 */
const REVIEW_KINDS: Readonly<Record<string, MergeRequestReviewKind>> = { APPROVED: 'approved', REQUEST_CHANGES: 'changes-requested', COMMENT: 'commented' };

/** A pull request as delivery reads it from Gitea's answers, checked. */
interface GiteaPull {
  readonly mergeRequest: MergeRequest;
  readonly headBranch: string;
  readonly headRepositoryId: number;
  readonly baseRepositoryId: number;
}

/**
 * Gitea's and Forgejo's REST API v1 (https://docs.gitea.com/api/1.22/), as much as delivery
 * needs: find the open pull request of a branch, open one, or update it. Labels are named
 * in the config and sent as the repository's label ids; reviewers are asked through the
 * review-requests route, which also works on versions whose create form has no reviewers.
 * Every answer is checked before it is trusted. Nothing here reaches the control plane.
 */
export class GiteaForge implements ForgeClient {
  private readonly http: ForgeHttp;
  /** `/repos/{owner}/{repo}`, each part encoded. */
  private readonly repository: string;

  constructor(config: ForgeConfig, delivery: Pick<DeliveryConfig, 'maxRetries' | 'retryBudgetMs'>, options: { readonly sleep?: ForgeHttpOptions['sleep'] } = {}) {
    this.repository = repositoryPathOf(config.project);
    this.http = new ForgeHttp({
      forge: 'Gitea',
      apiUrl: config.apiUrl,
      // Read per request, so that a rotated token file is picked up without a restart.
      headers: async () => ({ authorization: `token ${await headerSafeToken('Gitea', config.token)}` }),
      caPem: config.caPem,
      timeoutMs: config.timeoutMs,
      maxRetries: delivery.maxRetries,
      retryBudgetMs: delivery.retryBudgetMs,
      sleep: options.sleep,
    });
  }

  /**
   * Gitea's list has no head filter (https://docs.gitea.com/api/1.22/#tag/repository/operation/repoListPullRequests):
   * every open pull request is read, page after page, and matched on its head branch, which
   * must be in the project itself: a fork's branch of the same name is someone else's request.
   */
  async findOpen(sourceBranch: string, signal: AbortSignal): Promise<MergeRequest | undefined> {
    // `state` must be sent: without it Gitea lists closed and merged requests too.
    const listed = await this.http.getAll<unknown>(`${this.repository}/pulls`, { query: { state: 'open' }, signal });
    const pulls = listed.map((pull) => readPull(pull, 'a listed pull request'));
    return pulls.find((pull) => pull.mergeRequest.state === 'open' && pull.headBranch === sourceBranch && pull.headRepositoryId === pull.baseRepositoryId)?.mergeRequest;
  }

  /**
   * Opens the pull request (https://docs.gitea.com/api/1.22/#tag/repository/operation/repoCreatePullRequest);
   * Gitea's 409 for an open one with the same head and base is a ForgeError `conflict`.
   * Reviewers are asked once it exists: if that fails, the request stays open and a retry
   * finds it and updates it, asking them again.
   */
  async open(draft: MergeRequestDraft, signal: AbortSignal): Promise<MergeRequest> {
    const labels = await this.labelIds(draft.labels, signal);
    const { body } = await this.http.request<unknown>('POST', `${this.repository}/pulls`, {
      body: { head: draft.sourceBranch, base: draft.targetBranch, title: titleOf(draft), body: draft.body, labels },
      signal,
    });
    const created = readPull(body, 'the pull request it opened');
    await this.requestReviewers(created.mergeRequest.number, draft.reviewers, signal);
    return created.mergeRequest;
  }

  /**
   * Replaces the title (with the draft marker as configured), body and labels
   * (https://docs.gitea.com/api/1.22/#tag/repository/operation/repoEditPullRequest), then asks
   * the reviewers; Gitea skips those already asked.
   */
  async update(number: number, draft: MergeRequestDraft, signal: AbortSignal): Promise<MergeRequest> {
    if (!isPositiveInteger(number)) throw new ForgeError('refused', `a Gitea pull request number is a positive integer, not ${number}`);
    const labels = await this.labelIds(draft.labels, signal);
    const { body } = await this.http.request<unknown>('PATCH', `${this.repository}/pulls/${number}`, {
      body: { title: titleOf(draft), body: draft.body, labels },
      signal,
    });
    const updated = readPull(body, `pull request ${number} as edited`);
    await this.requestReviewers(number, draft.reviewers, signal);
    return updated.mergeRequest;
  }

  /** The token's user (https://docs.gitea.com/api/1.22/#tag/user/operation/userGetCurrent). */
  async currentUser(signal: AbortSignal): Promise<string> {
    const { body } = await this.http.request<unknown>('GET', '/user', { signal });
    const login = isRecord(body) ? body['login'] : undefined;
    if (!isUserName(login)) throw new ForgeError('refused', "Gitea's answer for the token's user has no valid `login`");
    return login;
  }

  /**
   * The pull request, its commits (https://docs.gitea.com/api/1.22/#tag/repository/operation/repoGetPullRequestCommits,
   * without the signature checks and file lists Gitea would otherwise compute) and its reviews
   * (https://docs.gitea.com/api/1.22/#tag/repository/operation/repoListPullReviews).
   */
  async activity(number: number, signal: AbortSignal): Promise<MergeRequestActivity> {
    if (!isPositiveInteger(number)) throw new ForgeError('refused', `a Gitea pull request number is a positive integer, not ${number}`);
    const path = `${this.repository}/pulls/${number}`;
    const request = readActivity((await this.http.request<unknown>('GET', path, { signal })).body, `pull request ${number}`);
    const commits = (await this.http.getAll<unknown>(`${path}/commits`, { query: { limit: PAGE_SIZE, verification: false, files: false }, signal })).map(readCommit);
    const reviews = (await this.http.getAll<unknown>(`${path}/reviews`, { query: { limit: PAGE_SIZE }, signal })).flatMap(readReview);
    return { ...request, commits, reviews };
  }

  /** The pull request (https://docs.gitea.com/api/1.22/#tag/repository/operation/repoGetPullRequest) with its head commit; a fork's head is in another repository. */
  async getMergeRequest(number: number, signal: AbortSignal): Promise<MergeRequestHead> {
    if (!isPositiveInteger(number)) throw new ForgeError('refused', `a Gitea pull request number is a positive integer, not ${number}`);
    const what = `pull request ${number}`;
    const { body } = await this.http.request<unknown>('GET', `${this.repository}/pulls/${number}`, { signal });
    const pull = readPull(body, what);
    const fields = body as Record<string, unknown>;
    const refuse = (problem: string) => new ForgeError('refused', `Gitea's answer for ${what} ${problem}`);
    const head = fields['head'] as Record<string, unknown>;
    const base = fields['base'] as Record<string, unknown>;
    if (typeof fields['title'] !== 'string') throw refuse('has no `title`');
    const description = fields['body'] ?? '';
    if (typeof description !== 'string') throw refuse('has a `body` that is not text');
    if (!isCommitSha(head['sha'])) throw refuse('has no valid `head.sha`');
    if (typeof base['ref'] !== 'string') throw refuse('has no `base.ref`');
    return {
      request: pull.mergeRequest,
      title: fields['title'],
      description,
      sourceBranch: pull.headBranch,
      targetBranch: base['ref'],
      headSha: head['sha'],
      fromSameRepository: pull.headRepositoryId === pull.baseRepositoryId,
    };
  }

  /**
   * One review with every comment (https://docs.gitea.com/api/1.22/#tag/repository/operation/repoCreatePullReview):
   * `event: COMMENT`, the summary as its body, each comment on its line of the head commit
   * (`new_position`).
   */
  async postReview(number: number, draft: ReviewDraft, signal: AbortSignal): Promise<void> {
    if (!isPositiveInteger(number)) throw new ForgeError('refused', `a Gitea pull request number is a positive integer, not ${number}`);
    const comments = draft.comments.map((comment) => ({ path: comment.path, body: comment.body, new_position: comment.line }));
    const { body } = await this.http.request<unknown>('POST', `${this.repository}/pulls/${number}/reviews`, {
      body: { commit_id: draft.headSha, event: 'COMMENT', body: draft.summary, comments },
      signal,
    });
    if (!isRecord(body) || !isPositiveInteger(body['id'])) throw new ForgeError('refused', `Gitea's answer for the review of pull request ${number} has no positive integer \`id\``);
  }

  /** Closes the client's connections. */
  async close(): Promise<void> {
    await this.http.close();
  }

  /**
   * The ids of the configured labels (https://docs.gitea.com/api/1.22/#tag/issue/operation/issueListLabels).
   * Gitea drops an id it does not know without a word, so a label the repository lacks is
   * refused here, by name, for the operator to create it or take it out of the config.
   */
  private async labelIds(names: readonly string[], signal: AbortSignal): Promise<number[]> {
    const wanted = [...new Set(names)];
    if (wanted.length === 0) return [];
    const labels = (await this.http.getAll<unknown>(`${this.repository}/labels`, { signal })).map(readLabel);
    const idOf = new Map(labels.map((label) => [label.name, label.id]));
    const missing = wanted.filter((name) => !idOf.has(name));
    if (missing.length > 0) {
      throw new ForgeError('refused', `the Gitea repository has no label ${missing.map((name) => JSON.stringify(name)).join(', ')}; create it on the forge or remove it from the forge's labels`);
    }
    return wanted.flatMap((name) => idOf.get(name) ?? []);
  }

  /** https://docs.gitea.com/api/1.22/#tag/repository/operation/repoCreatePullReviewRequests: an unknown user is Gitea's 404. */
  private async requestReviewers(number: number, reviewers: readonly string[], signal: AbortSignal): Promise<void> {
    if (reviewers.length === 0) return;
    await this.http.request('POST', `${this.repository}/pulls/${number}/requested_reviewers`, { body: { reviewers: [...new Set(reviewers)] }, signal });
  }
}

/** `/repos/{owner}/{repo}` of an `owner/name` project; anything else is refused before a request is made. */
function repositoryPathOf(project: string): string {
  const parts = project.split('/');
  if (parts.length !== 2 || parts.some((part) => part === '' || part === '.' || part === '..')) {
    throw new ForgeError('refused', `a Gitea project is owner/name, not ${JSON.stringify(project)}`);
  }
  return `/repos/${parts.map((part) => encodeURIComponent(part)).join('/')}`;
}

function titleOf(draft: MergeRequestDraft): string {
  return draft.draft ? `${DRAFT_PREFIX}${draft.title}` : draft.title;
}

/** A pull request from Gitea's answer, or ForgeError `refused` saying what was missing. */
function readPull(value: unknown, what: string): GiteaPull {
  const refuse = (problem: string) => new ForgeError('refused', `Gitea's answer for ${what} ${problem}`);
  if (!isRecord(value)) throw refuse('is not a JSON object');
  const { number, html_url: webUrl, state, merged, head, base } = value;
  if (!isPositiveInteger(number)) throw refuse('has no positive integer `number`');
  if (!isHttpUrl(webUrl)) throw refuse('has no http(s) `html_url`');
  if (state !== 'open' && state !== 'closed') throw refuse('has a `state` that is neither open nor closed');
  if (!isRecord(head) || !isRecord(base) || typeof head['ref'] !== 'string' || typeof head['repo_id'] !== 'number' || typeof base['repo_id'] !== 'number') {
    throw refuse('has no `head.ref`, `head.repo_id` and `base.repo_id`');
  }
  // A merged request is `closed` on Gitea, with `merged: true`.
  return {
    mergeRequest: { number, webUrl, state: merged === true ? 'merged' : state },
    headBranch: head['ref'],
    headRepositoryId: head['repo_id'],
    baseRepositoryId: base['repo_id'],
  };
}

function readLabel(value: unknown): { readonly id: number; readonly name: string } {
  if (!isRecord(value) || !isPositiveInteger(value['id']) || typeof value['name'] !== 'string') throw new ForgeError('refused', "Gitea's answer for a listed label has no positive integer `id` and string `name`");
  return { id: value['id'], name: value['name'] };
}

/** The pull request's state, times and base branch from Gitea's answer, checked. */
function readActivity(value: unknown, what: string): Omit<MergeRequestActivity, 'commits' | 'reviews'> {
  const { mergeRequest } = readPull(value, what);
  const pull = value as Record<string, unknown>;
  const base = pull['base'] as Record<string, unknown>;
  const createdAt = timeOf(pull['created_at']);
  if (typeof base['ref'] !== 'string' || createdAt === undefined) throw new ForgeError('refused', `Gitea's answer for ${what} has no \`base.ref\` and valid \`created_at\``);
  const mergeCommitSha = mergeRequest.state === 'merged' && isCommitSha(pull['merge_commit_sha']) ? pull['merge_commit_sha'] : undefined;
  return { state: mergeRequest.state, createdAt, mergedAt: timeOf(pull['merged_at']), closedAt: timeOf(pull['closed_at']), targetBranch: base['ref'], mergeCommitSha };
}

function readCommit(value: unknown): MergeRequestCommit {
  const message = isRecord(value) && isRecord(value['commit']) ? value['commit']['message'] : undefined;
  if (!isRecord(value) || !isCommitSha(value['sha']) || typeof message !== 'string') throw new ForgeError('refused', "Gitea's answer for a pull request's commit has no valid `sha` and `commit.message`");
  return { sha: value['sha'], message };
}

/** A submitted review, or none for a pending, requested or dismissed one. */
function readReview(value: unknown): MergeRequestReview[] {
  const refuse = (problem: string) => new ForgeError('refused', `Gitea's answer for a pull request's review ${problem}`);
  if (!isRecord(value) || typeof value['state'] !== 'string') throw refuse('has no `state`');
  const kind = REVIEW_KINDS[value['state']];
  if (kind === undefined || value['dismissed'] === true) return [];
  const login = isRecord(value['user']) ? value['user']['login'] : undefined;
  if (!isUserName(login)) throw refuse('has no valid `user.login`');
  const at = timeOf(value['submitted_at']);
  if (at === undefined) throw refuse('has no valid `submitted_at`');
  return [{ author: login, at, kind }];
}
