import { Link, useParams } from 'react-router';
import { api } from '../api/client';
import { useHasScope } from '../auth/session';
import { useLiveEvent } from '../live/live-events';
import { formatTime } from '../ui/format';
import { settle, useApiResource } from '../api/api-resource';
import { policyDocumentText } from './policy-document-text';
import { InForceAs, readCurrentPolicy } from './policy-parts';
import { PublishForm } from './publish-form';

/** `/policies/:policyId/versions/:number`: one version — its document, where it is in force — and publishing it. */
export function PolicyVersionPage() {
  const { policyId = '', versionNumber = '' } = useParams();
  const number = Number(versionNumber);
  const valid = Number.isInteger(number) && number >= 1;
  const policy = useApiResource(policyId, () => settle(api.GET('/api/v1/policies/{id}', { params: { path: { id: policyId } } })));
  const version = useApiResource(`${policyId}/${number}`, () =>
    settle(api.GET('/api/v1/policies/{id}/versions/{number}', { params: { path: { id: policyId, number: valid ? number : 0 } } })),
  );
  const current = useApiResource('current', readCurrentPolicy);
  const canWrite = useHasScope('policy:write');
  useLiveEvent('resync', () => {
    policy.reload();
    current.reload();
  });

  const name = policy.data?.name ?? 'Policy';
  const problem = version.problem ?? policy.problem;
  const layers = (current.data?.layers ?? []).filter((layer) => layer.policyId === policyId && layer.version === number);

  return (
    <>
      <title>{`${name} version ${versionNumber} — Airlock`}</title>
      <p className="breadcrumb">
        <Link to="/policies">Policies</Link> <span aria-hidden="true">/</span>{' '}
        {policy.data ? (
          <>
            <Link to={`/policies/${policyId}`}>{policy.data.name}</Link> <span aria-hidden="true">/</span>
          </>
        ) : null}
      </p>
      <div className="page-heading">
        <h1 tabIndex={-1}>
          {name} — version {versionNumber}
        </h1>
        {canWrite && version.data ? (
          <Link to={`/policies/${policyId}/versions/new?from=${number}`} className="button secondary page-action">
            New version from this one
          </Link>
        ) : null}
      </div>
      {problem ? (
        <p className="form-problem" role="alert">
          {version.status === 404 || policy.status === 404 ? 'No such policy or version in this organisation.' : problem.message}
        </p>
      ) : null}
      {version.data ? (
        <>
          <dl className="summary">
            <div>
              <dt>Author</dt>
              <dd>{version.data.authorName}</dd>
            </div>
            <div>
              <dt>Saved</dt>
              <dd>{formatTime(version.data.createdAt)}</dd>
            </div>
            <div>
              <dt>Comment</dt>
              <dd>{version.data.comment ?? '—'}</dd>
            </div>
            <div>
              <dt>In force as</dt>
              <dd>
                <InForceAs layers={layers} withVersion={false} />
              </dd>
            </div>
            {number > 1 ? (
              <div>
                <dt>Changes</dt>
                <dd>
                  <Link to={`/policies/${policyId}?from=${number - 1}&to=${number}`}>Compared with version {number - 1}</Link>
                </dd>
              </div>
            ) : null}
          </dl>
          {canWrite && policy.data && current.data ? (
            <PublishForm policyId={policyId} policyName={policy.data.name} version={number} current={current.data} onPublished={current.reload} />
          ) : null}
          <section aria-labelledby="document-heading">
            <h2 id="document-heading">Document</h2>
            <pre className="json-view" tabIndex={0} aria-label={`The document of version ${number}`}>
              <code>{policyDocumentText(version.data.document)}</code>
            </pre>
          </section>
        </>
      ) : !problem ? (
        <p aria-busy="true">Loading…</p>
      ) : null}
    </>
  );
}
