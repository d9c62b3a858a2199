import { useEffect, useState, type ReactNode } from 'react';
import { Link, useParams } from 'react-router';
import { settle, useApiResource } from '../api/api-resource';
import { api } from '../api/client';
import type { ApiProblem } from '../api/problems';
import { useLiveEvent } from '../live/live-events';
import { CopyButton } from '../ui/copy-button';
import { ReadProblem } from '../ui/form';
import { formatTime, humanize, shortId } from '../ui/format';
import { RelativeTime, useNow } from '../ui/relative-time';
import { WorkerStatusBadge } from './fleet-parts';
import { WorkerActions, type ActionOutcome } from './worker-actions';
import { METADATA_LEVEL_LABEL, TREATMENT_LABEL, workerLabel, workerPools, type WorkerDetail } from './worker-view';

// No event marks a heartbeat, so "last heard from" is read again now and then.
const HEARTBEAT_REFRESH_MS = 30_000;

/**
 * `/fleet/workers/:workerId`: one worker and its trust view — what it may send at its metadata
 * level, field by field, and the central policy it applied — for a security team to hold
 * against the worker's own record on its host.
 */
export function WorkerPage() {
  const { workerId = '' } = useParams();
  // Keyed by the id: another worker shows loading, not the last one's facts under the new address.
  const worker = useApiResource(workerId, () => settle(api.GET('/api/v1/workers/{id}', { params: { path: { id: workerId } } })));
  const { reload } = worker;

  useEffect(() => {
    const timer = window.setInterval(reload, HEARTBEAT_REFRESH_MS);
    return () => window.clearInterval(timer);
  }, [reload]);

  useLiveEvent('worker.changed', (event) => event.workerId === workerId && reload());
  useLiveEvent('resync', reload);

  if (!worker.data) {
    return (
      <>
        <title>Worker — Airlock</title>
        <p className="breadcrumb">
          <Link to="/fleet">Fleet</Link> <span aria-hidden="true">/</span>
        </p>
        <h1 tabIndex={-1}>Worker {shortId(workerId)}</h1>
        {worker.problem ? (
          <p className="form-problem" role="alert">
            {worker.status === 404 ? 'No such worker in this organisation.' : worker.problem.message}
          </p>
        ) : (
          <p aria-busy="true">Loading…</p>
        )}
      </>
    );
  }
  return <WorkerTrustView worker={worker.data} problem={worker.problem} onChanged={(changed) => worker.update(() => changed)} />;
}

function WorkerTrustView({
  worker,
  problem,
  onChanged,
}: {
  readonly worker: WorkerDetail;
  /** Why the last re-read failed: the facts shown are those read before. */
  readonly problem: ApiProblem | null;
  readonly onChanged: (worker: WorkerDetail) => void;
}) {
  const [outcome, setOutcome] = useState<ActionOutcome | null>(null);
  const name = workerLabel(worker);
  return (
    <>
      <title>{`Worker ${name} — Airlock`}</title>
      <p className="breadcrumb">
        <Link to="/fleet">Fleet</Link> <span aria-hidden="true">/</span>
      </p>
      <div className="page-heading">
        <h1 tabIndex={-1}>
          Worker <span className="mono">{name}</span>
        </h1>
        <WorkerStatusBadge worker={worker} />
        <div className="heading-actions">
          <WorkerActions worker={worker} onChanged={onChanged} onOutcome={setOutcome} />
        </div>
      </div>
      <p role="status" className="form-success action-outcome">
        {outcome && !outcome.problem ? outcome.text : null}
      </p>
      <p role="alert" className="form-problem action-outcome">
        {outcome?.problem ? outcome.text : null}
      </p>
      <ReadProblem problem={problem} />
      {worker.revoked ? (
        <div className="warning" role="note">
          <p>
            <strong>
              <span aria-hidden="true">⚠ </span>Revoked {formatTime(worker.revokedAt)}.
            </strong>{' '}
            This worker is never accepted again. Its host can join the fleet only by being enrolled anew, as a new worker.
          </p>
        </div>
      ) : null}
      <WorkerFacts worker={worker} />
      <AllowedFields worker={worker} />
      <AppliedPolicy worker={worker} />
    </>
  );
}

