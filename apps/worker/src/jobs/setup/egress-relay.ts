/**
 * The egress relay: a small program of the worker's that runs INSIDE the setup sandbox, as
 * the command bubblewrap starts, and then starts the repository's setup command itself.
 *
 * The sandbox has its own network namespace: nothing but its own loopback, no route out.
 * The one way out is the worker's egress proxy (`egress-proxy.ts`), a unix socket on the
 * host bind-mounted into the sandbox. Package managers speak TCP, not unix sockets, so the
 * relay listens on the sandbox's loopback and carries each connection to that socket:
 *
 * - on `127.0.0.1:<proxy port>`, byte for byte: HTTP_PROXY/HTTPS_PROXY point here, and the
 *   proxy on the other side decides what may be reached;
 * - for each loopback mirror (`--tunnel 127.0.0.1:4873`), on that same address, as a
 *   `CONNECT` tunnel to it: a registry URL like `http://127.0.0.1:4873/` then works even
 *   for a client that ignores proxy variables, although the sandbox's 127.0.0.1 is not the
 *   host's.
 *
 * Usage: `node egress-relay.js --socket PATH --cwd DIR [--proxy-port N] [--tunnel HOST:PORT]… -- COMMAND [ARG]…`
 * It exits with the command's exit code (128 + the signal's number when a signal ended it),
 * 127 when the command is not found and 126 when it cannot be executed.
 *
 * It imports nothing but Node's built-ins: the sandbox may show it this file alone.
 */
import { spawn } from 'node:child_process';
import { type Server, type Socket, connect, createServer } from 'node:net';
import { constants } from 'node:os';

export interface RelayOptions {
  /** The egress proxy's unix socket, as the sandbox sees it. */
  readonly socket: string;
  /** Where the command starts: the worktree, as the sandbox sees it. */
  readonly cwd: string;
  /** Port of the proxy listener on 127.0.0.1; 0 for any free one. */
  readonly proxyPort: number;
  /** Loopback mirrors to listen for at their own address, each tunnelled to itself through the proxy. */
  readonly tunnels: readonly RelayTunnel[];
  /** The setup command. */
  readonly argv: readonly [string, ...string[]];
}

export interface RelayTunnel {
  /** `host:port` exactly as the mirror is listed: what the CONNECT asks for. */
  readonly authority: string;
  /** Where to listen: the address itself, or both loopbacks for `localhost`. */
  readonly listenHosts: readonly string[];
  readonly port: number;
}

/** Bounds of the relay, as the proxy's: a setup command is not to exhaust the worker through it. */
const MAX_CONNECTIONS_PER_LISTENER = 64;
const IDLE_TIMEOUT_MS = 120_000;
const MAX_TUNNEL_ANSWER_BYTES = 16 * 1024;
const TUNNEL_ANSWER_TIMEOUT_MS = 30_000;
const MAX_TUNNELS = 64;

const LOOPBACK_V4 = /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

/** Whether a mirror `host:port` is on the worker host's loopback (127.0.0.0/8, ::1, localhost): only those get a tunnel. */
export function isLoopbackMirror(authority: string): boolean {
  const host = authority.slice(0, authority.lastIndexOf(':')).toLowerCase();
  return host === 'localhost' || host === '[::1]' || LOOPBACK_V4.test(host);
}

/** The tunnel a loopback mirror gets: where the relay listens for it. */
export function tunnelFor(authority: string): RelayTunnel {
  const separator = authority.lastIndexOf(':');
  const host = authority.slice(0, separator).toLowerCase();
  const port = Number(authority.slice(separator + 1));
  if (!isLoopbackMirror(authority) || !Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`not a loopback mirror: ${authority}`);
  const listenHosts = host === 'localhost' ? ['127.0.0.1', '::1'] : [host === '[::1]' ? '::1' : host];
  return { authority: `${host}:${port}`, listenHosts, port };
}

/** Parses the relay's argv (after the script); throws a RangeError naming what is wrong. */
export function parseRelayArgs(args: readonly string[]): RelayOptions {
  let socket: string | undefined;
  let cwd: string | undefined;
  let proxyPort = 0;
  const tunnels: RelayTunnel[] = [];
  let index = 0;
  const value = (flag: string) => {
    const next = args[index + 1];
    if (next === undefined) throw new RangeError(`${flag} needs a value`);
    index += 2;
    return next;
  };
  while (index < args.length && args[index] !== '--') {
    const flag = args[index];
    if (flag === '--socket') socket = value(flag);
    else if (flag === '--cwd') cwd = value(flag);
    else if (flag === '--proxy-port') proxyPort = Number(value(flag));
    else if (flag === '--tunnel') tunnels.push(tunnelFor(value(flag)));
    else throw new RangeError(`unknown option ${String(flag)}`);
  }
  const [command, ...rest] = args.slice(index + 1);
  if (socket === undefined || cwd === undefined) throw new RangeError('--socket and --cwd are required');
  if (!Number.isInteger(proxyPort) || proxyPort < 0 || proxyPort > 65535) throw new RangeError('--proxy-port must be 0..65535');
  if (tunnels.length > MAX_TUNNELS) throw new RangeError(`at most ${MAX_TUNNELS} tunnels`);
  if (command === undefined) throw new RangeError('no command after --');
  return { socket, cwd, proxyPort, tunnels, argv: [command, ...rest] };
}

