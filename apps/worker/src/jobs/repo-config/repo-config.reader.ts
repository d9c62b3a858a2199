import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { RepoConfigInvalidError } from './repo-config-invalid.error';
import { type RepoConfig, repoConfigSchema } from './repo-config.schema';

/** The file a repository uses to tell Airlock how to test it. */
export const REPO_CONFIG_FILE = '.airlock.yml';

/** Reads and validates `.airlock.yml` from a worktree; throws RepoConfigInvalidError. */
export async function readRepoConfig(worktree: string): Promise<RepoConfig> {
  let text: string;
  try {
    text = await readFile(join(worktree, REPO_CONFIG_FILE), 'utf8');
  } catch {
    throw new RepoConfigInvalidError('', 'a readable .airlock.yml at the repository root');
  }
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
