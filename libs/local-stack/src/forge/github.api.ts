import type { IncomingHttpHeaders } from 'node:http';
import {
  type ForgeApi,
  type ForgeRouteAnswer,
  type ForgeRouteContext,
  type ForgeState,
  headOf,
  objectBody,
  ownerOf,
  paginate,
  type StoredMergeRequest,
  type StoredReview,
  type StoredReviewKind,
  timestampToSecond,
} from './forge-double';

/** GitHub Enterprise Server 3.14's REST documentation, which every route below follows. */
const DOCS_ROOT = 'https://docs.github.com/en/enterprise-server@3.14/rest';

/** The documentation page of each route and convention the double speaks, for the routes' `docs` and the tests that cite them. */
export const GITHUB_DOCS = {
  listPulls: `${DOCS_ROOT}/pulls/pulls#list-pull-requests`,
  getPull: `${DOCS_ROOT}/pulls/pulls#get-a-pull-request`,
  createPull: `${DOCS_ROOT}/pulls/pulls#create-a-pull-request`,
  updatePull: `${DOCS_ROOT}/pulls/pulls#update-a-pull-request`,
  setLabels: `${DOCS_ROOT}/issues/labels#set-labels-for-an-issue`,
  requestReviewers: `${DOCS_ROOT}/pulls/review-requests#request-reviewers-for-a-pull-request`,
  pagination: `${DOCS_ROOT}/using-the-rest-api/using-pagination-in-the-rest-api`,
  rateLimits: `${DOCS_ROOT}/using-the-rest-api/rate-limits-for-the-rest-api#exceeding-the-rate-limit`,
  troubleshooting: `${DOCS_ROOT}/using-the-rest-api/troubleshooting-the-rest-api`,
  authenticatedUser: `${DOCS_ROOT}/users/users#get-the-authenticated-user`,
  listPullCommits: `${DOCS_ROOT}/pulls/pulls#list-commits-on-a-pull-request`,
  listPullReviews: `${DOCS_ROOT}/pulls/reviews#list-reviews-for-a-pull-request`,
  createPullReview: `${DOCS_ROOT}/pulls/reviews#create-a-review-for-a-pull-request`,
} as const;

const PREFIX = '/api/v3';
/** What GitHub puts in `documentation_url` of answers that belong to no one route. */
const GENERIC_DOCUMENTATION_URL = 'https://docs.github.com/enterprise-server@3.14/rest';

const REPO = '/repos/([^/]+)/([^/]+)';

type GitHubPullJson = Record<string, unknown>;

/**
 * GitHub Enterprise Server's REST API v3 for the forge double: pull requests, the labels
 * they take through the issues API (every pull request is an issue), and review requests.
 * Answers carry GitHub's field names and error bodies, so the worker's GitHub client is
 * tested against the shapes the real forge sends.
 */
