import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The forges the double speaks for. Forgejo speaks Gitea's API. */
export type ForgeFlavour = 'gitlab' | 'github' | 'gitea';

/**
 * The issue trackers the double speaks for besides the forges (whose issues GitLab's own API
 * serves). Kept apart from ForgeFlavour, which names forges that host git repositories.
 */
export type TrackerFlavour = 'jira';

/** A comment on an issue (a Jira comment, a GitLab note). */
export interface StoredIssueComment {
  /** Numbered across the double, from 1. */
  readonly id: number;
  /** The user whose token posted it. */
  readonly author: string;
  readonly body: string;
  readonly createdAt: string;
}

/** An issue (a ticket) the double holds, in one shape for Jira and GitLab. */
export interface StoredIssue {
  /** Numbered across the double, from 1: Jira's issue id, GitLab's forge-wide `id`. */
  readonly id: number;
  /** Jira's project key (`PROJ`), GitLab's project path. */
  readonly project: string;
  /** Jira's issue key (`PROJ-123`), GitLab's issue number within its project (`iid`, as text). */
  readonly key: string;
  title: string;
  /** null: none written (Jira answers null; GitLab too). */
  description: string | null;
  readonly comments: StoredIssueComment[];
}

/** A merge (pull) request the double holds, in one shape for every flavour. */
export interface StoredMergeRequest {
  /** The forge-wide id (GitLab `id`, GitHub and Gitea `id`). */
  readonly id: number;
  /** The number within its project (GitLab `iid`, GitHub and Gitea `number`). */
  readonly number: number;
  readonly project: string;
  readonly sourceBranch: string;
  /**
   * The project the source branch lives in, when it is not `project`: a fork's request. Tests
   * add such requests directly (the double opens none through its routes), with the fork among
   * the double's projects.
   */
  readonly sourceProject?: string;
  targetBranch: string;
  title: string;
  body: string;
  labels: string[];
  reviewers: string[];
  draft: boolean;
  state: 'open' | 'closed' | 'merged';
  /** The user whose token opened it. */
  readonly author: string;
  readonly createdAt: string;
  updatedAt: string;
  mergedAt: string | null;
  closedAt: string | null;
  /** The merge commit `mergeRequestMerged` made on the target branch; absent until then. */
  mergeCommitSha?: string;
}

/** What a person's review said, in one shape for every flavour; each flavour's routes answer it in its own words. */
export type StoredReviewKind = 'approved' | 'changes-requested' | 'commented';

/** A review of a request, added by a test with `ForgeState.addReview`. */
export interface StoredReview {
  /** Numbered across the forge, from 1. */
  readonly id: number;
  readonly project: string;
  /** The request's number within its project. */
  readonly number: number;
  readonly author: string;
  readonly kind: StoredReviewKind;
  readonly at: string;
  readonly body: string;
}

/**
 * A comment the token's user posted on a request: on a line of its diff (`path` and `line`), or
 * on the request as a whole (both null: GitLab's summary note). Tests read what a review posted here.
 */
export interface StoredReviewComment {
  /** Numbered across the forge, from 1. */
  readonly id: number;
  readonly project: string;
  /** The request's number within its project. */
  readonly number: number;
  readonly author: string;
  /** The review it was posted with (GitHub, Gitea: `StoredReview.id`); null for GitLab's threads and notes, which belong to no review. */
  readonly reviewId: number | null;
  readonly path: string | null;
  /** The line on the new side of the diff (GitLab `new_line`, GitHub `line` on the RIGHT side, Gitea `new_position`). */
  readonly line: number | null;
  /** The commit the line is numbered in. */
  readonly commitId: string | null;
  readonly body: string;
  readonly at: string;
}

/** One file of a diff as a forge checks a review position against it: the lines of its new side. */
export interface DiffFileLines {
  /** Its path before the change (the same as the new path unless renamed; `/dev/null` for a new file). */
  readonly oldPath: string;
  /** New-side lines the change added. */
  readonly added: ReadonlySet<number>;
  /** New-side lines inside a hunk: the added ones and their context. */
  readonly inHunk: ReadonlySet<number>;
}

