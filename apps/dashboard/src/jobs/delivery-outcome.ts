import type { Schemas } from '../api/client';
import { formatCount, formatDuration } from '../ui/format';

type DeliveryOutcome = Schemas['DeliveryOutcomeResponse'];

/** One line of the "On the forge" section: what it is and what the worker reported. */
export interface OutcomeFigure {
  readonly label: string;
  readonly value: string;
}

/** A delivered change's merge request as the job page shows it. */
export interface DeliveryOutcomeView {
  readonly figures: readonly OutcomeFigure[];
  /** Whether the worker stopped watching: the figures will not change. */
  readonly final: boolean;
  /** How the metadata level shaped the figures, or null when they are exact. */
  readonly levelNote: string | null;
  /** The chain's first job when it is not the job shown: a re-run shows the request of its chain. */
  readonly chainFirstJobId: string | null;
}

const STATE_LABELS: Readonly<Record<DeliveryOutcome['state'], string>> = {
  OPEN: 'Open',
  MERGED: 'Merged',
  CLOSED: 'Closed without merging',
};

const NOT_SENT = 'not reported at the minimal level';
const DAY_S = 86_400;

/** A wait of seconds as a person reads it: "45 min 00 s", "5 h 30 min", "3 d 04 h". */
export function formatWait(seconds: number): string {
  // Whole seconds on the wire: 0 is anything under one, not an instant.
  if (seconds === 0) return 'under a second';
  if (seconds < DAY_S) return formatDuration(seconds * 1_000);
  const hours = Math.floor(seconds / 3_600);
  return `${Math.floor(hours / 24)} d ${String(hours % 24).padStart(2, '0')} h`;
}

/** A count rounded down to 0 or a power of two stands for every count up to the next one: 4 → "4–7". */
function bucketedCount(count: number): string {
  return count < 2 ? formatCount(count) : `${formatCount(count)}–${formatCount(count * 2 - 1)}`;
}

/**
 * The figures of an outcome, each shown for what the worker's metadata level lets it say:
 * at the minimal level only the state, whether it was reverted and whether it is final are
 * sent, so the rest shows as not reported rather than as zero; with buckets, counts are
 * ranges and durations are rounded down to the hour.
 */
export function readDeliveryOutcome(outcome: DeliveryOutcome, jobId: string): DeliveryOutcomeView {
  const minimal = outcome.metadataLevel === 'METADATA_LEVEL_MINIMAL';
  const bucketed = outcome.metadataLevel === 'METADATA_LEVEL_STANDARD_BUCKETED';
  const merged = outcome.state === 'MERGED';
  const count = (value: number): string => (minimal ? NOT_SENT : bucketed ? bucketedCount(value) : formatCount(value));
  let firstReview: string;
  if (minimal) firstReview = NOT_SENT;
  // A person reviewed it exactly when there is a review round; the wait may round to 0.
  else if (outcome.reviewRounds === 0) firstReview = 'none yet';
  else if (outcome.firstReviewAfterS === 0 && bucketed) firstReview = 'within the first hour';
  else firstReview = `${formatWait(outcome.firstReviewAfterS)} after opening`;
  let merge: string;
  if (!merged) merge = 'not merged';
  else if (minimal) merge = NOT_SENT;
  else merge = outcome.mergedAfterS === 0 && bucketed ? 'within the first hour' : `${formatWait(outcome.mergedAfterS)} after opening`;
  return {
    figures: [
      { label: 'State', value: STATE_LABELS[outcome.state] },
      { label: "People's commits", value: count(outcome.humanCommits) },
      { label: 'Reverted', value: merged ? (outcome.reverted ? 'yes, on its target branch' : 'no') : 'not merged' },
      { label: 'First review by a person', value: firstReview },
      { label: 'Review rounds', value: count(outcome.reviewRounds) },
      { label: 'Time to merge', value: merge },
    ],
    final: outcome.final,
    levelNote: minimal
      ? 'The worker reports at the minimal metadata level: states only, no counts or times.'
      : bucketed
        ? 'The worker reports with buckets: counts are rounded down to a power of two, times down to the hour.'
        : null,
    chainFirstJobId: outcome.deliveryJobId === jobId ? null : outcome.deliveryJobId,
  };
}
