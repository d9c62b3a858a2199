import type { IncomingHttpHeaders } from 'node:http';
import { createHash } from 'node:crypto';
import {
  type ForgeApi,
  type ForgeRouteAnswer,
  type ForgeRouteContext,
  type ForgeState,
  objectBody,
  paginate,
  type StoredIssue,
  type StoredMergeRequest,
  type StoredReview,
  type StoredReviewComment,
} from './forge-double';

/** GitLab's REST API v4 documentation, which every route and answer below follows. */
export const GITLAB_DOCS = {
  listProjectMergeRequests: 'https://docs.gitlab.com/api/merge_requests/#list-project-merge-requests',
  getMergeRequest: 'https://docs.gitlab.com/api/merge_requests/#get-single-mr',
  createMergeRequest: 'https://docs.gitlab.com/api/merge_requests/#create-mr',
  updateMergeRequest: 'https://docs.gitlab.com/api/merge_requests/#update-mr',
  drafts: 'https://docs.gitlab.com/user/project/merge_requests/drafts/#mark-merge-requests-as-drafts',
  listUsers: 'https://docs.gitlab.com/api/users/#list-users',
  singleProjectIssue: 'https://docs.gitlab.com/api/issues/#single-project-issue',
  createIssueNote: 'https://docs.gitlab.com/api/notes/#create-new-issue-note',
  authentication: 'https://docs.gitlab.com/api/rest/authentication/#personalprojectgroup-access-tokens',
  pagination: 'https://docs.gitlab.com/api/rest/#pagination-link-header',
  paginationHeaders: 'https://docs.gitlab.com/api/rest/#other-pagination-headers',
  statusCodes: 'https://docs.gitlab.com/api/rest/troubleshooting/#status-codes',
  rateLimitHeaders: 'https://docs.gitlab.com/administration/settings/user_and_ip_rate_limits/#response-headers',
  currentUser: 'https://docs.gitlab.com/api/users/#retrieve-the-current-user',
  mergeRequestCommits: 'https://docs.gitlab.com/api/merge_requests/#get-single-mr-commits',
  mergeRequestNotes: 'https://docs.gitlab.com/api/notes/#list-all-merge-request-notes',
  mergeRequestApprovals: 'https://docs.gitlab.com/api/merge_request_approvals/#retrieve-approval-state-for-a-merge-request',
  createDiffThread: 'https://docs.gitlab.com/api/discussions/#create-a-new-thread-in-the-merge-request-diff',
  createMergeRequestNote: 'https://docs.gitlab.com/api/notes/#create-new-merge-request-note',
} as const;

/** A project as the path names it: its numeric id or its URL-encoded full path (`group%2Fsub%2Fname`). */
const PROJECT = '/projects/([^/]+)';

/** The title prefixes GitLab reads as "draft", case-insensitive; removing the prefix marks the request ready. */
const DRAFT_TITLE = /^\s*(\[draft\]|\(draft\)|draft:)/i;
/** GitLab's `title` column limit, in characters. */
const MAX_TITLE_CHARS = 255;
/** The fields of which `PUT /merge_requests/:iid` needs at least one, in GitLab's order. */
const UPDATE_FIELDS = [
  'assignee_id',
  'assignee_ids',
  'reviewer_ids',
  'description',
  'labels',
  'add_labels',
  'remove_labels',
  'milestone_id',
  'remove_source_branch',
  'allow_collaboration',
  'allow_maintainer_to_push',
  'squash',
  'target_branch',
  'title',
  'state_event',
  'discussion_locked',
] as const;
const STATE_FILTERS = ['opened', 'closed', 'locked', 'merged', 'all'] as const;
const REQUIRED_TO_CREATE = ['source_branch', 'target_branch', 'title'] as const;

type GitLabJson = Record<string, unknown>;

/**
 * GitLab self-managed's REST API v4 for the forge double: project merge requests (list,
 * get, create, update) and the user lookup that turns reviewer names into ids. Answers
 * carry GitLab's field names, status codes and error bodies (`{"message": …}` from the
 * application, `{"error": …}` from parameter validation), so the worker's GitLab client is
 * tested against the shapes the real forge sends.
 */