function Fact({ label, children }: { readonly label: string; readonly children: ReactNode }) {
  return (
    <div>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

function WorkerFacts({ worker }: { readonly worker: WorkerDetail }) {
  const now = useNow();
  const pools = workerPools(worker);
  return (
    <section aria-labelledby="facts-heading">
      <h2 id="facts-heading" className="visually-hidden">
        Facts
      </h2>
      <dl className="summary">
        <Fact label="Worker id">
          <span className="mono">{worker.id}</span>
        </Fact>
        <Fact label="Name">{worker.name ?? <span className="muted">none given</span>}</Fact>
        <Fact label="Connection">{worker.status === 'ONLINE' ? 'Connected' : 'Not connected'}</Fact>
        <Fact label="Version">
          <span className="mono">{worker.version}</span>{' '}
          {worker.versionSupported ? (
            <span className="muted">(supported)</span>
          ) : (
            <strong className="flag">
              <span aria-hidden="true">⚠ </span>outside the supported window
            </strong>
          )}
        </Fact>
        <Fact label="Pools">
          {pools.length === 0 ? <span className="muted">none</span> : pools.map((pool) => `${pool.name}${pool.enrolled ? ' (enrolled)' : ''}`).join(', ')}
        </Fact>
        <Fact label="Load">
          {worker.activeAttempts} of {worker.capacity} job {worker.capacity === 1 ? 'slot' : 'slots'} in use
        </Fact>
        <Fact label="Last heard from">
          <RelativeTime iso={worker.lastSeenAt} now={now} />
        </Fact>
        <Fact label="Enrolled">{formatTime(worker.enrolledAt)}</Fact>
        {worker.draining ? <Fact label="Draining since">{formatTime(worker.drainingAt)}</Fact> : null}
        <Fact label="Implausible results">
          {worker.implausibleResults > 0 ? (
            <strong className="flag">
              <span aria-hidden="true">⚠ </span>
              {worker.implausibleResults}, the last {formatTime(worker.lastImplausibleAt)}
            </strong>
          ) : (
            'none'
          )}
        </Fact>
        <Fact label="Local policy digest (SHA-256)">
          {worker.localPolicyDigest ? (
            <>
              <span className="mono digest">{worker.localPolicyDigest}</span>{' '}
              <CopyButton text={worker.localPolicyDigest} className="secondary compact" label="Copy digest" />
            </>
          ) : (
            <span className="muted">not reported</span>
          )}
        </Fact>
      </dl>
    </section>
  );
}

function AllowedFields({ worker }: { readonly worker: WorkerDetail }) {
  const sent = worker.allowedFields.filter((field) => field.sent).length;
  return (
    <section aria-labelledby="allowed-heading">
      <h2 id="allowed-heading">What this worker may send at its metadata level</h2>
      <p className="prose">
        A worker reports each job as a result of counts, codes and durations; code, paths, prompts, diffs, model output and test logs never leave its
        network. Its metadata level decides which fields of that result carry anything, and how coarsely. The table below is what can cross from this
        worker to the control plane. For your security team to compare with the worker&apos;s own record on its host:{' '}
        <code>airlock-worker policy show --config worker.yml</code> shows the level and central policy in force there, and{' '}
        <code>airlock-worker audit verify --config worker.yml</code> checks its log of every frame it sent.
      </p>
      {worker.metadataLevel === null ? (
        <p className="muted">
          This worker has not yet reported a result that names its metadata level, so the control plane cannot say which level it runs at. The list
          appears with its first result.
        </p>
      ) : (
        <>
          <p>
            Metadata level <strong>{METADATA_LEVEL_LABEL[worker.metadataLevel]}</strong> <span className="muted">(from its last result)</span>:{' '}
            {sent} of {worker.allowedFields.length} fields can carry a value.
          </p>
          <div className="table-scroll">
            <table className="data-table allowed-fields">
              <caption className="table-note">Every field of a job result at metadata level {METADATA_LEVEL_LABEL[worker.metadataLevel]}</caption>
              <thead>
                <tr>
                  <th scope="col">Field</th>
                  <th scope="col">Type</th>
                  <th scope="col">Sent</th>
                  <th scope="col">Treatment</th>
                  <th scope="col">Note</th>
                </tr>
              </thead>
              <tbody>
                {worker.allowedFields.map((field) => (
                  <tr key={field.field} data-field={field.field} className={field.sent ? undefined : 'not-sent'}>
                    <th scope="row" className="mono">
                      {field.field}
                    </th>
                    <td className="mono">{field.type}</td>
                    <td>{field.sent ? 'yes' : 'no'}</td>
                    <td>{TREATMENT_LABEL[field.treatment]}</td>
                    <td>{field.note}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}

function AppliedPolicy({ worker }: { readonly worker: WorkerDetail }) {
  const { policy } = worker;
  return (
    <section aria-labelledby="policy-heading">
      <h2 id="policy-heading">Central policy it applied</h2>
      {policy.revision === 0 ? (
        <p className="muted">No central policy: the worker runs its local policy alone.</p>
      ) : (
        <>
          <p>
            Revision <strong>{policy.revision}</strong>,{' '}
            {policy.appliedAt ? <>applied {formatTime(policy.appliedAt)}.</> : 'reported in its last Hello, not yet acknowledged as applied.'}
            {worker.narrowedRules.length > 0 ? (
              <>
                {' '}
                Its local policy keeps these rules stricter: <span className="mono">{worker.narrowedRules.join(', ')}</span>.
              </>
            ) : null}
          </p>
          {policy.layers.length === 0 ? (
            <p className="muted">No layer of that revision reaches this worker.</p>
          ) : (
            <div className="table-scroll">
              <table className="data-table">
                <caption className="table-note">The layers of revision {policy.revision} its bundle carried</caption>
                <thead>
                  <tr>
                    <th scope="col">Policy</th>
                    <th scope="col" className="numeric">
                      Version
                    </th>
                    <th scope="col">Scope</th>
                    <th scope="col">Key</th>
                    <th scope="col">Mode</th>
                  </tr>
                </thead>
                <tbody>
                  {policy.layers.map((layer) => (
                    <tr key={`${layer.scope}/${layer.key ?? ''}/${layer.mode}`}>
                      <th scope="row">
                        <Link to={`/policies/${layer.policyId}`}>{layer.policyName ?? `${shortId(layer.policyId)} (no longer found)`}</Link>
                      </th>
                      <td className="numeric">{layer.version}</td>
                      <td>{humanize(layer.scope)}</td>
                      <td className="mono">{layer.key ?? '—'}</td>
                      <td>{humanize(layer.mode)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </>
      )}
    </section>
  );
}
