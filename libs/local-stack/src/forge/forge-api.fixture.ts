import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ForgeDouble } from './forge-double';

// What the forge double's API specs share: a repository behind the double, and calls to its API.

const gitEnv = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' };

/** A bare repository `<root>/<name>` whose `main` and each of `branches` point at one commit, pushed from a temporary working copy. */
export function createDoubleRepository(root: string, name: string, branches: readonly string[]): string {
  const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, env: gitEnv, stdio: 'pipe' });
  const bare = join(root, name);
  git(root, 'init', '--quiet', '--bare', '--initial-branch=main', bare);
  const work = mkdtempSync(join(root, 'work-'));
  git(work, 'init', '--quiet', '--initial-branch=main');
  writeFileSync(join(work, 'README.md'), `${name}\n`);
  git(work, 'add', '--all');
  git(work, 'commit', '--quiet', '-m', 'initial');
  git(work, 'push', '--quiet', bare, ...['main', ...branches].map((branch) => `HEAD:refs/heads/${branch}`));
  rmSync(work, { recursive: true, force: true });
  return bare;
}

/** The double's answer: its status, headers and JSON body (undefined when it sent none). */
export interface DoubleAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly json: unknown;
}

/** A request to the double's API, at a path below its root or at a link it answered; the flavour's token goes in `headers`. */
export async function callDouble(double: Pick<ForgeDouble, 'apiUrl'>, method: string, path: string, options: { readonly body?: unknown; readonly headers: Record<string, string> }): Promise<DoubleAnswer> {
  const response = await fetch(path.startsWith('http') ? path : `${double.apiUrl}${path}`, {
    method,
    headers: { ...(options.body === undefined ? {} : { 'content-type': 'application/json' }), ...options.headers },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, json: text === '' ? undefined : JSON.parse(text) };
}
