/**
 * `npm run bench:fleet`: one table from one run. What an idle fleet costs the control plane
 * and how the fleet comes back when the control plane's process is restarted:
 * - the control plane's resident memory (VmRSS) idle with no simulated stream, then with
 *   every --step more connected idle streams up to --workers, as MiB per 1,000 streams;
 * - its CPU and PostgreSQL's while those streams sit idle and heartbeat;
 * - the control plane killed with SIGKILL and started again: the time until every simulated
 *   worker is welcomed again, how many Hellos a second it welcomed, each worker's reconnect
 *   time, and the errors (apart from the retries of workers that found no server to answer,
 *   and the Connects the gateway refused at once as busy, counted apart).
 *
 * The fleet (scripts/fleet-simulator.ts) runs in this process: each simulated worker is
 * enrolled for real, holds a real Connect stream over TLS on a channel of its own, and
 * verifies every policy bundle and instruction it receives. The stack is `startLocalStack`
 * with one control plane on a fixed gRPC port, so that the process started again listens
 * where the workers dial and every one of them must come back to it. With --replicas it is
 * instead one replica behind the stack's TCP balancer with a NATS server, as a replicated
 * deployment runs (the balancer then lives in this process too).
 *
 * Flags: --workers N (default 5000), --step N streams added per memory row (default 1000),
 * --settle S seconds each memory row waits before it reads (default 4), --idle S seconds the
 * idle CPU is measured over, with no simulated stream and with all of them (default 15),
 * --enroll-concurrency N (default 16), --heartbeat-interval MS (default 15000, see below),
 * --reconnect-timeout S how long the restart waits for every worker once the control plane
 * is ready (default 45), --max-handshakes N the gateway's bound on handshakes in progress
 * (AIRLOCK_GRPC_MAX_HANDSHAKES, default the control plane's 512), --replicas (above), --keep
 * leaves the temporary folder (the stack's logs). Progress goes to stderr, the report to stdout. A phase that does not complete in
 * time is reported as such; a ramp that stalls leaves out the phases after it.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { startLocalStack, type LocalStack } from '@airlock/local-stack';
import { createDatabase, findFreePort, startNatsServer, startPostgresCluster, type NatsServer, type PostgresCluster } from '@airlock/testing';
import { cpuSeconds, postgresCpuSeconds, serverOnPort } from './bench-process';
import { summarise, type Summary } from './bench-summary';
import { SimulatedFleet, addCounts, countsBetween, enrollFleet, errorsIn, type FleetCounts, type FleetTarget } from './fleet-simulator';

const flag = (name: string, fallback: number): number => {
  const index = process.argv.indexOf(`--${name}`);
  const value = index >= 0 ? Number(process.argv[index + 1]) : fallback;
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} expects a positive integer`);
  return value;
};
const WORKERS = flag('workers', 5000);
const STEP = Math.min(flag('step', 1000), WORKERS);
const SETTLE_MS = flag('settle', 4) * 1000;
const IDLE_MS = flag('idle', 15) * 1000;
const ENROLL_CONCURRENCY = flag('enroll-concurrency', 16);
/**
 * 15 s by default, not the control plane's 5 s: at 5 s one control-plane process spent its
 * whole core on the heartbeats of about 3,600 idle workers on a 2-core machine, and the ramp
 * to 5,000 never completed (the report projects the default's cost from what it measures).
 * 15 s is the longest the default 30 s lease allows: a worker heartbeats at least every half lease.
 */
const HEARTBEAT_INTERVAL_MS = flag('heartbeat-interval', 15_000);
const RECONNECT_TIMEOUT_MS = flag('reconnect-timeout', 45) * 1000;
/** The control plane's default of AIRLOCK_GRPC_MAX_HANDSHAKES (apps/control-plane/src/app/config/app-config.ts). */
const DEFAULT_MAX_HANDSHAKES = 512;
const MAX_HANDSHAKES = flag('max-handshakes', DEFAULT_MAX_HANDSHAKES);
const KEEP = process.argv.includes('--keep');
const REPLICATED = process.argv.includes('--replicas');

/** What every simulated worker says of itself in its Hello: a supported version, one slot. */
const WORKER_PROFILE = { version: '0.1.0', capacity: 1 } as const;
/** The control plane's defaults (apps/control-plane/src/app/config/app-config.ts), printed with the run. */
const DEFAULT_HEARTBEAT_INTERVAL_MS = 5_000;
const DEFAULT_LEASE_TTL_MS = 30_000;
if (HEARTBEAT_INTERVAL_MS > DEFAULT_LEASE_TTL_MS / 2) throw new Error(`--heartbeat-interval: at most ${DEFAULT_LEASE_TTL_MS / 2} ms, half the lease (a worker heartbeats at least that often)`);
/** File descriptors this process holds per simulated worker: its channel's socket, and the balancer's two with --replicas. */
const DESCRIPTORS_PER_WORKER = REPLICATED ? 3 : 1;
/** Descriptors for everything else in this process (PostgreSQL and REST clients, logs, the stack's pipes). */
const DESCRIPTORS_SPARE = 500;
/**
 * Workers the ramp starts at a time, each lot welcomed before the next: the ramp measures what
 * connected streams cost, not a storm (the restart is the storm).
 */
