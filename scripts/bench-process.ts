import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

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
