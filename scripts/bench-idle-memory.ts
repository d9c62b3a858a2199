/**
 * `npm run bench:idle-memory`: the resident memory of the control plane (embedded
 * PostgreSQL, no DATABASE_URL) and of one worker enrolled and connected to it, both idle
 * with no job, run from their TypeScript sources (`node -r @swc-node/register`) and from the
 * bundles of scripts/build-apps.ts, one after the other in the same run.
 *
 * Each mode boots the local stack (libs/local-stack: git server, inference simulator,
 * control plane, worker), waits `--settle` seconds after the worker connected, then reads
 * VmRSS from /proc/<pid>/status `--samples` times, `--interval` seconds apart, and prints
 * the median and the largest sample per app and mode.
 *
 * Why a minute: V8 grows its young generation while the modules load and gives it back only
 * at a later collection that sees little allocation; 15 s after connecting the worker often
 * still holds it (some 10-15 MiB), after 45-60 s idle it has given it back.
 *
 * Flags: --settle S (default 60), --samples N (default 5), --interval S (default 2),
 * --bundles DIR (bundles built already, e.g. dist/apps; default: built now into a temporary folder),
 * --modes sources,bundle (default both).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startLocalStack } from '@airlock/local-stack';

type Mode = 'sources' | 'bundle';

interface Sample {
  readonly app: 'control-plane' | 'worker';
  readonly mode: Mode;
  readonly rssMiB: readonly number[];
}

const WORKSPACE_ROOT = resolve(__dirname, '..');

function option(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

function positive(name: string, fallback: number): number {
  const text = option(name);
  const value = text === undefined ? fallback : Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} expects a positive number`);
  return value;
}

const SETTLE_MS = positive('settle', 60) * 1000;
const SAMPLES = Math.round(positive('samples', 5));
const INTERVAL_MS = positive('interval', 2) * 1000;
const MODES = (option('modes') ?? 'sources,bundle').split(',').map((mode) => {
  if (mode !== 'sources' && mode !== 'bundle') throw new Error(`--modes: expected sources and/or bundle, not ${mode}`);
  return mode;
});

/** Resident set size of a live process, in MiB, as the kernel counts it (VmRSS). */
export function residentMiB(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`/proc/${pid}/status has no VmRSS line`);
  return Number(match[1]) / 1024;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

async function measure(mode: Mode, bundledAppsDir: string): Promise<Sample[]> {
  const baseDir = mkdtempSync(join(tmpdir(), `airlock-idle-memory-${mode}-`));
  const stack = await startLocalStack({
    baseDir,
    canary: `AIRLOCK-CANARY-${randomBytes(8).toString('hex')}`,
    ...(mode === 'bundle' ? { bundledAppsDir } : {}),
  });
  try {
    const pids = { 'control-plane': stack.controlPlane.process.pid, worker: stack.worker.process.pid };
    await sleep(SETTLE_MS);
    const rss: Record<keyof typeof pids, number[]> = { 'control-plane': [], worker: [] };
    for (let sample = 0; sample < SAMPLES; sample += 1) {
      if (sample > 0) await sleep(INTERVAL_MS);
      for (const app of ['control-plane', 'worker'] as const) {
        const pid = pids[app];
        if (pid === undefined) throw new Error(`${app} has no pid`);
        rss[app].push(residentMiB(pid));
      }
    }
    return (['control-plane', 'worker'] as const).map((app) => ({ app, mode, rssMiB: rss[app] }));
  } finally {
    await stack.stop();
    rmSync(baseDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const given = option('bundles');
  const buildDir = given === undefined && MODES.includes('bundle') ? mkdtempSync(join(tmpdir(), 'airlock-idle-memory-build-')) : undefined;
  const bundledAppsDir = given === undefined ? join(buildDir ?? tmpdir(), 'apps') : resolve(given);
  try {
    if (buildDir !== undefined) {
      process.stdout.write(`building the bundles into ${bundledAppsDir} …\n`);
      execFileSync(process.execPath, ['-r', '@swc-node/register', join(WORKSPACE_ROOT, 'scripts', 'build-apps.ts'), '--out', bundledAppsDir], { cwd: WORKSPACE_ROOT, stdio: 'inherit' });
    }
    const results: Sample[] = [];
    for (const mode of MODES) {
      process.stdout.write(`${mode}: booting the stack, then ${SETTLE_MS / 1000} s idle and ${SAMPLES} samples …\n`);
      results.push(...(await measure(mode, bundledAppsDir)));
    }
    process.stdout.write(`\nIdle resident memory (VmRSS), Node ${process.version}, ${SAMPLES} samples ${INTERVAL_MS / 1000} s apart after ${SETTLE_MS / 1000} s idle\n\n`);
    process.stdout.write('| app           | mode    | RSS MiB median | RSS MiB max |\n|---------------|---------|---------------:|------------:|\n');
    for (const app of ['worker', 'control-plane'] as const) {
      for (const { mode, rssMiB } of results.filter((result) => result.app === app)) {
        process.stdout.write(`| ${app.padEnd(13)} | ${mode.padEnd(7)} | ${median(rssMiB).toFixed(1).padStart(14)} | ${Math.max(...rssMiB).toFixed(1).padStart(11)} |\n`);
      }
    }
  } finally {
    if (buildDir !== undefined) rmSync(buildDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:idle-memory failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