const CONNECT_BURST = 100;
const BURST_TIMEOUT_MS = 60_000;
/** How often the restart reports how many workers are back. */
const BACK_MARK_MS = 15_000;
const POLL_MS = 50;

const progress = (line: string): void => void process.stderr.write(`  ${line}\n`);
const topology = REPLICATED
  ? "one replica (its own process) behind the stack's TCP balancer, with NATS"
  : 'one control plane (its own process, no NATS) on a fixed gRPC port';

/** Polls `done` until it holds (true) or `timeoutMs` passed (false). */
async function waitFor(done: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > deadline) return false;
    await sleep(POLL_MS);
  }
  return true;
}

// ── /proc readings ──


/** Resident memory of a process in MiB (VmRSS), NaN once it is gone. */
function residentMiB(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** CPU seconds used so far by each process the fleet's traffic goes through. */
interface CpuSnapshot {
  readonly controlPlane: number;
  readonly postgres: number;
  readonly nats: number;
  /** This process: the simulated fleet and the stack's TCP balancer. */
  readonly bench: number;
  readonly at: number;
}

interface CpuSources {
  readonly controlPlanePid: () => number;
  readonly postmaster: number | undefined;
  readonly natsPid: number | undefined;
}

function cpuSnapshot(sources: CpuSources): CpuSnapshot {
  const usage = process.cpuUsage();
  return {
    controlPlane: cpuSeconds(sources.controlPlanePid()),
    postgres: postgresCpuSeconds(sources.postmaster),
    nats: sources.natsPid === undefined ? NaN : cpuSeconds(sources.natsPid),
    bench: (usage.user + usage.system) / 1e6,
    at: performance.now(),
  };
}

/** Each process's share of one core between two snapshots, e.g. "control plane 41%". */
type CpuShares = Record<'controlPlane' | 'postgres' | 'nats' | 'bench', number>;

function cpuShares(before: CpuSnapshot, after: CpuSnapshot): CpuShares {
  const wall = (after.at - before.at) / 1000;
  const share = (key: Exclude<keyof CpuSnapshot, 'at'>): number => ((after[key] - before[key]) / wall) * 100;
  return { controlPlane: share('controlPlane'), postgres: share('postgres'), nats: share('nats'), bench: share('bench') };
}

/**
 * Waits `windowMs`, reading the control plane's RSS every 500 ms, and returns the median of the
 * second half: streams just opened leave garbage behind that the first seconds still hold.
 */
async function settledResidentMiB(pid: () => number, windowMs = SETTLE_MS): Promise<number> {
  const readings: number[] = [];
  const until = performance.now() + windowMs;
  while (performance.now() < until) {
    await sleep(500);
    readings.push(residentMiB(pid()));
  }
  return summarise(readings.slice(Math.floor(readings.length / 2))).p50;
}

/** The descriptors this process may open (its soft RLIMIT_NOFILE; Node raises it to the hard limit at start). */
function openFileLimit(): { soft: number; hard: number } {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
  const [soft, hard] = (line ?? '').replace('Max open files', '').trim().split(/\s+/).map(Number);
  return { soft: soft ?? NaN, hard: hard ?? NaN };
}

/** Least-squares slope of y over x. */
function slope(points: ReadonlyArray<readonly [number, number]>): number {
  const n = points.length;
  const meanX = points.reduce((s, [x]) => s + x, 0) / n;
  const meanY = points.reduce((s, [, y]) => s + y, 0) / n;
  const covariance = points.reduce((s, [x, y]) => s + (x - meanX) * (y - meanY), 0);
  const variance = points.reduce((s, [x]) => s + (x - meanX) ** 2, 0);
  return covariance / variance;
}

// ── the report ──

const thousands = (n: number): string => n.toLocaleString('en-US');
const mib = (value: number): string => `${value.toFixed(0)} MiB`;
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
const percent = (value: number): string => (Number.isFinite(value) ? `${value.toFixed(0)}% of a core` : '-');
/** The p50 of samples rendered, or a dash when there are none. */
const median = (s: Summary, render: (value: number) => string): string => (s.n === 0 ? '-' : `p50 ${render(s.p50)}`);
const spread = (s: Summary, render: (value: number) => string): string =>
  s.n === 0 ? 'no sample' : `p99 ${render(s.p99)}, max ${render(s.max)} (n ${thousands(s.n)})`;
const milliseconds = (ms: number): string => `${ms.toFixed(0)} ms`;

function table(rows: ReadonlyArray<readonly [string, string, string]>): string[] {
  const widths = [0, 1, 2].map((column) => Math.max(...rows.map((row) => row[column]!.length), ['measure', 'value', 'detail'][column]!.length));
  const line = (cells: readonly string[]): string => `| ${cells.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(['measure', 'value', 'detail']), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)];
}

/** The error kinds a phase counted, e.g. "2 connections ended before Welcome (…); 1 policy bundles refused". */
function describeErrors(counts: FleetCounts): string {
  const parts: Array<[number, string]> = [
    [counts.outcomes['handshake-failed'], 'connections ended before Welcome (refused Hello, handshake timeout, invalid frame)'],
    [counts.outcomes['ended-after-welcome'], 'welcomed streams ended other than by the kill'],
    [counts.bundlesRefused, 'policy bundles refused'],
    [counts.instructionsRefused, 'instructions refused'],
    [counts.unexpectedFrames, 'unexpected frames'],
    [counts.failures, 'simulator failures'],
  ];
  const present = parts.filter(([n]) => n > 0).map(([n, what]) => `${thousands(n)} ${what}`);
  return present.length === 0 ? 'none' : present.join('; ');
}

/** How late this process's event loop ran in a phase: whether the fleet itself kept up. */
interface LoopDelay {
  readonly p99Ms: number;
  readonly maxMs: number;
}

/**
 * Measures how late a 20 ms interval timer of this process fires. (perf_hooks'
 * monitorEventLoopDelay missed a 200 ms block of the loop on Node 20 in a check of ours, so
 * the lateness is measured here directly.)
 */
class LoopLag {
  private static readonly TICK_MS = 20;
  /** Samples kept per phase: an hour of ticks. */
  private static readonly MAX_SAMPLES = 180_000;
  private samples: number[] = [];
  private timer: NodeJS.Timeout | undefined;

  start(): void {
    this.samples = [];
    let last = performance.now();
    this.timer = setInterval(() => {
      const now = performance.now();
      if (this.samples.length < LoopLag.MAX_SAMPLES) this.samples.push(Math.max(0, now - last - LoopLag.TICK_MS));
      last = now;
    }, LoopLag.TICK_MS);
    this.timer.unref();
  }

  /** Stops measuring; the phase's lateness. */
  stop(): LoopDelay {
    clearInterval(this.timer);
    const lateness = summarise(this.samples);
    return { p99Ms: lateness.p99, maxMs: lateness.max };
  }
}

const describeLoopDelay = (delay: LoopDelay): string => `event-loop delay in this process p99 ${delay.p99Ms.toFixed(0)} ms, max ${delay.maxMs.toFixed(0)} ms`;

interface MemoryRow {
  readonly streams: number;
  readonly residentMiB: number;
  /** How long the streams added for this row took from the first Connect to the last one applying the bundle. */
  readonly connectMs: number | undefined;
}

/** The idle window with every stream connected. */
interface IdleResult {
  /** The same, with no simulated stream (the fresh process before the ramp). */
  readonly baselineCpu: CpuShares;
  readonly cpu: CpuShares;
  readonly counts: FleetCounts;
  readonly heartbeatRoundTrips: Summary;
  readonly loopDelay: LoopDelay;
}

/** The restart: kill, start again, every worker back (or as many as came back in time). */
interface RestartResult {
  readonly readyMs: number;
  /** SIGKILL → the last Welcome, when every worker came back in time. */
  readonly allBackMs: number | undefined;
  readonly back: number;
  /** Workers back at each BACK_MARK_MS after the kill while the benchmark waited. */
  readonly backAtMarks: readonly number[];
  readonly counts: FleetCounts;
  readonly retriesBeforeReady: number;
  readonly reconnects: Summary;
  readonly handshakes: Summary;
  /** The retry-after hints of the busy refusals. */
  readonly retryAfter: Summary;
  readonly cpu: CpuShares;
  readonly loopDelay: LoopDelay;
  readonly residentMiB: number;
}

/** Everything one run measured; the phases after a failed one are absent. */
interface FleetRun {
  readonly enrollMs: number;
  readonly memory: readonly MemoryRow[];
  readonly rampCounts: FleetCounts;
  readonly rampHandshakes: Summary;
  readonly rampLoopDelay: LoopDelay;
  /** Set when a burst of the ramp was not welcomed in time: the run stops there. */
  readonly rampStalled: string | undefined;
  readonly idle: IdleResult | undefined;
  readonly restart: RestartResult | undefined;
  /** What the fleet counted by reason up to the end of the last phase. */
  readonly reasons: { readonly errors: ReadonlyArray<[string, number]>; readonly retries: ReadonlyArray<[string, number]>; readonly warnings: ReadonlyArray<[string, number]> };
}

/**
 * Runs the phases on a started stack: enroll the fleet, restart the control plane (so the
 * idle row is a fresh process, not one that just served the enrollment), idle baseline,
 * ramp, idle window, restart under the fleet. `fleetOf` makes the fleet, which the caller
 * keeps so that it stops it whatever happens here.
 */
async function measure(stack: LocalStack, fleetOf: (target: FleetTarget) => SimulatedFleet, cpuSourcesOf: (pid: () => number) => CpuSources): Promise<FleetRun> {
  const replica = stack.controlPlane.replicas[0]!;
  const controlPlanePid = (): number => replica.process.pid ?? -1;
  const cpuSources = cpuSourcesOf(controlPlanePid);
  const target = { address: stack.controlPlane.grpcAddress, caPem: readFileSync(stack.controlPlane.grpcCaFile!) };
  const loopLag = new LoopLag();

  // A published tenant policy: each worker's first stream brings it a signed bundle to verify and apply.
  const policyRevision = await publishTenantPolicy(stack);
  progress(`enrolling ${thousands(WORKERS)} workers: a REST token and an Enroll call each, ${ENROLL_CONCURRENCY} at a time`);
  const enrollStarted = performance.now();
  const identities = await enrollFleet(target, WORKERS, {
    createToken: async () => (await stack.api.createEnrollmentToken()).token,
    concurrency: ENROLL_CONCURRENCY,
    version: WORKER_PROFILE.version,
  });
  const enrollMs = performance.now() - enrollStarted;
  await replica.restart();

  const fleet = fleetOf(target);
  progress(`idle control plane (started afresh), no simulated stream: RSS and CPU over ${seconds(IDLE_MS)}`);
  const cpuBeforeBaseline = cpuSnapshot(cpuSources);
  const memory: MemoryRow[] = [{ streams: 0, connectMs: undefined, residentMiB: await settledResidentMiB(controlPlanePid, IDLE_MS) }];
  const baselineCpu = cpuShares(cpuBeforeBaseline, cpuSnapshot(cpuSources));
  const rampStart = fleet.counts();
  let rampStalled: string | undefined;
  loopLag.start();
  ramp: while (fleet.size < WORKERS) {
    const stepStarted = performance.now();
    const stepEnd = Math.min(fleet.size + STEP, WORKERS);
    while (fleet.size < stepEnd) {
      fleet.add(identities.slice(fleet.size, Math.min(fleet.size + CONNECT_BURST, stepEnd)));
      const everyWorker = (): boolean => fleet.welcomedSince(Number.NEGATIVE_INFINITY) === fleet.size && fleet.withPolicyRevision(policyRevision) === fleet.size;
      if (!(await waitFor(everyWorker, BURST_TIMEOUT_MS))) {
        rampStalled = `${thousands(fleet.welcomedSince(Number.NEGATIVE_INFINITY))} of ${thousands(fleet.size)} started workers welcomed ${seconds(BURST_TIMEOUT_MS)} after the last ${CONNECT_BURST} were started`;
        break ramp;
      }
    }
    const connectMs = performance.now() - stepStarted;
    progress(`${thousands(fleet.size)} streams welcomed (${seconds(connectMs)} for the last ${thousands(fleet.size - memory[memory.length - 1]!.streams)}); settling`);
    const row: MemoryRow = { streams: fleet.size, connectMs, residentMiB: await settledResidentMiB(controlPlanePid) };
    memory.push(row);
    progress(`  RSS ${mib(row.residentMiB)}`);
  }
  const rampCounts = countsBetween(rampStart, fleet.counts());
  const rampHandshakes = summarise(fleet.takeHandshakeSamples());
  const rampLoopDelay = loopLag.stop();
  const run = { enrollMs, memory, rampCounts, rampHandshakes, rampLoopDelay, rampStalled };
  const reasons = (): FleetRun['reasons'] => ({ errors: fleet.errorReasons.entries(), retries: fleet.retryReasons.entries(), warnings: fleet.workerWarnings.entries() });
  if (rampStalled) {
    progress(`the ramp stalled: ${rampStalled}`);
    return { ...run, idle: undefined, restart: undefined, reasons: reasons() };
  }

  progress(`idle: ${thousands(WORKERS)} streams heartbeating, CPU over ${seconds(IDLE_MS)}`);
  loopLag.start();
  const idleStart = fleet.counts();
  const cpuBeforeIdle = cpuSnapshot(cpuSources);
  fleet.sampleHeartbeats();
  await sleep(IDLE_MS);
  const idle: IdleResult = {
    baselineCpu,
    cpu: cpuShares(cpuBeforeIdle, cpuSnapshot(cpuSources)),
    heartbeatRoundTrips: summarise(fleet.takeHeartbeatSamples()),
    counts: countsBetween(idleStart, fleet.counts()),
    loopDelay: loopLag.stop(),
  };

  progress(`restart: SIGKILL the control plane under ${thousands(WORKERS)} streams, start it again`);
  loopLag.start();
  const restartStart = fleet.counts();
  fleet.takeReconnectSamples();
  fleet.takeHandshakeSamples();
  fleet.takeRetryAfterSamples();
  fleet.expectCut();
  const killedAt = performance.now();
  await replica.kill();
  await replica.restart();
  const readyAt = performance.now();
  const atReady = fleet.counts();
  const cpuAtReady = cpuSnapshot(cpuSources);
  progress(`control plane ready after ${seconds(readyAt - killedAt)}; waiting up to ${seconds(RECONNECT_TIMEOUT_MS)} for every worker's Welcome`);
  // How many are back at each mark after the kill: whether a fleet that is not back yet is getting there.
  const backAtMarks: number[] = [];
  let back = 0;
  while (back < WORKERS && performance.now() - readyAt < RECONNECT_TIMEOUT_MS) {
    await sleep(POLL_MS);
    back = fleet.welcomedSince(killedAt);
    if (performance.now() - killedAt >= (backAtMarks.length + 1) * BACK_MARK_MS) {
      backAtMarks.push(back);
      progress(`  ${thousands(back)} back ${seconds(backAtMarks.length * BACK_MARK_MS)} after the kill`);
    }
  }
  const allBack = back === WORKERS;
  const restartCpu = cpuShares(cpuAtReady, cpuSnapshot(cpuSources));
  const restartCounts = countsBetween(restartStart, fleet.counts());
  const restartLoopDelay = loopLag.stop();
  const restartReasons = reasons();
  progress(allBack ? `every worker welcomed again ${seconds(fleet.lastWelcomeAt - killedAt)} after the kill; settling` : `${thousands(back)} of ${thousands(WORKERS)} back; settling`);
  return {
    ...run,
    idle,
    reasons: restartReasons,
    restart: {
      readyMs: readyAt - killedAt,
      allBackMs: allBack ? fleet.lastWelcomeAt - killedAt : undefined,
      back,
      backAtMarks,
      counts: restartCounts,
      retriesBeforeReady: countsBetween(restartStart, atReady).outcomes.unreachable,
      reconnects: summarise(fleet.takeReconnectSamples()),
      handshakes: summarise(fleet.takeHandshakeSamples()),
      retryAfter: summarise(fleet.takeRetryAfterSamples()),
      cpu: restartCpu,
      loopDelay: restartLoopDelay,
      residentMiB: await settledResidentMiB(controlPlanePid),
    },
  };
}

/** Streams the ramp connected per second of its steps' connecting time. */
function rampWelcomesPerSecond(memory: readonly MemoryRow[]): number {
  const connectMs = memory.reduce((sum, row) => sum + (row.connectMs ?? 0), 0);
  return memory[memory.length - 1]!.streams / (connectMs / 1000);
}

/** The report's table rows. */
function reportRows(run: FleetRun, fleet: SimulatedFleet, withNats: boolean): Array<[string, string, string]> {
  const { memory } = run;
  const idleRow = memory[0]!;
  const fullRow = memory[memory.length - 1]!;
  const rows: Array<[string, string, string]> = memory.map((row, index) => [
    `control-plane RSS, ${thousands(row.streams)} idle simulated streams`,
    mib(row.residentMiB),
    index === 0
      ? "a fresh process, after enrollment; the stack's one real worker is connected throughout"
      : `+${mib(row.residentMiB - memory[index - 1]!.residentMiB)}; the ${thousands(row.streams - memory[index - 1]!.streams)} more were welcomed and applied the bundle in ${seconds(row.connectMs ?? NaN)}`,
  ]);
  if (memory.length > 1) {
    const perThousand = slope(memory.map((row) => [row.streams / 1000, row.residentMiB] as const));
    rows.push(
      ['control-plane RSS per 1,000 idle streams', mib(perThousand), `least-squares slope over the ${memory.length} rows above; (last − idle) ÷ ${fullRow.streams / 1000} = ${mib((fullRow.residentMiB - idleRow.residentMiB) / (fullRow.streams / 1000))}`],
      ['control-plane RSS, 10,000 streams (projected)', mib(idleRow.residentMiB + 10 * perThousand), `idle + 10 × the slope, of which the streams ${mib(10 * perThousand)}; target: under 300 MiB`],
    );
  }
  rows.push([
    'Connect → Welcome while connecting',
    median(run.rampHandshakes, milliseconds),
    `${spread(run.rampHandshakes, milliseconds)}, ${CONNECT_BURST} workers started at a time: TLS, Challenge, Hello checked, Welcome`,
  ]);
  if (run.rampStalled) rows.push(['the ramp stalled', `at ${thousands(fleet.size)} workers`, `${run.rampStalled}; ${describeErrors(run.rampCounts)}`]);
  const { idle, restart } = run;
  if (idle) {
    const heartbeatsPerSecond = idle.counts.heartbeatsAnswered / (IDLE_MS / 1000);
    const baseline = idle.baselineCpu;
    // The control plane's CPU that the idle streams add (heartbeats, keepalive pings, timers), per heartbeat answered.
    const perHeartbeatMs = (((idle.cpu.controlPlane - baseline.controlPlane) / 100) * 1000) / heartbeatsPerSecond;
    const atDefault = (perHeartbeatMs * (1000 / (DEFAULT_HEARTBEAT_INTERVAL_MS / 1000))) / 10;
    rows.push(
      [`control-plane CPU, ${thousands(WORKERS)} idle streams`, percent(idle.cpu.controlPlane), `${heartbeatsPerSecond.toFixed(0)} heartbeats/s answered over ${seconds(IDLE_MS)}; ${percent(baseline.controlPlane)} with no simulated stream`],
      ['PostgreSQL CPU, same window', percent(idle.cpu.postgres), `every server process: each heartbeat updates the worker's row; ${percent(baseline.postgres)} with no simulated stream`],
      ...(withNats ? [['NATS CPU, same window', percent(idle.cpu.nats), `${percent(baseline.nats)} with no simulated stream`] as [string, string, string]] : []),
      [`this process (the fleet${withNats ? ' and the balancer' : ''}), same window`, percent(idle.cpu.bench), describeLoopDelay(idle.loopDelay)],
      [
        'control-plane CPU per heartbeat',
        `${perHeartbeatMs.toFixed(2)} ms`,
        `the streams' CPU (idle − no stream, keepalive included) ÷ heartbeats/s; at the default ${seconds(DEFAULT_HEARTBEAT_INTERVAL_MS)} interval 1,000 idle workers would cost ${percent(atDefault)}, one process's core ≈ ${thousands(Math.round((100 / atDefault) * 10) * 100)} workers (projected)`,
      ],
      ['heartbeat → LeaseRenewal round trip', median(idle.heartbeatRoundTrips, milliseconds), spread(idle.heartbeatRoundTrips, milliseconds)],
    );
  }
  const beforeRestart = idle ? addCounts(run.rampCounts, idle.counts) : run.rampCounts;
  rows.push([
    'errors while connecting and idle',
    thousands(errorsIn(beforeRestart)),
    `${describeErrors(beforeRestart)}; retries ${thousands(beforeRestart.outcomes.unreachable)}; refused as busy ${thousands(beforeRestart.outcomes['refused-busy'])}`,
  ]);
  if (restart) {
    rows.push(
      ['restart: SIGKILL → control plane ready', seconds(restart.readyMs), 'a new process: started, migrations checked, gRPC and REST listening'],
      [
        `restart: SIGKILL → all ${thousands(WORKERS)} welcomed again`,
        restart.allBackMs === undefined ? `not within ${seconds(restart.readyMs + RECONNECT_TIMEOUT_MS)}` : seconds(restart.allBackMs),
        (restart.allBackMs === undefined ? `${thousands(restart.back)} of ${thousands(WORKERS)} back when the benchmark stopped waiting` : `ready → last Welcome ${seconds(restart.allBackMs - restart.readyMs)}`) +
          (restart.backAtMarks.length > 0 ? `; back after ${restart.backAtMarks.map((n, i) => `${seconds((i + 1) * BACK_MARK_MS)}: ${thousands(n)}`).join(', ')}` : ''),
      ],
      [
        'restart: Hellos welcomed per second',
        restart.allBackMs === undefined ? '-' : `${(restart.counts.welcomes / ((restart.allBackMs - restart.readyMs) / 1000)).toFixed(0)}/s`,
        `${thousands(restart.counts.welcomes)} Welcomes from ready to the last one; the ramp, ${CONNECT_BURST} started at a time and each lot's bundle applied before the next, ${rampWelcomesPerSecond(memory).toFixed(0)}/s`,
      ],
      ['each worker: stream cut → Welcome again', median(restart.reconnects, seconds), spread(restart.reconnects, seconds)],
      ['Connect → Welcome of the calls that got in', median(restart.handshakes, milliseconds), `${spread(restart.handshakes, milliseconds)}: the server's side of the reconnect`],
      ['errors during the restart', thousands(errorsIn(restart.counts)), describeErrors(restart.counts)],
      [
        'refused as busy during the restart',
        thousands(restart.counts.outcomes['refused-busy']),
        restart.retryAfter.n === 0
          ? `none: never more than ${thousands(MAX_HANDSHAKES)} handshakes in progress`
          : `RESOURCE_EXHAUSTED at once, past ${thousands(MAX_HANDSHAKES)} handshakes in progress; retry-after hint ${median(restart.retryAfter, milliseconds)}, ${spread(restart.retryAfter, milliseconds)}`,
      ],
      [
        'retries during the restart',
        thousands(restart.counts.outcomes.unreachable),
        `${thousands(restart.retriesBeforeReady)} before the control plane was ready, ${thousands(restart.counts.outcomes.unreachable - restart.retriesBeforeReady)} after; ${thousands(restart.counts.outcomes['cut-by-restart'])} streams cut by the kill`,
      ],
      [
        'CPU from ready to the end of the restart',
        `control plane ${percent(restart.cpu.controlPlane)}`,
        `PostgreSQL ${percent(restart.cpu.postgres)}${withNats ? `, NATS ${percent(restart.cpu.nats)}` : ''}, this process ${percent(restart.cpu.bench)}; ${describeLoopDelay(restart.loopDelay)}`,
      ],
      ['control-plane RSS after the restart', mib(restart.residentMiB), `the restarted process with ${thousands(restart.back)} of ${thousands(WORKERS)} streams welcomed, settled`],
    );
  }
  return rows;
}

async function main(): Promise<void> {
  const began = performance.now();
  // grpc-js reads the stack of an Error for every call that ends with a status other than OK.
  // Under @swc-node/register, source-map-support formats each one through the source maps:
  // with 5,000 streams cut at once and their reconnects timing out, that was a third of this
  // process's CPU in a profile and stalled its event loop for seconds, so the fleet measured
  // itself. V8's own formatting costs microseconds; stacks printed here then name the
  // compiled positions.
  Reflect.deleteProperty(Error, 'prepareStackTrace');
  const limit = openFileLimit();
  const needed = WORKERS * DESCRIPTORS_PER_WORKER + DESCRIPTORS_SPARE;
  if (needed > limit.soft) {
    throw new Error(
      `${thousands(WORKERS)} workers need about ${thousands(needed)} file descriptors in this process (${DESCRIPTORS_PER_WORKER} each); ` +
        `the limit is ${thousands(limit.soft)} (hard ${thousands(limit.hard)}). Raise it (ulimit -n) or ask for fewer --workers.`,
    );
  }
  const cpuList = cpus();
  const header =
    `bench:fleet — ${new Date().toISOString().slice(0, 10)}; Node ${process.version}; ${cpuList.length} × ${cpuList[0]?.model.trim() ?? 'unknown CPU'}; ` +
    `load average ${loadavg().map((v) => v.toFixed(2)).join(' ')}; open files ${thousands(limit.soft)}`;
  process.stderr.write(`${header}\n`);

  const baseDir = mkdtempSync(join(tmpdir(), 'airlock-bench-fleet-'));
  let cluster: PostgresCluster | undefined;
  let nats: NatsServer | undefined;
  let stack: LocalStack | undefined;
  let fleet: SimulatedFleet | undefined;
  try {
    cluster = await startPostgresCluster({ durable: true });
    if (REPLICATED) nats = await startNatsServer();
    const postgresVersion = await serverVersion(cluster.url);
    const databaseUrl = await createDatabase(cluster.url, 'bench_fleet');
    progress(`starting the stack: ${topology}, gRPC over TLS`);
    stack = await startLocalStack({
      baseDir,
      canary: 'bench',
      databaseUrl,
      ...(nats ? { replicas: { count: 1, natsUrl: nats.url } } : {}),
      heartbeatInterval: `${HEARTBEAT_INTERVAL_MS}ms`,
      // A port of its own that the control plane started again binds anew (with --replicas the balancer's port stays).
      controlPlaneEnv: { LOG_LEVEL: 'warn', AIRLOCK_GRPC_MAX_HANDSHAKES: String(MAX_HANDSHAKES), ...(nats ? {} : { AIRLOCK_GRPC_PORT: String(await findFreePort()) }) },
    });
    const postmaster = serverOnPort('/postgres', Number(new URL(cluster.url).port));
    const natsPid = nats && serverOnPort('nats-server', Number(new URL(nats.url).port));
    const run = await measure(
      stack,
      (target) => (fleet = new SimulatedFleet(target, WORKER_PROFILE)),
      (controlPlanePid) => ({ controlPlanePid, postmaster, natsPid }),
    );
    const simulated = fleet!;
    const restartCounts = run.restart?.counts;
    const lines: string[] = [
      header,
      `control plane: ${topology}, gRPC over TLS (ECDSA P-256), LOG_LEVEL=warn, at most ${thousands(MAX_HANDSHAKES)} handshakes in progress (AIRLOCK_GRPC_MAX_HANDSHAKES${MAX_HANDSHAKES === DEFAULT_MAX_HANDSHAKES ? ', the default' : ''}); PostgreSQL ${postgresVersion}, durable (fsync, synchronous_commit on)`,
      `heartbeat interval ${thousands(HEARTBEAT_INTERVAL_MS)} ms (AIRLOCK_HEARTBEAT_INTERVAL${HEARTBEAT_INTERVAL_MS === DEFAULT_HEARTBEAT_INTERVAL_MS ? ", the control plane's default" : `, set by the benchmark: the control plane's default is ${thousands(DEFAULT_HEARTBEAT_INTERVAL_MS)} ms`}), ` +
        `lease TTL ${thousands(DEFAULT_LEASE_TTL_MS)} ms (the default)`,
      `fleet: ${thousands(WORKERS)} simulated workers in this process (version ${WORKER_PROFILE.version}, capacity ${WORKER_PROFILE.capacity}, each its own TLS channel), ` +
        `enrolled in ${seconds(run.enrollMs)} (${(WORKERS / (run.enrollMs / 1000)).toFixed(0)}/s: a REST token and an Enroll call each, ${ENROLL_CONCURRENCY} at a time)`,
      '',
      ...table(reportRows(run, simulated, nats !== undefined)),
      '',
      'definitions:',
      `  RSS: VmRSS of the control plane's process (/proc/<pid>/status), the median of the readings of the second half of a settle`,
      `    (${seconds(SETTLE_MS)}; ${seconds(IDLE_MS)} for the idle row) once every worker of the row was welcomed and had applied the bundle.`,
      '  a simulated worker: enrolled for real (its own token and Ed25519 key), one Connect stream over TLS on a channel of its own; the',
      "    worker's own GatewaySession (Challenge → signed Hello → Welcome, frame validation, 15 s handshake timeout), credits after",
      "    Welcome, heartbeats at the Welcome's interval clamped and ±10 % jittered as the worker does, and the worker's ReconnectBackoff",
      "    (250 ms doubling to 15 s, full jitter, reset after a Welcome; never sooner than a busy refusal's retry-after hint plus up to",
      '    a fifth of it). It verifies every bundle and instruction against the keys its enrollment answered with (PolicyBundleVerifier,',
      '    InstructionVerifier).',
      '  errors: a connection that ended after the Challenge without a Welcome (refused Hello, handshake timeout, invalid frame), a',
      "    welcomed stream that ended other than by the kill, a bundle or instruction the worker's checks refused, any other frame a",
      '    worker holding no job never expects, an exception in the simulator.',
      "  refused as busy: Connect calls the gateway refused at once, before any Challenge, with RESOURCE_EXHAUSTED and a retry-after",
      '    hint (airlock-refusal: gateway-busy), because it had AIRLOCK_GRPC_MAX_HANDSHAKES handshakes in progress: not errors.',
      '  retries: Connect calls that ended UNAVAILABLE before any Challenge — no server answered (nothing listened, the balancer had no',
      '    replica to hand the connection to, or grpc-js failed the call at once while its own connection backoff ran).',
      '  reconnect time: from the moment the worker saw its stream cut to its next Welcome.',
      '',
      `ramp: ${thousands(run.rampCounts.attempts)} Connect calls, ${thousands(run.rampCounts.welcomes)} Welcomes, ${thousands(run.rampCounts.bundlesApplied)} bundles verified and applied; ` +
        describeLoopDelay(run.rampLoopDelay),
      ...(restartCounts ? [`restart: ${thousands(restartCounts.attempts)} Connect calls, ${thousands(restartCounts.welcomes)} Welcomes`] : []),
      `instructions verified in the whole run: ${thousands(simulated.counts().instructionsVerified)} (no job is created)`,
      ...breakdown('why retried (to the end of the last phase)', run.reasons.retries),
      ...breakdown('errors by reason (to the end of the last phase)', run.reasons.errors),
      ...breakdown("the workers' session code warned", run.reasons.warnings),
      `this process: RSS ${mib(process.memoryUsage().rss / 2 ** 20)} at the end`,
      '',
      `bench:fleet took ${seconds(performance.now() - began)}; load average at the end ${loadavg().map((v) => v.toFixed(2)).join(' ')}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await fleet?.stop().catch((error: unknown) => progress(`stopping the fleet: ${String(error)}`));
    await stack?.stop();
    await nats?.stop();
    await cluster?.stop();
    if (KEEP) process.stderr.write(`kept ${baseDir} (the stack's logs are in logs/)\n`);
    else rmSync(baseDir, { recursive: true, force: true });
  }
}

function breakdown(title: string, entries: ReadonlyArray<[string, number]>): string[] {
  if (entries.length === 0) return [`${title}: nothing`];
  return [`${title}:`, ...entries.map(([reason, n]) => `  ${thousands(n).padStart(7)}  ${reason}`)];
}

async function serverVersion(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]!.v;
  } finally {
    await client.end();
  }
}

/** Publishes a one-rule tenant policy through the REST API; returns the tenant's policy revision. */
async function publishTenantPolicy(stack: LocalStack): Promise<number> {
  const created = await stack.api.request<{ id: string }>('POST', '/policies', { name: 'bench-fleet', document: { schemaVersion: 1, rules: { 'max-files-changed': { max: 20 } } } });
  if (created.status !== 201) throw new Error(`POST /policies answered ${created.status}: ${JSON.stringify(created.body)}`);
  const published = await stack.api.request<{ revision: number }>('POST', `/policies/${created.body.id}/versions/1/publish`, { scope: 'tenant', mode: 'enforce' });
  if (published.status !== 200) throw new Error(`publish answered ${published.status}: ${JSON.stringify(published.body)}`);
  return published.body.revision;
}

main().catch((error: unknown) => {
  console.error(`bench:fleet failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
});