/** Joins two sockets both ways, with an idle bound; either one closing closes both. */
function splice(a: Socket, b: Socket): void {
  for (const socket of [a, b]) {
    socket.setTimeout(IDLE_TIMEOUT_MS, () => socket.destroy());
    socket.on('error', () => undefined); // 'close' follows and cleans up
    socket.once('close', () => {
      a.destroy();
      b.destroy();
    });
  }
  a.pipe(b);
  b.pipe(a);
}

/** Carries a connection to the proxy listener byte for byte to the egress socket. */
function relayToProxy(client: Socket, socketPath: string): void {
  splice(client, connect(socketPath));
}

/**
 * Carries a connection to a loopback mirror's own address through the proxy: asks it for
 * `CONNECT <authority>`, and joins the two once the answer is `200`.
 */
function tunnelToMirror(client: Socket, socketPath: string, authority: string): void {
  client.pause();
  client.on('error', () => undefined); // 'close' follows and cleans up
  const upstream = connect(socketPath, () => upstream.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`));
  upstream.setTimeout(TUNNEL_ANSWER_TIMEOUT_MS, () => upstream.destroy());
  upstream.on('error', () => client.destroy());
  upstream.once('close', () => client.destroy());
  client.once('close', () => upstream.destroy());
  let answer = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    answer = Buffer.concat([answer, chunk]);
    const end = answer.indexOf('\r\n\r\n');
    if (end < 0) {
      if (answer.length > MAX_TUNNEL_ANSWER_BYTES) upstream.destroy();
      return;
    }
    upstream.off('data', onData);
    if (!/^HTTP\/1\.[01] 200 /.test(answer.subarray(0, end).toString('latin1'))) {
      // Refused (the mirror list changed?) or unreachable: the client sees a reset connection.
      upstream.destroy();
      return;
    }
    const rest = answer.subarray(end + 4);
    if (rest.length > 0) client.write(rest);
    splice(client, upstream);
    client.resume();
  };
  upstream.on('data', onData);
}

function listen(server: Server, port: number, host: string): Promise<number> {
  server.maxConnections = MAX_CONNECTIONS_PER_LISTENER;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host, exclusive: true }, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
}

/** The exit code for a command that ended by a signal, as a shell reports it. */
function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 0);
}

/** Runs the relay and the command; resolves with the exit code the relay is to exit with. */
export async function runRelay(options: RelayOptions, env: NodeJS.ProcessEnv, log: (line: string) => void): Promise<number> {
  const servers: Server[] = [];
  const proxyListener = createServer((client) => relayToProxy(client, options.socket));
  servers.push(proxyListener);
  const proxyPort = await listen(proxyListener, options.proxyPort, '127.0.0.1');
  for (const tunnel of options.tunnels) {
    for (const host of tunnel.listenHosts) {
      const server = createServer((client) => tunnelToMirror(client, options.socket, tunnel.authority));
      try {
        await listen(server, tunnel.port, host);
        servers.push(server);
      } catch (error) {
        // `localhost` names both loopbacks; a sandbox without IPv6 has only one.
        log(`airlock-egress-relay: cannot listen on ${host}:${tunnel.port} for mirror ${tunnel.authority} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
      }
    }
  }
  const proxyUrl = `http://127.0.0.1:${proxyPort}`;
  const [command, ...args] = options.argv;
  const exitCode = await new Promise<number>((resolve) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      // Every client in the sandbox goes through the proxy; none bypasses it (NO_PROXY empty).
      // PWD as a shell would set it; bwrap set it to where the relay started.
      env: { ...env, PWD: options.cwd, HTTP_PROXY: proxyUrl, HTTPS_PROXY: proxyUrl, http_proxy: proxyUrl, https_proxy: proxyUrl, NO_PROXY: '', no_proxy: '' },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    // The worker stops a setup by signalling the whole process group; the command gets it
    // too, so the relay waits for the command to end rather than die first.
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    process.on('SIGTERM', forward);
    process.on('SIGINT', forward);
    child.once('error', (error: NodeJS.ErrnoException) => {
      log(`airlock-egress-relay: cannot start ${command}: ${error.code ?? error.message}`);
      resolve(error.code === 'ENOENT' ? 127 : 126);
    });
    child.once('exit', (code, signal) => resolve(code ?? (signal ? signalExitCode(signal) : 1)));
  });
  for (const server of servers) server.close();
  return exitCode;
}

function main(): void {
  let options: RelayOptions;
  try {
    options = parseRelayArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`airlock-egress-relay: ${(error as Error).message}\n`);
    process.exit(2);
  }
  runRelay(options, process.env, (line) => process.stderr.write(`${line}\n`)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`airlock-egress-relay: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(125);
    },
  );
}

if (require.main === module) main();
