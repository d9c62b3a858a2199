import { posix } from 'node:path';
import picomatch from 'picomatch';
import type { EffectivePolicy } from './effective-policy';
import type { RuleId, RuleLevel } from './policy-document';
import {
  deniedLicensesIn,
  isDependencyManifest,
  normalisePackageName,
  packageManifestKind,
  readManifestPackages,
  UNREADABLE,
  type ManifestPackages,
} from './dependency-manifests';

/** One file of a candidate patch, as git reports it. */
export interface ChangedFile {
  /** Repository-relative path after the change (for a deletion: the deleted path). */
  readonly path: string;
  /** For a rename: the path before it. */
  readonly previousPath?: string;
  readonly status: 'added' | 'modified' | 'deleted' | 'renamed';
  /** The lines the change adds to the file, without their `+`. */
  readonly addedLines: ReadonlyArray<string>;
  readonly removedLines: number;
}

/** A candidate patch, before it is committed. */
export interface CandidateChange {
  readonly files: ReadonlyArray<ChangedFile>;
  /** A file's whole content at the base commit, or undefined (absent, or beyond the caller's bound). */
  readBefore(path: string): Promise<string | undefined>;
  /** A file's whole content in the worktree after the change, or undefined. */
  readAfter(path: string): Promise<string | undefined>;
}

/**
 * A rule a change or its test run broke. `detail` is for the worker's local record and the
 * agent's feedback only (it may name a path and a line, never a secret's value); only
 * `rule`, `level` and the outcome ever leave the worker.
 */
export interface PolicyViolation {
  readonly rule: RuleId;
  readonly level: RuleLevel;
  readonly detail: string;
}

/**
 * The governance step on a candidate patch: every rule of the effective policy that it
 * breaks, one violation per rule and file at most, in RULE_IDS order. Reads file contents
 * only for the manifests and lockfiles the package rules inspect.
 */
export async function evaluateChange(policy: EffectivePolicy, change: CandidateChange): Promise<PolicyViolation[]> {
  const packages = await packageFindings(policy, change);
  return [
    ...protectedPathViolations(policy, change),
    ...sizeViolations(policy, change),
    ...(await secretViolations(policy, change)),
    ...manifestViolations(policy, change, packages.unreadable),
    ...packages.violations,
  ];
}

/**
 * Protected paths are picomatch globs over repository-relative paths, with `dot: true` (a
 * `*` or `**` also matches names starting with a dot). A pattern without `/` matches that
 * name at the repository root only (`Jenkinsfile` is not `ci/Jenkinsfile`; write
 * `**\/Jenkinsfile` for any depth), and `dir/**` matches everything under `dir`. Matching
 * ignores case, so that a worktree on a case-insensitive file system cannot reach
 * `.github/workflows` by writing `.GitHub/Workflows`. Both sides of a rename count.
 */
function protectedPathViolations(policy: EffectivePolicy, change: CandidateChange): PolicyViolation[] {
  const { paths, level } = policy.protectedPaths;
  if (paths.length === 0) return [];
  const isProtected = picomatch([...paths], { dot: true, nocase: true });
  return change.files.flatMap((file) => {
    const touched = [file.path, ...(file.previousPath === undefined ? [] : [file.previousPath])].filter((path) => isProtected(path));
    if (touched.length === 0) return [];
    return [{ rule: 'protected-paths', level, detail: `${touched.join(' and ')} is protected by policy and may not be ${file.status}` }];
  });
}

function sizeViolations(policy: EffectivePolicy, change: CandidateChange): PolicyViolation[] {
  const violations: PolicyViolation[] = [];
  const files = change.files.length;
  if (files > policy.maxFilesChanged.max) {
    violations.push({ rule: 'max-files-changed', level: policy.maxFilesChanged.level, detail: `the change touches ${files} files; at most ${policy.maxFilesChanged.max} are allowed` });
  }
  const lines = change.files.reduce((sum, file) => sum + file.addedLines.length + file.removedLines, 0);
  if (lines > policy.maxLinesChanged.max) {
    violations.push({ rule: 'max-lines-changed', level: policy.maxLinesChanged.level, detail: `the change adds and removes ${lines} lines; at most ${policy.maxLinesChanged.max} are allowed` });
  }
  return violations;
}

const PRESET_ID = '@secretlint/secretlint-rule-preset-recommend';

type Secretlint = [typeof import('@secretlint/core'), typeof import('@secretlint/secretlint-rule-preset-recommend')];
let secretlint: Promise<Secretlint> | undefined;

// Loaded on first use: secretlint is ES modules only, and a process that never scans
// (the control plane, most tests) should not pay for loading it.
function loadSecretlint(): Promise<Secretlint> {
  secretlint ??= Promise.all([import('@secretlint/core'), import('@secretlint/secretlint-rule-preset-recommend')]);
  return secretlint;
}

/**
 * secretlint's recommended preset over the lines each file gains (an existing secret the
 * change does not add is not this change's doing). Its filter-comments rule, which honours
 * `secretlint-disable` comments, is turned off: the model writes the lines scanned. (In
 * 11.7.1 such a comment silences nothing through lintSource anyway; the test holds any
 * later version to that.)
 */
