import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonLogger } from '../../logging/json-logger';
import { SANDBOX_EGRESS_SOCKET, SANDBOX_HOME, SANDBOX_WORKTREE, TestSandbox } from '../sandbox/test-sandbox';
import { TestCommandRunner } from '../test-command.runner';
import { SANDBOX_PROXY_PORT, SetupRunner } from './setup.runner';

jest.setTimeout(60_000);

/** What a probe inside the sandbox found; see PROBE. */
interface ProbeReport {
  readonly env: Record<string, string | undefined>;
  readonly cwd: string;
  readonly mirrorViaProxy: string;
  readonly mirrorDirect: string;
  readonly mirrorViaConnect: string;
  readonly otherViaProxy: string;
  readonly otherDirect: string;
  readonly otherViaConnect: string;
  readonly localhostOtherViaConnect: string;
  readonly forbiddenNameViaConnect: string;
  readonly publicIp: string;
}

/**
 * The probe a setup command runs: every way out it can think of, each answered with what
 * came back (`200 <body>`, `status <n>`, or the error code). Written to the worktree, which
 * the host reads afterwards.
 */
const PROBE = String.raw`
const http = require('http');
const net = require('net');
const fs = require('fs');
const proxy = new URL(process.env.HTTP_PROXY);
const settle = (promise) => Promise.race([promise, new Promise((resolve) => setTimeout(() => resolve('hung'), 5000))]);
const get = (options) => settle(new Promise((resolve) => {
  const request = http.get({ agent: false, ...options }, (response) => {
    let body = '';
    response.on('data', (chunk) => (body += chunk));
    response.on('end', () => resolve(response.statusCode === 200 ? '200 ' + body : 'status ' + response.statusCode));
  });
  request.on('error', (error) => resolve(error.code || error.message));
}));
const viaProxy = (url) => get({ host: proxy.hostname, port: proxy.port, path: url, headers: { host: new URL(url).host } });
const viaConnect = (authority) => settle(new Promise((resolve) => {
  const request = http.request({ host: proxy.hostname, port: proxy.port, method: 'CONNECT', path: authority, agent: false });
  request.on('connect', (response, socket) => {
    if (response.statusCode !== 200) { socket.destroy(); resolve('status ' + response.statusCode); return; }
    socket.write('GET /through-tunnel HTTP/1.1\r\nHost: ' + authority + '\r\nConnection: close\r\n\r\n');
    let raw = '';
    socket.on('data', (chunk) => (raw += chunk));
    socket.on('end', () => resolve('200 ' + raw.split('\r\n\r\n')[1]));
    socket.on('error', (error) => resolve(error.code));
  });
  request.on('error', (error) => resolve(error.code || error.message));
  request.end();
}));
const tcp = (host, port) => settle(new Promise((resolve) => {
  const socket = net.connect(port, host);
  socket.on('connect', () => { socket.destroy(); resolve('connected'); });
  socket.on('error', (error) => resolve(error.code));
}));
(async () => {
  const report = {
    env: process.env,
    cwd: process.cwd(),
    mirrorViaProxy: await viaProxy('http://127.0.0.1:' + process.argv[1] + '/via-proxy'),
    mirrorDirect: await get({ host: '127.0.0.1', port: Number(process.argv[1]), path: '/direct' }),
    mirrorViaConnect: await viaConnect('127.0.0.1:' + process.argv[1]),
    otherViaProxy: await viaProxy('http://127.0.0.1:' + process.argv[2] + '/'),
    otherDirect: await get({ host: '127.0.0.1', port: Number(process.argv[2]), path: '/' }),
    otherViaConnect: await viaConnect('127.0.0.1:' + process.argv[2]),
    localhostOtherViaConnect: await viaConnect('localhost:' + process.argv[2]),
    forbiddenNameViaConnect: await viaConnect('registry.npmjs.org:443'),
    publicIp: await tcp('1.1.1.1', 443),
  };
  fs.writeFileSync('probe.json', JSON.stringify(report));
  process.exit(0); // the settle timers would hold it 5 s more
})();
`;