export const githubApi: ForgeApi = {
  flavour: 'github',
  prefix: PREFIX,
  tokenOf: tokenOfAuthorization,
  unauthorized: () => ({ status: 401, body: { message: 'Bad credentials', documentation_url: GENERIC_DOCUMENTATION_URL } }),
  notFound: () => notFound(GENERIC_DOCUMENTATION_URL),
  routes: [
    {
      method: 'GET',
      pattern: new RegExp(`^${REPO}/pulls$`),
      docs: GITHUB_DOCS.listPulls,
      handle: (context) => inRepository(context, GITHUB_DOCS.listPulls, (project) => listPulls(context, project)),
    },
    {
      method: 'POST',
      pattern: new RegExp(`^${REPO}/pulls$`),
      docs: GITHUB_DOCS.createPull,
      handle: (context) => inRepository(context, GITHUB_DOCS.createPull, (project) => createPull(context, project)),
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${REPO}/pulls/(\\d+)$`),
      docs: GITHUB_DOCS.getPull,
      handle: (context) => withPull(context, GITHUB_DOCS.getPull, (pull) => ({ status: 200, body: pullJson(pull, context, { single: true }) })),
    },
    {
      method: 'PATCH',
      pattern: new RegExp(`^${REPO}/pulls/(\\d+)$`),
      docs: GITHUB_DOCS.updatePull,
      handle: (context) => withPull(context, GITHUB_DOCS.updatePull, (pull) => updatePull(context, pull)),
    },
    {
      method: 'PUT',
      pattern: new RegExp(`^${REPO}/issues/(\\d+)/labels$`),
      docs: GITHUB_DOCS.setLabels,
      handle: (context) => withPull(context, GITHUB_DOCS.setLabels, (pull) => setLabels(context, pull)),
    },
    {
      method: 'POST',
      pattern: new RegExp(`^${REPO}/pulls/(\\d+)/requested_reviewers$`),
      docs: GITHUB_DOCS.requestReviewers,
      handle: (context) => withPull(context, GITHUB_DOCS.requestReviewers, (pull) => requestReviewers(context, pull)),
    },
    {
      method: 'GET',
      pattern: /^\/user$/,
      docs: GITHUB_DOCS.authenticatedUser,
      handle: (context) => ({ status: 200, body: { login: context.user, id: context.state.userId(context.user), type: 'User', site_admin: false, html_url: `${context.origin}/${context.user}` } }),
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${REPO}/pulls/(\\d+)/commits$`),
      docs: GITHUB_DOCS.listPullCommits,
      handle: (context) => withPull(context, GITHUB_DOCS.listPullCommits, (pull) => listCommits(context, pull)),
    },
    {
      method: 'POST',
      pattern: new RegExp(`^${REPO}/pulls/(\\d+)/reviews$`),
      docs: GITHUB_DOCS.createPullReview,
      handle: (context) => withPull(context, GITHUB_DOCS.createPullReview, (pull) => createReview(context, pull)),
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${REPO}/pulls/(\\d+)/reviews$`),
      docs: GITHUB_DOCS.listPullReviews,
      handle: (context) => withPull(context, GITHUB_DOCS.listPullReviews, (pull) => listReviews(context, pull)),
    },
  ],
};

/** GitHub takes `Authorization: Bearer <token>` and the older `Authorization: token <token>`. */
function tokenOfAuthorization(headers: IncomingHttpHeaders): string | undefined {
  return /^(?:Bearer|token)\s+(\S+)$/i.exec(headers.authorization ?? '')?.[1];
}

function notFound(documentationUrl: string): ForgeRouteAnswer {
  return { status: 404, body: { message: 'Not Found', documentation_url: documentationUrl } };
}

/** A 422 as GitHub words a refused field: `Validation Failed` with one entry per problem. */
function validationFailed(documentationUrl: string, ...errors: Record<string, string>[]): ForgeRouteAnswer {
  return { status: 422, body: { message: 'Validation Failed', errors, documentation_url: documentationUrl } };
}

/** A 422 for a request body that does not fit the route's schema, as GitHub words it. */
function invalidRequest(documentationUrl: string, problem: string): ForgeRouteAnswer {
  return { status: 422, body: { message: `Invalid request.\n\n${problem}`, documentation_url: documentationUrl } };
}

/** A repository the token cannot see is answered 404, as GitHub does for private repositories. */
function inRepository(context: ForgeRouteContext, documentationUrl: string, handle: (project: string) => ForgeRouteAnswer): ForgeRouteAnswer {
  const project = `${context.params[0]}/${context.params[1]}`;
  return context.state.hasProject(project) ? handle(project) : notFound(documentationUrl);
}

function withPull(context: ForgeRouteContext, documentationUrl: string, handle: (pull: StoredMergeRequest) => ForgeRouteAnswer): ForgeRouteAnswer {
  return inRepository(context, documentationUrl, (project) => {
    const pull = context.state.mergeRequest(project, Number(context.params[2]));
    return pull === undefined ? notFound(documentationUrl) : handle(pull);
  });
}

/**
 * `state` (open, closed, all; open by default), `head` and `base` filters, `sort`
 * (created or updated) and `direction` (desc by default for created, else asc), paged.
 * A `head` without its `owner:` is ignored rather than refused, as GitHub does (the filter
 * is documented as `user:ref-name`; x-motemen/git-pr-release#48 was bitten by it).
 */
function listPulls(context: ForgeRouteContext, project: string): ForgeRouteAnswer {
  const { query } = context;
  const wanted = query.get('state') ?? 'open';
  const head = query.get('head');
  const headFilter = head !== null && head.includes(':') ? head : undefined;
  const base = query.get('base');
  const sort = query.get('sort') === 'updated' ? 'updated' : 'created';
  const ascending = (query.get('direction') ?? (sort === 'created' ? 'desc' : 'asc')) === 'asc';
  const pulls = context.state.mergeRequests
    .filter((pull) => pull.project === project)
    .filter((pull) => wanted === 'all' || (wanted === 'closed' ? pull.state !== 'open' : pull.state === 'open'))
    .filter((pull) => headFilter === undefined || headLabel(pull).toLowerCase() === headFilter.toLowerCase())
    .filter((pull) => base === null || pull.targetBranch === base)
    .sort((a, b) => {
      const order = (sort === 'created' ? a.createdAt.localeCompare(b.createdAt) : a.updatedAt.localeCompare(b.updatedAt)) || a.number - b.number;
      return ascending ? order : -order;
    });
  const page = paginate(pulls, context, githubApi, `/repos/${project}/pulls`);
  return { status: 200, body: page.body.map((pull) => pullJson(pull, context, { single: false })), headers: page.headers };
}

/**
 * Opens a pull request: `title`, `head` (a branch of this repository, optionally as
 * `owner:branch`), `base`, `body`, `draft`. A missing branch is a 422 naming the field; an
 * open request with the same head and base is the 422 "A pull request already exists"
 * (the same head may be proposed to another base).
 */
function createPull(context: ForgeRouteContext, project: string): ForgeRouteAnswer {
  const docs = GITHUB_DOCS.createPull;
  const body = objectBody(context.body);
  if (body === undefined) return invalidRequest(docs, 'The request body must be a JSON object.');
  for (const field of ['head', 'base'] as const) if (body[field] === undefined) return invalidRequest(docs, `"${field}" wasn't supplied.`);
  const typeProblem = wrongType(body, { title: 'string', head: 'string', base: 'string', body: 'string', draft: 'boolean' });
  if (typeProblem !== undefined) return invalidRequest(docs, typeProblem);
  const { title, head, base } = body as { title?: string; head: string; base: string };
  if (title === undefined || title.trim() === '') return validationFailed(docs, { resource: 'PullRequest', field: 'title', code: 'missing_field' });
  const owner = ownerOf(project);
  const { owner: headOwner, branch: headBranch } = headOf(head, project);
  // The double holds no forks: a head in another owner's repository is a branch it cannot find.
  if (headOwner.toLowerCase() !== owner.toLowerCase() || context.state.branchHead(project, headBranch) === undefined) {
    return validationFailed(docs, { resource: 'PullRequest', field: 'head', code: 'invalid' });
  }
  if (context.state.branchHead(project, base) === undefined) return validationFailed(docs, { resource: 'PullRequest', field: 'base', code: 'invalid' });
  const existing = context.state.openMergeRequest(project, headBranch, base);
  if (existing !== undefined) {
    return validationFailed(docs, { resource: 'PullRequest', code: 'custom', message: `A pull request already exists for ${owner}:${headBranch}.` });
  }
  const pull = context.state.addMergeRequest({
    project,
    sourceBranch: headBranch,
    targetBranch: base,
    title,
    body: typeof body['body'] === 'string' ? body['body'] : '',
    labels: [],
    reviewers: [],
    draft: body['draft'] === true,
    author: context.user,
  });
  return { status: 201, body: pullJson(pull, context, { single: true }), headers: { location: apiUrlOf(context, pull) } };
}

/**
 * Edits `title` and `body`. Draft is not editable: GitHub's REST API cannot change it after
 * creation and ignores the key, as it ignores any it does not take. The other documented
 * fields (`state`, `base`, `maintainer_can_modify`) are not modelled: the worker never sends them.
 */
function updatePull(context: ForgeRouteContext, pull: StoredMergeRequest): ForgeRouteAnswer {
  const docs = GITHUB_DOCS.updatePull;
  const body = objectBody(context.body);
  if (body === undefined) return invalidRequest(docs, 'The request body must be a JSON object.');
  const typeProblem = wrongType(body, { title: 'string', body: 'string' });
  if (typeProblem !== undefined) return invalidRequest(docs, typeProblem);
  const { title, body: text } = body as { title?: string; body?: string };
  if (title !== undefined) pull.title = title;
  if (text !== undefined) pull.body = text;
  context.state.touch(pull);
  return { status: 200, body: pullJson(pull, context, { single: true }) };
}

/**
 * Replaces the labels of the pull request's issue with `{"labels": [names]}` (or a bare
 * array of names, which GitHub also takes); a label the repository lacks is created, as
 * GitHub does. Answers the issue's labels.
 */
function setLabels(context: ForgeRouteContext, pull: StoredMergeRequest): ForgeRouteAnswer {
  const docs = GITHUB_DOCS.setLabels;
  const names = Array.isArray(context.body) ? context.body : objectBody(context.body)?.['labels'];
  if (!Array.isArray(names) || !names.every((name): name is string => typeof name === 'string' && name.trim() !== '')) {
    return invalidRequest(docs, "For 'properties/labels', the value is not an array of label names.");
  }
  context.state.addLabels(names);
  pull.labels = [...new Set(names)];
  context.state.touch(pull);
  return { status: 200, body: pull.labels.map((name) => labelJson(context.state, name)) };
}

/**
 * Asks users (`reviewers`, logins) or teams (`team_reviewers`) to review; they are added to
 * those already asked. Someone the repository does not know, or the request's author, is
 * refused with GitHub's 422 messages. Answers the pull request, 201.
 */
function requestReviewers(context: ForgeRouteContext, pull: StoredMergeRequest): ForgeRouteAnswer {
  const docs = GITHUB_DOCS.requestReviewers;
  const body = objectBody(context.body);
  const reviewers = body?.['reviewers'] ?? [];
  const teams = body?.['team_reviewers'] ?? [];
  const isNameList = (value: unknown): value is string[] => Array.isArray(value) && value.every((name) => typeof name === 'string');
  if (body === undefined || !isNameList(reviewers) || !isNameList(teams)) return invalidRequest(docs, 'Expected "reviewers" and "team_reviewers" to be arrays of names.');
  if (reviewers.length === 0 && teams.length === 0) return invalidRequest(docs, 'No subschema in "anyOf" matched: "reviewers" or "team_reviewers" must be supplied.');
  // Logins are case-insensitive on GitHub; the double knows no teams.
  const known = reviewers.map((login) => context.state.users.find((user) => user.toLowerCase() === login.toLowerCase()));
  if (teams.length > 0 || known.some((user) => user === undefined)) {
    return {
      status: 422,
      body: {
        message: `Reviews may only be requested from collaborators. One or more of the users or teams you specified is not a collaborator of the ${pull.project} repository.`,
        documentation_url: docs,
      },
    };
  }
  if (known.some((user) => user === pull.author)) return { status: 422, body: { message: 'Review cannot be requested from pull request author.', documentation_url: docs } };
  for (const user of known as string[]) if (!pull.reviewers.includes(user)) pull.reviewers.push(user);
  context.state.touch(pull);
  return { status: 201, body: pullJson(pull, context, { single: false }) };
}

/** GitHub's schema message for the first field present with the wrong JSON type, if any. */
function wrongType(body: Record<string, unknown>, types: Readonly<Record<string, 'string' | 'boolean'>>): string | undefined {
  for (const [field, type] of Object.entries(types)) {
    const value = body[field];
    if (value !== undefined && value !== null && typeof value !== type) return `For 'properties/${field}', ${JSON.stringify(value)} is not a ${type}.`;
  }
  return undefined;
}

/** `owner:branch` of the head: a fork's owner for a fork's request. */
function headLabel(pull: StoredMergeRequest): string {
  return `${ownerOf(pull.sourceProject ?? pull.project)}:${pull.sourceBranch}`;
}

function apiUrlOf(context: ForgeRouteContext, pull: StoredMergeRequest): string {
  return `${context.origin}${PREFIX}/repos/${pull.project}/pulls/${pull.number}`;
}

function labelJson(state: ForgeState, name: string): Record<string, unknown> {
  return { id: state.labelId(name), name, color: 'ededed', default: false, description: null };
}

/**
 * A pull request as GitHub answers it: the list's fields, and on the single-request GET
 * (and create, update) also `merged` and the other fields only it carries.
 */
function pullJson(pull: StoredMergeRequest, context: ForgeRouteContext, { single }: { readonly single: boolean }): GitHubPullJson {
  const branch = (project: string, ref: string) => {
    const owner = ownerOf(project);
    const repo = { full_name: project, name: project.slice(owner.length + 1), owner: { login: owner } };
    return { label: `${owner}:${ref}`, ref, sha: context.state.branchHead(project, ref) ?? null, user: { login: owner }, repo };
  };
  const json: GitHubPullJson = {
    url: apiUrlOf(context, pull),
    id: pull.id,
    html_url: `${context.origin}/${pull.project}/pull/${pull.number}`,
    issue_url: `${context.origin}${PREFIX}/repos/${pull.project}/issues/${pull.number}`,
    number: pull.number,
    state: pull.state === 'open' ? 'open' : 'closed',
    locked: false,
    title: pull.title,
    user: { login: pull.author, type: 'User' },
    body: pull.body === '' ? null : pull.body,
    labels: pull.labels.map((name) => labelJson(context.state, name)),
    requested_reviewers: pull.reviewers.map((login) => ({ login, type: 'User' })),
    requested_teams: [],
    created_at: timestampToSecond(pull.createdAt),
    updated_at: timestampToSecond(pull.updatedAt),
    // A merged pull request is closed too, at the moment it was merged.
    closed_at: timestampToSecond(pull.closedAt ?? pull.mergedAt),
    merged_at: timestampToSecond(pull.mergedAt),
    merge_commit_sha: pull.mergeCommitSha ?? null,
    draft: pull.draft,
    head: branch(context.state.sourceProjectOf(pull), pull.sourceBranch),
    base: branch(pull.project, pull.targetBranch),
  };
  return single ? { ...json, merged: pull.state === 'merged', mergeable: null, merged_by: null } : json;
}

/** GitHub lists at most this many commits of a pull request, however many pages are asked for. */
const MAX_PULL_COMMITS = 250;

/** The pull request's commits, oldest first as GitHub lists them, at most 250, paged. */
function listCommits(context: ForgeRouteContext, pull: StoredMergeRequest): ForgeRouteAnswer {
  const commits = context.state
    .mergeRequestCommits(pull)
    .reverse()
    .slice(0, MAX_PULL_COMMITS)
    .map((commit) => ({
      sha: commit.sha,
      commit: {
        author: { name: commit.authorName, email: commit.authorEmail, date: timestampToSecond(commit.authoredAt) },
        committer: { name: commit.authorName, email: commit.authorEmail, date: timestampToSecond(commit.committedAt) },
        message: commit.message,
        comment_count: 0,
      },
      url: `${context.origin}${PREFIX}/repos/${pull.project}/commits/${commit.sha}`,
      html_url: `${context.origin}/${pull.project}/commit/${commit.sha}`,
      author: null,
      committer: null,
      parents: [],
    }));
  const page = paginate(commits, context, githubApi, `/repos/${pull.project}/pulls/${pull.number}/commits`);
  return { status: 200, body: page.body, headers: page.headers };
}

const REVIEW_STATES: Readonly<Record<StoredReviewKind, string>> = { approved: 'APPROVED', 'changes-requested': 'CHANGES_REQUESTED', commented: 'COMMENTED' };
/** The events a review may be submitted with, and the kind of review each makes. */
const REVIEW_EVENTS: Readonly<Record<string, StoredReviewKind>> = { APPROVE: 'approved', REQUEST_CHANGES: 'changes-requested', COMMENT: 'commented' };

/** GitHub's 422 for a review it cannot place: `Unprocessable Entity` with what could not be resolved. */
function unprocessable(problem: string): ForgeRouteAnswer {
  return { status: 422, body: { message: 'Unprocessable Entity', errors: [problem], documentation_url: GITHUB_DOCS.createPullReview } };
}

/**
 * Submits a review of the pull request: `commit_id` (the head by default), `event` (APPROVE,
 * REQUEST_CHANGES or COMMENT), `body`, and `comments`, each `{path, line, side, body}` on a line
 * of the diff between the merge base and `commit_id` — RIGHT (the default) for the new side,
 * where a line inside a hunk (added or context) may be commented on. A path the diff lacks, or a
 * line outside its hunks, is GitHub's 422; so is a body missing where the event needs one, and
 * an approval or a request for changes by the pull request's author. Answers 200 and the
 * review. Without `event` GitHub keeps the review PENDING, which the double does not model
 * (422, saying so); nor does it model `position`, `start_line` or LEFT-side comments.
 */
function createReview(context: ForgeRouteContext, pull: StoredMergeRequest): ForgeRouteAnswer {
  const docs = GITHUB_DOCS.createPullReview;
  const body = objectBody(context.body);
  if (body === undefined) return invalidRequest(docs, 'The request body must be a JSON object.');
  const typeProblem = wrongType(body, { commit_id: 'string', body: 'string', event: 'string' });
  if (typeProblem !== undefined) return invalidRequest(docs, typeProblem);
  const event = body['event'];
  if (event === undefined) return invalidRequest(docs, 'The forge double does not model pending reviews: send an event.');
  const kind = REVIEW_EVENTS[String(event)];
  if (kind === undefined) return invalidRequest(docs, `For 'properties/event', ${JSON.stringify(event)} is not one of ["APPROVE", "REQUEST_CHANGES", "COMMENT"].`);
  const comments = body['comments'] ?? [];
  if (!Array.isArray(comments)) return invalidRequest(docs, `For 'properties/comments', ${JSON.stringify(comments)} is not an array.`);
  const text = typeof body['body'] === 'string' ? body['body'] : '';
  if (kind === 'changes-requested' && text.trim() === '') return unprocessable('Body is required when using REQUEST_CHANGES');
  if (kind === 'commented' && text.trim() === '' && comments.length === 0) return unprocessable('Body is required when using COMMENT without comments');
  if (kind !== 'commented' && pull.author === context.user) return unprocessable(kind === 'approved' ? 'Can not approve your own pull request' : 'Can not request changes on your own pull request');
  const refs = context.state.diffRefsOf(pull);
  const commitId = typeof body['commit_id'] === 'string' ? body['commit_id'] : refs?.headSha;
  if (refs === undefined || commitId === undefined || !context.state.hasCommit(pull.project, commitId)) return unprocessable('No commit found for SHA: ' + String(commitId));
  const diff = context.state.diffLines(pull.project, refs.baseSha, commitId);
  const placed: Array<{ readonly path: string; readonly line: number; readonly body: string }> = [];
  for (const [index, comment] of comments.entries()) {
    const fields = objectBody(comment);
    if (fields === undefined || typeof fields['path'] !== 'string' || typeof fields['body'] !== 'string') return invalidRequest(docs, `For 'items/${index}', a comment needs a path and a body.`);
    if (fields['position'] !== undefined || fields['start_line'] !== undefined || (fields['side'] !== undefined && fields['side'] !== 'RIGHT')) {
      return invalidRequest(docs, `For 'items/${index}', the forge double models single-line comments on the RIGHT side only.`);
    }
    if (!Number.isSafeInteger(fields['line'])) return invalidRequest(docs, `For 'items/${index}', ${JSON.stringify(fields['line'])} is not an integer line.`);
    const file = diff.get(fields['path']);
    if (file === undefined) return unprocessable('Path could not be resolved');
    if (!file.inHunk.has(fields['line'] as number)) return unprocessable('Line could not be resolved');
    placed.push({ path: fields['path'], line: fields['line'] as number, body: fields['body'] });
  }
  const review = context.state.addReview(pull.project, pull.number, { author: context.user, kind, body: text });
  for (const comment of placed) {
    context.state.addReviewComment({ project: pull.project, number: pull.number, author: context.user, reviewId: review.id, path: comment.path, line: comment.line, commitId, body: comment.body });
  }
  return { status: 200, body: reviewJson(context, pull, review, commitId) };
}

/** A review as GitHub answers it, listed or just submitted. */
function reviewJson(context: ForgeRouteContext, pull: StoredMergeRequest, review: StoredReview, commitId: string | null): Record<string, unknown> {
  return {
    id: review.id,
    user: { login: review.author, id: context.state.userId(review.author), type: 'User' },
    body: review.body,
    state: REVIEW_STATES[review.kind],
    html_url: `${context.origin}/${pull.project}/pull/${pull.number}#pullrequestreview-${review.id}`,
    pull_request_url: apiUrlOf(context, pull),
    author_association: 'COLLABORATOR',
    submitted_at: timestampToSecond(review.at),
    commit_id: commitId,
  };
}

/** The pull request's submitted reviews, oldest first, paged. */
function listReviews(context: ForgeRouteContext, pull: StoredMergeRequest): ForgeRouteAnswer {
  const reviews = context.state.reviewsOf(pull).map((review) => reviewJson(context, pull, review, context.state.headOf(pull) ?? null));
  const page = paginate(reviews, context, githubApi, `/repos/${pull.project}/pulls/${pull.number}/reviews`);
  return { status: 200, body: page.body, headers: page.headers };
}
