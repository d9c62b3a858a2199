import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { join } from 'node:path';
import { AIRLOCK_GIT_IDENTITY } from '../git/git-runner';
import { git } from '../testing/git-fixture.mock';
import { deliveryTrailers } from './branch-pusher';
import type { DeliveryPosition } from './delivery-target';


/**
 * A worktree of a bare mirror of `origin`, detached at `main`, as WORKSPACE prepares one for
 * an attempt; `mirror` is created on first use and shared by the worktrees made from it.
 */
export function attemptWorktree(origin: string, mirror: string, worktree: string): string {
  if (!existsSync(mirror)) git(origin, 'clone', '--quiet', '--bare', origin, mirror);
  git(mirror, 'worktree', 'add', '--quiet', '--detach', worktree, 'main');
  return worktree;
}

/**
 * Commits a change in `worktree` as DELIVER does: Airlock's identity, the ticket title, the
 * job line and the trailers of `position`. Returns the commit.
 */
export function commitAttempt(worktree: string, jobId: string, position: DeliveryPosition, file = 'fix.txt'): string {
  writeFileSync(join(worktree, file), `the fix of generation ${position.generation}, attempt ${position.attempt}\n`);
  git(worktree, 'add', '--', file);
  const message = `Fix add\n\nAirlock job ${jobId}, attempt ${position.attempt}\n\n${deliveryTrailers(jobId, position)}`;
  execFileSync('git', ['commit', '--quiet', '--file=-'], { cwd: worktree, env: { ...process.env, ...AIRLOCK_GIT_IDENTITY }, input: message });
  return git(worktree, 'rev-parse', 'HEAD').trim();
}

/**
 * Installs a pre-receive hook in the bare repository `gitDir` that holds the first push it
 * sees — after git has read the push's expected old values, before it updates the refs —
 * until `release()`; later pushes pass at once. `held()` resolves once the first push is
 * waiting in the hook, so a test can land another push in between, deterministically.
 */
export function holdFirstPush(gitDir: string, controlDir: string): { held(): Promise<void>; release(): void } {
  mkdirSync(controlDir, { recursive: true });
  const [taken, waiting, released] = ['taken', 'waiting', 'released'].map((name) => join(controlDir, name)) as [string, string, string];
  const hook = join(gitDir, 'hooks', 'pre-receive');
  writeFileSync(
    hook,
    ['#!/bin/sh', 'cat >/dev/null', `if mkdir '${taken}' 2>/dev/null; then`, `  : > '${waiting}'`, `  while [ ! -e '${released}' ]; do sleep 0.02; done`, 'fi', 'exit 0', ''].join('\n'),
  );
  chmodSync(hook, 0o755);
  return {
    held: async () => {
      while (!existsSync(waiting)) await delay(20);
    },
    release: () => writeFileSync(released, ''),
  };
}
