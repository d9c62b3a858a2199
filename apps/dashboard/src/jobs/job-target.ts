import type { Schemas } from '../api/client';

/**
 * What a job works on besides its repository, as the jobs list and a job's page say it: a
 * fix's base ref, a review's merge request (by number or by branch), an index job's ref.
 */
export interface JobTargetView {
  /** The job page's label for it. */
  readonly label: string;
  readonly value: string;
  /** The jobs list's cell: the value, with what it is where the kind alone does not say. */
  readonly cell: string;
}

export function jobTargetOf(job: Pick<Schemas['JobResponse'], 'kind' | 'baseRef' | 'mergeRequest' | 'branch' | 'ref'>): JobTargetView | null {
  switch (job.kind) {
    case 'fix':
      return job.baseRef == null ? null : { label: 'Base ref', value: job.baseRef, cell: job.baseRef };
    case 'review':
      if (job.mergeRequest !== null) return { label: 'Merge request', value: `#${job.mergeRequest}`, cell: `merge request #${job.mergeRequest}` };
      return job.branch === null ? null : { label: 'Branch reviewed', value: job.branch, cell: `open request of ${job.branch}` };
    case 'index':
      return job.ref === null ? null : { label: 'Ref indexed', value: job.ref, cell: job.ref };
    case 'noop':
      return null;
  }
}
