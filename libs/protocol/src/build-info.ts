import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** What the running control plane or worker was built from. */
export interface BuildInfo {
  /** The workspace package's version (semver): what a worker sends in Enroll and Hello. */
  readonly version: string;
  /** The short git commit the bundle was built from, `-dirty` when the tree had changes; `unknown` when running from sources. */
  readonly commit: string;
  /** When the bundle was built (ISO 8601, UTC); null when running from sources. */
  readonly builtAt: string | null;
  /** Running from a bundle of scripts/build-apps.ts, whose assets (proto, migrations, dashboard) lie beside main.js. */
  readonly bundled: boolean;
}

// scripts/build-apps.ts replaces this name with the JSON of a BuildInfo (esbuild `define`);
// from sources nothing defines it.
declare const AIRLOCK_BUILD_INFO: BuildInfo | undefined;

let fromSources: BuildInfo | undefined;

/**
 * The build stamp of this process: defined at build time in a bundle; from sources, the
 * workspace package.json's version read at run time (a static import of a file outside the
 * project would break the Nx project boundary) and no commit or build time.
 */
export function buildInfo(): BuildInfo {
  if (typeof AIRLOCK_BUILD_INFO !== 'undefined') return AIRLOCK_BUILD_INFO;
  if (fromSources === undefined) {
    const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version?: unknown };
    if (typeof manifest.version !== 'string') throw new Error('package.json has no version');
    fromSources = { version: manifest.version, commit: 'unknown', builtAt: null, bundled: false };
  }
  return fromSources;
}

/** One line for `--version` and logs: `0.1.0 (commit 1a2b3c4, built 2026-01-02T03:04:05Z)`. */
export function formatBuildInfo(info: BuildInfo): string {
  return info.builtAt === null ? `${info.version} (from sources)` : `${info.version} (commit ${info.commit}, built ${info.builtAt})`;
}
