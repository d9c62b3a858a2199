import { useId } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { api, type Schemas } from '../api/client';
import { useHasScope } from '../auth/session';
import { useLiveEvent } from '../live/live-events';
import { formatTime } from '../ui/format';
import { settle, useApiResource } from '../api/api-resource';
import { useNavigationNotice } from './navigation-notice';
import { comparedVersions } from './compare-query';
import { PolicyDiffView } from './policy-diff-view';
import { InForceAs, readCurrentPolicy, type PolicyLayer } from './policy-parts';

type PolicyDetail = Schemas['PolicyDetailResponse'];

/** `/policies/:policyId`: a policy's versions, where they are in force, and what changed between any two. */
export function PolicyPage() {
  const { policyId = '' } = useParams();
  const policy = useApiResource(policyId, () => settle(api.GET('/api/v1/policies/{id}', { params: { path: { id: policyId } } })));
  const current = useApiResource('current', readCurrentPolicy);
  const notice = useNavigationNotice();
  useLiveEvent('resync', () => {
    policy.reload();
    current.reload();
  });

  if (!policy.data) {
    return (
      <>
        <title>Policy — Airlock</title>
        <p className="breadcrumb">
          <Link to="/policies">Policies</Link> <span aria-hidden="true">/</span>
        </p>
        <h1 tabIndex={-1}>Policy</h1>
        {policy.problem ? (
          <p className="form-problem" role="alert">
            {policy.status === 404 ? 'No such policy in this organisation.' : policy.problem.message}
          </p>
        ) : (
          <p aria-busy="true">Loading…</p>
        )}
      </>
    );
  }
  const layers = (current.data?.layers ?? []).filter((layer) => layer.policyId === policyId);
  return <PolicyView policy={policy.data} layers={layers} notice={notice} />;
}

function PolicyView({ policy, layers, notice }: { readonly policy: PolicyDetail; readonly layers: readonly PolicyLayer[]; readonly notice: string | null }) {
  const canWrite = useHasScope('policy:write');
  const captionId = useId();
  const versions = [...policy.versions].sort((a, b) => b.number - a.number);
  return (
    <>
      <title>{`${policy.name} — Policies — Airlock`}</title>
      <p className="breadcrumb">
        <Link to="/policies">Policies</Link> <span aria-hidden="true">/</span>
      </p>
      <div className="page-heading">
        <h1 tabIndex={-1}>{policy.name}</h1>
        {canWrite ? (
          <Link to={`/policies/${policy.id}/versions/new`} className="button page-action">
            New version
          </Link>
        ) : null}
      </div>
      <p role="status" className="form-success">
        {notice}
      </p>
      <dl className="summary">
        <div>
          <dt>Latest version</dt>
          <dd>{policy.latestVersion}</dd>
        </div>
        <div>
          <dt>Created</dt>
          <dd>{formatTime(policy.createdAt)}</dd>
        </div>
        <div>
          <dt>In force as</dt>
          <dd>
            <InForceAs layers={layers} />
          </dd>
        </div>
      </dl>

      <section aria-labelledby="versions-heading">
        <h2 id="versions-heading">Versions</h2>
        <div className="table-scroll">
          <table className="data-table" aria-labelledby={captionId}>
            <caption id={captionId} className="table-note">
              Versions never change once saved; open one to read its document or publish it.
            </caption>
            <thead>
              <tr>
                <th scope="col">Version</th>
                <th scope="col">Author</th>
                <th scope="col">Comment</th>
                <th scope="col">Saved</th>
                <th scope="col">In force as</th>
              </tr>
            </thead>
            <tbody>
              {versions.map((version) => (
                <tr key={version.number} data-version={version.number}>
                  <td>
                    <Link to={`/policies/${policy.id}/versions/${version.number}`}>Version {version.number}</Link>
                  </td>
                  <td>{version.authorName}</td>
                  <td>{version.comment ?? <span className="muted">—</span>}</td>
                  <td className="nowrap">{formatTime(version.createdAt)}</td>
                  <td>
                    <InForceAs layers={layers.filter((layer) => layer.version === version.number)} withVersion={false} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>

      <section aria-labelledby="compare-heading">
        <h2 id="compare-heading">Compare versions</h2>
        <CompareVersions policy={policy} />
      </section>
    </>
  );
}

/** Two version pickers, kept in the address (?from=&to=) so a comparison can be shared, and the server's diff between them. */
function CompareVersions({ policy }: { readonly policy: PolicyDetail }) {
  const id = useId();
  const [searchParams, setSearchParams] = useSearchParams();
  const compared = comparedVersions(searchParams, policy.latestVersion);
  if (!compared) return <p className="muted">There is one version only: nothing to compare yet.</p>;
  const numbers = [...policy.versions].map((version) => version.number).sort((a, b) => a - b);

  const choose = (side: 'from' | 'to', value: string) => {
    const next = new URLSearchParams(searchParams);
    next.set('from', String(side === 'from' ? value : compared.from));
    next.set('to', String(side === 'to' ? value : compared.to));
    setSearchParams(next, { replace: true, preventScrollReset: true });
  };

  return (
    <>
      <div className="filters compare-pickers">
        {(['from', 'to'] as const).map((side) => (
          <div className="field" key={side}>
            <label htmlFor={`${id}-${side}`}>{side === 'from' ? 'From version' : 'To version'}</label>
            <select id={`${id}-${side}`} value={compared[side]} onChange={(event) => choose(side, event.target.value)}>
              {numbers.map((number) => (
                <option key={number} value={number}>
                  Version {number}
                </option>
              ))}
            </select>
          </div>
        ))}
      </div>
      <PolicyDiffView policyId={policy.id} from={compared.from} to={compared.to} />
    </>
  );
}
