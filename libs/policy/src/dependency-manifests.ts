import { posix } from 'node:path';

/**
 * The files that declare or pin a repository's dependencies, by file name at any depth:
 * npm, pip/Poetry/Pipenv/setuptools, Cargo, Go, Maven/Gradle, Bundler, Composer, NuGet.
 */
const MANIFEST_NAMES = new Set([
  'package.json',
  'package-lock.json',
  'npm-shrinkwrap.json',
  'yarn.lock',
  'pnpm-lock.yaml',
  'pyproject.toml',
  'poetry.lock',
  'Pipfile',
  'Pipfile.lock',
  'setup.py',
  'setup.cfg',
  'Cargo.toml',
  'Cargo.lock',
  'go.mod',
  'go.sum',
  'pom.xml',
  'build.gradle',
  'build.gradle.kts',
  'gradle.lockfile',
  'Gemfile',
  'Gemfile.lock',
  'composer.json',
  'composer.lock',
  'packages.lock.json',
]);

const REQUIREMENTS = /^requirements.*\.txt$/;

/** Whether `path` (repository-relative) is a dependency manifest or lockfile. */
export function isDependencyManifest(path: string): boolean {
  const name = posix.basename(path);
  return MANIFEST_NAMES.has(name) || REQUIREMENTS.test(name) || name.endsWith('.csproj');
}

/** The package ecosystems whose manifests the package rules read. */
export type Ecosystem = 'npm' | 'pypi' | 'cargo';

/** A manifest the package rules can read: which ecosystem, and whether it carries licences. */
export function packageManifestKind(path: string): { ecosystem: Ecosystem; format: 'package.json' | 'package-lock' | 'requirements' | 'cargo' } | undefined {
  const name = posix.basename(path);
  if (name === 'package.json') return { ecosystem: 'npm', format: 'package.json' };
  if (name === 'package-lock.json' || name === 'npm-shrinkwrap.json') return { ecosystem: 'npm', format: 'package-lock' };
  if (REQUIREMENTS.test(name)) return { ecosystem: 'pypi', format: 'requirements' };
  if (name === 'Cargo.toml') return { ecosystem: 'cargo', format: 'cargo' };
  return undefined;
}

/**
 * A package name as its registry compares names: npm case-insensitively (new names are
 * lowercase; old ones are matched whatever their case), PyPI per PEP 503 (lowercase, runs
 * of `-`, `_`, `.` as one `-`), crates.io case-insensitively with `-` and `_` the same.
 */
export function normalisePackageName(ecosystem: Ecosystem, name: string): string {
  const lower = name.toLowerCase();
  switch (ecosystem) {
    case 'npm':
      return lower;
    case 'pypi':
      return lower.replace(/[-_.]+/g, '-');
    case 'cargo':
      return lower.replace(/_/g, '-');
  }
}

/** What one version of a manifest declares: package names, and licences by package name (lockfiles). */
export interface ManifestPackages {
  readonly names: ReadonlySet<string>;
  readonly licenses: ReadonlyMap<string, ReadonlyArray<string>>;
}

/** The text could not be read as its format (invalid JSON): its packages are unknown. */
export const UNREADABLE = 'unreadable';

/** The packages a manifest version declares, or UNREADABLE. Names are as written (not normalised). */
export function readManifestPackages(format: 'package.json' | 'package-lock' | 'requirements' | 'cargo', text: string): ManifestPackages | typeof UNREADABLE {
  switch (format) {
    case 'package.json':
      return packageJsonNames(text);
    case 'package-lock':
      return packageLockNames(text);
    case 'requirements':
      return { names: requirementNames(text), licenses: new Map() };
    case 'cargo':
      return { names: cargoDependencyNames(text), licenses: new Map() };
  }
}

const PACKAGE_JSON_SECTIONS = ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies'] as const;

function packageJsonNames(text: string): ManifestPackages | typeof UNREADABLE {
  const json = parseJsonObject(text);
  if (json === undefined) return UNREADABLE;
  const names = new Set<string>();
  for (const section of PACKAGE_JSON_SECTIONS) {
    const dependencies = json[section];
    if (!isObject(dependencies)) continue;
    for (const [name, spec] of Object.entries(dependencies)) {
      names.add(name);
      // "alias": "npm:real-name@^1" installs real-name under another name.
      const aliased = typeof spec === 'string' && spec.startsWith('npm:') ? npmAliasTarget(spec.slice('npm:'.length)) : undefined;
      if (aliased !== undefined) names.add(aliased);
    }
  }
  return { names, licenses: new Map() };
}

function npmAliasTarget(spec: string): string | undefined {
  const at = spec.indexOf('@', 1);
  const name = at === -1 ? spec : spec.slice(0, at);
  return name.length > 0 ? name : undefined;
}

