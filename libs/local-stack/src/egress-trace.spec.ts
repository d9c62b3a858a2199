import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { egressTraceWrapper, judgeEgress, parseSocketTrace, summarizeEgress, type EgressPolicy } from './egress-trace';

const fixture = (name: string) => parseSocketTrace(readFileSync(join(__dirname, 'fixtures', 'egress-trace', name), 'utf8'));

/** The stack the ok fixture was recorded from (e2e/src/worker-egress.e2e-spec.ts). */
const POLICY: EgressPolicy = {
  endpoints: [
    { role: 'control plane', host: '127.0.0.1', port: 43175 },
    { role: 'inference', host: '127.0.0.1', port: 41401 },
    { role: 'git', host: '127.0.0.1', port: 35337 },
    { role: 'mirror', host: '127.0.0.1', port: 40351 },
  ],
  unixSockets: [{ role: 'egress proxy', path: '/tmp/airlock/egress.sock' }],
};

const refusals = (name: string) =>
  judgeEgress(fixture(name), POLICY).flatMap((verdict) => (verdict.allowed ? [] : [{ reason: verdict.reason, ...verdict.destination }]));

describe('egress trace', () => {
  it('starts the program under strace recording sockets, processes and namespaces to the file', () => {
    const argv = egressTraceWrapper('/logs/worker.strace');
    expect(argv.slice(0, 2)).toEqual(['strace', '-f']);
    expect(argv).toContain('trace=connect,sendto,sendmsg,sendmmsg,clone,clone3,fork,vfork,execve,unshare,setns,io_uring_setup');
    expect(argv.slice(-3)).toEqual(['-o', '/logs/worker.strace', '--']);
  });

  it('reads a recorded job: each destination by role, the sandbox children linked through their pid namespace', () => {
    const verdicts = judgeEgress(fixture('ok/worker-job.strace'), POLICY);
    expect(verdicts.filter((verdict) => !verdict.allowed)).toEqual([]);
    expect(summarizeEgress(verdicts)).toEqual([
      'control plane: connect AF_INET 127.0.0.1:43175 ×1 (node)',
      'egress proxy: connect AF_UNIX /tmp/airlock/egress.sock [sandbox netns] ×1 (node)',
      'git: connect AF_INET 127.0.0.1:35337 ×1 (git)',
      'inference: connect AF_INET 127.0.0.1:41401 ×2 (node)',
      // The excerpt lacks the execve of the bwrap that made these sandboxes: their program is unknown.
      'kernel (netlink): sendto AF_NETLINK AF_NETLINK [sandbox netns] ×2 (?)',
      'mirror: connect AF_INET 127.0.0.1:40351 ×1 (node)',
      'sandbox loopback: connect AF_INET 127.0.0.1:3128 [sandbox netns] ×1 (node)',
    ]);
  });

  it('refuses a port nobody allowed, even when the connect failed, its address read across an unfinished call', () => {
    expect(refusals('not-ok/telemetry-port.strace')).toEqual([
      expect.objectContaining({ reason: 'not an allowed endpoint', family: 'AF_INET6', address: '2606:4700::6810:84e5', port: 443, result: '-1 ENETUNREACH (Network is unreachable)' }),
    ]);
  });

  it('refuses name lookups: port 53 by connect or sendto, and the nscd socket', () => {
    expect(refusals('not-ok/name-lookup.strace').map(({ reason, program, path, address, port }) => ({ reason, program, to: path ?? `${address}:${port}` }))).toEqual([
      { reason: 'a name-service socket (name lookup)', program: 'git', to: '/var/run/nscd/socket' },
      { reason: 'DNS (port 53)', program: 'git', to: '127.0.0.53:53' },
      { reason: 'DNS (port 53)', program: 'node', to: '192.168.1.1:53' },
    ]);
  });

  it('refuses a sandbox reaching past its loopback or to an unknown unix socket, and an addressed sendmsg from the host', () => {
    expect(refusals('not-ok/sandbox-beyond-loopback.strace').map(({ reason, isolated, path, address, port, call }) => ({ reason, isolated, call, to: path ?? `${address}:${port}` }))).toEqual([
      { reason: 'a sandbox asked for an address beyond its loopback', isolated: true, call: 'connect', to: '104.16.3.35:443' },
      { reason: 'not an allowed unix socket', isolated: true, call: 'connect', to: '/run/docker.sock' },
      { reason: 'not an allowed endpoint', isolated: false, call: 'sendmsg', to: '127.0.0.1:4318' },
    ]);
  });

  it('counts what strace could not vouch for: io_uring instances and setns', () => {
    const trace = parseSocketTrace(
      [
        '1 execve("/usr/bin/node", ["node"], 0x7ffd /* 3 vars */) = 0',
        '1 io_uring_setup(256, {flags=0, sq_thread_cpu=0}) = 21',
        '2 setns(5, CLONE_NEWNET) = 0',
        '3 execve("/usr/bin/git", ["git"], 0x7ffd /* 3 vars */) = 0',
        '3 io_uring_setup(256, 0x7ffd) = -1 EPERM (Operation not permitted)',
        '3 io_uring_setup(256, 0x7ffd) = 9',
      ].join('\n'),
    );
    expect({ ioUringSetups: Object.fromEntries(trace.ioUringSetups), setnsCalls: trace.setnsCalls }).toEqual({ ioUringSetups: { node: 1, git: 1 }, setnsCalls: 1 });
  });

  it('takes a process that unshared its network from then on as isolated, and its later children too', () => {
    const trace = parseSocketTrace(
      [
        '10 connect(3, {sa_family=AF_INET, sin_port=htons(9), sin_addr=inet_addr("127.0.0.1")}, 16) = 0',
        '10 unshare(CLONE_NEWNS|CLONE_NEWNET) = 0',
        '10 connect(4, {sa_family=AF_INET, sin_port=htons(9), sin_addr=inet_addr("127.0.0.1")}, 16) = 0',
        '10 vfork() = 11',
        '11 connect(5, {sa_family=AF_UNIX, sun_path=@"/tmp/.X11-unix/X0"}, 20) = 0',
      ].join('\n'),
    );
    expect(trace.destinations.map(({ pid, isolated, path }) => ({ pid, isolated, path }))).toEqual([
      { pid: 10, isolated: false, path: undefined },
      { pid: 10, isolated: true, path: undefined },
      { pid: 11, isolated: true, path: '@/tmp/.X11-unix/X0' },
    ]);
  });
});
