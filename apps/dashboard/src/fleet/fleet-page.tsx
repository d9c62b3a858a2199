import { useCallback, useEffect, useId, useRef, useState } from 'react';
import { Link } from 'react-router';
import { api } from '../api/client';
import { problemOf, unreachableProblem, type ApiProblem } from '../api/problems';
import { useHasScope } from '../auth/session';
import { useLiveEvent } from '../live/live-events';
import { CopyButton } from '../ui/copy-button';
import { formatTime } from '../ui/format';
import { RelativeTime, useNow } from '../ui/relative-time';
import { FleetNav, WorkerStatusBadge } from './fleet-parts';
import { WorkerActions, type ActionOutcome } from './worker-actions';
import { shortDigest, workerLabel, workerPools, workerState, type Worker, type WorkerDetail, type WorkerState } from './worker-view';

// Workers connect, drain or take jobs in bursts (a restart, a batch): one reload for the lot.
const RELOAD_DEBOUNCE_MS = 300;
// No event marks a heartbeat, so "last heard from" is read again now and then.
const HEARTBEAT_REFRESH_MS = 30_000;

type FleetState =
  | { readonly kind: 'loading' }
  | { readonly kind: 'loaded'; readonly workers: readonly Worker[] }
  | { readonly kind: 'failed'; readonly problem: ApiProblem };

/** Drops the trust view's extra fields, so a worker an action returned can replace its row. */
function summaryOf(detail: WorkerDetail): Worker {
  const { metadataLevel: _level, allowedFields: _fields, policy: _policy, ...summary } = detail;
  return summary;
}

/** `/fleet`: every worker of the organisation, its state, version, pools, load and policy, updated live. */
export function FleetPage() {
  const [state, setState] = useState<FleetState>({ kind: 'loading' });
  const [reloads, setReloads] = useState(0);
  const [outcome, setOutcome] = useState<ActionOutcome | null>(null);
  const reloadTimer = useRef<number | undefined>(undefined);

  useEffect(() => {
    let current = true;
    api.GET('/api/v1/workers').then(
      ({ data, response, error }) => {
        if (!current) return;
        // A failed re-read keeps the table it had and says why above it.
        setState((previous) => (data ? { kind: 'loaded', workers: data } : previous.kind === 'loaded' ? previous : { kind: 'failed', problem: problemOf(response, error) }));
      },
      () => current && setState((previous) => (previous.kind === 'loaded' ? previous : { kind: 'failed', problem: unreachableProblem() })),
    );
    return () => {
      current = false;
    };
  }, [reloads]);

  const reloadSoon = useCallback(() => {
    window.clearTimeout(reloadTimer.current);
    reloadTimer.current = window.setTimeout(() => setReloads((n) => n + 1), RELOAD_DEBOUNCE_MS);
  }, []);
  useEffect(() => () => window.clearTimeout(reloadTimer.current), []);
  useEffect(() => {
    const timer = window.setInterval(reloadSoon, HEARTBEAT_REFRESH_MS);
    return () => window.clearInterval(timer);
  }, [reloadSoon]);

  useLiveEvent('worker.changed', reloadSoon);
  // A job dispatched to or finished on a worker changes its load.
  useLiveEvent('job.changed', reloadSoon);
  useLiveEvent('resync', reloadSoon);

  const replaceWorker = useCallback((updated: WorkerDetail) => {
    setState((current) => (current.kind === 'loaded' ? { ...current, workers: current.workers.map((worker) => (worker.id === updated.id ? summaryOf(updated) : worker)) } : current));
  }, []);

  return (
    <>
      <title>Fleet — Airlock</title>
      <div className="page-heading">
        <h1 tabIndex={-1}>Fleet</h1>
      </div>
      <FleetNav />
      {state.kind === 'failed' ? (
        <p className="form-problem" role="alert">
          {state.problem.message}
        </p>
      ) : null}
      {state.kind === 'loaded' ? <FleetSummary workers={state.workers} /> : null}
      <p role="status" className="form-success action-outcome">
        {outcome && !outcome.problem ? outcome.text : null}
      </p>
      <p role="alert" className="form-problem action-outcome">
        {outcome?.problem ? outcome.text : null}
      </p>
      <WorkersTable state={state} onChanged={replaceWorker} onOutcome={setOutcome} />
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
  state,
  onChanged,
  onOutcome,
}: {
  readonly state: FleetState;
  readonly onChanged: (updated: WorkerDetail) => void;
  readonly onOutcome: (outcome: ActionOutcome) => void;
}) {
  const captionId = useId();
  const canWrite = useHasScope('fleet:write');
  const now = useNow();
  const columns = canWrite ? 10 : 9;
  return (
    <div className="table-scroll">
      <table className="data-table fleet-table" aria-labelledby={captionId} aria-busy={state.kind === 'loading'}>
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
          {state.kind === 'loading' ? (
            <tr>
              <td colSpan={columns} className="empty">
                Loading…
              </td>
            </tr>
          ) : state.kind === 'loaded' && state.workers.length === 0 ? (
            <tr>
              <td colSpan={columns} className="empty">
                No worker has enrolled yet. Create an enrollment token under <Link to="/fleet/enrollment-tokens">Enrollment tokens</Link> to enrol one.
              </td>
            </tr>
          ) : state.kind === 'loaded' ? (
            state.workers.map((worker) => <WorkerRow key={worker.id} worker={worker} now={now} canWrite={canWrite} onChanged={onChanged} onOutcome={onOutcome} />)
          ) : null}
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