export const gitlabApi: ForgeApi = {
  flavour: 'gitlab',
  prefix: '/api/v4',
  tokenOf: tokenOfHeaders,
  unauthorized: () => ({ status: 401, body: { message: '401 Unauthorized' } }),
  // What GitLab answers a path no API route matches.
  notFound: () => ({ status: 404, body: { error: '404 Not Found' } }),
  routes: [
    {
      method: 'GET',
      pattern: new RegExp(`^${PROJECT}/merge_requests$`),
      docs: GITLAB_DOCS.listProjectMergeRequests,
      handle: (context) => inProject(context, (project) => listMergeRequests(context, project)),
    },
    {
      method: 'POST',
      pattern: new RegExp(`^${PROJECT}/merge_requests$`),
      docs: GITLAB_DOCS.createMergeRequest,
      handle: (context) => inProject(context, (project) => createMergeRequest(context, project)),
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${PROJECT}/merge_requests/(\\d+)$`),
      docs: GITLAB_DOCS.getMergeRequest,
      handle: (context) => withMergeRequest(context, (mr) => ({ status: 200, body: mergeRequestJson(mr, context) })),
    },
    {
      method: 'PUT',
      pattern: new RegExp(`^${PROJECT}/merge_requests/(\\d+)$`),
      docs: GITLAB_DOCS.updateMergeRequest,
      handle: (context) => withMergeRequest(context, (mr) => updateMergeRequest(context, mr)),
    },
    {
      method: 'GET',
      pattern: /^\/users$/,
      docs: GITLAB_DOCS.listUsers,
      handle: listUsers,
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${PROJECT}/issues/(\\d+)$`),
      docs: GITLAB_DOCS.singleProjectIssue,
      handle: (context) => withIssue(context, (issue) => ({ status: 200, body: issueJson(issue, context) })),
    },
    {
      method: 'POST',
      pattern: new RegExp(`^${PROJECT}/issues/(\\d+)/notes$`),
      docs: GITLAB_DOCS.createIssueNote,
      handle: (context) => withIssue(context, (issue) => createIssueNote(context, issue)),
    },
    {
      method: 'GET',
      pattern: /^\/user$/,
      docs: GITLAB_DOCS.currentUser,
      handle: (context) => ({ status: 200, body: userJson(context, context.user) }),
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${PROJECT}/merge_requests/(\\d+)/commits$`),
      docs: GITLAB_DOCS.mergeRequestCommits,
      handle: (context) => withMergeRequest(context, (mr) => listCommits(context, mr)),
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${PROJECT}/merge_requests/(\\d+)/notes$`),
      docs: GITLAB_DOCS.mergeRequestNotes,
      handle: (context) => withMergeRequest(context, (mr) => listNotes(context, mr)),
    },
    {
      method: 'POST',
      pattern: new RegExp(`^${PROJECT}/merge_requests/(\\d+)/discussions$`),
      docs: GITLAB_DOCS.createDiffThread,
      handle: (context) => withMergeRequest(context, (mr) => createDiffThread(context, mr)),
    },
    {
      method: 'POST',
      pattern: new RegExp(`^${PROJECT}/merge_requests/(\\d+)/notes$`),
      docs: GITLAB_DOCS.createMergeRequestNote,
      handle: (context) => withMergeRequest(context, (mr) => createMergeRequestNote(context, mr)),
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${PROJECT}/merge_requests/(\\d+)/approvals$`),
      docs: GITLAB_DOCS.mergeRequestApprovals,
      handle: (context) => withMergeRequest(context, (mr) => ({ status: 200, body: approvalsJson(context, mr) })),
    },
  ],
};

/** GitLab takes a personal, project or group access token as `PRIVATE-TOKEN`, or as an OAuth-style `Authorization: Bearer`. */
function tokenOfHeaders(headers: IncomingHttpHeaders): string | undefined {
  const privateToken = headers['private-token'];
  if (typeof privateToken === 'string' && privateToken !== '') return privateToken;
  return /^Bearer\s+(\S+)$/i.exec(headers.authorization ?? '')?.[1];
}

/** A numeric id is the project's place among the double's projects; anything else is its full path. */
function projectOf(state: ForgeState, idOrPath: string): string | undefined {
  if (/^\d+$/.test(idOrPath)) return state.projectWithId(Number(idOrPath));
  return state.hasProject(idOrPath) ? idOrPath : undefined;
}

function inProject(context: ForgeRouteContext, handle: (project: string) => ForgeRouteAnswer): ForgeRouteAnswer {
  const project = projectOf(context.state, context.params[0] ?? '');
  return project === undefined ? { status: 404, body: { message: '404 Project Not Found' } } : handle(project);
}

function withMergeRequest(context: ForgeRouteContext, handle: (mr: StoredMergeRequest) => ForgeRouteAnswer): ForgeRouteAnswer {
  return inProject(context, (project) => {
    const mr = context.state.mergeRequest(project, Number(context.params[1]));
    return mr === undefined ? { status: 404, body: { message: '404 Not found' } } : handle(mr);
  });
}

/** Grape's answer to a parameter that is missing or does not coerce: 400 with `error`. */
function parameterError(problem: string): ForgeRouteAnswer {
  return { status: 400, body: { error: problem } };
}

/** A model validation failure: 400 with the messages by field. */
function validationError(field: string, message: string): ForgeRouteAnswer {
  return { status: 400, body: { message: { [field]: [message] } } };
}

/**
 * `state` (`opened`, `closed`, `locked`, `merged` or `all`, the default), `source_branch`
 * and `target_branch` filters, newest first, paged with `page` and `per_page`.
 */
function listMergeRequests(context: ForgeRouteContext, project: string): ForgeRouteAnswer {
  const { query } = context;
  const wanted = query.get('state') ?? 'all';
  if (!(STATE_FILTERS as readonly string[]).includes(wanted)) return parameterError('state does not have a valid value');
  const sourceBranch = query.get('source_branch');
  const targetBranch = query.get('target_branch');
  const mrs = context.state.mergeRequests
    .filter((mr) => mr.project === project)
    .filter((mr) => wanted === 'all' || stateOf(mr) === wanted)
    .filter((mr) => sourceBranch === null || mr.sourceBranch === sourceBranch)
    .filter((mr) => targetBranch === null || mr.targetBranch === targetBranch)
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id - a.id);
  const page = paginate(mrs, context, gitlabApi, `/projects/${encodeURIComponent(context.params[0] ?? '')}/merge_requests`);
  return { status: 200, body: page.body.map((mr) => mergeRequestJson(mr, context)), headers: page.headers };
}

/**
 * Opens a merge request from `source_branch` to `target_branch` of the same project with
 * `title`, `description`, `labels` and `reviewer_ids`. The checks answer as GitLab's do, in
 * its order: a missing or mistyped parameter (400 `error`), the same branch as source and
 * target (422), an open request for the same source and target (409, whatever else is
 * wrong), a branch the repository lacks, a blank title or one over 255 characters (400 by field).
 */
function createMergeRequest(context: ForgeRouteContext, project: string): ForgeRouteAnswer {
  const body = objectBody(context.body) ?? {};
  const missing = REQUIRED_TO_CREATE.filter((field) => body[field] === undefined);
  if (missing.length > 0) return parameterError(missing.map((field) => `${field} is missing`).join(', '));
  const notText = REQUIRED_TO_CREATE.find((field) => typeof body[field] !== 'string');
  if (notText !== undefined) return parameterError(`${notText} is invalid`);
  const fieldsProblem = editableFieldsProblem(body);
  if (fieldsProblem !== undefined) return fieldsProblem;
  const { source_branch: sourceBranch, target_branch: targetBranch, title } = body as { source_branch: string; target_branch: string; title: string };
  if (sourceBranch === targetBranch) return { status: 422, body: { message: ["You can't use same project/branch for source and target"] } };
  const existing = context.state.openMergeRequest(project, sourceBranch, targetBranch);
  if (existing !== undefined) return { status: 409, body: { message: [`Another open merge request already exists for this source branch: !${existing.number}`] } };
  if (context.state.branchHead(project, sourceBranch) === undefined) return validationError('source_branch', 'does not exist');
  if (context.state.branchHead(project, targetBranch) === undefined) return validationError('target_branch', 'does not exist');
  const titleProblem = titleProblemOf(title);
  if (titleProblem !== undefined) return titleProblem;
  const mr = context.state.addMergeRequest({
    project,
    sourceBranch,
    targetBranch,
    title,
    body: typeof body['description'] === 'string' ? body['description'] : '',
    labels: labelsOf(context.state, body['labels']) ?? [],
    reviewers: reviewersOf(context.state, body['reviewer_ids']) ?? [],
    draft: DRAFT_TITLE.test(title),
    author: context.user,
  });
  return { status: 201, body: mergeRequestJson(mr, context) };
}

/**
 * Edits `title` (which sets or clears draft through its prefix), `description`, `labels`
 * (replaced) and `reviewer_ids` (replaced). At least one documented field must be sent;
 * the others GitLab documents are not modelled, since the worker never sends them.
 */
function updateMergeRequest(context: ForgeRouteContext, mr: StoredMergeRequest): ForgeRouteAnswer {
  const body = objectBody(context.body) ?? {};
  if (!UPDATE_FIELDS.some((field) => body[field] !== undefined)) {
    return parameterError(`${UPDATE_FIELDS.join(', ')} are missing, at least one parameter must be provided`);
  }
  if (body['title'] !== undefined && typeof body['title'] !== 'string') return parameterError('title is invalid');
  const fieldsProblem = editableFieldsProblem(body);
  if (fieldsProblem !== undefined) return fieldsProblem;
  const { title } = body as { title?: string };
  const titleProblem = title === undefined ? undefined : titleProblemOf(title);
  if (titleProblem !== undefined) return titleProblem;
  if (title !== undefined) {
    mr.title = title;
    mr.draft = DRAFT_TITLE.test(title);
  }
  if (typeof body['description'] === 'string') mr.body = body['description'];
  mr.labels = labelsOf(context.state, body['labels']) ?? mr.labels;
  mr.reviewers = reviewersOf(context.state, body['reviewer_ids']) ?? mr.reviewers;
  context.state.touch(mr);
  return { status: 200, body: mergeRequestJson(mr, context) };
}

/** The model's validation of a title: present, and within the column. */
function titleProblemOf(title: string): ForgeRouteAnswer | undefined {
  if (title.trim() === '') return validationError('title', "can't be blank");
  if (Array.from(title).length > MAX_TITLE_CHARS) return validationError('title', `is too long (maximum is ${MAX_TITLE_CHARS} characters)`);
  return undefined;
}

/** Grape's coercion failures of the fields create and update share. */
function editableFieldsProblem(body: Record<string, unknown>): ForgeRouteAnswer | undefined {
  if (body['description'] !== undefined && typeof body['description'] !== 'string') return parameterError('description is invalid');
  if (body['labels'] !== undefined && labelNamesOf(body['labels']) === undefined) return parameterError('labels is invalid');
  if (body['reviewer_ids'] !== undefined && idsOf(body['reviewer_ids']) === undefined) return parameterError('reviewer_ids is invalid');
  return undefined;
}

/** `labels` is a comma-separated string or an array of names; an empty one clears them. */
function labelNamesOf(value: unknown): string[] | undefined {
  const names = typeof value === 'string' ? value.split(',') : Array.isArray(value) && value.every((name) => typeof name === 'string') ? (value as string[]) : undefined;
  return names === undefined ? undefined : [...new Set(names.map((name) => name.trim()).filter((name) => name !== ''))];
}

/** The labels to set, creating in the project any it lacks (as GitLab does); undefined when none were sent. */
function labelsOf(state: ForgeState, value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  const names = labelNamesOf(value) ?? [];
  state.addLabels(names);
  return names;
}

/** `reviewer_ids` is an array of integers or a comma-separated string of them. */
function idsOf(value: unknown): number[] | undefined {
  const parts = typeof value === 'string' ? value.split(',').filter((part) => part.trim() !== '') : Array.isArray(value) ? value : undefined;
  if (parts === undefined) return undefined;
  const ids = parts.map((part) => (typeof part === 'number' ? part : typeof part === 'string' && /^\s*\d+\s*$/.test(part) ? Number(part) : Number.NaN));
  return ids.every((id) => Number.isSafeInteger(id) && id >= 0) ? ids : undefined;
}

/**
 * The reviewers to set: GitLab drops ids that are no user (and `0`, which clears the list)
 * without a word, so a client must resolve names to ids itself to be sure of them.
 */
function reviewersOf(state: ForgeState, value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  const users = (idsOf(value) ?? []).map((id) => state.userWithId(id)).filter((user): user is string => user !== undefined);
  return [...new Set(users)];
}

/**
 * `GET /users?username=`: the user of that name (case-insensitive) or an empty list. Without
 * `username`, every user, paged.
 */
function listUsers(context: ForgeRouteContext): ForgeRouteAnswer {
  const username = context.query.get('username');
  const users = context.state.users.filter((user) => username === null || user.toLowerCase() === username.toLowerCase());
  const page = paginate(users, context, gitlabApi, '/users');
  return { status: 200, body: page.body.map((user) => userJson(context, user)), headers: page.headers };
}

/** An issue of the project by its number (`iid`); GitLab answers an unknown one as it does an unknown merge request. */
function withIssue(context: ForgeRouteContext, handle: (issue: StoredIssue) => ForgeRouteAnswer): ForgeRouteAnswer {
  return inProject(context, (project) => {
    const issue = context.state.issue(project, String(Number(context.params[1])));
    return issue === undefined ? { status: 404, body: { message: '404 Not found' } } : handle(issue);
  });
}

/** `POST …/issues/:iid/notes` with `body`: 201 and the note. A missing or mistyped body is Grape's 400 `error`; a blank one the model's, by field. */
function createIssueNote(context: ForgeRouteContext, issue: StoredIssue): ForgeRouteAnswer {
  const body = objectBody(context.body) ?? {};
  if (body['body'] === undefined) return parameterError('body is missing');
  if (typeof body['body'] !== 'string') return parameterError('body is invalid');
  if (body['body'].trim() === '') return validationError('note', "can't be blank");
  const note = context.state.addIssueComment(issue, context.user, body['body']);
  return {
    status: 201,
    body: {
      id: note.id,
      type: null,
      body: note.body,
      attachment: null,
      author: userJson(context, note.author),
      created_at: note.createdAt,
      updated_at: note.createdAt,
      system: false,
      noteable_id: issue.id,
      noteable_type: 'Issue',
      noteable_iid: Number(issue.key),
      project_id: context.state.projectId(issue.project),
      resolvable: false,
      confidential: false,
      internal: false,
    },
  };
}

/** An issue as GitLab answers it, with the fields a client may read where GitLab puts them. */
function issueJson(issue: StoredIssue, context: ForgeRouteContext): GitLabJson {
  const iid = Number(issue.key);
  return {
    id: issue.id,
    iid,
    project_id: context.state.projectId(issue.project),
    title: issue.title,
    description: issue.description,
    state: 'opened',
    labels: [],
    assignees: [],
    type: 'ISSUE',
    issue_type: 'issue',
    confidential: false,
    discussion_locked: null,
    user_notes_count: issue.comments.length,
    web_url: `${context.origin}/${issue.project}/-/issues/${iid}`,
    references: { short: `#${iid}`, relative: `#${iid}`, full: `${issue.project}#${iid}` },
  };
}

