import { validateWorkerFrame } from '@airlock/protocol';
import { deliveryTrailers } from '../branch-pusher';
import type { MergeRequestActivity } from '../forge/forge-client';
import { computeOutcome, isAirlockCommit, type OutcomeInputs, outcomeAtLevel, revertSearchOf, type WatchedOutcome } from './delivery-outcome';

const JOB_ID = '0b6c1e8a-54f2-4c1e-9d3b-7f2a9e4c1d00';
const OPENED = Date.UTC(2030, 0, 1, 9);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const LIMITS = { revertWindowMs: 14 * DAY, maxAgeMs: 30 * DAY };
const AIRLOCK_MESSAGE = `Fix the login page\n\nAirlock job ${JOB_ID}, attempt 1\n\n${deliveryTrailers(JOB_ID, { generation: 0, attempt: 1 })}`;
const SHA = (digit: string) => digit.repeat(40);

const activityOf = (overrides: Partial<MergeRequestActivity> = {}): MergeRequestActivity => ({
  state: 'open',
  createdAt: OPENED,
  targetBranch: 'main',
  commits: [{ sha: SHA('a'), message: AIRLOCK_MESSAGE }],
  reviews: [],
  ...overrides,
});
const inputsOf = (activity: MergeRequestActivity, overrides: Partial<OutcomeInputs> = {}): OutcomeInputs => ({
  activity,
  botUser: 'airlock-bot',
  reverted: false,
  now: OPENED + HOUR,
  registeredAt: OPENED,
  limits: LIMITS,
  ...overrides,
});

describe('isAirlockCommit', () => {
  it("knows Airlock's commits by their Airlock-Job trailer, and nothing else", () => {
    expect(isAirlockCommit(AIRLOCK_MESSAGE)).toBe(true);
    expect(isAirlockCommit('Handle the empty password too\n')).toBe(false);
    expect(isAirlockCommit(`Mentions Airlock-Job: ${JOB_ID} in passing\n`)).toBe(false);
    expect(isAirlockCommit('Airlock-Job: not-a-uuid\n')).toBe(false);
  });
});

describe('computeOutcome', () => {
  it('counts an open request with only Airlock commits and no reviews as nothing yet', () => {
    expect(computeOutcome(inputsOf(activityOf()))).toEqual({ state: 'open', humanCommits: 0, reverted: false, firstReviewAfterS: 0, reviewRounds: 0, mergedAfterS: 0, final: false });
  });

  it("counts people's commits and reviews, never the bot's, the first review timed from the opening", () => {
    const outcome = computeOutcome(
      inputsOf(
        activityOf({
          commits: [
            { sha: SHA('a'), message: AIRLOCK_MESSAGE },
            { sha: SHA('b'), message: 'Handle the empty password too\n' },
            { sha: SHA('c'), message: 'Rename a variable\n' },
          ],
          reviews: [
            { author: 'Airlock-Bot', at: OPENED + MINUTE, kind: 'commented' },
            { author: 'bob', at: OPENED + 3 * HOUR, kind: 'changes-requested' },
            { author: 'alice', at: OPENED + 90 * MINUTE, kind: 'commented' },
            { author: 'alice', at: OPENED + 5 * HOUR, kind: 'approved' },
            // An approval whose time GitLab did not give: a round, but no time.
            { author: 'carol', at: undefined, kind: 'approved' },
          ],
        }),
      ),
    );
    expect(outcome).toMatchObject({ humanCommits: 2, reviewRounds: 4, firstReviewAfterS: 90 * 60 });
  });

  it('times a merge from the opening, and keeps watching it for reverts until the window has passed', () => {
    const merged = activityOf({ state: 'merged', mergedAt: OPENED + 26 * HOUR, mergeCommitSha: SHA('m') });
    expect(computeOutcome(inputsOf(merged, { now: OPENED + 27 * HOUR }))).toEqual({ state: 'merged', humanCommits: 0, reverted: false, firstReviewAfterS: 0, reviewRounds: 0, mergedAfterS: 26 * 3600, final: false });
    expect(computeOutcome(inputsOf(merged, { now: OPENED + 26 * HOUR + LIMITS.revertWindowMs, reverted: true }))).toMatchObject({ reverted: true, final: true });
  });

  it('is final at once when closed, and for an open request once the watch has passed its age limit', () => {
    expect(computeOutcome(inputsOf(activityOf({ state: 'closed', closedAt: OPENED + HOUR }), { reverted: true }))).toMatchObject({ state: 'closed', reverted: false, final: true });
    expect(computeOutcome(inputsOf(activityOf(), { now: OPENED + LIMITS.maxAgeMs - 1 })).final).toBe(false);
    expect(computeOutcome(inputsOf(activityOf(), { now: OPENED + LIMITS.maxAgeMs })).final).toBe(true);
  });

  it('never reports a duration below zero, when a clock on the forge runs behind', () => {
    const outcome = computeOutcome(inputsOf(activityOf({ state: 'merged', mergedAt: OPENED - 5_000, reviews: [{ author: 'alice', at: OPENED - 1_000, kind: 'approved' }] })));
    expect(outcome).toMatchObject({ mergedAfterS: 0, firstReviewAfterS: 0 });
  });
});