/** package-lock.json v2/v3: every `packages["…node_modules/<name>"]` entry, nested ones too. */
function packageLockNames(text: string): ManifestPackages | typeof UNREADABLE {
  const json = parseJsonObject(text);
  if (json === undefined) return UNREADABLE;
  const names = new Set<string>();
  const licenses = new Map<string, string[]>();
  const packages = json['packages'];
  if (!isObject(packages)) return { names, licenses };
  for (const [key, entry] of Object.entries(packages)) {
    const marker = key.lastIndexOf('node_modules/');
    if (marker === -1) continue; // the root project or a workspace folder, not an installed package
    const installedAs = key.slice(marker + 'node_modules/'.length);
    const entryNames = [installedAs];
    // An aliased install records the real package's name.
    if (isObject(entry) && typeof entry['name'] === 'string' && entry['name'] !== installedAs) entryNames.push(entry['name']);
    const license = isObject(entry) ? licenseOf(entry['license']) : undefined;
    for (const name of entryNames) {
      names.add(name);
      if (license !== undefined) licenses.set(name, [...(licenses.get(name) ?? []), license]);
    }
  }
  return { names, licenses };
}

// An SPDX expression; some old packages still carry { type: "MIT" }.
function licenseOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (isObject(value) && typeof value['type'] === 'string') return value['type'];
  return undefined;
}

// A PEP 508 name at the start of a requirement line, followed by what may follow a name.
const REQUIREMENT_NAME = /^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?=$|[[\]=<>!~;@,(\s])/;

/**
 * requirements*.txt: the name of each requirement line. Options (`-r`, `-e`, `--hash`…),
 * bare URLs and paths name no package by PEP 508 and are skipped; `\` continues a line.
 */
function requirementNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const rawLine of text.replace(/\\\r?\n/g, ' ').split(/\r?\n/)) {
    const line = rawLine.replace(/(^|\s)#.*$/, '').trim();
    if (line.length === 0 || line.startsWith('-')) continue;
    const match = REQUIREMENT_NAME.exec(line);
    if (match?.[1] !== undefined) names.add(match[1]);
  }
  return names;
}

// [dependencies], [dev-dependencies], [build-dependencies], the same under
// [target.<cfg>.…] and [workspace.…]; and their one-dependency table form [dependencies.<name>].
const CARGO_DEPENDENCY_TABLE = /^(?:(?:target\.(?:'[^']*'|"[^"]*"|[^.'"]+)|workspace)\.)?(?:dependencies|dev-dependencies|build-dependencies)(?:\.(.+))?$/;
const TOML_KEY = /^\s*("([^"]+)"|'([^']+)'|([A-Za-z0-9_-]+))\s*[.=]/;

/**
 * Cargo.toml's dependency names, by a small line reader rather than a TOML parser: table
 * headers and the bare, quoted or dotted keys at the start of a line in a dependency
 * table. It does not follow `package = "…"` renames (the key, which names the crate in
 * the code, is what it reports) nor multi-line inline tables' inner keys, which are never
 * dependency names.
 */
function cargoDependencyNames(text: string): Set<string> {
  const names = new Set<string>();
  let inDependencies = false;
  for (const rawLine of text.split(/\r?\n/)) {
    const line = stripTomlComment(rawLine).trim();
    if (line.startsWith('[')) {
      const header = /^\[\s*([^[\]]+?)\s*\]$/.exec(line)?.[1];
      const table = header === undefined ? null : CARGO_DEPENDENCY_TABLE.exec(header.replace(/\s*\.\s*/g, '.'));
      inDependencies = table !== null && table[1] === undefined;
      const single = table?.[1];
      if (single !== undefined) names.add(unquote(single));
      continue;
    }
    if (!inDependencies) continue;
    const key = TOML_KEY.exec(line);
    const name = key?.[2] ?? key?.[3] ?? key?.[4];
    if (name !== undefined) names.add(name);
  }
  return names;
}

function stripTomlComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i += 1) {
    const char = line[i];
    if (quote !== undefined) {
      if (char === '\\' && quote === '"') i += 1;
      else if (char === quote) quote = undefined;
    } else if (char === '"' || char === "'") quote = char;
    else if (char === '#') return line.slice(0, i);
  }
  return line;
}

function unquote(key: string): string {
  return /^(["'])(.*)\1$/.exec(key)?.[2] ?? key;
}

/**
 * Whether an SPDX expression names one of `denied` (lowercased ids). The expression is
 * split on OR, AND, WITH and parentheses, and any id that matches counts, even on one
 * side of an OR a user could have chosen: the conservative reading, since the worker
 * cannot know which side a project relies on. An id matches ignoring case and a trailing
 * `+`, `-only` or `-or-later`, so denying AGPL-3.0 also denies AGPL-3.0-or-later.
 */
export function deniedLicensesIn(expression: string, denied: ReadonlySet<string>): string[] {
  const ids = expression.split(/\s+(?:OR|AND|WITH)\s+|[()\s]+/i).filter((id) => id.length > 0);
  const deniedBases = new Set([...denied].map(licenseBase));
  return ids.filter((id) => denied.has(id.toLowerCase()) || deniedBases.has(licenseBase(id.toLowerCase())));
}

function licenseBase(id: string): string {
  return id.replace(/(\+|-only|-or-later)$/, '');
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