function stateOf(mr: StoredMergeRequest): 'opened' | 'closed' | 'merged' {
  return mr.state === 'open' ? 'opened' : mr.state;
}

function userJson(context: ForgeRouteContext, username: string): GitLabJson {
  return { id: context.state.userId(username), username, name: username, state: 'active', locked: false, avatar_url: null, web_url: `${context.origin}/${username}` };
}

/** A merge request as GitLab answers it, with the fields a client may read where GitLab puts them. */
function mergeRequestJson(mr: StoredMergeRequest, context: ForgeRouteContext): GitLabJson {
  const projectId = context.state.projectId(mr.project);
  const diffRefs = context.state.diffRefsOf(mr);
  return {
    id: mr.id,
    iid: mr.number,
    project_id: projectId,
    title: mr.title,
    description: mr.body,
    state: stateOf(mr),
    created_at: mr.createdAt,
    updated_at: mr.updatedAt,
    merged_at: mr.mergedAt,
    closed_at: mr.closedAt,
    target_branch: mr.targetBranch,
    source_branch: mr.sourceBranch,
    author: userJson(context, mr.author),
    assignees: [],
    assignee: null,
    reviewers: mr.reviewers.map((user) => userJson(context, user)),
    source_project_id: context.state.projectId(context.state.sourceProjectOf(mr)),
    target_project_id: projectId,
    labels: mr.labels,
    draft: mr.draft,
    work_in_progress: mr.draft,
    milestone: null,
    merge_when_pipeline_succeeds: false,
    detailed_merge_status: mr.draft ? 'draft_status' : 'mergeable',
    sha: context.state.headOf(mr) ?? null,
    diff_refs: diffRefs === undefined ? null : { base_sha: diffRefs.baseSha, head_sha: diffRefs.headSha, start_sha: diffRefs.startSha },
    merge_commit_sha: mr.mergeCommitSha ?? null,
    squash_commit_sha: null,
    user_notes_count: 0,
    should_remove_source_branch: null,
    force_remove_source_branch: false,
    squash: false,
    web_url: `${context.origin}/${mr.project}/-/merge_requests/${mr.number}`,
    references: { short: `!${mr.number}`, relative: `!${mr.number}`, full: `${mr.project}!${mr.number}` },
  };
}

