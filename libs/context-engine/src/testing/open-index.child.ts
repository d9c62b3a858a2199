import { ContextEngine } from '../context-engine';
import { testGitRunner } from './git-repository.fixture';

/**
 * Opens one index in a process of its own, as a second worker sharing the cache would:
 * `node -r @swc-node/register open-index.child.ts <cacheDir> <repositoryId> <worktree>`.
 * Prints `{source, digest, cacheWritten}` as JSON; exits 1 with the error on stderr.
 */
async function main(): Promise<void> {
  const [cacheDir, repositoryId, worktree] = process.argv.slice(2);
  if (cacheDir === undefined || repositoryId === undefined || worktree === undefined) throw new Error('usage: open-index.child.ts <cacheDir> <repositoryId> <worktree>');
  const index = await new ContextEngine({ cacheDir, git: testGitRunner }).open({ repositoryId, worktree });
  process.stdout.write(`${JSON.stringify({ source: index.report.source, digest: index.digest, cacheWritten: index.report.cacheWritten })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
