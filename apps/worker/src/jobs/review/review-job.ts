import type { ReviewTask__Output } from '@airlock/protocol';
import type { MergeRequestHead, MergeRequestReviewing } from '../../delivery/forge/forge-client';
import type { ConversationMessage } from '../inference/conversation';
import type { AttemptContext, AttemptRequest } from '../pipeline/job-context';
import type { CheckedReview } from './review-answer';

/** One attempt of a review task. */
export interface ReviewJobRequest extends AttemptRequest {
  readonly task: ReviewTask__Output;
}

/** The request under review and where it is checked out: what WORKSPACE found. */
export interface ReviewTarget {
  readonly mergeRequest: MergeRequestHead;
  /** The repository's forge, for DELIVER to post on; closed when the attempt ends. */
  readonly forge: MergeRequestReviewing;
  /** The attempt's worktree, at the request's head commit. */
  readonly worktree: string;
  /** The merge base of the head and the target branch: the change is what the head adds to it. */
  readonly mergeBase: string;
}

/** The change as CONTEXT prepared it for the model. */
export interface ReviewChange {
  /** The opening messages: how to answer, the request, its hunks and the changed files. */
  readonly prompt: readonly ConversationMessage[];
  /** The lines a comment may go on, per file shown: none when nothing the change adds could be shown. */
  readonly changedLines: ReadonlyMap<string, ReadonlySet<number>>;
  /** A shown file's path before the change, when the change renamed it (GitLab positions name it). */
  readonly oldPaths: ReadonlyMap<string, string>;
}

/** What INFERENCE concluded: the checked comments, or that there was nothing to ask the model about. */
export interface ReviewVerdict {
  readonly asked: boolean;
  readonly review: CheckedReview;
}

/** What a review's phases hand on, each entry provided once by the phase named. */
export interface ReviewJobState {
  /** WORKSPACE. */
  readonly target: ReviewTarget;
  /** CONTEXT. */
  readonly change: ReviewChange;
  /** INFERENCE. */
  readonly verdict: ReviewVerdict;
}

/** The context a review attempt's phases share. */
export type ReviewContext = AttemptContext<ReviewJobRequest, ReviewJobState>;