/** The request's commits from its bare repository, newest first as GitLab lists them, paged. */
function listCommits(context: ForgeRouteContext, mr: StoredMergeRequest): ForgeRouteAnswer {
  const commits = context.state.mergeRequestCommits(mr).map((commit) => ({
    id: commit.sha,
    short_id: commit.sha.slice(0, 8),
    created_at: commit.committedAt,
    parent_ids: [],
    title: commit.message.split('\n', 1)[0] ?? '',
    message: commit.message,
    author_name: commit.authorName,
    author_email: commit.authorEmail,
    authored_date: commit.authoredAt,
    committer_name: commit.authorName,
    committer_email: commit.authorEmail,
    committed_date: commit.committedAt,
    trailers: {},
    extended_trailers: {},
    web_url: `${context.origin}/${mr.project}/-/commit/${commit.sha}`,
  }));
  const page = paginate(commits, context, gitlabApi, `/projects/${encodeURIComponent(context.params[0] ?? '')}/merge_requests/${mr.number}/commits`);
  return { status: 200, body: page.body, headers: page.headers };
}

/**
 * The request's notes, newest first unless `sort=asc`, paged. GitLab has no review objects:
 * a review's comment is a person's note (`system: false`), and an approval or a request for
 * changes also leaves a system note (`system: true`) that GitLab writes in the person's name.
 */
