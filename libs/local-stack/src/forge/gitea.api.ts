import type { IncomingHttpHeaders } from 'node:http';
import { type ForgeApi, type ForgeRouteAnswer, type ForgeRouteContext, type ForgeState, headOf, objectBody, ownerOf, paginate, type StoredMergeRequest, type StoredReviewKind, timestampToSecond } from './forge-double';

/** Gitea 1.22's API reference (one Swagger page; Forgejo serves the same API), which every route below follows. */
const API_REFERENCE = 'https://docs.gitea.com/api/1.22/';

/** The documentation of each route and convention the double speaks, for the routes' `docs` and the tests that cite them. */
export const GITEA_DOCS = {
  listPulls: `${API_REFERENCE}#tag/repository/operation/repoListPullRequests`,
  getPull: `${API_REFERENCE}#tag/repository/operation/repoGetPullRequest`,
  createPull: `${API_REFERENCE}#tag/repository/operation/repoCreatePullRequest`,
  editPull: `${API_REFERENCE}#tag/repository/operation/repoEditPullRequest`,
  requestReviewers: `${API_REFERENCE}#tag/repository/operation/repoCreatePullReviewRequests`,
  listLabels: `${API_REFERENCE}#tag/issue/operation/issueListLabels`,
  currentUser: `${API_REFERENCE}#tag/user/operation/userGetCurrent`,
  pullCommits: `${API_REFERENCE}#tag/repository/operation/repoGetPullRequestCommits`,
  listPullReviews: `${API_REFERENCE}#tag/repository/operation/repoListPullReviews`,
  createPullReview: `${API_REFERENCE}#tag/repository/operation/repoCreatePullReview`,
  /** Authentication (`Authorization: token …`) and pagination (`Link`, `X-Total-Count`). */
  apiUsage: 'https://docs.gitea.com/1.22/development/api-usage',
  forgejoApiUsage: 'https://forgejo.org/docs/latest/user/api-usage/',
  /** Draft ("work in progress") pull requests: a title prefix, `WIP:` or `[WIP]` by default. */
  workInProgress: 'https://docs.gitea.com/1.22/usage/pull-request#work-in-progress-pull-requests',
} as const;

const PREFIX = '/api/v1';
/**
 * Gitea puts its Swagger page (`<ROOT_URL>api/swagger`) in the `url` of every error body.
 * The double's answers name the one of an instance at Gitea's default ROOT_URL: nothing reads it.
 */
const SWAGGER_URL = 'http://localhost:3000/api/swagger';
/** Gitea's default `[repository.pull-request] WORK_IN_PROGRESS_PREFIXES`, matched case-insensitively. */
const WORK_IN_PROGRESS_PREFIXES = ['WIP:', '[WIP]'];

const REPO = '/repos/([^/]+)/([^/]+)';

type GiteaJson = Record<string, unknown>;

/**
 * Gitea's (and Forgejo's) REST API v1 for the forge double: pull requests, the repository's
 * labels they take by id, and review requests. Answers carry Gitea's field names, status
 * codes (201 even for an edit) and error bodies, and behave as Gitea does where the client
 * must cope: no head filter on the list, newest first, unknown label ids dropped without a
 * word, draft only as a title prefix.
 */
