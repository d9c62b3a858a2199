import { useCallback, useEffect, useId, useRef, useState } from 'react';
import { Link } from 'react-router';
import { settle, useApiResource } from '../api/api-resource';
import { api } from '../api/client';
import { useHasScope } from '../auth/session';
import { useLiveEvent } from '../live/live-events';
import { CopyButton } from '../ui/copy-button';
import { ReadProblem } from '../ui/form';
import { formatTime } from '../ui/format';
import { RelativeTime, useNow } from '../ui/relative-time';
import { TableRows } from '../ui/table-rows';
import { FleetNav, WorkerStatusBadge } from './fleet-parts';
import { WorkerActions, type ActionOutcome } from './worker-actions';
import { shortDigest, workerLabel, workerPools, workerState, type Worker, type WorkerDetail, type WorkerState } from './worker-view';

// Workers connect, drain or take jobs in bursts (a restart, a batch): one reload for the lot.
const RELOAD_DEBOUNCE_MS = 300;
// No event marks a heartbeat, so "last heard from" is read again now and then.
const HEARTBEAT_REFRESH_MS = 30_000;

/** Drops the trust view's extra fields, so a worker an action returned can replace its row. */
function summaryOf(detail: WorkerDetail): Worker {
  const { metadataLevel: _level, allowedFields: _fields, policy: _policy, ...summary } = detail;
  return summary;
}

/** `/fleet`: every worker of the organisation, its state, version, pools, load and policy, updated live. */
export function FleetPage() {
  // A failed re-read keeps the table it had and says why above it.
  const workers = useApiResource('workers', () => settle(api.GET('/api/v1/workers')));
  const [outcome, setOutcome] = useState<ActionOutcome | null>(null);
  const reloadTimer = useRef<number | undefined>(undefined);
  const { reload, update } = workers;

  const reloadSoon = useCallback(() => {
    window.clearTimeout(reloadTimer.current);
    reloadTimer.current = window.setTimeout(reload, RELOAD_DEBOUNCE_MS);
  }, [reload]);
  useEffect(() => () => window.clearTimeout(reloadTimer.current), []);
  useEffect(() => {
    const timer = window.setInterval(reloadSoon, HEARTBEAT_REFRESH_MS);
    return () => window.clearInterval(timer);
  }, [reloadSoon]);

  useLiveEvent('worker.changed', reloadSoon);
  // A job dispatched to or finished on a worker changes its load.
  useLiveEvent('job.changed', reloadSoon);
  useLiveEvent('resync', reloadSoon);

  const replaceWorker = useCallback(
    (updated: WorkerDetail) => update((shown) => shown.map((worker) => (worker.id === updated.id ? summaryOf(updated) : worker))),
    [update],
  );

  return (
    <>
      <title>Fleet — Airlock</title>
      <div className="page-heading">
        <h1 tabIndex={-1}>Fleet</h1>
      </div>
      <FleetNav />
      <ReadProblem problem={workers.problem} />
      {workers.data ? <FleetSummary workers={workers.data} /> : null}
      <p role="status" className="form-success action-outcome">
        {outcome && !outcome.problem ? outcome.text : null}
      </p>
      <p role="alert" className="form-problem action-outcome">
        {outcome?.problem ? outcome.text : null}
      </p>
      <WorkersTable workers={workers.data} awaitingFirstAnswer={workers.awaitingFirstAnswer} onChanged={replaceWorker} onOutcome={setOutcome} />
    </>
  );
}

function FleetSummary({ workers }: { readonly workers: readonly Worker[] }) {
  const count = (wanted: WorkerState) => workers.filter((worker) => workerState(worker) === wanted).length;
  const outdated = workers.filter((worker) => !worker.revoked && !worker.versionSupported).length;
  return (
    <p className="muted fleet-summary">
      {workers.length} {workers.length === 1 ? 'worker' : 'workers'}: {count('online')} online, {count('offline')} offline, {count('draining')} draining,{' '}
      {count('revoked')} revoked
      {outdated > 0 ? (
        <>
          {' · '}
          <strong className="flag">
            <span aria-hidden="true">⚠ </span>
            {outdated} outside the supported version window
          </strong>
        </>
      ) : null}
    </p>
  );
}

