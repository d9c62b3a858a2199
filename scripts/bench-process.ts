import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';

/** Clock ticks per second, the unit of /proc/<pid>/stat's CPU times. */
const CLOCK_TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** /proc/<pid>/stat fields after the command name: [state, ppid, …]; undefined when the process is gone. */
export function procStat(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** CPU seconds a process used (user + system), with its reaped children's when `withChildren`; 0 once it is gone. */
export function cpuSeconds(pid: number, withChildren = false): number {
  const fields = procStat(pid);
  if (!fields) return 0;
  // utime, stime, cutime, cstime are fields 14–17 of stat, 12–15 here (after pid and comm).
  const ticks = Number(fields[11]) + Number(fields[12]) + (withChildren ? Number(fields[13]) + Number(fields[14]) : 0);
  return ticks / CLOCK_TICKS_PER_SECOND;
}

/** Every process id in /proc. */
export function allPids(): number[] {
  return readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number);
}

export function commandLine(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return [];
  }
}

/** The first process whose program ends with `program` and whose arguments include `-p <port>`. */
export function serverOnPort(program: string, port: number): number | undefined {
  return allPids().find((pid) => {
    const argv = commandLine(pid);
    return argv[0]?.endsWith(program) === true && argv.includes('-p') && argv[argv.indexOf('-p') + 1] === String(port);
  });
}

/** CPU seconds of the PostgreSQL server: the postmaster with the backends it reaped, plus every live child. */
export function postgresCpuSeconds(postmaster: number | undefined): number {
  if (postmaster === undefined) return NaN;
  return allPids().reduce((sum, pid) => (procStat(pid)?.[1] === String(postmaster) ? sum + cpuSeconds(pid) : sum), cpuSeconds(postmaster, true));
}

/**
 * ESTABLISHED TCP connections whose local end is `port` on this host (IPv4 and IPv6), from
 * /proc/net/tcp and /proc/net/tcp6: the clients a server listening on `port` holds.
 */
export function establishedConnectionsOnPort(port: number): number {
  const ESTABLISHED = '01';
  let count = 0;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let lines: string[];
    try {
      lines = readFileSync(table, 'utf8').split('\n').slice(1);
    } catch {
      continue;
    }
    for (const line of lines) {
      // sl local_address rem_address st …, addresses as HEXADDR:HEXPORT.
      const [, local, , state] = line.trim().split(/\s+/);
      if (state === ESTABLISHED && local !== undefined && parseInt(local.slice(local.lastIndexOf(':') + 1), 16) === port) count += 1;
    }
  }
  return count;
}

/** Stops registered with `stopOnSignal`, oldest first; each removes itself once it has run. */
const registeredStops: Array<() => Promise<void>> = [];
let stoppingOnSignal = false;

/**
 * Registers `stop` (of a server or a stack the benchmark started) so that a SIGINT or
 * SIGTERM runs it before the benchmark exits (see `stopEverythingOnSignals`). Returns a
 * function that runs it now, at most once, and unregisters it: call that where the thing
 * is normally stopped, in a `finally`. Registered after a signal came, it runs at once.
 */
export function stopOnSignal(stop: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  const once = (): Promise<void> =>
    (running ??= (async () => {
      const index = registeredStops.indexOf(once);
      if (index >= 0) registeredStops.splice(index, 1);
      await stop();
    })());
  registeredStops.push(once);
  if (stoppingOnSignal) void once().catch(() => undefined);
  return once;
}

/**
 * From now on a SIGINT or SIGTERM stops everything registered with `stopOnSignal`, newest
 * first, and the process exits with 128 + the signal's number once the benchmark's own
 * `finally` blocks have run (or after `graceMs`, if they hang). A second signal kills at once.
 */
export function stopEverythingOnSignals(graceMs = 30_000): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\n${signal}: stopping every process the benchmark started\n`);
      stoppingOnSignal = true;
      process.exitCode = 128 + osConstants.signals[signal];
      void (async () => {
        for (const stop of [...registeredStops].reverse()) await stop().catch(() => undefined);
        setTimeout(() => process.exit(), graceMs).unref();
      })();
    });
  }
}