function listNotes(context: ForgeRouteContext, mr: StoredMergeRequest): ForgeRouteAnswer {
  const sort = context.query.get('sort') ?? 'desc';
  if (sort !== 'asc' && sort !== 'desc') return parameterError('sort does not have a valid value');
  const orderBy = context.query.get('order_by') ?? 'created_at';
  if (orderBy !== 'created_at' && orderBy !== 'updated_at') return parameterError('order_by does not have a valid value');
  const notes = [...context.state.reviewsOf(mr).flatMap((review) => notesOf(context, mr, review)), ...context.state.reviewCommentsOf(mr).map((comment) => postedNoteJson(context, mr, comment))];
  notes.sort((a, b) => String(a['created_at']).localeCompare(String(b['created_at'])) || Number(a['id']) - Number(b['id']));
  if (sort === 'desc') notes.reverse();
  const page = paginate(notes, context, gitlabApi, `/projects/${encodeURIComponent(context.params[0] ?? '')}/merge_requests/${mr.number}/notes`);
  return { status: 200, body: page.body, headers: page.headers };
}

/** The notes one review leaves: ids 2n−1 for its system note, 2n for its comment, so that each is unique. */
function notesOf(context: ForgeRouteContext, mr: StoredMergeRequest, review: StoredReview): GitLabJson[] {
  const note = (id: number, body: string, system: boolean): GitLabJson => ({
    id,
    type: null,
    body,
    attachment: null,
    author: userJson(context, review.author),
    created_at: review.at,
    updated_at: review.at,
    system,
    noteable_id: mr.id,
    noteable_type: 'MergeRequest',
    project_id: context.state.projectId(mr.project),
    resolvable: false,
    confidential: false,
    internal: false,
    noteable_iid: mr.number,
    commands_changes: {},
  });
  const systemNote = note(review.id * 2 - 1, review.kind === 'approved' ? 'approved this merge request' : 'requested changes', true);
  const comment = note(review.id * 2, review.body === '' ? 'Looks good to me.' : review.body, false);
  if (review.kind === 'approved') return review.body === '' ? [systemNote] : [systemNote, comment];
  return review.kind === 'changes-requested' ? [systemNote, comment] : [comment];
}

