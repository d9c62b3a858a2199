import { basename } from 'node:path';

/**
 * Reads what the kernel saw a process tree do with sockets, from a trace written by
 * `strace` with `egressTraceWrapper`, and checks it against the destinations a worker may
 * reach. A log line of the program's own cannot hide a socket: every connect and every
 * addressed send of the process and of all its children (git, setup commands, sandboxes) is
 * a system call strace records.
 */

/** The system calls the wrapper records: socket destinations, process creation, namespaces. */
const TRACED_CALLS = ['connect', 'sendto', 'sendmsg', 'sendmmsg', 'clone', 'clone3', 'fork', 'vfork', 'execve', 'unshare', 'setns', 'io_uring_setup'];

/**
 * The argv to start a program under strace so that `traceFile` records every socket its
 * process tree opens. `--seccomp-bpf` stops the program only on the traced calls (a full
 * trace slows node several times); `--decode-pids=pidns` gives a sandbox's children by
 * their host pid, so they are linked to the sandbox that made them.
 */
export function egressTraceWrapper(traceFile: string): string[] {
  return ['strace', '-f', '-qq', '--seccomp-bpf', '--decode-pids=pidns', '-e', 'signal=none', '-e', `trace=${TRACED_CALLS.join(',')}`, '-o', traceFile, '--'];
}

/** One destination given to connect, sendto, sendmsg or sendmmsg. */
export interface SocketDestination {
  /** Line of the trace (1-based), to find it again. */
  readonly line: number;
  readonly pid: number;
  /** The program the process was running (basename of its last execve), or `?`. */
  readonly program: string;
  readonly call: 'connect' | 'sendto' | 'sendmsg' | 'sendmmsg';
  /** AF_INET, AF_INET6, AF_UNIX, AF_NETLINK, … as strace names it. */
  readonly family: string;
  /** IP address (AF_INET/AF_INET6). */
  readonly address?: string;
  readonly port?: number;
  /** Unix socket path; abstract names start with `@`. */
  readonly path?: string;
  /**
   * True when the process was in a network namespace of its own (a bubblewrap sandbox made
   * with --unshare-net or --unshare-all), where an IP address names only the sandbox's loopback.
   */
  readonly isolated: boolean;
  /** What the call returned: `0`, `-1 EINPROGRESS`, `-1 ENOENT`, a byte count… */
  readonly result: string;
}

export interface SocketTrace {
  readonly destinations: readonly SocketDestination[];
  /** Programs started (execve that succeeded), by basename, with how many times. */
  readonly programs: ReadonlyMap<string, number>;
  /**
   * io_uring instances created, by the program that created them: io_uring can connect without
   * a connect call, which strace would not see. Node 24's libuv creates its own rings (to batch
   * epoll_ctl, and for file I/O when enabled) and still connects with connect(2).
   */
  readonly ioUringSetups: ReadonlyMap<string, number>;
  /** Processes that entered a network namespace by setns: where they are, the trace cannot tell. */
  readonly setnsCalls: number;
}

