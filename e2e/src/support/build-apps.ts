import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { WORKSPACE_ROOT } from '@airlock/local-stack';

const BUILD_TIMEOUT_MS = 120_000;

/**
 * Builds both apps as `npm run build` does (scripts/build-apps.ts) into `appsDir`, outside the
 * workspace, so a test runs what a server gets. Returns what the build printed; throws with it
 * when the build fails.
 */
export function buildAppsInto(appsDir: string): string {
  // `npm run build` builds the dashboard first; a test run without it builds it here.
  if (!existsSync(join(WORKSPACE_ROOT, 'dist', 'apps', 'dashboard', 'index.html'))) {
    execFileSync('npm', ['run', '-s', 'dashboard:build'], { cwd: WORKSPACE_ROOT, stdio: 'ignore', timeout: BUILD_TIMEOUT_MS });
  }
  const build = spawnSync(process.execPath, ['-r', '@swc-node/register', join(WORKSPACE_ROOT, 'scripts', 'build-apps.ts'), '--out', appsDir], {
    cwd: WORKSPACE_ROOT,
    encoding: 'utf8',
    timeout: BUILD_TIMEOUT_MS,
  });
  const output = `${build.stdout}${build.stderr}`;
  if (build.status !== 0) throw new Error(`the build exited with ${build.status}:\n${output}`);
  return output;
}
