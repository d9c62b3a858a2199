import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ForgeConfig } from '../../config/worker-config.loader';
import { git } from '../../testing/git-fixture.mock';
import { ForgeError, type ForgeFailure } from './forge-client';

// What the forge clients' integration specs share. The forge double itself is started in each
// spec: only a spec may import @airlock/local-stack, a testing library.

/**
 * A bare repository as the forge holds it, `<root>/<name>`: `main` with a README, and each of
 * `branches` one commit of its own on `main`, pushed from a temporary working copy.
 */
export function createForgeRepository(root: string, name: string, branches: readonly string[]): string {
  const bare = join(root, name);
  git(root, 'init', '--quiet', '--bare', '--initial-branch=main', bare);
  const work = mkdtempSync(join(root, 'work-'));
  // A fresh repository with the bare one as its origin: a clone, without git's warning about cloning an empty one.
  git(work, 'init', '--quiet', '--initial-branch=main');
  git(work, 'remote', 'add', 'origin', bare);
  writeFileSync(join(work, 'README.md'), `${name}\n`);
  git(work, 'add', '--all');
  git(work, 'commit', '--quiet', '-m', 'initial');
  git(work, 'push', '--quiet', 'origin', 'HEAD:refs/heads/main');
  for (const branch of branches) {
    git(work, 'checkout', '--quiet', '-b', branch, 'main');
    writeFileSync(join(work, 'fix.ts'), `export const fixedBy = ${JSON.stringify(branch)};\n`);
    git(work, 'add', '--all');
    git(work, 'commit', '--quiet', '-m', `work on ${branch}`);
    git(work, 'push', '--quiet', 'origin', `HEAD:refs/heads/${branch}`);
  }
  rmSync(work, { recursive: true, force: true });
  return bare;
}

/** A client's config for the forge double: the forge, its project and token, and the settings every spec leaves alone unless told. */
export function forgeConfigOf(forge: Pick<ForgeConfig, 'type' | 'apiUrl' | 'project' | 'token'>, overrides: Partial<ForgeConfig> = {}): ForgeConfig {
  return { ...forge, targetBranch: 'main', labels: [], reviewers: [], draft: false, timeoutMs: 5_000, ...overrides };
}

/** A transport's `sleep` that records each wait in `waits` instead of sleeping, so that a test sees the back-off without waiting it out. */
export function recordingSleep(waits: number[]): (ms: number) => Promise<void> {
  return (ms) => {
    waits.push(ms);
    return Promise.resolve();
  };
}

/**
 * The ForgeError `call` failed with, of the `failure` expected when one is named. Neither its
 * message nor its body may carry any of `tokens`, valid or not.
 */
export async function forgeFailureOf(call: Promise<unknown>, tokens: readonly string[], failure?: ForgeFailure): Promise<ForgeError> {
  const error = await call.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(ForgeError);
  const forgeError = error as ForgeError;
  if (failure !== undefined) expect(forgeError.failure).toBe(failure);
  for (const token of tokens) {
    expect(forgeError.message).not.toContain(token);
    expect(JSON.stringify(forgeError.body ?? null)).not.toContain(token);
  }
  return forgeError;
}
