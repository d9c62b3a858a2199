import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ForgeFlavour } from './forge-double';

/**
 * What each forge's git server prints when a protection rule refuses a push, `%s` standing
 * for the branch: the messages a worker must recognise as BRANCH_PROTECTED.
 */
const REFUSALS: Readonly<Record<ForgeFlavour, readonly string[]>> = {
  gitlab: ['GitLab: You are not allowed to push code to protected branches on this project.'],
  github: ['error: GH006: Protected branch update failed for refs/heads/%s.', 'error: Changes must be made through a pull request.'],
  gitea: ['Gitea: branch %s is protected from force push'],
};
/** Globs a `case` pattern may hold without quoting trouble: branch characters and `*`. */
const SAFE_GLOB = /^[A-Za-z0-9._/*-]{1,200}$/;

/**
 * Makes the bare repository at `gitDir` refuse every push to a branch matching `glob` (a
 * shell pattern on the name after `refs/heads/`; `*` matches `/` too) with the message
 * `flavour`'s git server prints, from a `pre-receive` hook — as a forge's branch protection
 * does. Replaces any pre-receive hook the repository had.
 */
export function protectBranches(gitDir: string, glob: string, flavour: ForgeFlavour): void {
  if (!SAFE_GLOB.test(glob)) throw new RangeError(`protectBranches: expected a glob of branch characters and *, got ${JSON.stringify(glob)}`);
  const refusal = REFUSALS[flavour].map((line) => `      printf '%s\\n' "${line.replace('%s', '$branch')}" >&2`).join('\n');
  const hook = [
    '#!/bin/sh',
    `# Written by protectBranches: refuses pushes to refs/heads/${glob} as ${flavour} does.`,
    'refused=0',
    'while read -r old new ref; do',
    '  branch=${ref#refs/heads/}',
    '  case "$ref" in',
    `    refs/heads/${glob})`,
    refusal,
    '      refused=1 ;;',
    '  esac',
    'done',
    'exit $refused',
    '',
  ].join('\n');
  const file = join(gitDir, 'hooks', 'pre-receive');
  writeFileSync(file, hook);
  chmodSync(file, 0o755);
}
