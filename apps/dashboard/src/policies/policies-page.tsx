import { useId, useRef, useState } from 'react';
import { Link } from 'react-router';
import { api, type Schemas } from '../api/client';
import { problemOf, unreachableProblem } from '../api/problems';
import { useHasScope } from '../auth/session';
import { useLiveEvent } from '../live/live-events';
import { ConfirmDialog } from '../ui/confirm-dialog';
import { formatTime } from '../ui/format';
import { settle, useApiResource } from '../api/api-resource';
import { countOf, describeMode, describeScope, slotBody } from './policy-labels';
import { InForceAs, ModeBadge, readCurrentPolicy, ScopeText, type CurrentPolicy, type PolicyLayer } from './policy-parts';
import { useNavigationNotice } from './navigation-notice';

type PolicySummary = Schemas['PolicySummaryResponse'];

/** `/policies`: what is in force (the tenant's revision and its layers), how far it reached the workers, and every policy. */
export function PoliciesPage() {
  const canWrite = useHasScope('policy:write');
  const policies = useApiResource('policies', () => settle(api.GET('/api/v1/policies')));
  const current = useApiResource('current', readCurrentPolicy);
  const rollout = useApiResource('rollout', () => settle(api.GET('/api/v1/policy/rollout')));
  const arrivalNotice = useNavigationNotice();
  const [outcome, setOutcome] = useState<string | null>(null);
  const inForceHeading = useRef<HTMLHeadingElement>(null);

  const reloadAll = () => {
    policies.reload();
    current.reload();
    rollout.reload();
  };
  useLiveEvent('resync', reloadAll);
  // Workers connecting or leaving change the rollout summary.
  useLiveEvent('worker.changed', rollout.reload);

  const rolloutData = rollout.data;
  const upToDate = rolloutData ? rolloutData.workers.filter((worker) => worker.upToDate).length : 0;

  return (
    <>
      <title>Policies — Airlock</title>
      <div className="page-heading">
        <h1 tabIndex={-1}>Policies</h1>
        {canWrite ? (
          <Link to="/policies/new" className="button page-action">
            New policy
          </Link>
        ) : null}
      </div>
      <p role="status" className="form-success">
        {outcome ?? arrivalNotice}
      </p>

      <section aria-labelledby="in-force-heading">
        <h2 id="in-force-heading" ref={inForceHeading} tabIndex={-1}>
          In force
        </h2>
        {current.problem ? (
          <p className="form-problem" role="alert">
            {current.problem.message}
          </p>
        ) : null}
        {current.data ? (
          <>
            <p>
              The organisation&apos;s policy is at <strong>revision {current.data.revision}</strong>
              {current.data.revision === 0 ? ': nothing was published yet, and every worker follows its own config alone.' : '.'}{' '}
              {rolloutData ? (
                <>
                  {upToDate} of {countOf(rolloutData.workers.length, 'worker')} {upToDate === 1 ? 'runs' : 'run'} it.{' '}
                </>
              ) : null}
              <Link to="/policies/rollout">Rollout by worker</Link>
            </p>
            <LayersTable
              current={current.data}
              canWrite={canWrite}
              onWithdrawn={(text) => {
                setOutcome(text);
                current.reload();
                rollout.reload();
                // The row whose button had the focus goes away with the layer: the focus goes to its section.
                window.setTimeout(() => inForceHeading.current?.focus(), 0);
              }}
            />
          </>
        ) : current.loading ? (
          <p aria-busy="true">Loading…</p>
        ) : null}
      </section>

      <section aria-labelledby="all-policies-heading">
        <h2 id="all-policies-heading">All policies</h2>
        {policies.problem ? (
          <p className="form-problem" role="alert">
            {policies.problem.message}
          </p>
        ) : null}
        <PoliciesTable policies={policies.data} layers={current.data?.layers ?? []} loading={policies.loading} canWrite={canWrite} />
      </section>
    </>
  );
}

