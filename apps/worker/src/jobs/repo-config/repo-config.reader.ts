import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { RepoConfigInvalidError } from './repo-config-invalid.error';
import { type RepoConfig, repoConfigSchema } from './repo-config.schema';

/** The file a repository uses to tell Airlock how to test it. */
export const REPO_CONFIG_FILE = '.airlock.yml';

/** Largest `.airlock.yml` read: a real one is a few hundred bytes; a huge one is only a way to tie the worker up parsing it. */
export const MAX_REPO_CONFIG_BYTES = 64 * 1024;

/** Reads and validates `.airlock.yml` from a worktree; throws RepoConfigInvalidError. */
export async function readRepoConfig(worktree: string): Promise<RepoConfig> {
  const text = await readBoundedConfigFile(join(worktree, REPO_CONFIG_FILE));
  let document: unknown;
  try {
    document = parse(text);
  } catch {
    throw new RepoConfigInvalidError('', 'valid YAML');
  }
  const parsed = repoConfigSchema.safeParse(document);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new RepoConfigInvalidError(issue?.path.join('.') ?? '', issue?.message ?? 'a valid .airlock.yml');
  }
  return parsed.data;
}

/**
 * The file's text: a regular file of at most MAX_REPO_CONFIG_BYTES, never a symbolic link
 * (which a repository could point at a file of the worker's host).
 */
async function readBoundedConfigFile(path: string): Promise<string> {
  let file;
  try {
    file = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    throw new RepoConfigInvalidError('', 'a readable .airlock.yml at the repository root (a regular file, not a symbolic link)');
  }
  try {
    const stats = await file.stat();
    if (!stats.isFile()) throw new RepoConfigInvalidError('', 'a regular file');
    if (stats.size > MAX_REPO_CONFIG_BYTES) throw new RepoConfigInvalidError('', `at most ${MAX_REPO_CONFIG_BYTES} bytes`);
    const buffer = Buffer.alloc(stats.size);
    const { bytesRead } = await file.read(buffer, 0, stats.size, 0);
    return buffer.subarray(0, bytesRead).toString('utf8');
  } finally {
    await file.close();
  }
}