/** A commit of a request, read from the project's bare repository. */
export interface StoredCommit {
  readonly sha: string;
  readonly authorName: string;
  readonly authorEmail: string;
  readonly authoredAt: string;
  readonly committedAt: string;
  /** The full message, trailers included. */
  readonly message: string;
}

/** A request the double answered, for tests to assert the exact routes and headers a client used. */
export interface RecordedForgeRequest {
  readonly method: string;
  /** The path without the query. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly body: unknown;
  readonly status: number;
}

/** A status the double answers instead of routing, for the next requests. */
export interface InjectedAnswer {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: unknown;
}

/** What one request hands a route. */
export interface ForgeRouteContext {
  readonly params: readonly string[];
  readonly query: URLSearchParams;
  readonly body: unknown;
  readonly headers: IncomingHttpHeaders;
  /** The user the request's token belongs to. */
  readonly user: string;
  readonly state: ForgeState;
  /** `http://127.0.0.1:PORT`: where links (pagination, web URLs) point. */
  readonly origin: string;
}

export interface ForgeRouteAnswer {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface ForgeRoute {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Matched against the path below the API prefix; capture groups become `params` (URL-decoded). */
  readonly pattern: RegExp;
  /** The forge's documentation of the route, cited by the tests. */
  readonly docs: string;
  handle(context: ForgeRouteContext): ForgeRouteAnswer;
}

/** One flavour's API: its prefix, how it reads a token, how it refuses one, and its routes. */
export interface ForgeApi {
  readonly flavour: ForgeFlavour | TrackerFlavour;
  /** `/api/v4` (GitLab), `/api/v3` (GitHub Enterprise Server), `/api/v1` (Gitea). */
  readonly prefix: string;
  /** The token the request carries in this forge's own header scheme, or undefined. */
  tokenOf(headers: IncomingHttpHeaders): string | undefined;
  /** The forge's documented answer to a missing or unknown token. */
  unauthorized(): ForgeRouteAnswer;
  /** The forge's documented answer to an unknown route or object. */
  notFound(): ForgeRouteAnswer;
  readonly routes: readonly ForgeRoute[];
}

export interface ForgeStateOptions {
  /** Project path (`group/name`, `owner/name`) → the bare repository behind it. */
  readonly projects: Readonly<Record<string, string>>;
  /** Token → the user it belongs to. */
  readonly tokens: Readonly<Record<string, string>>;
  /** User names the forge knows (token owners are added); reviewers must be among them. */
  readonly users?: readonly string[];
  /** Labels that exist in every project (Gitea asks for label ids, so they must exist). */
  readonly labels?: readonly string[];
  /** Items per page when the client does not ask (small, so pagination is exercised). */
  readonly defaultPageSize?: number;
}

/**
 * The forge's data: projects backed by real bare repositories, users, labels and merge
 * requests. Shared by every flavour's routes; tests read and change it directly to
 * simulate what humans do on the forge (merge, close, review).
 */
export class ForgeState {
  readonly mergeRequests: StoredMergeRequest[] = [];
  /** Reviews added with `addReview`, in the order they were added. */
  readonly reviews: StoredReview[] = [];
  readonly users: string[];
  readonly labels: string[];
  readonly defaultPageSize: number;
  private nextId = 1;

  constructor(readonly options: ForgeStateOptions) {
    this.users = [...new Set([...(options.users ?? []), ...Object.values(options.tokens)])];
    this.labels = [...(options.labels ?? [])];
    this.defaultPageSize = options.defaultPageSize ?? 2;
  }

  /** The user a token belongs to, if the forge knows it. */
  userOf(token: string | undefined): string | undefined {
    return token === undefined ? undefined : this.options.tokens[token];
  }

  hasProject(project: string): boolean {
    return this.options.projects[project] !== undefined;
  }

  /** The commit a branch of a project points at, read from its bare repository; undefined if it has no such branch. */
  branchHead(project: string, branch: string): string | undefined {
    const gitDir = this.options.projects[project];
    if (gitDir === undefined) return undefined;
    try {
      return execFileSync('git', ['--git-dir', gitDir, 'rev-parse', '--verify', '--quiet', `refs/heads/${branch}^{commit}`], { encoding: 'utf8' }).trim() || undefined;
    } catch {
      return undefined;
    }
  }