describe('setup network: only the mirrors, from inside a real setup sandbox (real bwrap, real sockets)', () => {
  const base = mkdtempSync(join(tmpdir(), 'airlock-setup-net-'));
  const stateDir = join(base, 'state');
  const workspaceDir = join(base, 'workspace');
  const worktree = join(workspaceDir, 'jobs', 'job-1');
  const host = { path: process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin', lang: 'C.UTF-8' };
  const config = { stateDir, workspaceDir, configFile: join(base, 'worker.yml'), host };
  const sandbox = TestSandbox.fromConfig({ ...config, sandbox: { mode: 'bwrap' } });
  const runner = new TestCommandRunner(host, sandbox);
  /** Each request a host server received, as `<server> <path>`. */
  const received: string[] = [];
  let mirror: Server;
  let other: Server;
  let mirrorPort: number;
  let otherPort: number;
  /** Every connection the host servers accepted, requests or not. */
  const connections = { mirror: 0, other: 0 };

  const listen = async (name: 'mirror' | 'other') => {
    const server = createServer((request, response) => {
      received.push(`${name} ${request.url ?? ''}`);
      response.end(`${name} answered`);
    });
    server.on('connection', () => (connections[name] += 1));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { server, port: (server.address() as AddressInfo).port };
  };

  beforeAll(async () => {
    for (const dir of [stateDir, worktree]) mkdirSync(dir, { recursive: true });
    writeFileSync(join(worktree, '.git'), 'gitdir: /nowhere\n');
    ({ server: mirror, port: mirrorPort } = await listen('mirror'));
    ({ server: other, port: otherPort } = await listen('other'));
  });

  afterAll(async () => {
    await Promise.all([mirror, other].map((server) => new Promise((resolve) => server.close(resolve))));
    rmSync(base, { recursive: true, force: true });
  });

  it('reaches an allowed loopback mirror through HTTP_PROXY, at its own address and by CONNECT; nothing else, whatever the route', async () => {
    const logs: Array<Record<string, unknown>> = [];
    const logger = new JsonLogger((line) => logs.push(JSON.parse(line) as Record<string, unknown>));
    const setup = new SetupRunner(runner, sandbox, {
      setup: { mirrors: [`127.0.0.1:${mirrorPort}`], env: { npm_config_registry: `http://127.0.0.1:${mirrorPort}/` }, timeout: 30_000 },
    });
    process.env['AIRLOCK_TEST_WORKER_SECRET'] = 'must-not-leak';
    try {
      await setup.run({
        setup: { commands: [['node', '-e', PROBE, String(mirrorPort), String(otherPort)]] },
        worktree,
        logFile: join(base, 'setup.log'),
        signal: new AbortController().signal,
        logger,
      });
    } finally {
      delete process.env['AIRLOCK_TEST_WORKER_SECRET'];
    }
    const report = JSON.parse(readFileSync(join(worktree, 'probe.json'), 'utf8')) as ProbeReport;
    const proxyUrl = `http://127.0.0.1:${SANDBOX_PROXY_PORT}`;
    expect(report).toEqual({
      env: {
        PATH: host.path,
        HOME: SANDBOX_HOME,
        LANG: 'C.UTF-8',
        CI: 'true',
        PWD: SANDBOX_WORKTREE,
        npm_config_registry: `http://127.0.0.1:${mirrorPort}/`,
        HTTP_PROXY: proxyUrl,
        HTTPS_PROXY: proxyUrl,
        http_proxy: proxyUrl,
        https_proxy: proxyUrl,
        NO_PROXY: '',
        no_proxy: '',
      },
      cwd: SANDBOX_WORKTREE,
      mirrorViaProxy: '200 mirror answered',
      mirrorDirect: '200 mirror answered',
      mirrorViaConnect: '200 mirror answered',
      // The other host service: refused by the proxy, absent from the sandbox's own loopback.
      otherViaProxy: 'status 403',
      otherDirect: 'ECONNREFUSED',
      otherViaConnect: 'status 403',
      localhostOtherViaConnect: 'status 403',
      forbiddenNameViaConnect: 'status 403',
      // No route at all: the sandbox's network namespace has nothing but its loopback.
      publicIp: 'ENETUNREACH',
    });
    expect(received.sort()).toEqual(['mirror /direct', 'mirror /through-tunnel', 'mirror /via-proxy']);
    // Refused targets were never connected to; each refusal is logged locally with its host:port.
    expect(connections.other).toBe(0);
    expect(logs.filter((line) => line['event'] === 'setup-egress-refused').map((line) => line['target'])).toEqual([
      `127.0.0.1:${otherPort}`,
      `127.0.0.1:${otherPort}`,
      `localhost:${otherPort}`,
      'registry.npmjs.org:443',
    ]);
  });

  it('leaves the test sandbox without any network: not the mirror, not the proxy socket, no proxy variables', async () => {
    const script = `const net = require('net');
      const fs = require('fs');
      const socket = net.connect(${mirrorPort}, '127.0.0.1');
      socket.on('connect', () => { console.log('reached the mirror'); process.exit(1); });
      socket.on('error', () => {
        if (fs.existsSync(${JSON.stringify(SANDBOX_EGRESS_SOCKET)})) { console.log('egress socket visible'); process.exit(2); }
        if (process.env.HTTP_PROXY !== undefined) { console.log('proxy variable set'); process.exit(3); }
        if (process.cwd() !== ${JSON.stringify(SANDBOX_WORKTREE)}) { console.log('cwd ' + process.cwd()); process.exit(4); }
        process.exit(0);
      });`;
    const before = connections.mirror;
    const outcome = await runner.run({ argv: ['node', '-e', script], cwd: worktree, timeoutMs: 20_000, signal: new AbortController().signal, logFile: join(base, 'test.log') });
    expect({ exitCode: outcome.exitCode, log: readFileSync(join(base, 'test.log'), 'utf8') }).toEqual({ exitCode: 0, log: '' });
    expect(connections.mirror).toBe(before);
  });
});