export const giteaApi: ForgeApi = {
  flavour: 'gitea',
  prefix: PREFIX,
  tokenOf: tokenOfAuthorization,
  // What Gitea answers a token it does not know (services/auth: the token resolves to no user).
  unauthorized: () => apiError(401, 'user does not exist [uid: 0, name: ]'),
  notFound: () => notFound(),
  routes: [
    {
      method: 'GET',
      pattern: new RegExp(`^${REPO}/pulls$`),
      docs: GITEA_DOCS.listPulls,
      handle: (context) => inRepository(context, (project) => listPulls(context, project)),
    },
    {
      method: 'POST',
      pattern: new RegExp(`^${REPO}/pulls$`),
      docs: GITEA_DOCS.createPull,
      handle: (context) => inRepository(context, (project) => createPull(context, project)),
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${REPO}/pulls/(\\d+)$`),
      docs: GITEA_DOCS.getPull,
      handle: (context) => withPull(context, (pull) => ({ status: 200, body: pullJson(pull, context) })),
    },
    {
      method: 'PATCH',
      pattern: new RegExp(`^${REPO}/pulls/(\\d+)$`),
      docs: GITEA_DOCS.editPull,
      handle: (context) => withPull(context, (pull) => editPull(context, pull)),
    },
    {
      method: 'POST',
      pattern: new RegExp(`^${REPO}/pulls/(\\d+)/requested_reviewers$`),
      docs: GITEA_DOCS.requestReviewers,
      handle: (context) => withPull(context, (pull) => requestReviewers(context, pull)),
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${REPO}/labels$`),
      docs: GITEA_DOCS.listLabels,
      handle: (context) => inRepository(context, (project) => listLabels(context, project)),
    },
    {
      method: 'GET',
      pattern: /^\/user$/,
      docs: GITEA_DOCS.currentUser,
      handle: (context) => ({ status: 200, body: userJson(context, context.user) }),
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${REPO}/pulls/(\\d+)/commits$`),
      docs: GITEA_DOCS.pullCommits,
      handle: (context) => withPull(context, (pull) => listCommits(context, pull)),
    },
    {
      method: 'POST',
      pattern: new RegExp(`^${REPO}/pulls/(\\d+)/reviews$`),
      docs: GITEA_DOCS.createPullReview,
      handle: (context) => withPull(context, (pull) => createReview(context, pull)),
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${REPO}/pulls/(\\d+)/reviews$`),
      docs: GITEA_DOCS.listPullReviews,
      handle: (context) => withPull(context, (pull) => listReviews(context, pull)),
    },
  ],
};

/**
 * Gitea reads `Authorization: token <token>` (the scheme written exactly so) or
 * `Authorization: Bearer <token>` (any case), two fields and no more.
 */
function tokenOfAuthorization(headers: IncomingHttpHeaders): string | undefined {
  const fields = (headers.authorization ?? '').trim().split(/\s+/);
  if (fields.length !== 2) return undefined;
  const [scheme, token] = fields;
  return scheme === 'token' || scheme?.toLowerCase() === 'bearer' ? token : undefined;
}

/** Gitea's `APIError`: `{message, url}`, for every status but 404. */
function apiError(status: number, message: string): ForgeRouteAnswer {
  return { status, body: { message, url: SWAGGER_URL } };
}

/**
 * Gitea's `APINotFound`: the message is "The target couldn't be found." unless the handler
 * gave its own, and `errors` lists the underlying errors (Forgejo sends `[]` when there are
 * none, Gitea `null`; the double sends Forgejo's).
 */
function notFound(options: { readonly message?: string; readonly errors?: readonly string[] } = {}): ForgeRouteAnswer {
  return { status: 404, body: { errors: options.errors ?? [], message: options.message ?? "The target couldn't be found.", url: SWAGGER_URL } };
}

/** A repository the token cannot see is answered 404, before any handler runs. */
function inRepository(context: ForgeRouteContext, handle: (project: string) => ForgeRouteAnswer): ForgeRouteAnswer {
  const project = `${context.params[0]}/${context.params[1]}`;
  return context.state.hasProject(project) ? handle(project) : notFound();
}

function withPull(context: ForgeRouteContext, handle: (pull: StoredMergeRequest) => ForgeRouteAnswer): ForgeRouteAnswer {
  return inRepository(context, (project) => {
    const pull = context.state.mergeRequest(project, Number(context.params[2]));
    return pull === undefined ? notFound() : handle(pull);
  });
}

/**
 * `state` filters only when it is `open` or `closed`: Gitea answers every state to any other
 * value and to none, whatever its Swagger says of a default. No `head` filter exists; the
 * list is newest first and paged with `page` and `limit`.
 */