async function secretViolations(policy: EffectivePolicy, change: CandidateChange): Promise<PolicyViolation[]> {
  if (!policy.secrets.enabled) return [];
  const scanned = change.files.filter((file) => file.status !== 'deleted' && file.addedLines.length > 0);
  if (scanned.length === 0) return [];
  const [{ lintSource }, preset] = await loadSecretlint();
  const violations: PolicyViolation[] = [];
  for (const file of scanned) {
    const content = file.addedLines.join('\n');
    const result = await lintSource({
      source: { content, filePath: file.path, ext: posix.extname(file.path), contentType: 'text' },
      options: { config: { rules: [{ id: PRESET_ID, rule: preset.creator, rules: [{ id: '@secretlint/secretlint-rule-filter-comments', disabled: true }] }] } },
    });
    if (result.messages.length === 0) continue;
    // The message text quotes the secret: only its id, where it is, and a masked start are kept.
    const found = result.messages.map((message) => `${message.messageId} at added line ${message.loc.start.line} (${mask(content.slice(message.range[0], message.range[1]))})`);
    violations.push({ rule: 'secrets', level: policy.secrets.level, detail: `${file.path} adds what looks like a secret: ${found.join(', ')}` });
  }
  return violations;
}

/** The first four characters of a secret and an ellipsis; nothing of a short one. */
export function mask(secret: string): string {
  return secret.length > 12 ? `${secret.slice(0, 4)}…` : '…';
}

function manifestViolations(policy: EffectivePolicy, change: CandidateChange, unreadable: ReadonlySet<string>): PolicyViolation[] {
  if (policy.dependencyManifests.allowChanges) return [];
  return change.files.flatMap((file) => {
    const manifests = [file.path, ...(file.previousPath === undefined ? [] : [file.previousPath])].filter(isDependencyManifest);
    if (manifests.length === 0) return [];
    const broken = unreadable.has(file.path) ? '; it is also not valid after the change' : '';
    return [{ rule: 'dependency-manifests', level: policy.dependencyManifests.level, detail: `${manifests.join(' and ')} is a dependency manifest or lockfile and may not be ${file.status}${broken}` }];
  });
}

interface PackageFindings {
  readonly violations: PolicyViolation[];
  /** Manifests whose content after the change could not be read, so their packages are unknown. */
  readonly unreadable: Set<string>;
}

/**
 * denied-packages and denied-licenses: the packages a change adds (named after it, not
 * before) in package.json, package-lock.json, requirements*.txt and Cargo.toml, compared
 * under each registry's name normalisation; licences from package-lock.json entries. A
 * manifest that cannot be read after the change (invalid JSON, or beyond the reader's
 * bound) is left out of these rules: dependency-manifests reports it when changes are
 * forbidden, and otherwise nothing does, since its packages are unknown.
 */
async function packageFindings(policy: EffectivePolicy, change: CandidateChange): Promise<PackageFindings> {
  const deniedNames = policy.deniedPackages.packages;
  const deniedLicenses = new Set(policy.deniedLicenses.licenses.map((id) => id.toLowerCase()));
  const findings: PackageFindings = { violations: [], unreadable: new Set() };
  if (deniedNames.length === 0 && deniedLicenses.size === 0) return findings;
  const deniedViolations: PolicyViolation[] = [];
  const licenseViolations: PolicyViolation[] = [];
  for (const file of change.files) {
    const kind = packageManifestKind(file.path);
    if (kind === undefined || file.status === 'deleted') continue;
    const afterText = await change.readAfter(file.path);
    const after = afterText === undefined ? UNREADABLE : readManifestPackages(kind.format, afterText);
    if (after === UNREADABLE) {
      findings.unreadable.add(file.path);
      continue;
    }
    const before = await manifestBefore(change, file, kind.format);
    const normalise = (name: string) => normalisePackageName(kind.ecosystem, name);
    const existing = new Set([...before.names].map(normalise));
    const added = [...after.names].filter((name) => !existing.has(normalise(name)));

    const denied = new Set(deniedNames.map(normalise));
    const addedDenied = unique(added.filter((name) => denied.has(normalise(name))));
    if (addedDenied.length > 0) {
      deniedViolations.push({ rule: 'denied-packages', level: policy.deniedPackages.level, detail: `${file.path} adds denied package${addedDenied.length > 1 ? 's' : ''} ${addedDenied.join(', ')}` });
    }
    const licensed = added.flatMap((name) => (after.licenses.get(name) ?? []).flatMap((expression) => deniedLicensesIn(expression, deniedLicenses).map((id) => `${name} (${id})`)));
    if (licensed.length > 0) {
      licenseViolations.push({ rule: 'denied-licenses', level: policy.deniedLicenses.level, detail: `${file.path} adds packages under a denied licence: ${unique(licensed).join(', ')}` });
    }
  }
  findings.violations.push(...deniedViolations, ...licenseViolations);
  return findings;
}

// A manifest the change creates, or one unreadable at the base, declared nothing before:
// every package in it counts as added (the conservative reading).
async function manifestBefore(change: CandidateChange, file: ChangedFile, format: Parameters<typeof readManifestPackages>[0]): Promise<ManifestPackages> {
  const empty: ManifestPackages = { names: new Set(), licenses: new Map() };
  if (file.status === 'added') return empty;
  const text = await change.readBefore(file.previousPath ?? file.path);
  const before = text === undefined ? UNREADABLE : readManifestPackages(format, text);
  return before === UNREADABLE ? empty : before;
}

function unique(values: ReadonlyArray<string>): string[] {
  return [...new Set(values)];
}
