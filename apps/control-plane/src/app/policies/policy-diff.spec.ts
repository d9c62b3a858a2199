import { diffPolicyDocuments } from './policy-diff';

const v1 = {
  schemaVersion: 1,
  description: 'baseline',
  rules: {
    'max-files-changed': { max: 10 },
    'protected-paths': { paths: ['.airlock.yml', 'infra/**'], level: 'mandatory' },
    'base-refs': { allowed: { 'web.app': ['main'] } },
  },
};

const v2 = {
  schemaVersion: 1,
  rules: {
    'max-files-changed': { max: 20, level: 'advisory' },
    'protected-paths': { paths: ['infra/**', '.airlock.yml'], level: 'mandatory' },
    'base-refs': { allowed: { 'web.app': ['main'] } },
    secrets: { enabled: true },
  },
};

describe('diffPolicyDocuments', () => {
  it('lists added, removed and changed fields by dotted path, in path order', () => {
    expect(diffPolicyDocuments(v1, v2)).toEqual([
      { path: 'description', change: 'removed', before: 'baseline' },
      { path: 'rules.max-files-changed.level', change: 'added', after: 'advisory' },
      { path: 'rules.max-files-changed.max', change: 'changed', before: 10, after: 20 },
      { path: 'rules.protected-paths.paths', change: 'changed', before: ['.airlock.yml', 'infra/**'], after: ['infra/**', '.airlock.yml'] },
      { path: 'rules.secrets', change: 'added', after: { enabled: true } },
    ]);
  });

  it('is the mirror image the other way round, and empty between equal documents', () => {
    const backwards = diffPolicyDocuments(v2, v1);
    expect(backwards.find((change) => change.path === 'rules.max-files-changed.max')).toEqual({ path: 'rules.max-files-changed.max', change: 'changed', before: 20, after: 10 });
    expect(backwards.find((change) => change.path === 'rules.secrets')).toEqual({ path: 'rules.secrets', change: 'removed', before: { enabled: true } });
    expect(diffPolicyDocuments(v1, structuredClone(v1))).toEqual([]);
  });

  it('quotes keys that are not plain, so a dot in an alias never reads as nesting', () => {
    const before = { rules: { 'base-refs': { allowed: { 'web.app': ['main'] } } } };
    const after = { rules: { 'base-refs': { allowed: { 'web.app': ['main', 'release/*'] } } } };
    expect(diffPolicyDocuments(before, after)).toEqual([
      { path: 'rules.base-refs.allowed["web.app"]', change: 'changed', before: ['main'], after: ['main', 'release/*'] },
    ]);
  });

  it('treats key order as no change', () => {
    expect(diffPolicyDocuments({ a: 1, b: { c: 2, d: 3 } }, { b: { d: 3, c: 2 }, a: 1 })).toEqual([]);
  });
});
