import type { PublishedLayer } from '@airlock/data-access';
import { parseBundleLayers } from '@airlock/policy';
import { WIRE_LIMITS } from '@airlock/protocol';
import { bundleLayersJson, bundleLayersProblem, largestBundleLayers, layersForWorker, workerPools } from './policy-bundle.layers';

const POLICY_ID = '6f1d2c3b-4a59-4e8f-9b7a-0c1d2e3f4a5b';

function layer(scope: PublishedLayer['scope'], key: string, mode: PublishedLayer['mode'] = 'ENFORCE', document: unknown = { schemaVersion: 1, rules: {} }): PublishedLayer {
  return { scope, key, mode, policyId: POLICY_ID, policyName: 'p', version: 1, document, revision: 1, publishedAt: new Date(0), publishedById: POLICY_ID, publishedByName: 'admin' };
}

const tenant = layer('TENANT', '');
const tenantShadow = layer('TENANT', '', 'SHADOW');
const gpu = layer('POOL', 'gpu');
const eu = layer('POOL', 'eu');
const web = layer('REPOSITORY', 'web');

describe('bundle layers', () => {
  it('gives a worker the tenant layers, the pools of its labels and every repository layer', () => {
    const all = [tenant, tenantShadow, eu, gpu, web];
    expect(layersForWorker(all, [])).toEqual([tenant, tenantShadow, web]);
    expect(layersForWorker(all, ['gpu'])).toEqual([tenant, tenantShadow, gpu, web]);
    expect(layersForWorker(all, ['gpu', 'eu', 'other'])).toEqual(all);
  });

  it('writes layers_json that libs/policy accepts: lower-case scope and mode, no key for the tenant', () => {
    const json = bundleLayersJson([tenant, gpu]);
    const parsed = parseBundleLayers(JSON.parse(json));
    expect(parsed.ok).toBe(true);
    expect(JSON.parse(json)).toEqual({
      layers: [
        { scope: 'tenant', policyId: POLICY_ID, version: 1, mode: 'enforce', document: { schemaVersion: 1, rules: {} } },
        { scope: 'pool', key: 'gpu', policyId: POLICY_ID, version: 1, mode: 'enforce', document: { schemaVersion: 1, rules: {} } },
      ],
    });
    expect(bundleLayersProblem(json)).toBeNull();
  });

  it('names a bundle too large for the wire, and one the schema refuses', () => {
    const description = 'x'.repeat(1_900);
    const big = Array.from({ length: 90 }, (_, n) => layer('REPOSITORY', `repo-${n}`, 'ENFORCE', { schemaVersion: 1, description, rules: {} }));
    expect(bundleLayersProblem(bundleLayersJson(big))).toMatch(new RegExp(`^the layers would take \\d+ bytes of JSON, above the bundle limit of ${WIRE_LIMITS.maxPolicyLayersJsonBytes}$`));
    const many = Array.from({ length: 257 }, (_, n) => layer('REPOSITORY', `r${n}`));
    expect(bundleLayersProblem(bundleLayersJson(many))).toBe('layers: expected at most 256 layers');
  });

  it('sizes the largest bundle from the 17 largest pools a worker could belong to: 16 labels and its enrolled pool', () => {
    const pools = Array.from({ length: 20 }, (_, n) => layer('POOL', `pool-${String(n).padStart(2, '0')}`, 'ENFORCE', { schemaVersion: 1, description: 'd'.repeat(n), rules: {} }));
    const largest = largestBundleLayers([tenant, ...pools, web]);
    expect(largest).toEqual([tenant, ...pools.slice(3), web]);
  });

  it("counts a worker's enrolled pool among its pools, once", () => {
    expect(workerPools({ labels: ['eu'], pool: 'gpu' })).toEqual(['eu', 'gpu']);
    expect(workerPools({ labels: ['gpu'], pool: 'gpu' })).toEqual(['gpu']);
    expect(workerPools({ labels: [], pool: null })).toEqual([]);
    expect(layersForWorker([tenant, eu, gpu, web], workerPools({ labels: [], pool: 'gpu' }))).toEqual([tenant, gpu, web]);
  });
});
