import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ManagedProcess } from './managed-process';

/** The monorepo's root folder, found from this file's place in libs/local-stack/src. */
export const WORKSPACE_ROOT = resolve(__dirname, '..', '..', '..');

/** The apps that can be started as processes, and their entry points. */
export const PROGRAM_ENTRY_POINTS = {
  'control-plane': 'apps/control-plane/src/main.ts',
  worker: 'apps/worker/src/main.ts',
  'inference-sim': 'apps/inference-sim/src/main.ts',
} as const;

export type ProgramName = keyof typeof PROGRAM_ENTRY_POINTS;

/** The apps scripts/build-apps.ts bundles, each into `<out>/<app>/main.js`. */
const BUNDLED_PROGRAMS: ReadonlySet<ProgramName> = new Set(['control-plane', 'worker']);

export interface ProgramLaunch {
  readonly program: ProgramName;
  readonly args?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  /** Folder for the process's log file. */
  readonly logDir: string;
  /** Name of the log file and of the process in error messages. */
  readonly label?: string;
  /** A program to start it under (e.g. strace); see ManagedProcessOptions.wrapWith. */
  readonly wrapWith?: readonly string[];
  /**
   * A folder of bundles built by scripts/build-apps.ts (`--out`): the control plane and the
   * worker run as `node <dir>/<app>/main.js`, in that folder, as a server runs them. The
   * inference simulator, a development tool, still runs from its sources. Default: sources.
   */
  readonly bundledAppsDir?: string;
}

/**
 * The Node.js flags a bundle's package.json asks its launchers for (`airlock.nodeFlags`,
 * written by scripts/build-apps.ts), passed here as the image and the units pass them.
 */
export function bundleNodeFlags(appDir: string): string[] {
  const manifestFile = join(appDir, 'package.json');
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as { airlock?: { nodeFlags?: unknown } };
  const flags = manifest.airlock?.nodeFlags ?? [];
  if (!Array.isArray(flags) || !flags.every((flag): flag is string => typeof flag === 'string' && flag.startsWith('--'))) {
    throw new Error(`${manifestFile}: airlock.nodeFlags must be a list of --flags`);
  }
  return flags;
}

/** How to run one of the workspace's apps: the command, its arguments, environment and working directory. */
export function programCommand(
  program: ProgramName,
  args: readonly string[] = [],
  env: NodeJS.ProcessEnv = {},
  bundledAppsDir?: string,
): { command: string; args: string[]; env: NodeJS.ProcessEnv; cwd: string } {
  if (bundledAppsDir !== undefined && BUNDLED_PROGRAMS.has(program)) {
    const appDir = join(bundledAppsDir, program);
    return { command: process.execPath, args: [...bundleNodeFlags(appDir), join(appDir, 'main.js'), ...args], env: { ...process.env, ...env }, cwd: appDir };
  }
  return {
    command: process.execPath,
    args: ['-r', '@swc-node/register', join(WORKSPACE_ROOT, PROGRAM_ENTRY_POINTS[program]), ...args],
    env: { ...process.env, SWC_NODE_PROJECT: join(WORKSPACE_ROOT, 'tsconfig.json'), ...env },
    cwd: WORKSPACE_ROOT,
  };
}

/**
 * Starts one of the workspace's apps in a process of its own: from its TypeScript sources
 * (SWC compiles on load and keeps decorator metadata for NestJS), or from its bundle.
 */
export function launchProgram({ program, args = [], env = {}, logDir, label = program, wrapWith, bundledAppsDir }: ProgramLaunch): ManagedProcess {
  const command = programCommand(program, args, env, bundledAppsDir);
  return new ManagedProcess({
    name: label,
    ...command,
    logFile: join(logDir, `${label}.log`),
    ...(wrapWith ? { wrapWith } : {}),
  });
}