const LINE = /^(\d+) +(.*)$/;
const CALL = /^([a-z_0-9]+)\((.*)$/;
const UNFINISHED = / <unfinished \.\.\.>$/;
const RESUMED = /^<\.\.\. ([a-z_0-9]+) resumed>(.*)$/;
const RESULT = /\) += (.*)$/;
const CHILD_PID = /^(\d+)(?: \/\* (\d+) in strace's PID NS \*\/)?/;
const SOCKADDR = /\{sa_family=(AF_[A-Z0-9]+)(.*?)\}/g;

type DestinationCall = SocketDestination['call'];
const DESTINATION_CALLS = new Set<string>(['connect', 'sendto', 'sendmsg', 'sendmmsg']);
const PROCESS_CALLS = new Set<string>(['clone', 'clone3', 'fork', 'vfork']);

/** Parses a trace written through `egressTraceWrapper`. Lines it does not know are skipped. */
export function parseSocketTrace(text: string): SocketTrace {
  const pending = new Map<number, string>();
  const parentOf = new Map<number, { parent: number; at: number; newNet: boolean }>();
  const unshared = new Map<number, number>();
  const programAt = new Map<number, Array<{ at: number; program: string }>>();
  const programs = new Map<string, number>();
  const calls: Array<{ line: number; pid: number; call: DestinationCall; body: string; result: string }> = [];
  const ioUringCalls: Array<{ pid: number; line: number }> = [];
  let setnsCalls = 0;

  text.split('\n').forEach((raw, index) => {
    const line = index + 1;
    const match = LINE.exec(raw);
    if (!match) return;
    const pid = Number(match[1]);
    let rest = match[2]!;
    if (UNFINISHED.test(rest)) {
      pending.set(pid, rest.replace(UNFINISHED, ''));
      return;
    }
    const resumed = RESUMED.exec(rest);
    if (resumed) {
      rest = `${pending.get(pid) ?? `${resumed[1]!}(`}${resumed[2]!}`;
      pending.delete(pid);
    }
    const call = CALL.exec(rest);
    const result = RESULT.exec(rest)?.[1];
    if (!call || result === undefined) return;
    const name = call[1]!;
    const body = call[2]!;
    if (DESTINATION_CALLS.has(name)) calls.push({ line, pid, call: name as DestinationCall, body, result });
    else if (PROCESS_CALLS.has(name)) {
      const child = CHILD_PID.exec(result);
      if (child) parentOf.set(Number(child[2] ?? child[1]), { parent: pid, at: line, newNet: body.includes('CLONE_NEWNET') });
    } else if (name === 'unshare' && body.includes('CLONE_NEWNET') && result === '0') unshared.set(pid, line);
    else if (name === 'setns' && result === '0') setnsCalls += 1;
    else if (name === 'execve' && result === '0') {
      const program = basename(/^"((?:[^"\\]|\\.)*)"/.exec(body)?.[1] ?? '?');
      programAt.set(pid, [...(programAt.get(pid) ?? []), { at: line, program }]);
      programs.set(program, (programs.get(program) ?? 0) + 1);
    } else if (name === 'io_uring_setup' && !result.startsWith('-1')) ioUringCalls.push({ pid, line });
  });

  const isolatedAt = (pid: number, at: number, seen = new Set<number>()): boolean => {
    const unshareLine = unshared.get(pid);
    if (unshareLine !== undefined && unshareLine <= at) return true;
    const origin = parentOf.get(pid);
    // A process whose creation the trace does not show is the traced program itself: the host's network.
    if (!origin || seen.has(pid)) return false;
    seen.add(pid);
    return origin.newNet || isolatedAt(origin.parent, origin.at, seen);
  };
  const programOf = (pid: number, at: number): string => {
    for (let current: number | undefined = pid, seen = 0; current !== undefined && seen < 64; seen += 1) {
      const runs = (programAt.get(current) ?? []).filter((run) => current !== pid || run.at <= at);
      const last = runs[runs.length - 1];
      if (last) return last.program;
      // A thread or a fork that has not exec'd yet runs its parent's program.
      current = parentOf.get(current)?.parent;
    }
    return '?';
  };

  const destinations: SocketDestination[] = [];
  for (const { line, pid, call, body, result } of calls) {
    for (const sockaddr of body.matchAll(SOCKADDR)) {
      const family = sockaddr[1]!;
      // AF_UNSPEC is how a datagram socket forgets its peer: no destination.
      if (family === 'AF_UNSPEC') continue;
      destinations.push({ line, pid, program: programOf(pid, line), call, family, ...decodeSockaddr(family, sockaddr[2]!), isolated: isolatedAt(pid, line), result });
    }
  }
  const ioUringSetups = new Map<string, number>();
  for (const { pid, line } of ioUringCalls) {
    const program = programOf(pid, line);
    ioUringSetups.set(program, (ioUringSetups.get(program) ?? 0) + 1);
  }
  return { destinations, programs, ioUringSetups, setnsCalls };
}

function decodeSockaddr(family: string, fields: string): Pick<SocketDestination, 'address' | 'port' | 'path'> {
  if (family === 'AF_INET') {
    return { address: /inet_addr\("([^"]+)"\)/.exec(fields)?.[1] ?? '?', port: Number(/sin_port=htons\((\d+)\)/.exec(fields)?.[1] ?? -1) };
  }
  if (family === 'AF_INET6') {
    return { address: /inet_pton\(AF_INET6, "([^"]+)"/.exec(fields)?.[1] ?? '?', port: Number(/sin6_port=htons\((\d+)\)/.exec(fields)?.[1] ?? -1) };
  }
  if (family === 'AF_UNIX') {
    const path = /sun_path=(@?)"((?:[^"\\]|\\.)*)"/.exec(fields);
    return { path: path ? `${path[1]!}${path[2]!}` : '' };
  }
  return {};
}