/** The request's approval state: each person who approved, once, with `approved_at` as GitLab 17 and later add it. */
function approvalsJson(context: ForgeRouteContext, mr: StoredMergeRequest): GitLabJson {
  const approvals = new Map<string, StoredReview>();
  for (const review of context.state.reviewsOf(mr)) if (review.kind === 'approved' && !approvals.has(review.author)) approvals.set(review.author, review);
  return {
    id: mr.id,
    iid: mr.number,
    project_id: context.state.projectId(mr.project),
    title: mr.title,
    description: mr.body,
    state: stateOf(mr),
    created_at: mr.createdAt,
    updated_at: mr.updatedAt,
    merge_status: 'can_be_merged',
    approved: approvals.size > 0,
    approvals_required: 0,
    approvals_left: 0,
    require_password_to_approve: false,
    approved_by: [...approvals.values()].map((review) => ({ user: userJson(context, review.author), approved_at: review.at })),
    suggested_approvers: [],
    approvers: [],
    approver_groups: [],
    user_has_approved: approvals.has(context.user),
    user_can_approve: !approvals.has(context.user),
    approval_rules_left: [],
    has_approval_rules: false,
    merge_request_approvers_available: false,
    multiple_approval_rules_available: false,
  };
}

/** Ids of the notes a token's user posted, apart from those `notesOf` derives from reviews (2n−1, 2n): from a million on. */
const POSTED_NOTE_IDS = 1_000_000;