function listPulls(context: ForgeRouteContext, project: string): ForgeRouteAnswer {
  const wanted = context.query.get('state');
  const pulls = context.state.mergeRequests
    .filter((pull) => pull.project === project)
    .filter((pull) => (wanted === 'open' ? pull.state === 'open' : wanted === 'closed' ? pull.state !== 'open' : true))
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id - a.id);
  const page = paginate(pulls, context, giteaApi, `${repositoryPath(project)}/pulls`);
  return { status: 200, body: page.body.map((pull) => pullJson(pull, context)), headers: page.headers };
}

/** The repository's labels by name (Gitea's default order), paged. */
function listLabels(context: ForgeRouteContext, project: string): ForgeRouteAnswer {
  const names = [...context.state.labels].sort((a, b) => a.localeCompare(b));
  const page = paginate(names, context, giteaApi, `${repositoryPath(project)}/labels`);
  return { status: 200, body: page.body.map((name) => labelJson(context, project, name)), headers: page.headers };
}

/**
 * Opens a pull request from `head` (a branch, or `owner:branch` of this repository) to
 * `base`, checked in Gitea's order: the form, head ≠ base, both branches, then an open
 * request for the same head and base (409 naming it). `labels` are ids; one the repository
 * lacks is dropped without a word, as Gitea does. `assignees`, `milestone` and `due_date`
 * are not modelled (the worker never sends them) and, like any unknown field, ignored.
 */
function createPull(context: ForgeRouteContext, project: string): ForgeRouteAnswer {
  const form = bindForm(context.body, 'CreatePullRequestOption', [
    { field: 'Head', json: 'head', type: 'string', required: true },
    { field: 'Base', json: 'base', type: 'string', required: true },
    { field: 'Title', json: 'title', type: 'string', required: true },
    { field: 'Body', json: 'body', type: 'string' },
    { field: 'Labels', json: 'labels', type: 'int64 list' },
  ]);
  if ('answer' in form) return form.answer;
  const { head, base, title } = form.values as { head: string; base: string; title: string };
  if (head === base) return apiError(422, 'Invalid PullRequest: There are no changes between the head and the base');
  const { owner: headOwner, branch: headBranch } = headOf(head, project);
  // The double holds no forks: a head in another owner's repository is one it cannot find.
  if (headOwner !== ownerOf(project)) return notFound({ errors: [`the owner ${headOwner} does not exist`] });
  if (context.state.branchHead(project, base) === undefined) {
    return notFound({ errors: [`could not find '${base}' to be a commit, branch or tag in the base repository ${project}`] });
  }
  if (context.state.branchHead(project, headBranch) === undefined) {
    return notFound({ errors: [`could not find '${headBranch}' to be a commit, branch or tag in the head repository ${project}`] });
  }
  const existing = context.state.openMergeRequest(project, headBranch, base);
  if (existing !== undefined) {
    const repoId = context.state.projectId(project);
    return apiError(
      409,
      `pull request already exists for these targets [id: ${existing.id}, issue_id: ${existing.number}, head_repo_id: ${repoId}, base_repo_id: ${repoId}, head_branch: ${existing.sourceBranch}, base_branch: ${existing.targetBranch}]`,
    );
  }
  const pull = context.state.addMergeRequest({
    project,
    sourceBranch: headBranch,
    targetBranch: base,
    title,
    body: typeof form.values['body'] === 'string' ? form.values['body'] : '',
    labels: labelNames(context.state, form.values['labels']),
    reviewers: [],
    draft: isWorkInProgress(title),
    author: context.user,
  });
  return { status: 201, body: pullJson(pull, context) };
}

/**
 * Edits `title` (an empty one is ignored), `body` and `labels` (ids; the list replaces the
 * request's labels, unknown ids dropped). Draft follows the title. Gitea answers 201 here
 * too. The other documented fields (`state`, `base`, `assignees`, …) are not modelled: the
 * worker never sends them.
 */