  /** The project a request's source branch lives in: its own, or a fork's. */
  sourceProjectOf(mr: StoredMergeRequest): string {
    return mr.sourceProject ?? mr.project;
  }

  /** The commit at the tip of a request's source branch, in the project it lives in. */
  headOf(mr: StoredMergeRequest): string | undefined {
    return this.branchHead(this.sourceProjectOf(mr), mr.sourceBranch);
  }

  /**
   * The commits a request's diff is computed between, as GitLab's `diff_refs` name them: the
   * merge base of target and source (`base_sha`), the target's tip (`start_sha`) and the
   * source's tip (`head_sha`). Undefined for a fork's request or a branch the repository lacks.
   */
  diffRefsOf(mr: StoredMergeRequest): { readonly baseSha: string; readonly startSha: string; readonly headSha: string } | undefined {
    if (this.sourceProjectOf(mr) !== mr.project) return undefined;
    const headSha = this.headOf(mr);
    const startSha = this.branchHead(mr.project, mr.targetBranch);
    if (headSha === undefined || startSha === undefined) return undefined;
    const baseSha = execFileSync('git', ['--git-dir', this.gitDirOf(mr.project), 'merge-base', startSha, headSha], { encoding: 'utf8' }).trim();
    return { baseSha, startSha, headSha };
  }

