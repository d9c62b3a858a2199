import { NavLink } from 'react-router';
import { WORKER_STATE_LABEL, WORKER_STATE_TONE, workerState, type Worker } from './worker-view';

/** The fleet's two views, as links: the workers, and the tokens that enrol new ones. */
export function FleetNav() {
  return (
    <nav className="sub-nav" aria-label="Fleet">
      <ul>
        <li>
          <NavLink to="/fleet" end>
            Workers
          </NavLink>
        </li>
        <li>
          <NavLink to="/fleet/enrollment-tokens">Enrollment tokens</NavLink>
        </li>
      </ul>
    </nav>
  );
}

/**
 * The worker's state as a word (Online, Offline, Draining, Revoked), coloured by its tone; a
 * draining worker also says whether it is connected, as it may still be finishing work.
 */
export function WorkerStatusBadge({ worker }: { readonly worker: Pick<Worker, 'revoked' | 'draining' | 'status'> }) {
  const state = workerState(worker);
  return (
    <span className="worker-status">
      <span className={`status status-${WORKER_STATE_TONE[state]}`} data-worker-state={state}>
        {WORKER_STATE_LABEL[state]}
      </span>
      {state === 'draining' ? <span className="muted"> {worker.status === 'ONLINE' ? 'connected' : 'not connected'}</span> : null}
    </span>
  );
}