function editPull(context: ForgeRouteContext, pull: StoredMergeRequest): ForgeRouteAnswer {
  const form = bindForm(context.body, 'EditPullRequestOption', [
    { field: 'Title', json: 'title', type: 'string' },
    { field: 'Body', json: 'body', type: 'string' },
    { field: 'Labels', json: 'labels', type: 'int64 list' },
  ]);
  if ('answer' in form) return form.answer;
  const { title, body, labels } = form.values;
  if (typeof title === 'string' && title !== '') {
    pull.title = title;
    pull.draft = isWorkInProgress(title);
  }
  if (typeof body === 'string') pull.body = body;
  if (labels !== undefined) pull.labels = labelNames(context.state, labels);
  context.state.touch(pull);
  return { status: 201, body: pullJson(pull, context) };
}

/** Review ids, per forge double: Gitea numbers reviews across the instance. */
const lastReviewIds = new WeakMap<ForgeState, number>();

/**
 * Asks users (`reviewers`, names) to review, all checked before any is asked: an unknown
 * user is Gitea's 404 "User '…' not exist", the request's author its 422. Someone already
 * asked is skipped without error. Answers 201 with a `REQUEST_REVIEW` review per user newly asked.
 * `team_reviewers` is read but ignored, as Gitea does outside organisations (the double has none).
 */
function requestReviewers(context: ForgeRouteContext, pull: StoredMergeRequest): ForgeRouteAnswer {
  const form = bindForm(context.body, 'PullReviewRequestOptions', [
    { field: 'Reviewers', json: 'reviewers', type: 'string list' },
    { field: 'TeamReviewers', json: 'team_reviewers', type: 'string list' },
  ]);
  if ('answer' in form) return form.answer;
  const reviewers = (form.values['reviewers'] as string[] | undefined) ?? [];
  for (const reviewer of reviewers) {
    if (!context.state.users.includes(reviewer)) return notFound({ message: `User '${reviewer}' not exist` });
    if (reviewer === pull.author) {
      return apiError(422, `poster of pr can't be reviewer [user_id: ${context.state.userId(reviewer)}, repo_id: ${context.state.projectId(pull.project)}]`);
    }
  }
  const newlyAsked = [...new Set(reviewers)].filter((reviewer) => !pull.reviewers.includes(reviewer));
  pull.reviewers.push(...newlyAsked);
  context.state.touch(pull);
  const reviews = newlyAsked.map((reviewer) => {
    const id = (lastReviewIds.get(context.state) ?? 0) + 1;
    lastReviewIds.set(context.state, id);
    return reviewJson(id, reviewer, pull, context);
  });
  return { status: 201, body: reviews };
}

interface FieldRule {
  /** The Go field name Gitea's binding errors carry. */
  readonly field: string;
  readonly json: string;
  readonly type: 'string' | 'int64 list' | 'string list';
  readonly required?: boolean;
}

/**
 * The request body decoded and bound as Gitea's API does, or its 422: a body that does not
 * decode into the option struct is a deserialization error, an empty required field
 * `[Field]: Required`. JSON null leaves a field unset, as in Go.
 */
function bindForm(body: unknown, struct: string, rules: readonly FieldRule[]): { readonly values: Record<string, unknown> } | { readonly answer: ForgeRouteAnswer } {
  const fields = objectBody(body);
  if (fields === undefined) return { answer: apiError(422, `[]: json: cannot unmarshal ${jsonKind(body)} into Go value of type structs.${struct}`) };
  const values: Record<string, unknown> = {};
  for (const rule of rules) {
    const value = fields[rule.json];
    if (value === undefined || value === null) continue;
    const misfit = misfitOf(value, rule.type);
    if (misfit !== undefined) {
      return { answer: apiError(422, `[]: json: cannot unmarshal ${jsonKind(misfit.value)} into Go struct field ${struct}.${rule.json} of type ${misfit.goType}`) };
    }
    values[rule.json] = value;
  }
  const missing = rules.find((rule) => rule.required === true && (values[rule.json] ?? '') === '');
  return missing === undefined ? { values } : { answer: apiError(422, `[${missing.field}]: Required`) };
}