describe('revertSearchOf', () => {
  it('looks on the target branch for the merge commit and every commit of the request, within the window from the merge', () => {
    const merged = activityOf({ state: 'merged', mergedAt: OPENED + HOUR, mergeCommitSha: SHA('m'), commits: [{ sha: SHA('a'), message: AIRLOCK_MESSAGE }, { sha: SHA('b'), message: 'x' }] });
    expect(revertSearchOf(merged, LIMITS)).toEqual({ targetBranch: 'main', commits: [SHA('m'), SHA('a'), SHA('b')], from: OPENED + HOUR, until: OPENED + HOUR + LIMITS.revertWindowMs });
  });

  it('has nothing to look for before a merge', () => {
    expect(revertSearchOf(activityOf(), LIMITS)).toBeUndefined();
    expect(revertSearchOf(activityOf({ state: 'closed' }), LIMITS)).toBeUndefined();
  });
});

describe('outcomeAtLevel', () => {
  const outcome: WatchedOutcome = { state: 'merged', humanCommits: 3, reverted: true, firstReviewAfterS: 2 * 3600 + 59 * 60, reviewRounds: 5, mergedAfterS: 26 * 3600 + 17, final: false };
  const sendable = (deliveryOutcome: ReturnType<typeof outcomeAtLevel>) => () => validateWorkerFrame({ frame: 'deliveryOutcome', deliveryOutcome });

  it('sends every figure exact at STANDARD', () => {
    const frame = outcomeAtLevel(JOB_ID, outcome, { report: 'standard', buckets: false });
    expect(frame).toEqual({
      deliveryJobId: JOB_ID,
      state: 'MERGE_REQUEST_STATE_MERGED',
      humanCommits: 3,
      reverted: true,
      firstReviewAfterS: 2 * 3600 + 59 * 60,
      reviewRounds: 5,
      mergedAfterS: 26 * 3600 + 17,
      final: false,
      metadataLevel: 'METADATA_LEVEL_STANDARD',
    });
    expect(sendable(frame)).not.toThrow();
  });

  it('sends counts rounded down to a power of two and durations down to the hour at STANDARD_BUCKETED', () => {
    const frame = outcomeAtLevel(JOB_ID, outcome, { report: 'standard', buckets: true });
    expect(frame).toMatchObject({ humanCommits: 2, reviewRounds: 4, firstReviewAfterS: 2 * 3600, mergedAfterS: 26 * 3600, reverted: true, metadataLevel: 'METADATA_LEVEL_STANDARD_BUCKETED' });
    expect(sendable(frame)).not.toThrow();
  });

  it('sends only the state, reverted and final at MINIMAL, buckets or not', () => {
    const frame = outcomeAtLevel(JOB_ID, { ...outcome, final: true }, { report: 'minimal', buckets: true });
    expect(frame).toEqual({ deliveryJobId: JOB_ID, state: 'MERGE_REQUEST_STATE_MERGED', humanCommits: 0, reverted: true, firstReviewAfterS: 0, reviewRounds: 0, mergedAfterS: 0, final: true, metadataLevel: 'METADATA_LEVEL_MINIMAL' });
    expect(sendable(frame)).not.toThrow();
  });
});
