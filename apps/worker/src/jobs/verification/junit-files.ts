import { lstat, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PathFilter } from '@airlock/context-engine';
import { JUNIT_LIMITS, JunitReportInvalidError, parseJunitReport } from './junit-report.parser';
import { TestReport } from './test-report';

/** Bounds on the walk for report files, so a huge or hostile tree cannot stall the worker. */
const WALK_LIMITS = { maxEntries: 50_000, maxDepth: 16, maxFiles: 256 } as const;
/** Never searched for reports: the repository's history and installed dependencies. */
const SKIPPED_DIRS = new Set(['.git', 'node_modules', '.venv']);

/**
 * The JUnit report files `.airlock.yml` names (`test.junit`, paths or globs), found under
 * the worktree without following symlinks: a report path cannot lead the worker out of
 * the worktree.
 */
export async function findJunitFiles(worktree: string, globs: readonly string[]): Promise<string[]> {
  const filter = new PathFilter(globs, []);
  const found: string[] = [];
  let entries = 0;
  const walk = async (dir: string, rel: string, depth: number): Promise<void> => {
    if (depth > WALK_LIMITS.maxDepth || found.length >= WALK_LIMITS.maxFiles) return;
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return;
    }
    for (const name of names.sort()) {
      entries += 1;
      if (entries > WALK_LIMITS.maxEntries || found.length >= WALK_LIMITS.maxFiles) return;
      const path = rel === '' ? name : `${rel}/${name}`;
      const info = await lstat(join(dir, name)).catch(() => undefined);
      if (info === undefined || info.isSymbolicLink()) continue;
      if (info.isDirectory()) {
        if (!SKIPPED_DIRS.has(name)) await walk(join(dir, name), path, depth + 1);
      } else if (info.isFile() && filter.selects(path)) {
        found.push(path);
      }
    }
  };
  await walk(worktree, '', 0);
  return found;
}

/** Deletes the reports a run left, so the next run's absence of a report is not read as an old one. */
export async function removeJunitFiles(worktree: string, globs: readonly string[]): Promise<void> {
  for (const path of await findJunitFiles(worktree, globs)) await rm(join(worktree, path), { force: true });
}

/**
 * Reads and merges every report the globs find. Undefined when there is none or one cannot
 * be read: the run is then judged by its exit code alone, and `problem` says why (logged locally).
 */
export async function readJunitReports(worktree: string, globs: readonly string[]): Promise<{ readonly report: TestReport | undefined; readonly problem?: string }> {
  const files = await findJunitFiles(worktree, globs);
  if (files.length === 0) return { report: undefined, problem: 'no report file found' };
  const report = new TestReport();
  let bytes = 0;
  for (const path of files) {
    try {
      const info = await lstat(join(worktree, path));
      bytes += info.size;
      if (bytes > JUNIT_LIMITS.maxBytes) return { report: undefined, problem: `reports larger than ${JUNIT_LIMITS.maxBytes} bytes in all` };
      report.addAll(parseJunitReport(await readFile(join(worktree, path), 'utf8')));
    } catch (error) {
      const why = error instanceof JunitReportInvalidError ? error.message : (error as NodeJS.ErrnoException).code ?? String(error);
      return { report: undefined, problem: `${path}: ${why}` };
    }
  }
  return { report };
}