/** The value, or the first item of a list, that Go's decoder would refuse for the field's type, with the type it wanted. */
function misfitOf(value: unknown, type: FieldRule['type']): { readonly value: unknown; readonly goType: string } | undefined {
  if (type === 'string') return typeof value === 'string' ? undefined : { value, goType: 'string' };
  if (!Array.isArray(value)) return { value, goType: type === 'string list' ? '[]string' : '[]int64' };
  const item = value.find((candidate) => (type === 'string list' ? typeof candidate !== 'string' : !Number.isSafeInteger(candidate)));
  return item === undefined ? undefined : { value: item, goType: type === 'string list' ? 'string' : 'int64' };
}

/** How Go's JSON decoder names a value it cannot unmarshal: `number 1.5`, `string`, `array`, `object`. */
function jsonKind(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return `number ${value}`;
  return value === null ? 'null' : typeof value;
}

function isWorkInProgress(title: string): boolean {
  return WORK_IN_PROGRESS_PREFIXES.some((prefix) => title.toUpperCase().startsWith(prefix.toUpperCase()));
}

/** The names of the label ids the repository has, in the given order, unknown ids dropped. */
function labelNames(state: ForgeState, ids: unknown): string[] {
  const known = (Array.isArray(ids) ? ids : []).map((id) => state.labelWithId(Number(id))).filter((name): name is string => name !== undefined);
  return [...new Set(known)];
}

function repositoryPath(project: string): string {
  return `/repos/${project
    .split('/')
    .map((part) => encodeURIComponent(part))
    .join('/')}`;
}

function userJson(context: ForgeRouteContext, login: string): GiteaJson {
  return {
    id: context.state.userId(login),
    login,
    login_name: '',
    full_name: '',
    email: `${login}@noreply.localhost`,
    avatar_url: `${context.origin}/avatars/${login}`,
    html_url: `${context.origin}/${login}`,
    username: login,
  };
}

function labelJson(context: ForgeRouteContext, project: string, name: string): GiteaJson {
  const id = context.state.labelId(name);
  return { id, name, exclusive: false, is_archived: false, color: 'ededed', description: '', url: `${context.origin}${PREFIX}${repositoryPath(project)}/labels/${id}` };
}

function htmlUrlOf(context: ForgeRouteContext, pull: StoredMergeRequest): string {
  return `${context.origin}/${pull.project}/pulls/${pull.number}`;
}

/** A pull request as Gitea's `convert.ToAPIPullRequest` writes it; a merged one is `closed` with `merged: true`. */
function pullJson(pull: StoredMergeRequest, context: ForgeRouteContext): GiteaJson {
  const { state } = context;
  const branch = (project: string, ref: string) => {
    const repoId = state.projectId(project);
    const repo = { id: repoId, name: project.slice(project.indexOf('/') + 1), full_name: project, html_url: `${context.origin}/${project}` };
    return { label: ref, ref, sha: state.branchHead(project, ref) ?? '', repo_id: repoId, repo };
  };
  const htmlUrl = htmlUrlOf(context, pull);
  return {
    id: pull.id,
    url: htmlUrl,
    number: pull.number,
    user: userJson(context, pull.author),
    title: pull.title,
    body: pull.body,
    labels: pull.labels.map((name) => labelJson(context, pull.project, name)),
    milestone: null,
    assignee: null,
    assignees: null,
    requested_reviewers: pull.reviewers.map((login) => userJson(context, login)),
    requested_reviewers_teams: [],
    state: pull.state === 'open' ? 'open' : 'closed',
    draft: isWorkInProgress(pull.title),
    is_locked: false,
    comments: 0,
    html_url: htmlUrl,
    diff_url: `${htmlUrl}.diff`,
    patch_url: `${htmlUrl}.patch`,
    mergeable: pull.state === 'open',
    merged: pull.state === 'merged',
    merged_at: timestampToSecond(pull.mergedAt),
    merge_commit_sha: pull.mergeCommitSha ?? null,
    merged_by: null,
    allow_maintainer_edit: false,
    base: branch(pull.project, pull.targetBranch),
    head: branch(state.sourceProjectOf(pull), pull.sourceBranch),
    due_date: null,
    created_at: timestampToSecond(pull.createdAt),
    updated_at: timestampToSecond(pull.updatedAt),
    // A merged pull request's issue is closed too, at the moment it was merged.
    closed_at: timestampToSecond(pull.closedAt ?? pull.mergedAt),
    pin_order: 0,
  };
}

