import { parseBundleLayers, type BundleLayers, type PolicyDocumentInput } from './policy-document';
import { selectLayers } from './policy-layers';

const POLICY_ID = '0b7f3f8e-1c52-4d7a-9a55-0d4b5d3c2e11';

type LayerInput = { scope: 'tenant' | 'pool' | 'repository'; key?: string; mode: 'enforce' | 'shadow'; rules: PolicyDocumentInput['rules'] };

function bundle(...layers: LayerInput[]): BundleLayers {
  const parsed = parseBundleLayers({
    layers: layers.map(({ rules, ...layer }, index) => ({ ...layer, policyId: POLICY_ID, version: index + 1, document: { schemaVersion: 1, rules } })),
  });
  if (!parsed.ok) throw new Error(`test bundle refused: ${JSON.stringify(parsed.errors)}`);
  return parsed.value;
}

// Each layer's max-files-changed tells which layer a selected document came from.
const maxes = (documents: ReadonlyArray<{ rules: { 'max-files-changed'?: { max: number } } }> | undefined) => documents?.map((d) => d.rules['max-files-changed']?.max);

const layers = bundle(
  { scope: 'repository', key: 'payments-api', mode: 'enforce', rules: { 'max-files-changed': { max: 3 } } },
  { scope: 'pool', key: 'gpu', mode: 'enforce', rules: { 'max-files-changed': { max: 2 } } },
  { scope: 'tenant', mode: 'enforce', rules: { 'max-files-changed': { max: 1 } } },
  { scope: 'pool', key: 'eu', mode: 'enforce', rules: { 'max-files-changed': { max: 4 } } },
  { scope: 'repository', key: 'billing', mode: 'enforce', rules: { 'max-files-changed': { max: 5 } } },
);

describe('selectLayers', () => {
  it('takes the tenant layer, the pools the worker is in and the repository layer of the job, in that order', () => {
    expect(maxes(selectLayers(layers, { labels: ['gpu', 'eu'], repoAlias: 'payments-api' }).enforce)).toEqual([1, 4, 2, 3]);
  });

  it('ignores pools the worker is not in and repository layers of other aliases', () => {
    expect(maxes(selectLayers(layers, { labels: ['gpu', 'us'], repoAlias: 'web' }).enforce)).toEqual([1, 2]);
  });

  it('takes no repository layer when there is no job alias', () => {
    const selection = selectLayers(layers, { labels: [] });
    expect(maxes(selection.enforce)).toEqual([1]);
    expect(selection.shadow).toBeUndefined();
  });

  it('returns no documents for an empty bundle', () => {
    expect(selectLayers(bundle(), { labels: ['gpu'], repoAlias: 'billing' })).toEqual({ enforce: [], shadow: undefined });
  });

  describe('shadow layers', () => {
    const withShadows = bundle(
      { scope: 'tenant', mode: 'enforce', rules: { 'max-files-changed': { max: 1 } } },
      { scope: 'tenant', mode: 'shadow', rules: { 'max-files-changed': { max: 10 } } },
      { scope: 'pool', key: 'gpu', mode: 'enforce', rules: { 'max-files-changed': { max: 2 } } },
      { scope: 'pool', key: 'eu', mode: 'shadow', rules: { 'max-files-changed': { max: 40 } } },
      { scope: 'repository', key: 'billing', mode: 'shadow', rules: { 'max-files-changed': { max: 50 } } },
    );

    it('replace the enforce layer of the same scope and key in the shadow set, and leave the enforce set alone', () => {
      const selection = selectLayers(withShadows, { labels: ['gpu'] });
      expect(maxes(selection.enforce)).toEqual([1, 2]);
      expect(maxes(selection.shadow)).toEqual([10, 2]);
    });

    it('are added where their scope and key have no enforce layer', () => {
      const selection = selectLayers(withShadows, { labels: ['gpu', 'eu'], repoAlias: 'billing' });
      expect(maxes(selection.enforce)).toEqual([1, 2]);
      expect(maxes(selection.shadow)).toEqual([10, 40, 2, 50]);
    });

    it('apply only where their enforce counterpart would: a shadow pool the worker is not in gives no shadow set', () => {
      const onlyPoolShadow = bundle(
        { scope: 'tenant', mode: 'enforce', rules: { 'max-files-changed': { max: 1 } } },
        { scope: 'pool', key: 'eu', mode: 'shadow', rules: { 'max-files-changed': { max: 40 } } },
      );
      expect(selectLayers(onlyPoolShadow, { labels: ['gpu'] })).toEqual({ enforce: [onlyPoolShadow.layers[0]!.document], shadow: undefined });
    });
  });
});