function LayersTable({ current, canWrite, onWithdrawn }: { readonly current: CurrentPolicy; readonly canWrite: boolean; readonly onWithdrawn: (text: string) => void }) {
  const [withdrawing, setWithdrawing] = useState<PolicyLayer | null>(null);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const captionId = useId();

  if (current.layers.length === 0) return <p className="muted">No layer is in force.</p>;

  const withdraw = async (layer: PolicyLayer) => {
    setBusy(true);
    setProblem(null);
    try {
      const { data, response, error } = await api.POST('/api/v1/policy/withdraw', { body: slotBody(layer.scope, layer.key, layer.mode) });
      if (!data) {
        setProblem(problemOf(response, error).message);
        return;
      }
      setWithdrawing(null);
      onWithdrawn(
        `Withdrew ${layer.policyName} version ${layer.version} from ${describeScope(layer.scope, layer.key)} (${layer.mode}) as revision ${data.revision}; ` +
          `sent to ${countOf(data.sentToConnectedWorkers, 'connected worker')}.`,
      );
    } catch {
      setProblem(unreachableProblem().message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="table-scroll">
      <table className="data-table" aria-labelledby={captionId}>
        <caption id={captionId} className="table-note">
          Layers in force at revision {current.revision}: each applies where it says, and on a worker the stricter of every layer and the worker&apos;s own
          config wins, rule by rule.
        </caption>
        <thead>
          <tr>
            <th scope="col">Scope</th>
            <th scope="col">Mode</th>
            <th scope="col">Policy</th>
            <th scope="col" className="numeric">
              Version
            </th>
            <th scope="col" className="numeric">
              Since revision
            </th>
            <th scope="col">Published by</th>
            <th scope="col">Published</th>
            {canWrite ? (
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            ) : null}
          </tr>
        </thead>
        <tbody>
          {current.layers.map((layer) => (
            <tr key={`${layer.scope}/${layer.key ?? ''}/${layer.mode}`} data-layer={`${layer.scope}/${layer.key ?? ''}/${layer.mode}`}>
              <td>
                <ScopeText layer={layer} />
              </td>
              <td>
                <ModeBadge mode={layer.mode} />
              </td>
              <td>
                <Link to={`/policies/${layer.policyId}`}>{layer.policyName}</Link>
              </td>
              <td className="numeric">
                <Link to={`/policies/${layer.policyId}/versions/${layer.version}`} aria-label={`${layer.policyName} version ${layer.version}`}>
                  {layer.version}
                </Link>
              </td>
              <td className="numeric">{layer.revision}</td>
              <td>{layer.publishedBy}</td>
              <td className="nowrap">{formatTime(layer.publishedAt)}</td>
              {canWrite ? (
                <td>
                  <button
                    type="button"
                    className="danger"
                    onClick={() => {
                      setProblem(null);
                      setWithdrawing(layer);
                    }}
                  >
                    Withdraw<span className="visually-hidden"> the {layer.mode} layer of {describeScope(layer.scope, layer.key)}</span>
                  </button>
                </td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </table>
      <ConfirmDialog
        open={withdrawing !== null}
        title="Withdraw this layer?"
        confirmLabel="Withdraw layer"
        busy={busy}
        problem={problem}
        onConfirm={() => withdrawing && void withdraw(withdrawing)}
        onCancel={() => setWithdrawing(null)}
      >
        {withdrawing ? (
          <>
            <p>
              <strong>
                {withdrawing.policyName} version {withdrawing.version}
              </strong>{' '}
              stops being {describeMode(withdrawing.mode)} for {describeScope(withdrawing.scope, withdrawing.key)}.
            </p>
            <p>
              This makes revision {current.revision + 1}, sent at once to the connected workers. They go on with the other layers and their own config;
              publishing the version again puts it back.
            </p>
          </>
        ) : null}
      </ConfirmDialog>
    </div>
  );
}

function PoliciesTable({
  policies,
  layers,
  loading,
  canWrite,
}: {
  readonly policies: readonly PolicySummary[] | null;
  readonly layers: readonly PolicyLayer[];
  readonly loading: boolean;
  readonly canWrite: boolean;
}) {
  const captionId = useId();
  return (
    <div className="table-scroll">
      <table className="data-table" aria-labelledby={captionId} aria-busy={loading}>
        <caption id={captionId} className="visually-hidden">
          The organisation&apos;s policies, by name
        </caption>
        <thead>
          <tr>
            <th scope="col">Policy</th>
            <th scope="col" className="numeric">
              Latest version
            </th>
            <th scope="col">In force as</th>
            <th scope="col">Created</th>
          </tr>
        </thead>
        <tbody>
          {policies === null ? (
            <tr>
              <td colSpan={4} className="empty">
                {loading ? 'Loading…' : '—'}
              </td>
            </tr>
          ) : policies.length === 0 ? (
            <tr>
              <td colSpan={4} className="empty">
                No policy yet.{canWrite ? ' New policy starts one from an example.' : ''}
              </td>
            </tr>
          ) : (
            [...policies]
              .sort((a, b) => a.name.localeCompare(b.name))
              .map((policy) => (
                <tr key={policy.id} data-policy-id={policy.id}>
                  <td>
                    <Link to={`/policies/${policy.id}`}>{policy.name}</Link>
                  </td>
                  <td className="numeric">{policy.latestVersion}</td>
                  <td>
                    <InForceAs layers={layers.filter((layer) => layer.policyId === policy.id)} />
                  </td>
                  <td className="nowrap">{formatTime(policy.createdAt)}</td>
                </tr>
              ))
          )}
        </tbody>
      </table>
    </div>
  );
}
