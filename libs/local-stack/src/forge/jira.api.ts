import type { IncomingHttpHeaders } from 'node:http';
import { type ForgeApi, type ForgeRouteAnswer, type ForgeRouteContext, objectBody, type StoredIssue, type StoredIssueComment } from './forge-double';

/** Jira Data Center/Server's REST API 2 documentation (9.12), which every route and answer below follows. */
export const JIRA_DOCS = {
  getIssue: 'https://docs.atlassian.com/software/jira/docs/api/REST/9.12.0/#api/2/issue-getIssue',
  addComment: 'https://docs.atlassian.com/software/jira/docs/api/REST/9.12.0/#api/2/issue-addComment',
  personalAccessTokens: 'https://confluence.atlassian.com/enterprise/using-personal-access-tokens-1026032365.html',
} as const;

/** What Jira answers for an issue that does not exist and for one the token's user may not see alike, so that neither is told apart. */
const ISSUE_NOT_FOUND: ForgeRouteAnswer = { status: 404, body: { errorMessages: ['Issue does not exist or you do not have permission to see it.'], errors: {} } };

/** The fields an issue answers when the request names none (`*all`); the double models these few. */
const ISSUE_FIELDS = ['summary', 'description', 'project', 'status', 'issuetype', 'comment'] as const;

/** Jira numbers issues and comments from 10000; the double's ids count from 1. */
const JIRA_ID_BASE = 10_000;

type JiraJson = Record<string, unknown>;

/**
 * Jira Data Center/Server's REST API 2 for the double: read an issue, comment on it. A personal
 * access token comes as `Authorization: Bearer`; an unknown one is refused with 401 and Jira's
 * `X-Seraph-LoginReason`. Errors carry Jira's shape, `{"errorMessages": […], "errors": {…}}`.
 * The double's `apiUrl` ends in `/rest/api/2`; a worker is configured with its `origin`, Jira's
 * base URL.
 */
export const jiraApi: ForgeApi = {
  flavour: 'jira',
  prefix: '/rest/api/2',
  tokenOf: bearerTokenOf,
  unauthorized: () => ({
    status: 401,
    headers: { 'x-seraph-loginreason': 'AUTHENTICATED_FAILED' },
    body: { errorMessages: ['You are not authenticated. Authentication required to perform this operation.'], errors: {} },
  }),
  // The REST resources the double does not model answer as an issue it does not hold would.
  notFound: () => ISSUE_NOT_FOUND,
  routes: [
    {
      method: 'GET',
      pattern: /^\/issue\/([^/]+)$/,
      docs: JIRA_DOCS.getIssue,
      handle: (context) => withIssue(context, (issue) => ({ status: 200, body: issueJson(issue, context) })),
    },
    {
      method: 'POST',
      pattern: /^\/issue\/([^/]+)\/comment$/,
      docs: JIRA_DOCS.addComment,
      handle: (context) => withIssue(context, (issue) => addComment(context, issue)),
    },
  ],
};

/** Jira Data Center takes a personal access token as `Authorization: Bearer <token>`. */
function bearerTokenOf(headers: IncomingHttpHeaders): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(headers.authorization ?? '')?.[1];
}

/** An issue by key (case-insensitive, as Jira matches keys) or by numeric id. */
function withIssue(context: ForgeRouteContext, handle: (issue: StoredIssue) => ForgeRouteAnswer): ForgeRouteAnswer {
  const idOrKey = (context.params[0] ?? '').toUpperCase();
  const issue = context.state.issues.find((candidate) => candidate.key.toUpperCase() === idOrKey || String(JIRA_ID_BASE + candidate.id) === idOrKey);
  return issue === undefined ? ISSUE_NOT_FOUND : handle(issue);
}

/**
 * `POST /issue/{issueIdOrKey}/comment` with `{"body": …}`: 201 and the comment. A missing or
 * blank body is refused as Jira words it, by field.
 */
function addComment(context: ForgeRouteContext, issue: StoredIssue): ForgeRouteAnswer {
  const body = objectBody(context.body);
  if (body === undefined) return { status: 400, body: { errorMessages: ['Can not deserialize the request body: expected a JSON object'], errors: {} } };
  if (typeof body['body'] !== 'string' || body['body'].trim() === '') return { status: 400, body: { errorMessages: [], errors: { comment: 'Comment body can not be empty!' } } };
  const comment = context.state.addIssueComment(issue, context.user, body['body']);
  return { status: 201, body: commentJson(comment, issue, context) };
}

/** `fields` names the fields to answer, comma-separated; none, or `*all`, means all of them. */
function wantedFields(context: ForgeRouteContext): ReadonlySet<string> {
  const asked = (context.query.get('fields') ?? '*all').split(',').map((field) => field.trim());
  return new Set(asked.includes('*all') ? ISSUE_FIELDS : asked.filter((field) => (ISSUE_FIELDS as readonly string[]).includes(field)));
}

function issueJson(issue: StoredIssue, context: ForgeRouteContext): JiraJson {
  const id = String(JIRA_ID_BASE + issue.id);
  const all: Record<(typeof ISSUE_FIELDS)[number], unknown> = {
    summary: issue.title,
    description: issue.description,
    project: { self: `${context.origin}/rest/api/2/project/${issue.project}`, key: issue.project, name: issue.project },
    status: { name: 'Open', statusCategory: { key: 'new', name: 'To Do' } },
    issuetype: { name: 'Bug', subtask: false },
    comment: { comments: issue.comments.map((comment) => commentJson(comment, issue, context)), maxResults: issue.comments.length, total: issue.comments.length, startAt: 0 },
  };
  const fields = Object.fromEntries([...wantedFields(context)].map((field) => [field, all[field as keyof typeof all]]));
  return { expand: 'renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations', id, self: `${context.origin}/rest/api/2/issue/${id}`, key: issue.key, fields };
}

function commentJson(comment: StoredIssueComment, issue: StoredIssue, context: ForgeRouteContext): JiraJson {
  const id = String(JIRA_ID_BASE + comment.id);
  const author = { self: `${context.origin}/rest/api/2/user?username=${encodeURIComponent(comment.author)}`, name: comment.author, key: comment.author, displayName: comment.author, active: true };
  // Jira writes times with the zone as +hhmm, to the millisecond.
  const at = comment.createdAt.replace(/Z$/, '+0000');
  return { self: `${context.origin}/rest/api/2/issue/${JIRA_ID_BASE + issue.id}/comment/${id}`, id, author, body: comment.body, updateAuthor: author, created: at, updated: at };
}
