import type { FixTask__Output } from '@airlock/protocol';

/**
 * Where an attempt stands among every attempt that delivers to one branch: the re-run's
 * generation first, then the attempt within it. A later position may replace an earlier
 * one's branch and outbox entry; an earlier one never replaces a later one.
 */
export interface DeliveryPosition {
  readonly generation: number;
  readonly attempt: number;
}

/** Negative when `a` comes before `b`, zero for the same position, positive after. */
export function compareDeliveryPositions(a: DeliveryPosition, b: DeliveryPosition): number {
  return a.generation - b.generation || a.attempt - b.attempt;
}

/** The branch an attempt delivers to, and its place among the attempts that deliver there. */
export interface DeliveryTarget {
  /** The job whose branch it is: the task's `deliveryJobId`, or the job itself. Names the branch and the outbox entry. */
  readonly key: string;
  /** `<branchPrefix><key>`. */
  readonly branch: string;
  /** `refs/heads/<branch>`. */
  readonly ref: string;
  readonly position: DeliveryPosition;
}

/**
 * The branch of a job's attempt. A re-run names the first job of its chain as its
 * `deliveryJobId`, so every job of the chain delivers to one branch and one merge request.
 */
export function deliveryTargetOf(
  jobId: string,
  attempt: number,
  task: Pick<FixTask__Output, 'deliveryJobId' | 'deliveryGeneration'>,
  branchPrefix: string,
): DeliveryTarget {
  const key = task.deliveryJobId === '' ? jobId : task.deliveryJobId;
  const branch = `${branchPrefix}${key}`;
  return { key, branch, ref: `refs/heads/${branch}`, position: { generation: task.deliveryGeneration, attempt } };
}
