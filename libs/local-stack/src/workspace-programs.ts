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
}

/** How to run one of the workspace's apps from its sources: the command, its arguments and environment. */
export function programCommand(program: ProgramName, args: readonly string[] = [], env: NodeJS.ProcessEnv = {}): { command: string; args: string[]; env: NodeJS.ProcessEnv } {
  return {
    command: process.execPath,
    args: ['-r', '@swc-node/register', join(WORKSPACE_ROOT, PROGRAM_ENTRY_POINTS[program]), ...args],
    env: { ...process.env, SWC_NODE_PROJECT: join(WORKSPACE_ROOT, 'tsconfig.json'), ...env },
  };
}

/**
 * Starts one of the workspace's apps from its TypeScript sources in a process of its own
 * (SWC compiles on load and keeps decorator metadata for NestJS).
 */
export function launchProgram({ program, args = [], env = {}, logDir, label = program, wrapWith }: ProgramLaunch): ManagedProcess {
  return new ManagedProcess({
    name: label,
    command: process.execPath,
    args: ['-r', '@swc-node/register', join(WORKSPACE_ROOT, PROGRAM_ENTRY_POINTS[program]), ...args],
    cwd: WORKSPACE_ROOT,
    env: { ...process.env, SWC_NODE_PROJECT: join(WORKSPACE_ROOT, 'tsconfig.json'), ...env },
    logFile: join(logDir, `${label}.log`),
    ...(wrapWith ? { wrapWith } : {}),
  });
}
