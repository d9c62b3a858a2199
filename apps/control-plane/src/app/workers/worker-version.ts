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

/**
 * The worker versions a control plane accepts (docs/fleet.md, "The supported version
 * window"), from its config: from `minimum` on and below `maximum`, versions below
 * `deprecation.below` only until `deprecation.endOfSupport`.
 */
export interface WorkerVersionWindow {
  /** The oldest version accepted, included (AIRLOCK_WORKER_MIN_VERSION). */
  readonly minimum: string;
  /**
   * The first version too new, excluded (AIRLOCK_WORKER_MAX_VERSION): a release, such as
   * 1.0.0 for "every 0.x". A pre-release of it (1.0.0-rc.1) belongs to the line it starts,
   * so it is too new as well.
   */
  readonly maximum: string;
  /** What a worker outside the window, or deprecated, is told to install (AIRLOCK_WORKER_RECOMMENDED_VERSION). */
  readonly recommended: string;
  /**
   * Versions below `below` are accepted, as DEPRECATED, until `endOfSupport`, and refused
   * from then on (AIRLOCK_WORKER_DEPRECATED_BELOW, AIRLOCK_WORKER_END_OF_SUPPORT). Null: none.
   */
  readonly deprecation: { readonly below: string; readonly endOfSupport: Date } | null;
}

/** Where a worker version stands in a window at a moment. */
export type WorkerVersionJudgement =
  | { readonly status: 'SUPPORTED' }
  | { readonly status: 'DEPRECATED'; readonly endOfSupport: Date }
  | { readonly status: 'TOO_OLD' }
  | { readonly status: 'TOO_NEW' };

export type WorkerVersionStatus = WorkerVersionJudgement['status'];

export const WORKER_VERSION_STATUSES = ['SUPPORTED', 'DEPRECATED', 'TOO_OLD', 'TOO_NEW'] as const satisfies readonly WorkerVersionStatus[];

/** Whether `version` is `maximum` or later, or a pre-release of `maximum`'s release. */
function atOrAboveMaximum(version: string, maximum: string): boolean {
  if (compareWorkerVersions(version, maximum) >= 0) return true;
  const [left, right] = [parse(version), parse(maximum)];
  return left !== null && right !== null && left.core.every((part, index) => part === right.core[index]);
}

/**
 * Judges a worker's version against the window at `now`: TOO_NEW from the maximum on,
 * TOO_OLD below the minimum (a pre-release is below its release, and a string that is no
 * version below everything), DEPRECATED below the deprecation's bound until its end of
 * support — TOO_OLD from that instant on — and SUPPORTED otherwise.
 */
export function judgeWorkerVersion(version: string, window: WorkerVersionWindow, now: Date): WorkerVersionJudgement {
  if (atOrAboveMaximum(version, window.maximum)) return { status: 'TOO_NEW' };
  if (compareWorkerVersions(version, window.minimum) < 0) return { status: 'TOO_OLD' };
  const { deprecation } = window;
  if (deprecation && compareWorkerVersions(version, deprecation.below) < 0) {
    return now.getTime() < deprecation.endOfSupport.getTime() ? { status: 'DEPRECATED', endOfSupport: deprecation.endOfSupport } : { status: 'TOO_OLD' };
  }
  return { status: 'SUPPORTED' };
}

/** Whether a worker of this standing is accepted at its Hello: SUPPORTED, or DEPRECATED until its end of support. */
export function isAcceptedVersionStatus(status: WorkerVersionStatus): boolean {
  return status === 'SUPPORTED' || status === 'DEPRECATED';
}

/**
 * The versions accepted at `now`, as `>=<oldest> <maximum>`: the oldest is the minimum, or
 * the deprecation's bound once its end of support has come.
 */
export function describeSupportedVersions(window: WorkerVersionWindow, now: Date): string {
  const { deprecation, minimum } = window;
  const ended = deprecation !== null && now.getTime() >= deprecation.endOfSupport.getTime() && compareWorkerVersions(deprecation.below, minimum) > 0;
  return `>=${ended ? deprecation.below : minimum} <${window.maximum}`;
}
