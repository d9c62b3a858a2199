import { z } from 'zod';
import { buildInfo, ID_PATTERNS } from '@airlock/protocol';
import { compareWorkerVersions, judgeWorkerVersion, type WorkerVersionWindow } from '../workers/worker-version';
import { InvalidConfigError } from './invalid-config.error';

let cachedVersion: string | undefined;

/**
 * The control plane's own version: stamped into a bundle at build time, the workspace
 * package's when running from sources, as the worker's (buildInfo). Workers and control
 * plane are released together from this repository, so it is also the worker version this
 * control plane was built with: the default recommended worker version, and its major the
 * default end of the window.
 */
export function readControlPlaneVersion(): string {
  if (cachedVersion === undefined) {
    const { version } = buildInfo();
    if (!ID_PATTERNS.semver.test(version)) throw new Error(`the control plane's version, ${version}, is not a semantic version`);
    cachedVersion = version;
  }
  return cachedVersion;
}

const SEMVER_EXPECTATION = 'expected a worker version like 0.1.0 (major.minor.patch, an optional -pre-release)';
const RELEASE = /^\d{1,4}\.\d{1,4}\.\d{1,4}$/;
const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/;
const END_OF_SUPPORT_EXPECTATION =
  'expected an ISO 8601 date, 2026-07-01 (support ends as that day begins, UTC), or a date and time with its offset, 2026-07-01T12:00:00Z';

const semver = z.string().regex(ID_PATTERNS.semver, SEMVER_EXPECTATION);

/** A real calendar instant: the pattern alone lets 2026-02-30 or 25:00 through. */
const endOfSupport = z.string().transform((text, ctx) => {
  const match = ISO_INSTANT.exec(text);
  const [year, month, day, hours = 0, minutes = 0, seconds = 0] = (match?.slice(1, 7) ?? []).map((part) => (part === undefined ? undefined : Number(part)));
  const calendarDay = match ? new Date(Date.UTC(year!, month! - 1, day!)) : undefined;
  const instant = Date.parse(text);
  const valid =
    calendarDay !== undefined &&
    calendarDay.getUTCFullYear() === year &&
    calendarDay.getUTCMonth() === month! - 1 &&
    calendarDay.getUTCDate() === day &&
    hours! <= 23 &&
    minutes! <= 59 &&
    seconds! <= 59 &&
    !Number.isNaN(instant);
  if (!valid) {
    ctx.addIssue({ code: 'custom', message: END_OF_SUPPORT_EXPECTATION });
    return z.NEVER;
  }
  return new Date(instant);
});

/**
 * The variables of the supported worker version window beside AIRLOCK_WORKER_MIN_VERSION,
 * for the control plane's environment schema. The defaults depend on the control plane's
 * version, so they are applied by `loadWorkerVersionWindow`.
 */
export const workerVersionVariables = {
  AIRLOCK_WORKER_MAX_VERSION: z
    .string()
    .regex(RELEASE, 'expected a release version like 1.0.0 (major.minor.patch, no pre-release): the first worker version refused as too new')
    .optional(),
  AIRLOCK_WORKER_RECOMMENDED_VERSION: semver.optional(),
  AIRLOCK_WORKER_DEPRECATED_BELOW: semver.optional(),
  AIRLOCK_WORKER_END_OF_SUPPORT: endOfSupport.optional(),
};

export interface WorkerVersionVariables {
  readonly AIRLOCK_WORKER_MIN_VERSION: string;
  readonly AIRLOCK_WORKER_MAX_VERSION?: string | undefined;
  readonly AIRLOCK_WORKER_RECOMMENDED_VERSION?: string | undefined;
  readonly AIRLOCK_WORKER_DEPRECATED_BELOW?: string | undefined;
  readonly AIRLOCK_WORKER_END_OF_SUPPORT?: Date | undefined;
}

/** The default of AIRLOCK_WORKER_MAX_VERSION: the next major release after the control plane's version (0.4.2 → 1.0.0). */
export function defaultWorkerMaxVersion(controlPlaneVersion: string): string {
  return `${Number(controlPlaneVersion.split('.')[0]) + 1}.0.0`;
}