/** A note the token's user posted: a thread's diff note (with its position) or a note on the request. */
function postedNoteJson(context: ForgeRouteContext, mr: StoredMergeRequest, comment: StoredReviewComment): GitLabJson {
  const diffRefs = context.state.diffRefsOf(mr);
  return {
    id: POSTED_NOTE_IDS + comment.id,
    type: comment.path === null ? null : 'DiffNote',
    body: comment.body,
    attachment: null,
    author: userJson(context, comment.author),
    created_at: comment.at,
    updated_at: comment.at,
    system: false,
    noteable_id: mr.id,
    noteable_type: 'MergeRequest',
    project_id: context.state.projectId(mr.project),
    resolvable: comment.path !== null,
    ...(comment.path === null ? {} : { resolved: false, resolved_by: null }),
    confidential: false,
    internal: false,
    noteable_iid: mr.number,
    commands_changes: {},
    ...(comment.path === null || diffRefs === undefined
      ? {}
      : {
          position: {
            base_sha: diffRefs.baseSha,
            start_sha: diffRefs.startSha,
            head_sha: comment.commitId,
            new_path: comment.path,
            position_type: 'text',
            old_line: null,
            new_line: comment.line,
          },
        }),
  };
}

/** GitLab's answer to a position no line of the request's diff has: the note fails its model validation. */
const INVALID_POSITION: ForgeRouteAnswer = {
  status: 400,
  body: { message: '400 Bad request - Note {:line_code=>["can\'t be blank", "must be a valid line code"], :position=>["is incomplete"]}' },
};

