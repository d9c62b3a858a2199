import { bucketCount, type EffectivePolicy } from '@airlock/policy';
import { type DeliveryOutcome__Output, MergeRequestState, MetadataLevel } from '@airlock/protocol';
import type { MergeRequest, MergeRequestActivity } from '../forge/forge-client';

const UINT32_MAX = 0xffff_ffff;
const SECONDS_PER_HOUR = 3600;
/** The trailer every commit of an Airlock attempt carries (see `deliveryTrailers`): a commit without it is a person's. */
const AIRLOCK_JOB_TRAILER = /^Airlock-Job: [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}[ \t]*$/im;

/**
 * What became of a delivered change, computed on the worker from what its forge and its
 * mirror say: states, counts and durations only. Kept locally as computed; the metadata
 * level is applied when it is sent (`outcomeAtLevel`).
 */
export interface WatchedOutcome {
  readonly state: MergeRequest['state'];
  /** Commits on the request without Airlock's trailer: people reworking the change. */
  readonly humanCommits: number;
  /** Merged, then reverted on its target branch within the revert window. */
  readonly reverted: boolean;
  /** Whole seconds from opening to the first review by a person; 0 when none yet. */
  readonly firstReviewAfterS: number;
  /** Reviews by people, each approval, request for changes and review with comments once. */
  readonly reviewRounds: number;
  /** Whole seconds from opening to the merge; 0 unless merged. */
  readonly mergedAfterS: number;
  /** Closed; or merged and the revert window has passed; or still open past the watch's age limit. */
  readonly final: boolean;
}

/** How long a watch looks, in milliseconds. */
export interface WatchLimits {
  /** After a merge, how long a revert still counts; the outcome of a merged request is final after it. */
  readonly revertWindowMs: number;
  /** How long an open request is watched from the watch's registration. */
  readonly maxAgeMs: number;
}

/** What the outcome is computed from. */
export interface OutcomeInputs {
  readonly activity: MergeRequestActivity;
  /** The token's own user: the worker's bot, whose reviews are not people's. */
  readonly botUser: string;
  /** Whether a revert of the merged change was found in the window (`revertSearchOf`). */
  readonly reverted: boolean;
  /** Wall-clock now, epoch milliseconds. */
  readonly now: number;
  /** When the watch was registered (the first delivery of the chain), epoch milliseconds. */
  readonly registeredAt: number;
  readonly limits: WatchLimits;
}

/** Whether a commit message carries Airlock's `Airlock-Job:` trailer. */
export function isAirlockCommit(message: string): boolean {
  return AIRLOCK_JOB_TRAILER.test(message);
}

/**
 * The outcome of a request as its forge and the revert search tell it. Reviews by people are
 * every review whose author is not the token's user (user names compared as the forges do,
 * ignoring case); on GitLab each note a person wrote is one of them (see `GitLabForge.activity`).
 * A review whose time the forge did not give counts as a round but not for the first review;
 * a merge whose time it did not give cannot be watched for reverts, and is final at once.
 */
export function computeOutcome(inputs: OutcomeInputs): WatchedOutcome {
  const { activity, now, limits } = inputs;
  const bot = inputs.botUser.toLowerCase();
  const byPeople = activity.reviews.filter((review) => review.author.toLowerCase() !== bot);
  const reviewTimes = byPeople.flatMap((review) => (review.at === undefined ? [] : [review.at]));
  const merged = activity.state === 'merged' && activity.mergedAt !== undefined;
  const final =
    activity.state === 'closed' ||
    (activity.state === 'merged' && (activity.mergedAt === undefined || now >= activity.mergedAt + limits.revertWindowMs)) ||
    (activity.state === 'open' && now >= inputs.registeredAt + limits.maxAgeMs);
  return {
    state: activity.state,
    humanCommits: activity.commits.filter((commit) => !isAirlockCommit(commit.message)).length,
    reverted: merged && inputs.reverted,
    firstReviewAfterS: reviewTimes.length === 0 ? 0 : secondsBetween(activity.createdAt, Math.min(...reviewTimes)),
    reviewRounds: Math.min(byPeople.length, UINT32_MAX),
    mergedAfterS: merged ? secondsBetween(activity.createdAt, activity.mergedAt ?? activity.createdAt) : 0,
    final,
  };
}

/** Where to look for a revert of a merged request: its target branch, the commits a revert would name, and the window. */
export interface RevertSearch {
  readonly targetBranch: string;
  /** The merge commit first (when the forge named one), then the request's commits. */
  readonly commits: readonly string[];
  /** Epoch milliseconds: the merge, and the end of the revert window. */
  readonly from: number;
  readonly until: number;
}

/** The revert search of a merged request; undefined for one that is not merged (or whose merge time the forge did not give). */
export function revertSearchOf(activity: MergeRequestActivity, limits: Pick<WatchLimits, 'revertWindowMs'>): RevertSearch | undefined {
  if (activity.state !== 'merged' || activity.mergedAt === undefined) return undefined;
  const commits = [...new Set([...(activity.mergeCommitSha === undefined ? [] : [activity.mergeCommitSha]), ...activity.commits.map((commit) => commit.sha)])];
  return { targetBranch: activity.targetBranch, commits, from: activity.mergedAt, until: activity.mergedAt + limits.revertWindowMs };
}

const STATES: Readonly<Record<MergeRequest['state'], DeliveryOutcome__Output['state']>> = {
  open: MergeRequestState.MERGE_REQUEST_STATE_OPEN,
  merged: MergeRequestState.MERGE_REQUEST_STATE_MERGED,
  closed: MergeRequestState.MERGE_REQUEST_STATE_CLOSED,
};

/**
 * The outcome as the metadata level in force lets it leave the worker (the proto's
 * DeliveryOutcome): MINIMAL sends the state, reverted and final only; STANDARD every field
 * exact; STANDARD_BUCKETED the counts rounded down to 0 or a power of two and the durations
 * down to the whole hour.
 */
export function outcomeAtLevel(deliveryJobId: string, outcome: WatchedOutcome, metadata: EffectivePolicy['metadata']): DeliveryOutcome__Output {
  const base = { deliveryJobId, state: STATES[outcome.state], reverted: outcome.reverted, final: outcome.final };
  if (metadata.report === 'minimal') {
    return { ...base, humanCommits: 0, firstReviewAfterS: 0, reviewRounds: 0, mergedAfterS: 0, metadataLevel: MetadataLevel.METADATA_LEVEL_MINIMAL };
  }
  if (!metadata.buckets) {
    const { humanCommits, firstReviewAfterS, reviewRounds, mergedAfterS } = outcome;
    return { ...base, humanCommits, firstReviewAfterS, reviewRounds, mergedAfterS, metadataLevel: MetadataLevel.METADATA_LEVEL_STANDARD };
  }
  return {
    ...base,
    humanCommits: bucketCount(outcome.humanCommits),
    firstReviewAfterS: wholeHours(outcome.firstReviewAfterS),
    reviewRounds: bucketCount(outcome.reviewRounds),
    mergedAfterS: wholeHours(outcome.mergedAfterS),
    metadataLevel: MetadataLevel.METADATA_LEVEL_STANDARD_BUCKETED,
  };
}

/** Whole seconds from `from` to `to` (epoch milliseconds), 0 for a time before `from`, at most what a uint32 holds. */
function secondsBetween(from: number, to: number): number {
  return Math.min(Math.max(0, Math.floor((to - from) / 1000)), UINT32_MAX);
}

function wholeHours(seconds: number): number {
  return Math.floor(seconds / SECONDS_PER_HOUR) * SECONDS_PER_HOUR;
}
