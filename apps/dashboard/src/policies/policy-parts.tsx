import type { Schemas } from '../api/client';
import { api } from '../api/client';
import { settle } from '../api/api-resource';
import type { PolicyMode } from './policy-labels';

export type CurrentPolicy = Schemas['CurrentPolicyResponse'];
export type PolicyLayer = Schemas['PolicyLayerResponse'];

export const readCurrentPolicy = () => settle(api.GET('/api/v1/policy'));

/** Enforced or shadow, as a word on a tint: the word carries the meaning. */
export function ModeBadge({ mode }: { readonly mode: PolicyMode }) {
  return mode === 'enforce' ? <span className="status status-active">Enforced</span> : <span className="status status-pending">Shadow</span>;
}

/** Where a layer applies: "Tenant", or the scope and its key. */
export function ScopeText({ layer }: { readonly layer: Pick<PolicyLayer, 'scope' | 'key'> }) {
  if (layer.scope === 'tenant') return <>Tenant</>;
  return (
    <>
      {layer.scope === 'pool' ? 'Pool' : 'Repository'} <span className="mono">{layer.key}</span>
    </>
  );
}

/** The layers a policy (or one of its versions) is in force as, or "not in force". */
export function InForceAs({ layers, withVersion = true }: { readonly layers: readonly PolicyLayer[]; readonly withVersion?: boolean }) {
  if (layers.length === 0) return <span className="muted">not in force</span>;
  return (
    <ul className="plain-list">
      {layers.map((layer) => (
        <li key={`${layer.scope}/${layer.key ?? ''}/${layer.mode}`}>
          {withVersion ? `Version ${layer.version} · ` : null}
          <ScopeText layer={layer} /> · <ModeBadge mode={layer.mode} />
        </li>
      ))}
    </ul>
  );
}