/**
 * The window from validated variables, checked as a whole: a maximum above the minimum, a
 * deprecation bound inside the window and its end of support together, and a recommended
 * version that the window accepts without deprecation — explicit or the default, this control
 * plane's own version. Every problem names its variable; a window that cannot hold is a
 * start-up error, not a gateway that refuses every worker.
 */
export function loadWorkerVersionWindow(vars: WorkerVersionVariables, controlPlaneVersion: string): WorkerVersionWindow {
  const minimum = vars.AIRLOCK_WORKER_MIN_VERSION;
  const maximum = vars.AIRLOCK_WORKER_MAX_VERSION ?? defaultWorkerMaxVersion(controlPlaneVersion);
  const recommended = vars.AIRLOCK_WORKER_RECOMMENDED_VERSION ?? controlPlaneVersion;
  const problems: string[] = [];
  const maxSource = vars.AIRLOCK_WORKER_MAX_VERSION === undefined ? `unset, it is the major release after this control plane's version ${controlPlaneVersion}` : 'as set';
  const tooNew = (version: string) => judgeWorkerVersion(version, { minimum: '0.0.0', maximum, recommended, deprecation: null }, new Date(0)).status === 'TOO_NEW';
  if (tooNew(minimum)) {
    problems.push(`AIRLOCK_WORKER_MAX_VERSION: expected a version above AIRLOCK_WORKER_MIN_VERSION (${minimum}) and its pre-releases, or no worker would be accepted (${maximum}, ${maxSource})`);
  }

  const { AIRLOCK_WORKER_DEPRECATED_BELOW: deprecatedBelow, AIRLOCK_WORKER_END_OF_SUPPORT: endOfSupportAt } = vars;
  if ((deprecatedBelow === undefined) !== (endOfSupportAt === undefined)) {
    const [missing, present] = deprecatedBelow === undefined ? ['AIRLOCK_WORKER_DEPRECATED_BELOW', 'AIRLOCK_WORKER_END_OF_SUPPORT'] : ['AIRLOCK_WORKER_END_OF_SUPPORT', 'AIRLOCK_WORKER_DEPRECATED_BELOW'];
    problems.push(`${missing}: expected a value as well, since ${present} is set (a deprecation names the versions below a bound and when their support ends)`);
  }
  if (deprecatedBelow !== undefined && compareWorkerVersions(deprecatedBelow, minimum) <= 0) {
    problems.push(`AIRLOCK_WORKER_DEPRECATED_BELOW: expected a version above AIRLOCK_WORKER_MIN_VERSION (${minimum}): versions below the minimum are refused already`);
  }
  if (deprecatedBelow !== undefined && tooNew(deprecatedBelow)) {
    problems.push(`AIRLOCK_WORKER_DEPRECATED_BELOW: expected a version below AIRLOCK_WORKER_MAX_VERSION (${maximum}), or every version accepted would be deprecated`);
  }

  const deprecation = deprecatedBelow !== undefined && endOfSupportAt !== undefined ? { below: deprecatedBelow, endOfSupport: endOfSupportAt } : null;
  const oldest = deprecatedBelow !== undefined && compareWorkerVersions(deprecatedBelow, minimum) > 0 ? deprecatedBelow : minimum;
  if (compareWorkerVersions(recommended, oldest) < 0 || tooNew(recommended)) {
    const bound = oldest === minimum ? `AIRLOCK_WORKER_MIN_VERSION (${minimum})` : `AIRLOCK_WORKER_DEPRECATED_BELOW (${oldest})`;
    const source = vars.AIRLOCK_WORKER_RECOMMENDED_VERSION === undefined ? `unset, it is this control plane's version, ${recommended}; set it` : `${recommended} is not`;
    problems.push(`AIRLOCK_WORKER_RECOMMENDED_VERSION: expected a version the window accepts without deprecation, from ${bound} and below AIRLOCK_WORKER_MAX_VERSION (${maximum}) (${source})`);
  }
  if (problems.length > 0) throw new InvalidConfigError(problems);
  return { minimum, maximum, recommended, deprecation };
}
