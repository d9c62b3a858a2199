import { parseBundleLayers, parsePolicyDocument, RULE_IDS, type RuleId } from './policy-document';

const errorsOf = (rules: unknown) => {
  const result = parsePolicyDocument({ schemaVersion: 1, rules });
  return result.ok ? [] : result.errors;
};

describe('parsePolicyDocument', () => {
  it('accepts a document with every rule, applying the defaults', () => {
    const result = parsePolicyDocument({
      schemaVersion: 1,
      description: 'baseline',
      rules: {
        'job-kinds': { allowed: ['fix'] },
        repositories: { allowed: ['payments-*', 'billing'] },
        'base-refs': { allowed: { '*': ['main', 'release/*'] } },
        'protected-paths': { paths: ['deploy/**'] },
        'max-files-changed': { max: 20 },
        'max-lines-changed': { max: 500, level: 'advisory' },
        secrets: { enabled: true },
        'dependency-manifests': { allowChanges: false },
        'denied-packages': { packages: ['left-pad', '@evil/pkg'] },
        'denied-licenses': { licenses: ['AGPL-3.0-only'] },
        'tests-must-pass': { required: true },
        'min-tests-run': { min: 1 },
        'inference-endpoints': { allowed: ['gpu-a'] },
        'inference-token-budget': { max: 100_000 },
        'inference-time-budget': { max: '15m' },
        'metadata-level': { report: 'standard' },
      },
    });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(Object.keys(result.value.rules).sort()).toEqual([...RULE_IDS].sort());
    expect(result.value.rules['max-files-changed']).toEqual({ max: 20, level: 'mandatory' });
    expect(result.value.rules['max-lines-changed']).toEqual({ max: 500, level: 'advisory' });
    expect(result.value.rules['inference-time-budget']).toEqual({ max: 900_000 });
    expect(result.value.rules['metadata-level']).toEqual({ report: 'standard', buckets: false });
  });

  // One wrong value per rule, and the exact path the error names.
  const wrong: Record<RuleId, [unknown, string]> = {
    'job-kinds': [{ allowed: ['fix', 'deploy'] }, 'rules.job-kinds.allowed[1]'],
    repositories: [{ allowed: ['Payments API'] }, 'rules.repositories.allowed[0]'],
    'base-refs': [{ allowed: { 'payments-api': ['refs/heads/main'] } }, 'rules.base-refs.allowed.payments-api[0]'],
    'protected-paths': [{ paths: ['ok/**', '../outside'] }, 'rules.protected-paths.paths[1]'],
    'max-files-changed': [{ max: 0 }, 'rules.max-files-changed.max'],
    'max-lines-changed': [{ max: 1.5 }, 'rules.max-lines-changed.max'],
    secrets: [{ enabled: 'yes' }, 'rules.secrets.enabled'],
    'dependency-manifests': [{ allowChanges: false, level: 'strict' }, 'rules.dependency-manifests.level'],
    'denied-packages': [{ packages: ['Left_Pad'] }, 'rules.denied-packages.packages[0]'],
    'denied-licenses': [{ licenses: ['GPL 3'] }, 'rules.denied-licenses.licenses[0]'],
    'tests-must-pass': [{}, 'rules.tests-must-pass.required'],
    'min-tests-run': [{ min: -1 }, 'rules.min-tests-run.min'],
    'inference-endpoints': [{ allowed: ['gpu a'] }, 'rules.inference-endpoints.allowed[0]'],
    'inference-token-budget': [{ max: 10 }, 'rules.inference-token-budget.max'],
    'inference-time-budget': [{ max: '2d' }, 'rules.inference-time-budget.max'],
    'metadata-level': [{ report: 'verbose' }, 'rules.metadata-level.report'],
  };

  it.each(RULE_IDS.map((id) => [id, ...wrong[id]] as const))('refuses a wrong %s, naming %p', (id, value, path) => {
    const errors = errorsOf({ [id]: value });
    expect(errors.map((error) => error.path)).toEqual([path]);
  });

  it('names an unknown rule and an unknown field of a rule', () => {
    expect(errorsOf({ 'max-files': { max: 1 } })).toEqual([{ path: 'rules', expected: 'no field "max-files" (unknown here)' }]);
    expect(errorsOf({ secrets: { enabled: true, scanner: 'x' } })).toEqual([{ path: 'rules.secrets', expected: 'no field "scanner" (unknown here)' }]);
  });

  it('says what it expected without echoing the value', () => {
    const [error] = errorsOf({ 'max-files-changed': { max: 123_456 } });
    expect(error).toEqual({ path: 'rules.max-files-changed.max', expected: 'at most 10000' });
  });

  it('refuses another schema version and a missing rules object', () => {
    expect(parsePolicyDocument({ schemaVersion: 2, rules: {} })).toEqual({ ok: false, errors: [{ path: 'schemaVersion', expected: '1' }] });
    expect(parsePolicyDocument({ schemaVersion: 1 })).toMatchObject({ ok: false, errors: [{ path: 'rules' }] });
  });
});

describe('parseBundleLayers', () => {
  const layer = (fields: Record<string, unknown>) => ({
    scope: 'tenant',
    policyId: '0b7f3f8e-1c52-4d7a-9a55-0d4b5d3c2e11',
    version: 1,
    mode: 'enforce',
    document: { schemaVersion: 1, rules: {} },
    ...fields,
  });

  it('accepts a tenant layer without a key and pool or repository layers with one', () => {
    expect(parseBundleLayers({ layers: [layer({}), layer({ scope: 'pool', key: 'gpu' }), layer({ scope: 'repository', key: 'billing', mode: 'shadow' })] }).ok).toBe(true);
  });

  it('refuses a tenant layer with a key and a pool layer without one', () => {
    expect(parseBundleLayers({ layers: [layer({ key: 'gpu' })] })).toEqual({ ok: false, errors: [{ path: 'layers[0].key', expected: 'no key for the tenant scope' }] });
    expect(parseBundleLayers({ layers: [layer({}), layer({ scope: 'pool' })] })).toEqual({ ok: false, errors: [{ path: 'layers[1].key', expected: 'the pool label the layer applies to' }] });
  });

  it('refuses two enforce layers in one slot, but allows an enforce and a shadow layer there', () => {
    expect(parseBundleLayers({ layers: [layer({ scope: 'pool', key: 'gpu' }), layer({ scope: 'pool', key: 'gpu', mode: 'shadow' })] }).ok).toBe(true);
    const duplicate = parseBundleLayers({ layers: [layer({ scope: 'pool', key: 'gpu' }), layer({ scope: 'pool', key: 'eu' }), layer({ scope: 'pool', key: 'gpu', version: 2 })] });
    expect(duplicate).toMatchObject({ ok: false, errors: [{ path: 'layers[2]' }] });
  });

  it('names a wrong field inside a layer document', () => {
    expect(parseBundleLayers({ layers: [layer({ document: { schemaVersion: 1, rules: { 'min-tests-run': { min: 'x' } } } })] })).toMatchObject({
      ok: false,
      errors: [{ path: 'layers[0].document.rules.min-tests-run.min' }],
    });
  });
});