function reviewJson(id: number, reviewer: string, pull: StoredMergeRequest, context: ForgeRouteContext): GiteaJson {
  const now = timestampToSecond(new Date().toISOString());
  const htmlUrl = htmlUrlOf(context, pull);
  return {
    id,
    user: userJson(context, reviewer),
    team: null,
    state: 'REQUEST_REVIEW',
    body: '',
    commit_id: context.state.branchHead(pull.project, pull.sourceBranch) ?? '',
    stale: false,
    official: false,
    dismissed: false,
    comments_count: 0,
    submitted_at: now,
    updated_at: now,
    html_url: `${htmlUrl}#issuecomment-${id}`,
    pull_request_url: htmlUrl,
  };
}

/**
 * The pull request's commits, newest first as `git log` gives them to Gitea, paged with
 * `page` and `limit`. `verification` and `files` (both on by default) only add fields the
 * double leaves out, since they cost Gitea work its callers may skip.
 */
function listCommits(context: ForgeRouteContext, pull: StoredMergeRequest): ForgeRouteAnswer {
  const commits = context.state.mergeRequestCommits(pull).map((commit) => {
    const apiUrl = `${context.origin}${PREFIX}${repositoryPath(pull.project)}/git/commits/${commit.sha}`;
    const person = (date: string) => ({ name: commit.authorName, email: commit.authorEmail, date: timestampToSecond(date) });
    return {
      url: apiUrl,
      sha: commit.sha,
      created: timestampToSecond(commit.committedAt),
      html_url: `${context.origin}/${pull.project}/commit/${commit.sha}`,
      commit: { url: apiUrl, author: person(commit.authoredAt), committer: person(commit.committedAt), message: commit.message },
      author: null,
      committer: null,
      parents: [],
    };
  });
  const page = paginate(commits, context, giteaApi, `${repositoryPath(pull.project)}/pulls/${pull.number}/commits`);
  return { status: 200, body: page.body, headers: page.headers };
}

const REVIEW_STATES: Readonly<Record<StoredReviewKind, string>> = { approved: 'APPROVED', 'changes-requested': 'REQUEST_CHANGES', commented: 'COMMENT' };
/** The events a review may be submitted with, and the kind of review each makes; any other event leaves it pending. */
const REVIEW_EVENTS: Readonly<Record<string, StoredReviewKind>> = { APPROVED: 'approved', REQUEST_CHANGES: 'changes-requested', COMMENT: 'commented' };

/**
 * Submits a review (`CreatePullReviewOptions`: `body`, `commit_id`, `event`, `comments` of
 * `{path, body, new_position, old_position}`), as Gitea's handler does: the event first —
 * COMMENT needs a body or a comment, REQUEST_CHANGES a body, and the poster may neither approve
 * nor reject their own (422); `commit_id` defaults to the head. Each comment is placed on
 * `new_position` (or, when `old_position` is set, that line of the old side) and Gitea blames
 * that line at the head: a path the head lacks is let through (Gitea's own "FIXME validate
 * treePath"), a line past the end of the file fails the blame, a 500. A closed request takes
 * no review (422). Answers 200 and the review. Any other event leaves the review pending,
 * which the double does not model (422, saying so).
 */
