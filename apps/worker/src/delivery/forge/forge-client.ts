/**
 * A merge (pull) request on the customer's forge, as the worker knows it. Local only: its
 * number, link and text never cross to the control plane.
 */
export interface MergeRequest {
  /** GitLab's `iid`, GitHub's and Gitea's `number`: the request's number within its project. */
  readonly number: number;
  /** The request's page on the forge, for the local record and a ticket comment. */
  readonly webUrl: string;
  readonly state: 'open' | 'closed' | 'merged';
}

/** What the worker asks the forge for: written inside the network, from local config and the job. */
export interface MergeRequestDraft {
  readonly sourceBranch: string;
  readonly targetBranch: string;
  /** One line; each forge's client adds its own draft marker when `draft` is set. */
  readonly title: string;
  /** Markdown: the ticket, a summary of the change, the tests run and their result. */
  readonly body: string;
  readonly labels: readonly string[];
  /** User names; each client resolves them to what its forge's API takes. */
  readonly reviewers: readonly string[];
  readonly draft: boolean;
}

/** A commit of a merge request, as the forge lists it. Local only, like everything the forge says. */
export interface MergeRequestCommit {
  readonly sha: string;
  /** The full message, trailers included. */
  readonly message: string;
}

/** What a review said; GitLab has no review objects, so there each person's note is a `commented` review. */
export type MergeRequestReviewKind = 'approved' | 'changes-requested' | 'commented';

/** A review of a merge request by one user: an approval, a request for changes, or comments. */
export interface MergeRequestReview {
  /** The reviewer's user name (GitLab `username`, GitHub and Gitea `login`). */
  readonly author: string;
  /** When it was given, in epoch milliseconds; undefined when the forge does not say (approvals on GitLab before `approved_at`). */
  readonly at: number | undefined;
  readonly kind: MergeRequestReviewKind;
}

/**
 * What became of a merge request, as its forge tells it: what the delivery watch reads to
 * count reviews and people's commits. Times are epoch milliseconds. Local only: never sent.
 */
export interface MergeRequestActivity {
  readonly state: MergeRequest['state'];
  readonly createdAt: number;
  readonly mergedAt?: number | undefined;
  readonly closedAt?: number | undefined;
  readonly targetBranch: string;
  /** The commit the merge made on the target branch (a merge, squash or rebased commit), once merged, when the forge says. */
  readonly mergeCommitSha?: string | undefined;
  readonly commits: readonly MergeRequestCommit[];
  readonly reviews: readonly MergeRequestReview[];
}

/** What delivery asks of a forge: the branch's request, found, opened or updated. */
export interface MergeRequestPublishing {
  /** The open request whose source is `sourceBranch` in the configured project, if any. */
  findOpen(sourceBranch: string, signal: AbortSignal): Promise<MergeRequest | undefined>;
  /** Opens a request; ForgeError `conflict` when the forge already has one for the branch. */
  open(draft: MergeRequestDraft, signal: AbortSignal): Promise<MergeRequest>;
  /** Replaces an open request's title, body and labels, and asks the draft's reviewers. */
  update(number: number, draft: MergeRequestDraft, signal: AbortSignal): Promise<MergeRequest>;
}

/**
 * A merge request as a review job reads it: where its change comes from and goes to, and the
 * commit under review. Local only, like everything the forge says.
 */
export interface MergeRequestHead {
  readonly request: MergeRequest;
  readonly title: string;
  /** The request's description; empty when it has none. */
  readonly description: string;
  readonly sourceBranch: string;
  readonly targetBranch: string;
  /** The commit at the tip of the source branch, as the forge last saw it: what is reviewed. */
  readonly headSha: string;
  /** False for a request from another repository (a fork), whose branch the worker's mirror does not have. */
  readonly fromSameRepository: boolean;
}

/** A review comment on one line the change added or modified, on the new side of the diff. */
export interface ReviewLineComment {
  /** The file's path at the head commit. */
  readonly path: string;
  /** The file's path before the change, when the change renamed it; GitLab positions name both. */
  readonly oldPath?: string | undefined;
  /** 1-based line number in the file at the head commit. */
  readonly line: number;
  /** Markdown. */
  readonly body: string;
}

/** What a review posts: its comments on the lines of the head commit, and a summary. */
export interface ReviewDraft {
  /** The commit the comments' lines are numbered in; the forge places them against it. */
  readonly headSha: string;
  /** Markdown: one note on the request as a whole. */
  readonly summary: string;
  readonly comments: readonly ReviewLineComment[];
}

/** What a review job asks of a forge: the request to review, and a place for its comments. */
export interface MergeRequestReviewing {
  /** The open request whose source is `sourceBranch` in the configured project, if any. */
  findOpen(sourceBranch: string, signal: AbortSignal): Promise<MergeRequest | undefined>;
  /** The request numbered `number`: ForgeError `not-found` when the forge has none. */
  getMergeRequest(number: number, signal: AbortSignal): Promise<MergeRequestHead>;
  /**
   * Posts the comments, each on its line of `draft.headSha`, and the summary, as the token's
   * user. A forge that refuses a position (a line outside the diff) fails with `refused`.
   */
  postReview(number: number, draft: ReviewDraft, signal: AbortSignal): Promise<void>;
}

/**
 * One forge's REST API, as much of it as delivery, the delivery watch and reviews need.
 * Every method throws a ForgeError naming what went wrong; the transport has already retried
 * what retrying helps.
 */
export interface ForgeClient extends MergeRequestPublishing, MergeRequestReviewing {
  /** The user name of the token's own user: the worker's bot, whose reviews and notes are not people's. */
  currentUser(signal: AbortSignal): Promise<string>;
  /** The request's state, times, commits and reviews, every listing read to its end (within the transport's page bound). */
  activity(number: number, signal: AbortSignal): Promise<MergeRequestActivity>;
}

/** A forge client as delivery and the delivery watch get one: per delivery, or per watch cycle, and closed after it. */
export type ClosableForgeClient = ForgeClient & { close(): Promise<void> };

/**
 * How a forge request failed, as delivery acts on it:
 * - `unavailable`: unreachable, timed out, or 5xx after the retries;
 * - `auth`: the token was refused (401, or 403 that is not a rate limit);
 * - `rate-limited`: still limited when the retry budget ran out;
 * - `conflict`: the request already exists (GitLab 409, GitHub 422, Gitea 409);
 * - `not-found`: the project, request or user is unknown to the forge (404);
 * - `refused`: any other 4xx — the forge refused the request itself.
 */
export type ForgeFailure = 'unavailable' | 'auth' | 'rate-limited' | 'conflict' | 'not-found' | 'refused';

/** A failed forge request. Its message is local only: it may name the forge's host and project. */
export class ForgeError extends Error {
  override readonly name = 'ForgeError';

  constructor(
    readonly failure: ForgeFailure,
    message: string,
    /** The HTTP status, when the forge answered at all. */
    readonly status?: number,
    /** The forge's error body as JSON, for a client that must read it (GitHub says "already exists" in a 422). Local only. */
    readonly body?: unknown,
  ) {
    super(message);
  }
}
