import { ID_PATTERNS } from '@airlock/protocol';

interface ParsedVersion {
  readonly core: readonly [number, number, number];
  /** Dot-separated pre-release identifiers; empty for a release. */
  readonly preRelease: readonly string[];
}

function parse(version: string): ParsedVersion | null {
  if (!ID_PATTERNS.semver.test(version)) return null;
  const [core = '', preRelease] = version.split(/-(.*)/s, 2);
  const [major = 0, minor = 0, patch = 0] = core.split('.').map(Number);
  return { core: [major, minor, patch], preRelease: preRelease === undefined ? [] : preRelease.split('.') };
}

/** Semantic Versioning 2.0.0 §11: numeric identifiers by value and below alphanumeric ones, those in ASCII order. */
function compareIdentifiers(a: string, b: string): number {
  const numericA = /^\d+$/.test(a);
  const numericB = /^\d+$/.test(b);
  if (numericA && numericB) return Math.sign(Number(a) - Number(b));
  if (numericA !== numericB) return numericA ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Orders two worker versions as Semantic Versioning does: by major, minor and patch, then a
 * pre-release below its release (0.2.0-rc.1 < 0.2.0). Versions are what Hello carries,
 * checked against ID_PATTERNS.semver; a version that does not match sorts below every other.
 */
export function compareWorkerVersions(a: string, b: string): number {
  const left = parse(a);
  const right = parse(b);
  if (!left || !right) return left ? 1 : right ? -1 : 0;
  for (let index = 0; index < 3; index += 1) {
    const difference = left.core[index]! - right.core[index]!;
    if (difference !== 0) return Math.sign(difference);
  }
  if (left.preRelease.length === 0 || right.preRelease.length === 0) return Math.sign(right.preRelease.length - left.preRelease.length);
  for (let index = 0; index < Math.min(left.preRelease.length, right.preRelease.length); index += 1) {
    const order = compareIdentifiers(left.preRelease[index]!, right.preRelease[index]!);
    if (order !== 0) return order;
  }
  return Math.sign(left.preRelease.length - right.preRelease.length);
}

/** Whether a worker of `version` is inside the window this control plane supports (from `minimum` on). */
export function isWorkerVersionSupported(version: string, minimum: string): boolean {
  return compareWorkerVersions(version, minimum) >= 0;
}
