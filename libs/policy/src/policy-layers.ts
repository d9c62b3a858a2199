import type { BundleLayer, BundleLayers, PolicyDocument } from './policy-document';

export interface LayerSelection {
  /** The documents in force for the job, to merge with local policy (mergePolicy). */
  readonly enforce: PolicyDocument[];
  /**
   * The documents as they would be if every shadow layer that applies were in force, for
   * a job's shadow evaluation; undefined when no shadow layer applies.
   */
  readonly shadow: PolicyDocument[] | undefined;
}

export interface LayerTarget {
  /** The worker's labels: a pool layer applies when its key is one of them. */
  readonly labels: ReadonlyArray<string>;
  /** The job's repository alias: the repository layer with this key applies. None: no repository layer. */
  readonly repoAlias?: string;
}

const SCOPE_ORDER = { tenant: 0, pool: 1, repository: 2 } as const;

/**
 * The layers of a bundle that apply to one worker (and one job), as documents to merge.
 *
 * Layers apply in this order: the tenant baseline, then each pool layer whose key is one
 * of the worker's labels (several when the worker is in several pools), then the
 * repository layer whose key is the job's alias. They combine by the same rule-by-rule
 * merge as local and central policy: the stricter value wins (an allow-list intersects, a
 * limit takes the minimum, a deny-list the union, a boolean and a level the stricter). So
 * a narrower layer can only restrict what a wider one allows, never widen it
 * ("extension-only"), and the order in which layers are listed changes nothing.
 *
 * A shadow layer replaces, for the shadow evaluation only, the enforce layer of the same
 * scope and key (or is added when that scope and key have no enforce layer); the other
 * enforce layers stay as they are.
 */
export function selectLayers(bundle: BundleLayers, target: LayerTarget): LayerSelection {
  const applying = bundle.layers
    .filter((layer) => applies(layer, target))
    .sort(byLayerOrder);
  const enforce = applying.filter((layer) => layer.mode === 'enforce');
  const shadows = applying.filter((layer) => layer.mode === 'shadow');
  if (shadows.length === 0) return { enforce: enforce.map((layer) => layer.document), shadow: undefined };
  const slot = (layer: BundleLayer) => `${layer.scope}:${layer.key ?? ''}`;
  const shadowed = new Set(shadows.map(slot));
  const shadow = [...enforce.filter((layer) => !shadowed.has(slot(layer))), ...shadows].sort(byLayerOrder);
  return { enforce: enforce.map((layer) => layer.document), shadow: shadow.map((layer) => layer.document) };
}

function applies(layer: BundleLayer, target: LayerTarget): boolean {
  switch (layer.scope) {
    case 'tenant':
      return true;
    case 'pool':
      return layer.key !== undefined && target.labels.includes(layer.key);
    case 'repository':
      return target.repoAlias !== undefined && layer.key === target.repoAlias;
  }
}

// Tenant, pools, repository; pools by label. The merge does not depend on it; records and tests read easier.
function byLayerOrder(a: BundleLayer, b: BundleLayer): number {
  return SCOPE_ORDER[a.scope] - SCOPE_ORDER[b.scope] || compare(a.key ?? '', b.key ?? '');
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