/**
 * `POST …/merge_requests/:iid/discussions` with `body` and a text `position`: a thread on a
 * line of the diff. Grape requires `body` and, in `position`, `position_type` (text, image or
 * file), `base_sha`, `start_sha` and `head_sha`. The note is then positioned as GitLab does:
 * the shas must be the request's `diff_refs`, a position with `new_line` alone must be a line
 * the change added in `new_path`, and `old_path`, when given, the file's path before the
 * change (a new file's own), else the note fails validation (400). Answers 201 and the
 * discussion with its diff note.
 */
function createDiffThread(context: ForgeRouteContext, mr: StoredMergeRequest): ForgeRouteAnswer {
  const body = objectBody(context.body) ?? {};
  if (body['body'] === undefined) return parameterError('body is missing');
  if (typeof body['body'] !== 'string') return parameterError('body is invalid');
  const position = body['position'] === undefined ? undefined : objectBody(body['position']);
  if (body['position'] !== undefined && position === undefined) return parameterError('position is invalid');
  if (position === undefined) return parameterError('the forge double models diff threads only: position is missing');
  const required = ['position_type', 'base_sha', 'start_sha', 'head_sha'] as const;
  const missing = required.filter((field) => position[field] === undefined);
  if (missing.length > 0) return parameterError(missing.map((field) => `position[${field}] is missing`).join(', '));
  if (!['text', 'image', 'file'].includes(String(position['position_type']))) return parameterError('position[position_type] does not have a valid value');
  if (position['position_type'] !== 'text') return parameterError('the forge double models text positions only');
  if (body['body'].trim() === '') return validationError('note', "can't be blank");
  const refs = context.state.diffRefsOf(mr);
  const newPath = position['new_path'];
  const newLine = position['new_line'];
  const oldLine = position['old_line'];
  if (refs === undefined || position['base_sha'] !== refs.baseSha || position['start_sha'] !== refs.startSha || position['head_sha'] !== refs.headSha) return INVALID_POSITION;
  if (typeof newPath !== 'string' || typeof newLine !== 'number' || (oldLine !== undefined && oldLine !== null)) return INVALID_POSITION;
  const file = context.state.diffLines(mr.project, refs.baseSha, refs.headSha).get(newPath);
  if (file === undefined || !file.added.has(newLine)) return INVALID_POSITION;
  // GitLab names a new file's old path after its new one; a renamed file's old path is where it came from.
  const oldPath = file.oldPath === '/dev/null' ? newPath : file.oldPath;
  if (position['old_path'] !== undefined && position['old_path'] !== oldPath) return INVALID_POSITION;
  const comment = context.state.addReviewComment({ project: mr.project, number: mr.number, author: context.user, reviewId: null, path: newPath, line: newLine, commitId: refs.headSha, body: body['body'] });
  const note = postedNoteJson(context, mr, comment);
  const discussionId = createHash('sha1').update(`discussion-${comment.id}`).digest('hex');
  return { status: 201, body: { id: discussionId, individual_note: false, notes: [note] } };
}

/** `POST …/merge_requests/:iid/notes` with `body`: 201 and the note, on the request as a whole. Checked as an issue's note is. */
function createMergeRequestNote(context: ForgeRouteContext, mr: StoredMergeRequest): ForgeRouteAnswer {
  const body = objectBody(context.body) ?? {};
  if (body['body'] === undefined) return parameterError('body is missing');
  if (typeof body['body'] !== 'string') return parameterError('body is invalid');
  if (body['body'].trim() === '') return validationError('note', "can't be blank");
  const comment = context.state.addReviewComment({ project: mr.project, number: mr.number, author: context.user, reviewId: null, path: null, line: null, commitId: null, body: body['body'] });
  return { status: 201, body: postedNoteJson(context, mr, comment) };
}
