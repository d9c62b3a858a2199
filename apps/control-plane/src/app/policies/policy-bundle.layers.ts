import type { PolicyLayerRef, PolicyMode, PolicyScope, PublishedLayer } from '@airlock/data-access';
import { parseBundleLayers, type BundleLayer, type BundleLayers, type PolicyDocument } from '@airlock/policy';
import { WIRE_LIMITS } from '@airlock/protocol';

/** Scopes and modes as the API, the documents and the bundle spell them. */
export const SCOPE_NAMES = { TENANT: 'tenant', POOL: 'pool', REPOSITORY: 'repository' } as const satisfies Record<PolicyScope, string>;
export const MODE_NAMES = { ENFORCE: 'enforce', SHADOW: 'shadow' } as const satisfies Record<PolicyMode, string>;

/**
 * The pools a worker belongs to: the labels of its Hello and the pool its enrollment token
 * named (authoritative: an admin chose it, where labels are what the worker's config says).
 */
export function workerPools(worker: { readonly labels: readonly string[]; readonly pool: string | null }): string[] {
  return worker.pool === null || worker.labels.includes(worker.pool) ? [...worker.labels] : [...worker.labels, worker.pool];
}

/**
 * The layers that reach one worker: every tenant layer, the pool layers of the worker's
 * pools (workerPools), and every repository layer (the worker applies those to the
 * repositories of its catalog, which the control plane does not know).
 */
export function layersForWorker<Layer extends { readonly scope: PolicyScope; readonly key: string }>(layers: readonly Layer[], pools: readonly string[]): Layer[] {
  return layers.filter((layer) => layer.scope !== 'POOL' || pools.includes(layer.key));
}

/** A layer with its document: as stored (unknown), or already read by libs/policy's schema. */
type LayerWithDocument<Document> = PolicyLayerRef & { readonly document: Document };

/** A bundle layer whose document is as the caller holds it. */
type BundleLayerWith<Document> = Omit<BundleLayer, 'document'> & { document: Document };

/** A layer as libs/policy's bundle schema has it (`bundleLayerSchema`). */
function toBundleLayer<Document>(layer: LayerWithDocument<Document>): BundleLayerWith<Document> {
  return {
    scope: SCOPE_NAMES[layer.scope],
    ...(layer.scope === 'TENANT' ? {} : { key: layer.key }),
    policyId: layer.policyId,
    version: layer.version,
    mode: MODE_NAMES[layer.mode],
    document: layer.document,
  };
}

/** The `layers_json` of a bundle carrying these layers. */
export function bundleLayersJson(layers: readonly PublishedLayer[]): string {
  return JSON.stringify({ layers: layers.map(toBundleLayer) });
}

/**
 * The layers of the bundle one worker gets (layersForWorker over its pools), documents already
 * read by libs/policy's schema: what the worker hands `selectLayers`.
 */
export function workerBundleLayers(
  layers: readonly LayerWithDocument<PolicyDocument>[],
  worker: { readonly labels: readonly string[]; readonly pool: string | null },
): BundleLayers {
  return { layers: layersForWorker(layers, workerPools(worker)).map(toBundleLayer) };
}

/**
 * Why these layers cannot travel as one bundle, or null: more bytes than the wire allows,
 * or anything libs/policy's bundle schema (which the worker applies) refuses, such as more
 * than 256 layers.
 */
export function bundleLayersProblem(layersJson: string): string | null {
  const bytes = Buffer.byteLength(layersJson, 'utf8');
  if (bytes > WIRE_LIMITS.maxPolicyLayersJsonBytes) {
    return `the layers would take ${bytes} bytes of JSON, above the bundle limit of ${WIRE_LIMITS.maxPolicyLayersJsonBytes}`;
  }
  const parsed = parseBundleLayers(JSON.parse(layersJson));
  if (!parsed.ok) return parsed.errors.map((error) => `${error.path}: expected ${error.expected}`).join('; ');
  return null;
}

/**
 * The layers of the worker that would receive the most: tenant and repository layers, and
 * the pool layers of the largest pools a worker can belong to at once (Hello carries at
 * most `maxWorkerLabels` labels, and its enrollment may name one pool more). If these fit
 * in a bundle, every worker's bundle does.
 */
export function largestBundleLayers(layers: readonly PublishedLayer[]): PublishedLayer[] {
  const poolBytes = new Map<string, number>();
  for (const layer of layers) {
    if (layer.scope !== 'POOL') continue;
    poolBytes.set(layer.key, (poolBytes.get(layer.key) ?? 0) + Buffer.byteLength(JSON.stringify(toBundleLayer(layer)), 'utf8'));
  }
  const largestPools = [...poolBytes.entries()]
    .sort(([keyA, a], [keyB, b]) => b - a || keyA.localeCompare(keyB))
    .slice(0, WIRE_LIMITS.maxWorkerLabels + 1)
    .map(([key]) => key);
  return layersForWorker(layers, largestPools);
}
