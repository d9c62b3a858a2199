import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { egressTraceWrapper, parseSocketTrace, type SocketDestination, type SocketTrace } from '@airlock/local-stack';
import { buildAppsInto } from './support/build-apps';

/**
 * Issue 13, point 7: the fully self-hosted stack runs with no way out. The whole embedded
 * default — control plane with its database, worker, inference server, git server, forge —
 * starts inside a network namespace of its own that has a loopback and nothing else: no
 * interface, no route, no resolver reachable. The demo's job must still succeed there.
 *
 * The control plane and the worker run as a server gets them: the bundles of `npm run build`
 * (the same files the images carry), built outside the workspace before the namespace is
 * entered, started with plain `node <app>/main.js`. The git server, inference server and forge
 * stand in for the customer's own and run from the workspace.
 *
 * A failed connection in a namespace with no route is silent for a program that ignores it
 * (an update check, telemetry), so success alone would not show that nothing tried to leave:
 * every process runs under strace, and every socket destination any of them asked for must
 * be loopback. A lookup through nscd or systemd-resolved would cross the namespace over a
 * unix socket, so those are refused too.
 */

const execFileAsync = promisify(execFile);
const ROOT = resolve(__dirname, '..', '..');
const TRACE_FILE = 'stack.strace';
const DEMO_TIMEOUT_MS = 150_000;
const BUILD_TIMEOUT_MS = 240_000;

const NAME_SERVICE_SOCKETS = [/^\/(var\/)?run\/nscd\//, /^\/run\/systemd\/resolve\//, /^\/(var\/)?run\/dbus\//, /^\/run\/systemd\/userdb\//];
const isLoopback = (address: string): boolean => /^127\.\d+\.\d+\.\d+$/.test(address) || address === '::1' || /^::ffff:127\./.test(address);

/** Why a destination leaves the machine (or asks a host service to), or undefined when it stays on loopback. */
function whyNotLocal(destination: SocketDestination): string | undefined {
  const { family, address, port, path } = destination;
  if (family === 'AF_INET' || family === 'AF_INET6') {
    if (port === 53) return 'DNS (port 53)';
    return address !== undefined && isLoopback(address) ? undefined : 'an address beyond loopback';
  }
  if (family === 'AF_UNIX') return path !== undefined && NAME_SERVICE_SOCKETS.some((pattern) => pattern.test(path)) ? 'a name-service socket (name lookup)' : undefined;
  if (family === 'AF_NETLINK') return undefined;
  return `address family ${family}`;
}

describe('fully self-hosted, air-gapped', () => {
  let workDir: string;
  let output: string;
  let namespaceProbe: { routes: number; outbound: string };
  let trace: SocketTrace;
  let appsDir: string;
  /** The stamp the build printed: `build <version>, commit <commit>, built <time>`. */
  let built: { commit: string; builtAt: string };

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'airlock-air-gapped-'));
    appsDir = join(workDir, 'apps');
    const stamp = /^build \S+, commit (\S+), built (\S+)$/m.exec(buildAppsInto(appsDir));
    if (!stamp) throw new Error('the build printed no build stamp');
    built = { commit: stamp[1]!, builtAt: stamp[2]! };
    const traceFile = join(workDir, TRACE_FILE);
    // Inside the new namespace: bring up loopback, show that nothing else exists, then run
    // the embedded default once under strace. `unshare --net` needs root, as CI and the
    // developers' machines here are; elsewhere `unshare --net --map-root-user` does the same.
    const probe = `ip link set lo up && echo "routes=$(ip -4 route show | wc -l)" && node -e "require('node:net').connect(443, '192.0.2.1').on('error', (e) => { console.log('outbound=' + e.code); })"`;
    const demo = [...egressTraceWrapper(traceFile), process.execPath, '-r', '@swc-node/register', 'scripts/demo.ts', '--once', '--dir', join(workDir, 'demo'), '--apps', appsDir];
    const script = `${probe} && exec ${demo.map((argument) => `'${argument.replace(/'/g, `'\\''`)}'`).join(' ')}`;
    try {
      const result = await execFileAsync('unshare', ['--net', '--', 'sh', '-c', script], { cwd: ROOT, timeout: DEMO_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } });
      output = result.stdout;
    } catch (error) {
      const failed = error as { stdout?: string; stderr?: string; message: string };
      throw new Error(`the demo failed inside the namespace: ${failed.message}\n${failed.stdout ?? ''}\n${failed.stderr ?? ''}`);
    }
    const routes = /routes=(\d+)/.exec(output);
    const outbound = /outbound=(\S+)/.exec(output);
    namespaceProbe = { routes: Number(routes?.[1] ?? -1), outbound: outbound?.[1] ?? 'connected' };
    trace = parseSocketTrace(readFileSync(traceFile, 'utf8'));
  }, BUILD_TIMEOUT_MS + DEMO_TIMEOUT_MS);

  afterAll(() => {
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it('runs in a namespace with no route out', () => {
    expect(namespaceProbe).toEqual({ routes: 0, outbound: 'ENETUNREACH' });
  });

  it("succeeds with the demo's job", () => {
    expect(output).toMatch(/^Job SUCCEEDED$/m);
  });

  it('runs the control plane and the worker from the bundles', () => {
    // Each app logs its build stamp first; from sources it would say commit `unknown`, built null.
    const stamps = ['control-plane', 'worker'].map((label) => {
      const stampLine = readFileSync(join(workDir, 'demo', 'logs', `${label}.log`), 'utf8')
        .split('\n')
        .find((line) => /"event":"build[-_]info"/.test(line));
      const { commit, builtAt } = JSON.parse(stampLine ?? '{}') as { commit?: string; builtAt?: string | null };
      return { label, commit, builtAt };
    });
    expect(stamps).toEqual([
      { label: 'control-plane', ...built },
      { label: 'worker', ...built },
    ]);
  });

  it('starts every part of the stack in there', () => {
    // The trace covers the whole tree: the control plane, the worker, git and the sandboxed tests.
    for (const program of ['node', 'git', 'bwrap']) expect(trace.programs.get(program) ?? 0).toBeGreaterThan(0);
    expect(trace.destinations.length).toBeGreaterThan(0);
  });

  it('asks for no destination beyond loopback, not even a name lookup', () => {
    const leaks = trace.destinations.flatMap((destination) => {
      const reason = whyNotLocal(destination);
      return reason === undefined ? [] : [`${reason}: ${destination.program} ${destination.call} ${destination.family} ${destination.address ?? destination.path ?? ''}:${destination.port ?? ''} (line ${destination.line})`];
    });
    expect(leaks).toEqual([]);
  });
});
