import { useId } from 'react';
import { api, type Schemas } from '../api/client';
import { settle, useApiResource } from '../api/api-resource';
import { CHANGE_MARKS, diffValue } from './policy-labels';

type PolicyChange = Schemas['PolicyChangeResponse'];

/**
 * What changed between two versions, as the server's diff says (policies/policy-diff.ts):
 * one row per field added, removed or changed, with the values. Each kind has its sign
 * (+ − ~) and its word besides its colour.
 */
export function PolicyDiffView({ policyId, from, to }: { readonly policyId: string; readonly from: number; readonly to: number }) {
  const diff = useApiResource(`${policyId}/${from}/${to}`, () => settle(api.GET('/api/v1/policies/{id}/diff', { params: { path: { id: policyId }, query: { from, to } } })));
  const captionId = useId();

  if (diff.problem) {
    return (
      <p className="form-problem" role="alert">
        {diff.problem.message}
      </p>
    );
  }
  if (!diff.data) return <p aria-busy="true">Loading the changes…</p>;
  const { changes } = diff.data;
  const counts = (['added', 'removed', 'changed'] as const).map((kind) => ({ kind, count: changes.filter((change) => change.change === kind).length }));

  return (
    <>
      <p role="status" className="diff-summary">
        {changes.length === 0
          ? `Versions ${from} and ${to} are the same document.`
          : `From version ${from} to version ${to}: ${counts
              .filter(({ count }) => count > 0)
              .map(({ kind, count }) => `${count} ${kind}`)
              .join(', ')}.`}
      </p>
      {changes.length > 0 ? (
        <div className="table-scroll">
          <table className="data-table diff-table" aria-labelledby={captionId}>
            <caption id={captionId} className="visually-hidden">
              Changes from version {from} to version {to}
            </caption>
            <thead>
              <tr>
                <th scope="col">Change</th>
                <th scope="col">Field</th>
                <th scope="col">
                  Value (version {from} → version {to})
                </th>
              </tr>
            </thead>
            <tbody>
              {changes.map((change) => (
                <DiffRow key={`${change.change}:${change.path}`} change={change} />
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </>
  );
}

function DiffRow({ change }: { readonly change: PolicyChange }) {
  const mark = CHANGE_MARKS[change.change];
  // The generated types call these objects; they are any JSON value, or absent.
  const before: unknown = change.before;
  const after: unknown = change.after;
  return (
    <tr className={`diff-${change.change}`} data-change={change.change} data-path={change.path}>
      <td className="nowrap">
        <span className="diff-mark" aria-hidden="true">
          {mark.sign}
        </span>{' '}
        {mark.word}
      </td>
      <td>
        <code>{change.path}</code>
      </td>
      <td className="diff-values">
        {change.change === 'added' ? (
          <ins>{diffValue(after)}</ins>
        ) : change.change === 'removed' ? (
          <del>{diffValue(before)}</del>
        ) : (
          <>
            <del>{diffValue(before)}</del> <span aria-hidden="true">→</span> <span className="visually-hidden">becomes</span> <ins>{diffValue(after)}</ins>
          </>
        )}
      </td>
    </tr>
  );
}