  /**
   * Each file of `git diff base head` in a project's bare repository (renames followed), with
   * the new-side lines a review comment may be placed on: what the forges check a position
   * against.
   */
  diffLines(project: string, baseSha: string, headSha: string): ReadonlyMap<string, DiffFileLines> {
    const diff = execFileSync('git', ['-c', 'core.quotePath=false', '--git-dir', this.gitDirOf(project), 'diff', '--no-color', '--no-ext-diff', '--find-renames', '-U3', baseSha, headSha, '--'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    return parseDiffLines(diff);
  }

  /** Whether `sha` names a commit of the project's repository. */
  hasCommit(project: string, sha: string): boolean {
    try {
      execFileSync('git', ['--git-dir', this.gitDirOf(project), 'cat-file', '-e', `${sha}^{commit}`], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  }

  /** How many lines a file has at a commit, or undefined when the commit has no such file. */
  lineCountAt(project: string, commit: string, path: string): number | undefined {
    try {
      const text = execFileSync('git', ['--git-dir', this.gitDirOf(project), 'cat-file', 'blob', `${commit}:${path}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      return text === '' ? 0 : text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
    } catch {
      return undefined;
    }
  }

  /** Comments the token's users posted on requests, in the order they were posted: what a review left. */
  readonly reviewComments: StoredReviewComment[] = [];

  /** Stores a comment posted now on a request. */
  addReviewComment(fields: Omit<StoredReviewComment, 'id' | 'at'>): StoredReviewComment {
    const stored: StoredReviewComment = { ...fields, id: this.reviewComments.length + 1, at: new Date().toISOString() };
    this.reviewComments.push(stored);
    return stored;
  }

  /** The comments posted on a request, oldest first. */
  reviewCommentsOf(mr: StoredMergeRequest): StoredReviewComment[] {
    return this.reviewComments.filter((comment) => comment.project === mr.project && comment.number === mr.number);
  }

  /** Stores a new request, numbered on from the project's last one. */
  addMergeRequest(fields: Omit<StoredMergeRequest, 'id' | 'number' | 'createdAt' | 'updatedAt' | 'mergedAt' | 'closedAt' | 'state'>): StoredMergeRequest {
    const now = new Date().toISOString();
    const number = this.mergeRequests.filter((mr) => mr.project === fields.project).length + 1;
    const stored: StoredMergeRequest = { ...fields, id: this.nextId++, number, state: 'open', createdAt: now, updatedAt: now, mergedAt: null, closedAt: null };
    this.mergeRequests.push(stored);
    return stored;
  }

  mergeRequest(project: string, number: number): StoredMergeRequest | undefined {
    return this.mergeRequests.find((mr) => mr.project === project && mr.number === number);
  }

  /** The open request of a project from `sourceBranch` into `targetBranch`: every forge refuses to open a second one. */
  openMergeRequest(project: string, sourceBranch: string, targetBranch: string): StoredMergeRequest | undefined {
    return this.mergeRequests.find((mr) => mr.project === project && mr.state === 'open' && mr.sourceBranch === sourceBranch && mr.targetBranch === targetBranch);
  }

  /** Creates the labels the forge lacks, as GitLab and GitHub do for a label a request is given by name. */
  addLabels(names: readonly string[]): void {
    for (const name of names) if (!this.labels.includes(name)) this.labels.push(name);
  }

  // Ids as the forges number them, from 1: in the order the double was given projects, users
  // (token owners last) and labels. An unknown name has id 0, an unknown id no name.

  projectId(project: string): number {
    return Object.keys(this.options.projects).indexOf(project) + 1;
  }

  projectWithId(id: number): string | undefined {
    return Object.keys(this.options.projects)[id - 1];
  }

  userId(user: string): number {
    return this.users.indexOf(user) + 1;
  }

  userWithId(id: number): string | undefined {
    return this.users[id - 1];
  }

  labelId(label: string): number {
    return this.labels.indexOf(label) + 1;
  }

  labelWithId(id: number): string | undefined {
    return this.labels[id - 1];
  }

  /** Marks a request touched now. */
  touch(mr: StoredMergeRequest): void {
    mr.updatedAt = new Date().toISOString();
  }

  /** Issues (tickets), for the trackers' routes: Jira's, and GitLab's issues. Tests add them with `addIssue`. */
  readonly issues: StoredIssue[] = [];
  private nextIssueId = 1;
  private nextCommentId = 1;

  /** Stores an issue under `key` in `project`, without comments. */
  addIssue(fields: Pick<StoredIssue, 'project' | 'key' | 'title' | 'description'>): StoredIssue {
    const issue: StoredIssue = { ...fields, id: this.nextIssueId++, comments: [] };
    this.issues.push(issue);
    return issue;
  }

  /** The issue of `project` under `key`, if any. */
  issue(project: string, key: string): StoredIssue | undefined {
    return this.issues.find((issue) => issue.project === project && issue.key === key);
  }

  /** Adds a comment by `author` to `issue`, as posted now. */
  addIssueComment(issue: StoredIssue, author: string, body: string): StoredIssueComment {
    const comment: StoredIssueComment = { id: this.nextCommentId++, author, body, createdAt: new Date().toISOString() };
    issue.comments.push(comment);
    return comment;
  }

  // What people do on the forge, for tests: merge, close and review a request. Each changes
  // the state (and, for a merge, the bare repository) as the forge itself would.

  /**
   * The request's commits, newest first, as `git log <target>..<source>` lists them in the
   * bare repository with their full messages. Once merged, those between the merge commit's
   * two parents: the forges keep listing what was merged after the target moved on.
   */
  mergeRequestCommits(mr: StoredMergeRequest): StoredCommit[] {
    const gitDir = this.gitDirOf(mr.project);
    const range = mr.mergeCommitSha === undefined ? `refs/heads/${mr.targetBranch}..refs/heads/${mr.sourceBranch}` : `${mr.mergeCommitSha}^1..${mr.mergeCommitSha}^2`;
    // Fields end with NUL and commits with RS (0x1e), which no message field holds.
    const log = execFileSync('git', ['--git-dir', gitDir, 'log', '--format=%H%x00%an%x00%ae%x00%aI%x00%cI%x00%B%x1e', range, '--'], { encoding: 'utf8' });
    return log
      .split('\x1e')
      .map((entry) => entry.replace(/^\n/, ''))
      .filter((entry) => entry !== '')
      .map((entry) => {
        const [sha = '', authorName = '', authorEmail = '', authoredAt = '', committedAt = '', message = ''] = entry.split('\0');
        return { sha, authorName, authorEmail, authoredAt: new Date(authoredAt).toISOString(), committedAt: new Date(committedAt).toISOString(), message };
      });
  }

  /** The request's reviews, oldest first. */
  reviewsOf(mr: StoredMergeRequest): StoredReview[] {
    return this.reviews.filter((review) => review.project === mr.project && review.number === mr.number);
  }

  /**
   * Merges an open request as a person would press Merge: the source branch is really merged
   * into the target in the bare repository (a temporary clone, `git merge --no-ff`, a push),
   * and the request becomes `merged` at `at` (now by default) with that merge commit.
   */
  mergeRequestMerged(project: string, number: number, options: { readonly at?: string } = {}): StoredMergeRequest {
    const mr = this.openRequestNumbered(project, number);
    const work = mkdtempSync(join(tmpdir(), 'airlock-forge-merge-'));
    try {
      const git = (...args: string[]) => execFileSync('git', args, { cwd: work, encoding: 'utf8', env: { ...process.env, ...MERGER_IDENTITY } }).trim();
      git('clone', '--quiet', '--branch', mr.targetBranch, '--', this.gitDirOf(project), '.');
      git('merge', '--no-ff', '--quiet', '-m', `Merge branch '${mr.sourceBranch}' into '${mr.targetBranch}'`, `refs/remotes/origin/${mr.sourceBranch}`);
      mr.mergeCommitSha = git('rev-parse', '--verify', 'HEAD^{commit}');
      git('push', '--quiet', 'origin', `HEAD:refs/heads/${mr.targetBranch}`);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
    mr.state = 'merged';
    mr.mergedAt = options.at ?? new Date().toISOString();
    this.touch(mr);
    return mr;
  }

  /** Closes an open request without merging it, at `at` (now by default). */
  closeMergeRequest(project: string, number: number, options: { readonly at?: string } = {}): StoredMergeRequest {
    const mr = this.openRequestNumbered(project, number);
    mr.state = 'closed';
    mr.closedAt = options.at ?? new Date().toISOString();
    this.touch(mr);
    return mr;
  }

  /** A review by `author`, a user the forge knows, at `at` (now by default). */
  addReview(project: string, number: number, review: { readonly author: string; readonly kind: StoredReviewKind; readonly at?: string; readonly body?: string }): StoredReview {
    if (this.mergeRequest(project, number) === undefined) throw new Error(`the forge double has no request ${number} in ${project}`);
    if (!this.users.includes(review.author)) throw new Error(`the forge double knows no user ${review.author}`);
    const stored: StoredReview = { id: this.reviews.length + 1, project, number, author: review.author, kind: review.kind, at: review.at ?? new Date().toISOString(), body: review.body ?? '' };
    this.reviews.push(stored);
    return stored;
  }

  private openRequestNumbered(project: string, number: number): StoredMergeRequest {
    const mr = this.mergeRequest(project, number);
    if (mr === undefined || mr.state !== 'open') throw new Error(`the forge double has no open request ${number} in ${project}`);
    return mr;
  }

  private gitDirOf(project: string): string {
    const gitDir = this.options.projects[project];
    if (gitDir === undefined) throw new Error(`the forge double has no project ${project}`);
    return gitDir;
  }
}

/**
 * The files of a unified diff (`git diff`, renames followed) with the new-side lines of each
 * hunk: added (`+`) and context (` `). A deleted file has none.
 */
export function parseDiffLines(diff: string): Map<string, DiffFileLines> {
  const files = new Map<string, DiffFileLines>();
  let current: { oldPath: string; added: Set<number>; inHunk: Set<number> } | undefined;
  let oldPath = '';
  let line = 0;
  let inHunk = false;
  for (const text of diff.split('\n')) {
    if (text.startsWith('diff --git ')) {
      current = undefined;
      inHunk = false;
    } else if (!inHunk && text.startsWith('--- ')) {
      oldPath = text === '--- /dev/null' ? '/dev/null' : text.slice(6);
    } else if (!inHunk && text.startsWith('+++ ')) {
      if (text === '+++ /dev/null') continue;
      current = { oldPath, added: new Set(), inHunk: new Set() };
      files.set(text.slice(6), current);
    } else if (text.startsWith('@@ ')) {
      line = Number(/^@@ -\d+(?:,\d+)? \+(\d+)/.exec(text)?.[1] ?? '0');
      inHunk = current !== undefined;
    } else if (inHunk && current !== undefined) {
      if (text.startsWith('+')) {
        current.added.add(line);
        current.inHunk.add(line);
        line += 1;
      } else if (text.startsWith(' ')) {
        current.inHunk.add(line);
        line += 1;
      }
    }
  }
  return files;
}

/** Who merge commits made by the double are by: the forge itself, as GitLab's and Gitea's own merges are. */
const MERGER_IDENTITY = { GIT_AUTHOR_NAME: 'Forge Double', GIT_AUTHOR_EMAIL: 'forge@localhost', GIT_COMMITTER_NAME: 'Forge Double', GIT_COMMITTER_EMAIL: 'forge@localhost' };

/**
 * One page of `items` as the forges page: `page` (1-based) and the page size parameter the
 * flavour names; answers the slice and the headers every flavour sends — `Link` with
 * rel="next"/"prev"/"first"/"last", and the flavour's own totals (GitLab `X-Page`,
 * `X-Per-Page`, `X-Next-Page`, `X-Prev-Page`, `X-Total`; Gitea `X-Total-Count`).
 */
export function paginate<T>(items: readonly T[], context: ForgeRouteContext, api: Pick<ForgeApi, 'flavour' | 'prefix'>, path: string): { body: T[]; headers: Record<string, string> } {
  const sizeParam = api.flavour === 'gitea' ? 'limit' : 'per_page';
  const page = Math.max(1, Number(context.query.get('page') ?? '1') || 1);
  const size = Math.min(100, Math.max(1, Number(context.query.get(sizeParam) ?? String(context.state.defaultPageSize)) || context.state.defaultPageSize));
  const lastPage = Math.max(1, Math.ceil(items.length / size));
  const linkTo = (target: number) => {
    const query = new URLSearchParams(context.query);
    query.set('page', String(target));
    query.set(sizeParam, String(size));
    return `<${context.origin}${api.prefix}${path}?${query.toString()}>`;
  };
  const links = [
    ...(page < lastPage ? [`${linkTo(page + 1)}; rel="next"`] : []),
    ...(page > 1 ? [`${linkTo(page - 1)}; rel="prev"`] : []),
    `${linkTo(1)}; rel="first"`,
    `${linkTo(lastPage)}; rel="last"`,
  ];
  const headers: Record<string, string> = { link: links.join(', ') };
  if (api.flavour === 'gitlab') {
    Object.assign(headers, { 'x-page': String(page), 'x-per-page': String(size), 'x-next-page': page < lastPage ? String(page + 1) : '', 'x-prev-page': page > 1 ? String(page - 1) : '', 'x-total': String(items.length), 'x-total-pages': String(lastPage) });
  }
  if (api.flavour === 'gitea') headers['x-total-count'] = String(items.length);
  return { body: items.slice((page - 1) * size, page * size), headers };
}

/** A request body as an object of fields, or undefined when it is not one (an array, a string, null, nothing). */
export function objectBody(body: unknown): Record<string, unknown> | undefined {
  return body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined;
}

/** A timestamp as GitHub (ISO 8601 in UTC) and Gitea (RFC 3339) write it: to the second. GitLab keeps the milliseconds. */
export function timestampToSecond(iso: string | null): string | null {
  return iso === null ? null : iso.replace(/\.\d+Z$/, 'Z');
}

/** The owner of an `owner/name` project (GitHub, Gitea). */
export function ownerOf(project: string): string {
  return project.slice(0, project.indexOf('/'));
}

/** The `head` of a pull request as GitHub and Gitea take it: a branch of the project itself, or `owner:branch`. */
export function headOf(head: string, project: string): { readonly owner: string; readonly branch: string } {
  const colon = head.indexOf(':');
  return colon === -1 ? { owner: ownerOf(project), branch: head } : { owner: head.slice(0, colon), branch: head.slice(colon + 1) };
}

/** A running forge double. */
export interface ForgeDouble {
  readonly flavour: ForgeFlavour | TrackerFlavour;
  /** The REST API root the worker is configured with, e.g. `http://127.0.0.1:PORT/api/v4`. */
  readonly apiUrl: string;
  readonly origin: string;
  readonly state: ForgeState;
  /** Every request answered, in order. */
  readonly requests: RecordedForgeRequest[];
  /** Answers the next `count` requests with `answer` instead of routing them (a 503, a 429 with Retry-After…). */
  injectAnswers(count: number, answer: InjectedAnswer): void;
  /** Down: every connection is reset at once, as a forge that is down or unreachable; up again with `up()`. */
  down(): void;
  up(): void;
  stop(): Promise<void>;
}

/**
 * A small forge of ours that speaks the real REST routes, headers, pagination and error
 * bodies of one forge (the flavour's `ForgeApi`), backed by real bare git repositories.
 * No real GitLab, GitHub Enterprise Server or Gitea can be installed here; this is what the
 * worker's forge clients are tested against.
 */
export async function startForgeDouble(api: ForgeApi, stateOptions: ForgeStateOptions): Promise<ForgeDouble> {
  const state = new ForgeState(stateOptions);
  const requests: RecordedForgeRequest[] = [];
  const injected: InjectedAnswer[] = [];
  const sockets = new Set<Socket>();
  let isDown = false;
  let origin = '';

  const server: Server = createServer((req, res) => {
    if (isDown) {
      req.socket.destroy();
      return;
    }
    void readBody(req)
      .then((raw) => answer(req, res, raw))
      .catch(() => respond(res, { status: 400, body: { message: 'malformed request body' } }));
  });
  server.on('connection', (socket) => {
    if (isDown) socket.destroy();
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  const answer = (req: IncomingMessage, res: ServerResponse, raw: string): void => {
    const url = new URL(req.url ?? '/', origin);
    let body: unknown;
    if (raw !== '') {
      try {
        body = JSON.parse(raw);
      } catch {
        record(req, url, raw, 400);
        respond(res, { status: 400, body: { message: 'Problems parsing JSON' } });
        return;
      }
    }
    const result = route(req, url, body);
    record(req, url, body, result.status);
    respond(res, result);
  };

  const route = (req: IncomingMessage, url: URL, body: unknown): ForgeRouteAnswer => {
    const injectedAnswer = injected.shift();
    if (injectedAnswer !== undefined) return injectedAnswer;
    const user = state.userOf(api.tokenOf(req.headers));
    if (user === undefined) return api.unauthorized();
    if (!url.pathname.startsWith(`${api.prefix}/`)) return api.notFound();
    const path = url.pathname.slice(api.prefix.length);
    for (const candidate of api.routes) {
      if (candidate.method !== req.method) continue;
      const match = candidate.pattern.exec(path);
      if (match === null) continue;
      return candidate.handle({ params: match.slice(1).map((param) => decodeURIComponent(param ?? '')), query: url.searchParams, body, headers: req.headers, user, state, origin });
    }
    return api.notFound();
  };

  const record = (req: IncomingMessage, url: URL, body: unknown, status: number) => {
    requests.push({ method: req.method ?? '', path: url.pathname, query: url.searchParams, headers: req.headers, body, status });
  };

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the forge double did not bind a TCP port');
  origin = `http://127.0.0.1:${address.port}`;

  return {
    flavour: api.flavour,
    apiUrl: `${origin}${api.prefix}`,
    origin,
    state,
    requests,
    injectAnswers: (count, injectedAnswer) => {
      for (let i = 0; i < count; i += 1) injected.push(injectedAnswer);
    },
    down: () => {
      isDown = true;
      for (const socket of sockets) socket.destroy();
    },
    up: () => {
      isDown = false;
    },
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const MAX_BODY_BYTES = 1024 * 1024;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('request body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function respond(res: ServerResponse, result: ForgeRouteAnswer): void {
  const payload = result.body === undefined ? '' : JSON.stringify(result.body);
  res.writeHead(result.status, { ...(payload === '' ? {} : { 'content-type': 'application/json; charset=utf-8' }), ...result.headers });
  res.end(payload);
}
