import { humanize } from './format';

/** Job and attempt statuses, by what they mean for the person looking. */
const STATUS_TONE: Readonly<Record<string, 'pending' | 'active' | 'good' | 'bad' | 'neutral'>> = {
  QUEUED: 'pending',
  DISPATCHED: 'active',
  RUNNING: 'active',
  SUCCEEDED: 'good',
  FAILED: 'bad',
  REJECTED: 'bad',
  LEASE_EXPIRED: 'bad',
  CANCELLED: 'neutral',
};

/** A status as a word with a colour beside it: the word alone carries the meaning. */
export function StatusBadge({ status }: { readonly status: string }) {
  const tone = STATUS_TONE[status] ?? 'neutral';
  return (
    <span className={`status status-${tone}`} data-status={status}>
      {humanize(status)}
    </span>
  );
}

export const ACTIVE_JOB_STATUSES: readonly string[] = ['QUEUED', 'DISPATCHED', 'RUNNING'];
export const RETRYABLE_JOB_STATUSES: readonly string[] = ['SUCCEEDED', 'FAILED', 'CANCELLED'];