function createReview(context: ForgeRouteContext, pull: StoredMergeRequest): ForgeRouteAnswer {
  const form = bindForm(context.body, 'CreatePullReviewOptions', [
    { field: 'Body', json: 'body', type: 'string' },
    { field: 'CommitID', json: 'commit_id', type: 'string' },
    { field: 'Event', json: 'event', type: 'string' },
  ]);
  if ('answer' in form) return form.answer;
  const rawComments = objectBody(context.body)?.['comments'] ?? [];
  if (!Array.isArray(rawComments)) return apiError(422, `[]: json: cannot unmarshal ${jsonKind(rawComments)} into Go struct field CreatePullReviewOptions.comments of type []structs.CreatePullReviewComment`);
  const comments: Array<{ readonly path: string; readonly body: string; readonly line: number }> = [];
  for (const raw of rawComments) {
    const fields = objectBody(raw);
    if (fields === undefined) return apiError(422, `[]: json: cannot unmarshal ${jsonKind(raw)} into Go struct field CreatePullReviewOptions.comments of type structs.CreatePullReviewComment`);
    for (const [json, goType] of [['path', 'string'], ['body', 'string'], ['new_position', 'int64'], ['old_position', 'int64']] as const) {
      const value = fields[json];
      const fits = value === undefined || value === null || (goType === 'string' ? typeof value === 'string' : Number.isSafeInteger(value));
      if (!fits) return apiError(422, `[]: json: cannot unmarshal ${jsonKind(value)} into Go struct field CreatePullReviewComment.comments.${json} of type ${goType}`);
    }
    const oldLine = Number(fields['old_position'] ?? 0);
    comments.push({ path: String(fields['path'] ?? ''), body: String(fields['body'] ?? ''), line: oldLine > 0 ? -oldLine : Number(fields['new_position'] ?? 0) });
  }
  const body = typeof form.values['body'] === 'string' ? form.values['body'] : '';
  const event = typeof form.values['event'] === 'string' ? form.values['event'] : '';
  const kind = REVIEW_EVENTS[event];
  if (kind === undefined) return apiError(422, 'the forge double does not model pending reviews: send an event of APPROVED, REQUEST_CHANGES or COMMENT');
  if (kind !== 'commented' && pull.author === context.user) return apiError(422, `${kind === 'approved' ? 'approve' : 'reject'} your own pull is not allowed`);
  if (kind === 'commented' && body.trim() === '' && comments.length === 0) return apiError(422, 'review event COMMENT requires a body or a comment');
  if (kind === 'changes-requested' && body.trim() === '') return apiError(422, 'review event REQUEST_CHANGES requires a body');
  const commitId = typeof form.values['commit_id'] === 'string' && form.values['commit_id'] !== '' ? form.values['commit_id'] : context.state.headOf(pull);
  if (commitId === undefined) return apiError(500, 'GetRefCommitID: the head branch is gone');
  for (const comment of comments) {
    const lines = comment.line > 0 ? context.state.lineCountAt(pull.project, commitId, comment.path) : undefined;
    if (lines !== undefined && comment.line > lines) return apiError(500, `LineBlame[${pull.sourceBranch}, ${comment.path}, ${comment.line}]: fatal: file ${comment.path} has only ${lines} lines`);
  }
  if (pull.state !== 'open') return apiError(422, "can't submit review for a closed or merged PR");
  const review = context.state.addReview(pull.project, pull.number, { author: context.user, kind, body });
  for (const comment of comments) {
    context.state.addReviewComment({ project: pull.project, number: pull.number, author: context.user, reviewId: review.id, path: comment.path, line: comment.line, commitId, body: comment.body });
  }
  const at = timestampToSecond(review.at);
  return { status: 200, body: { ...reviewJson(review.id, review.author, pull, context), state: REVIEW_STATES[kind], body, commit_id: commitId, comments_count: comments.length, submitted_at: at, updated_at: at } };
}

/** The pull request's submitted reviews, oldest first, paged. */
function listReviews(context: ForgeRouteContext, pull: StoredMergeRequest): ForgeRouteAnswer {
  const reviews = context.state.reviewsOf(pull).map((review) => {
    const at = timestampToSecond(review.at);
    return { ...reviewJson(review.id, review.author, pull, context), state: REVIEW_STATES[review.kind], body: review.body, submitted_at: at, updated_at: at };
  });
  const page = paginate(reviews, context, giteaApi, `${repositoryPath(pull.project)}/pulls/${pull.number}/reviews`);
  return { status: 200, body: page.body, headers: page.headers };
}