/** A destination the worker may reach, named by the role it plays. */
export interface AllowedEndpoint {
  readonly role: string;
  readonly host: string;
  readonly port: number;
}

/** A unix socket the worker may connect to, by exact path or pattern, and why. */
export interface AllowedUnixSocket {
  readonly role: string;
  readonly path: string | RegExp;
}

export interface EgressPolicy {
  readonly endpoints: readonly AllowedEndpoint[];
  readonly unixSockets: readonly AllowedUnixSocket[];
}

/** Name-service sockets: a connect to one is a name lookup (DNS through nscd or systemd-resolved). */
const NAME_SERVICE_SOCKETS = [/^\/(var\/)?run\/nscd\//, /^\/run\/systemd\/resolve\//, /^\/(var\/)?run\/dbus\//, /^\/run\/systemd\/userdb\//];

/** Where one destination went, by role; or why it is not allowed. */
export type EgressVerdict =
  | { readonly allowed: true; readonly role: string; readonly destination: SocketDestination }
  | { readonly allowed: false; readonly reason: string; readonly destination: SocketDestination };

const LOOPBACK = (address: string): boolean => /^127\.\d+\.\d+\.\d+$/.test(address) || address === '::1' || /^::ffff:127\./.test(address);

/**
 * Judges every destination of the trace. Allowed: an allowed endpoint from the host's
 * network; the sandbox's own loopback from inside a sandbox's network namespace (it reaches
 * nothing else: the relay listens there); an allowed unix socket; netlink (the kernel
 * itself: routes and interfaces). Anything to port 53, or to a name-service socket, is a
 * name lookup and never allowed; a failed attempt counts as much as a connection made.
 */
export function judgeEgress(trace: SocketTrace, policy: EgressPolicy): EgressVerdict[] {
  return trace.destinations.map((destination): EgressVerdict => {
    const refuse = (reason: string): EgressVerdict => ({ allowed: false, reason, destination });
    const allow = (role: string): EgressVerdict => ({ allowed: true, role, destination });
    const { family, address, port, path, isolated } = destination;
    if (family === 'AF_INET' || family === 'AF_INET6') {
      if (port === 53) return refuse('DNS (port 53)');
      if (isolated) return address !== undefined && LOOPBACK(address) ? allow('sandbox loopback') : refuse('a sandbox asked for an address beyond its loopback');
      const endpoint = policy.endpoints.find((allowed) => allowed.host === address && allowed.port === port);
      return endpoint ? allow(endpoint.role) : refuse('not an allowed endpoint');
    }
    if (family === 'AF_UNIX') {
      if (path === undefined || path === '') return refuse('an unnamed unix socket');
      if (NAME_SERVICE_SOCKETS.some((pattern) => pattern.test(path))) return refuse('a name-service socket (name lookup)');
      // Abstract names belong to the network namespace: inside a sandbox's, they reach only the sandbox.
      if (path.startsWith('@') && isolated) return allow('sandbox abstract socket');
      const socket = policy.unixSockets.find((allowed) => (typeof allowed.path === 'string' ? allowed.path === path : allowed.path.test(path)));
      return socket ? allow(socket.role) : refuse('not an allowed unix socket');
    }
    if (family === 'AF_NETLINK') return allow('kernel (netlink)');
    return refuse(`address family ${family}`);
  });
}

/** One line per verdict kind: role or reason, family and destination, programs, and how many. */
export function summarizeEgress(verdicts: readonly EgressVerdict[]): string[] {
  const counts = new Map<string, { count: number; programs: Set<string> }>();
  for (const verdict of verdicts) {
    const { destination } = verdict;
    const where = destination.path !== undefined ? destination.path : destination.address !== undefined ? `${destination.address}:${destination.port ?? '?'}` : destination.family;
    const key = `${verdict.allowed ? verdict.role : `NOT ALLOWED (${verdict.reason})`}: ${destination.call} ${destination.family} ${where}${destination.isolated ? ' [sandbox netns]' : ''}`;
    const entry = counts.get(key) ?? { count: 0, programs: new Set<string>() };
    entry.count += 1;
    entry.programs.add(destination.program);
    counts.set(key, entry);
  }
  return [...counts.entries()].map(([key, { count, programs }]) => `${key} ×${count} (${[...programs].sort().join(', ')})`).sort();
}
