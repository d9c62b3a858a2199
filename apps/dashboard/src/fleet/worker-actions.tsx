import { useState } from 'react';
import { api } from '../api/client';
import { problemOf, unreachableProblem } from '../api/problems';
import { useHasScope } from '../auth/session';
import { ConfirmDialog } from '../ui/confirm-dialog';
import { workerActions, workerLabel, type Worker, type WorkerDetail } from './worker-view';

type WorkerAction = 'drain' | 'undrain' | 'revoke';

/** What the page tells the person after an action: a success (status) or the server's refusal (alert). */
export interface ActionOutcome {
  readonly text: string;
  readonly problem: boolean;
}

const DONE: Readonly<Record<WorkerAction, (name: string) => string>> = {
  drain: (name) => `Worker ${name} is draining: it finishes what it holds and is given nothing new.`,
  undrain: (name) => `Worker ${name} is given work again.`,
  revoke: (name) => `Worker ${name} is revoked.`,
};

async function postAction(action: WorkerAction, id: string) {
  const path = { params: { path: { id } } };
  if (action === 'drain') return api.POST('/api/v1/workers/{id}/drain', path);
  if (action === 'undrain') return api.POST('/api/v1/workers/{id}/undrain', path);
  return api.POST('/api/v1/workers/{id}/revoke', path);
}

/**
 * Drain or undrain, and revoke after a confirmation that says it is final; only for sessions
 * holding fleet:write (the server refuses the others anyway). Each button names its worker,
 * so a row of buttons in a table reads apart.
 */
export function WorkerActions({
  worker,
  onChanged,
  onOutcome,
}: {
  readonly worker: Worker;
  readonly onChanged: (updated: WorkerDetail) => void;
  readonly onOutcome: (outcome: ActionOutcome) => void;
}) {
  const canWrite = useHasScope('fleet:write');
  const [busy, setBusy] = useState<WorkerAction | null>(null);
  const [confirmingRevoke, setConfirmingRevoke] = useState(false);
  const [revokeProblem, setRevokeProblem] = useState<string | null>(null);
  if (!canWrite) return null;
  const offered = workerActions(worker);
  if (!offered.drain && !offered.undrain && !offered.revoke) return null;
  const name = workerLabel(worker);

  const act = async (action: WorkerAction) => {
    setBusy(action);
    try {
      const { data, response, error } = await postAction(action, worker.id);
      if (data) {
        if (action === 'revoke') setConfirmingRevoke(false);
        onChanged(data);
        onOutcome({ text: DONE[action](name), problem: false });
        return;
      }
      const refusal = problemOf(response, error).message;
      if (action === 'revoke') setRevokeProblem(refusal);
      else onOutcome({ text: refusal, problem: true });
    } catch {
      if (action === 'revoke') setRevokeProblem(unreachableProblem().message);
      else onOutcome({ text: unreachableProblem().message, problem: true });
    } finally {
      setBusy(null);
    }
  };

  return (
    <div className="row-actions">
      {offered.drain ? (
        <button type="button" className="secondary" disabled={busy !== null} onClick={() => void act('drain')}>
          Drain<span className="visually-hidden"> {name}</span>
        </button>
      ) : null}
      {offered.undrain ? (
        <button type="button" className="secondary" disabled={busy !== null} onClick={() => void act('undrain')}>
          Undrain<span className="visually-hidden"> {name}</span>
        </button>
      ) : null}
      {offered.revoke ? (
        <button
          type="button"
          className="danger"
          disabled={busy !== null}
          onClick={() => {
            setRevokeProblem(null);
            setConfirmingRevoke(true);
          }}
        >
          Revoke<span className="visually-hidden"> {name}</span>
        </button>
      ) : null}
      <ConfirmDialog
        open={confirmingRevoke}
        title={`Revoke worker ${name}?`}
        confirmLabel="Revoke worker"
        busy={busy === 'revoke'}
        problem={revokeProblem}
        onConfirm={() => void act('revoke')}
        onCancel={() => setConfirmingRevoke(false)}
      >
        <p>
          <strong>Revoking is final.</strong> The worker&apos;s connection ends at once, the jobs it holds go back to the queue for other workers, and
          it is never accepted again: nothing un-revokes it.
        </p>
        <p>
          To use its host again, the host must be enrolled anew with a new enrollment token (<code>airlock-worker enroll … --force</code>); it then
          joins as a new worker.
        </p>
        <p className="muted">
          Worker id <span className="mono">{worker.id}</span>
        </p>
      </ConfirmDialog>
    </div>
  );
}