function WorkersTable({
  workers,
  awaitingFirstAnswer,
  onChanged,
  onOutcome,
}: {
  readonly workers: readonly Worker[] | null;
  readonly awaitingFirstAnswer: boolean;
  readonly onChanged: (updated: WorkerDetail) => void;
  readonly onOutcome: (outcome: ActionOutcome) => void;
}) {
  const captionId = useId();
  const canWrite = useHasScope('fleet:write');
  const now = useNow();
  const columns = canWrite ? 10 : 9;
  return (
    <div className="table-scroll">
      <table className="data-table fleet-table" aria-labelledby={captionId} aria-busy={awaitingFirstAnswer}>
        <caption id={captionId} className="visually-hidden">
          Workers, oldest enrollment first
        </caption>
        <thead>
          <tr>
            <th scope="col">Worker</th>
            <th scope="col">Status</th>
            <th scope="col">Version</th>
            <th scope="col">Pools</th>
            <th scope="col" className="numeric">
              Load
            </th>
            <th scope="col">Last heard from</th>
            <th scope="col">Central policy</th>
            <th scope="col">Local policy</th>
            <th scope="col" className="numeric">
              Implausible results
            </th>
            {canWrite ? <th scope="col">Actions</th> : null}
          </tr>
        </thead>
        <tbody>
          <TableRows
            rows={workers}
            awaitingFirstAnswer={awaitingFirstAnswer}
            columns={columns}
            empty={
              <>
                No worker has enrolled yet. Create an enrollment token under <Link to="/fleet/enrollment-tokens">Enrollment tokens</Link> to enrol one.
              </>
            }
          >
            {(rows) => rows.map((worker) => <WorkerRow key={worker.id} worker={worker} now={now} canWrite={canWrite} onChanged={onChanged} onOutcome={onOutcome} />)}
          </TableRows>
        </tbody>
      </table>
    </div>
  );
}

function WorkerRow({
  worker,
  now,
  canWrite,
  onChanged,
  onOutcome,
}: {
  readonly worker: Worker;
  readonly now: number;
  readonly canWrite: boolean;
  readonly onChanged: (updated: WorkerDetail) => void;
  readonly onOutcome: (outcome: ActionOutcome) => void;
}) {
  const name = workerLabel(worker);
  const pools = workerPools(worker);
  return (
    <tr data-worker-id={worker.id} className={worker.revoked ? 'revoked-row' : undefined}>
      <th scope="row">
        <Link to={`/fleet/workers/${worker.id}`}>{name}</Link>
        {worker.name ? (
          <span className="muted mono cell-note" title={worker.id}>
            {worker.id.slice(0, 8)}
          </span>
        ) : null}
      </th>
      <td>
        <WorkerStatusBadge worker={worker} />
      </td>
      <td className="nowrap">
        <span className="mono">{worker.version}</span>
        {worker.versionSupported ? null : (
          <span className="flag cell-note">
            <span aria-hidden="true">⚠ </span>outside the supported window
          </span>
        )}
      </td>
      <td>
        {pools.length === 0 ? (
          <span className="muted">none</span>
        ) : (
          <ul className="chips" aria-label={`Pools of ${name}`}>
            {pools.map((pool) => (
              <li key={pool.name} className="chip mono">
                {pool.name}
                {pool.enrolled ? <span className="chip-note"> (enrolled)</span> : null}
              </li>
            ))}
          </ul>
        )}
      </td>
      <td className="numeric nowrap">
        {worker.activeAttempts} / {worker.capacity}
      </td>
      <td>
        <RelativeTime iso={worker.lastSeenAt} now={now} />
      </td>
      <td>
        {worker.policyRevision === 0 ? (
          <span className="muted">none (local only)</span>
        ) : (
          <>
            <span className="nowrap">revision {worker.policyRevision}</span>
            <span className="muted cell-note">{worker.policyAppliedAt ? <>applied {formatTime(worker.policyAppliedAt)}</> : 'reported, not acknowledged'}</span>
          </>
        )}
        {worker.narrowedRules.length > 0 ? (
          <span className="cell-note">
            narrowed locally:{' '}
            {worker.narrowedRules.map((rule, index) => (
              <span key={rule}>
                {index > 0 ? ', ' : null}
                <span className="mono nowrap">{rule}</span>
              </span>
            ))}
          </span>
        ) : null}
      </td>
      <td className="nowrap">
        {worker.localPolicyDigest ? (
          <>
            <code title={worker.localPolicyDigest}>{shortDigest(worker.localPolicyDigest)}</code>{' '}
            <CopyButton
              text={worker.localPolicyDigest}
              className="secondary compact"
              label={
                <>
                  Copy<span className="visually-hidden"> the local policy digest of {name}</span>
                </>
              }
            />
          </>
        ) : (
          <span className="muted">not reported</span>
        )}
      </td>
      <td className="numeric">
        {worker.implausibleResults > 0 ? (
          <strong className="flag" title={`The last on ${formatTime(worker.lastImplausibleAt)}`}>
            <span aria-hidden="true">⚠ </span>
            {worker.implausibleResults}
            <span className="visually-hidden">, the last on {formatTime(worker.lastImplausibleAt)}</span>
          </strong>
        ) : (
          '0'
        )}
      </td>
      {canWrite ? (
        <td>
          <WorkerActions worker={worker} onChanged={onChanged} onOutcome={onOutcome} />
        </td>
      ) : null}
    </tr>
  );
}
