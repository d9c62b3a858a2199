import { useEffect, useId, useRef } from 'react';
import { Link } from 'react-router';
import { api, type Schemas } from '../api/client';
import { useLiveEvent } from '../live/live-events';
import { formatTime, humanize, shortId } from '../ui/format';
import { settle, useApiResource } from '../api/api-resource';
import { countOf } from './policy-labels';

type WorkerRollout = Schemas['WorkerRolloutResponse'];

// Workers acknowledge a bundle on their stream, which raises no dashboard event: the page reads the rollout again this often while it is in view.
const POLL_MS = 10_000;
// Several workers often change at once (a control plane restart reconnects them all): one read for the lot.
const EVENT_DEBOUNCE_MS = 300;

/** Calls `tick` every `intervalMs` while the page is visible, and at once when it becomes visible again. */
function useVisiblePolling(tick: () => void, intervalMs: number) {
  const latest = useRef(tick);
  useEffect(() => {
    latest.current = tick;
  });
  useEffect(() => {
    const timer = window.setInterval(() => {
      if (document.visibilityState === 'visible') latest.current();
    }, intervalMs);
    const onVisibility = () => {
      if (document.visibilityState === 'visible') latest.current();
    };
    document.addEventListener('visibilitychange', onVisibility);
    return () => {
      window.clearInterval(timer);
      document.removeEventListener('visibilitychange', onVisibility);
    };
  }, [intervalMs]);
}

/** `/policies/rollout`: per worker, the revision in force, whether it is current, what its own config keeps stricter, and its last refusal. */
export function RolloutPage() {
  const rollout = useApiResource('rollout', () => settle(api.GET('/api/v1/policy/rollout')));
  const debounce = useRef<number | undefined>(undefined);
  const captionId = useId();
  useEffect(() => () => window.clearTimeout(debounce.current), []);

  const reloadSoon = () => {
    window.clearTimeout(debounce.current);
    debounce.current = window.setTimeout(rollout.reload, EVENT_DEBOUNCE_MS);
  };
  useLiveEvent('worker.changed', reloadSoon);
  useLiveEvent('resync', reloadSoon);
  useVisiblePolling(rollout.reload, POLL_MS);

  const data = rollout.data;
  const upToDate = data ? data.workers.filter((worker) => worker.upToDate).length : 0;
  const workers = data ? [...data.workers].sort((a, b) => Number(a.upToDate) - Number(b.upToDate) || (a.name ?? a.workerId).localeCompare(b.name ?? b.workerId)) : [];

  return (
    <>
      <title>Policy rollout — Airlock</title>
      <p className="breadcrumb">
        <Link to="/policies">Policies</Link> <span aria-hidden="true">/</span>
      </p>
      <div className="page-heading">
        <h1 tabIndex={-1}>Policy rollout</h1>
        {/* Never disabled while reading: a disabled button would drop the keyboard focus. */}
        <button type="button" className="secondary page-action" onClick={rollout.reload}>
          Refresh
        </button>
      </div>
      {/* Announced when the counts change, not on every poll: the time of the last read is outside it. */}
      <p role="status" className="rollout-summary">
        {data
          ? data.workers.length === 0
            ? `Revision ${data.revision} is current. No worker is enrolled yet.`
            : `Revision ${data.revision} is current: ${upToDate} of ${countOf(data.workers.length, 'worker')} up to date.`
          : null}
      </p>
      <p className="muted">
        {rollout.readAt ? `Read at ${formatTime(new Date(rollout.readAt).toISOString())}; ` : ''}
        refreshed as workers come and go, and every {POLL_MS / 1_000} seconds while this page is in view.
      </p>
      {rollout.problem ? (
        <p className="form-problem" role="alert">
          {rollout.problem.message}
        </p>
      ) : null}
      <div className="table-scroll">
        <table className="data-table rollout-table" aria-labelledby={captionId} aria-busy={rollout.loading}>
          <caption id={captionId} className="visually-hidden">
            Workers and the policy revision each runs, those behind first
          </caption>
          <thead>
            <tr>
              <th scope="col">Worker</th>
              <th scope="col">Connection</th>
              <th scope="col">Pools</th>
              <th scope="col" className="numeric">
                Applied revision
              </th>
              <th scope="col">Applied</th>
              <th scope="col">Current?</th>
              <th scope="col">Kept stricter locally</th>
              <th scope="col">Last refusal</th>
            </tr>
          </thead>
          <tbody>
            {!data ? (
              <tr>
                <td colSpan={8} className="empty">
                  {rollout.loading ? 'Loading…' : '—'}
                </td>
              </tr>
            ) : workers.length === 0 ? (
              <tr>
                <td colSpan={8} className="empty">
                  No worker yet.
                </td>
              </tr>
            ) : (
              workers.map((worker) => <RolloutRow key={worker.workerId} worker={worker} />)
            )}
          </tbody>
        </table>
      </div>
    </>
  );
}

function RolloutRow({ worker }: { readonly worker: WorkerRollout }) {
  return (
    <tr data-worker-id={worker.workerId} data-applied-revision={worker.appliedRevision}>
      <th scope="row" className="row-header">
        {worker.name ?? <span className="mono">{shortId(worker.workerId)}</span>}
        {worker.name ? <span className="muted mono"> {shortId(worker.workerId)}</span> : null}
      </th>
      <td>
        <span className={`status ${worker.status === 'ONLINE' ? 'status-good' : 'status-neutral'}`}>{humanize(worker.status)}</span>
      </td>
      <td>{worker.labels.length > 0 ? worker.labels.join(', ') : <span className="muted">none</span>}</td>
      <td className="numeric">{worker.appliedRevision === 0 ? <span className="muted">0 (none)</span> : worker.appliedRevision}</td>
      <td className="nowrap">{worker.appliedAt ? formatTime(worker.appliedAt) : <span className="muted">{worker.appliedRevision > 0 ? 'at connect' : '—'}</span>}</td>
      <td>
        {worker.upToDate ? (
          <span className="status status-good">
            <span aria-hidden="true">✓ </span>Up to date
          </span>
        ) : (
          <span className="status status-pending">
            <span aria-hidden="true">… </span>Behind
          </span>
        )}
      </td>
      <td>
        {worker.narrowedRules.length === 0 ? (
          <span className="muted">nothing</span>
        ) : (
          <ul className="plain-list">
            {worker.narrowedRules.map((rule) => (
              <li key={rule} className="mono">
                {rule}
              </li>
            ))}
          </ul>
        )}
      </td>
      <td>
        {worker.lastRefusal ? (
          <>
            <span className="mono status-bad-text">{worker.lastRefusal.failureCode}</span>
            <span className="muted">
              {' '}
              revision {worker.lastRefusal.revision || '(unreadable)'}, {formatTime(worker.lastRefusal.at)}
            </span>
          </>
        ) : (
          <span className="muted">none</span>
        )}
      </td>
    </tr>
  );
}
