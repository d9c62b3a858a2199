import { basename, dirname, isAbsolute, resolve } from 'node:path';

/** How this worker process runs: the Node binary and its options, and where it started. */
export interface NodeRuntime {
  readonly execPath: string;
  readonly execArgv: readonly string[];
  readonly cwd: string;
}

/** The runtime of this process. */
export function currentRuntime(): NodeRuntime {
  return { execPath: process.execPath, execArgv: process.execArgv, cwd: process.cwd() };
}

const REQUIRE_FLAGS = new Set(['-r', '--require']);

/**
 * The argv that runs `entry`, a program of the worker's own source tree, with the same Node
 * and options as this process: `node dist/…/x.js` when compiled, `node -r @swc-node/register
 * src/…/x.ts` in development. Preloaded modules are resolved to absolute paths now, because
 * the program may start in another directory (where `-r @swc-node/register` would be looked
 * up in the wrong `node_modules`); debugger flags are dropped (their port is taken). A `.ts`
 * entry in a process that preloads nothing (a jest worker transpiles in-process) gets
 * `@swc-node/register`, as `npm run worker` uses.
 */
export function nodeProgramArgv(entry: string, runtime: NodeRuntime = currentRuntime()): string[] {
  const options: string[] = [];
  let preloads = false;
  for (let index = 0; index < runtime.execArgv.length; index += 1) {
    const option = runtime.execArgv[index] ?? '';
    if (/^--(inspect|debug)/.test(option)) continue;
    if (REQUIRE_FLAGS.has(option) && runtime.execArgv[index + 1] !== undefined) {
      options.push(option, resolvePreload(runtime.execArgv[index + 1] ?? '', runtime.cwd));
      index += 1;
      preloads = true;
    } else if (option.startsWith('--require=')) {
      options.push(`--require=${resolvePreload(option.slice('--require='.length), runtime.cwd)}`);
      preloads = true;
    } else {
      if (/^--(import|loader|experimental-loader)\b/.test(option)) preloads = true;
      options.push(option);
    }
  }
  if (entry.endsWith('.ts') && !preloads) options.push('-r', require.resolve('@swc-node/register'));
  return [runtime.execPath, ...options, entry];
}

/** A `-r` module as Node resolved it at start: from the directory the process started in. */
function resolvePreload(request: string, cwd: string): string {
  if (isAbsolute(request)) return request;
  if (request.startsWith('.')) return resolve(cwd, request);
  return require.resolve(request, { paths: [cwd] });
}

/**
 * What a sandbox must show for `argv` (from nodeProgramArgv) to run: the Node binary, the
 * entry, and for each preloaded module the `node_modules` folder it lives in
 * (`@swc-node/register` needs its compiler beside it). The worker and its Node may be
 * installed in a folder the sandbox hides (a checkout or a Node under /tmp, which gets an
 * empty tmpfs; its HOME): without them the program cannot start.
 */
export function nodeProgramFiles(argv: readonly string[]): string[] {
  const files = new Set<string>();
  const node = argv[0];
  if (node !== undefined && isAbsolute(node)) files.add(node);
  const entry = argv.at(-1);
  if (entry !== undefined) files.add(entry);
  for (let index = 1; index < argv.length - 1; index += 1) {
    const option = argv[index] ?? '';
    const preload = REQUIRE_FLAGS.has(option) ? argv[index + 1] : option.startsWith('--require=') ? option.slice('--require='.length) : undefined;
    if (preload !== undefined && isAbsolute(preload)) files.add(nodeModulesOf(preload) ?? preload);
  }
  return [...files];
}

/** The nearest `node_modules` folder holding `file`, if any. */
function nodeModulesOf(file: string): string | undefined {
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    if (basename(dir) === 'node_modules') return dir;
  }
  return undefined;
}
