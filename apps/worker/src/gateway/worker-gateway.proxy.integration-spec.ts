import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { createThrowawayCertificates, type ThrowawayCertificates } from '@airlock/local-stack';
import { findFreePort, waitForTcpListener } from '@airlock/testing';
import type { EnrollResponse, WorkerGatewayClient } from '@airlock/protocol';
import { doctorCommand } from '../cli/doctor.command';
import type { ControlPlaneProxyConfig } from '../config/worker-config.loader';
import { TlsGatewayServer } from '../testing/tls-gateway-server.mock';
import { createWorkerGatewayClient } from './worker-gateway.client-factory';

/** A real tinyproxy (scripts/ensure-system-packages.sh installs it), logging to a string. */
class Tinyproxy {
  log = '';
  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
  ) {
    child.stdout?.on('data', (chunk: Buffer) => (this.log += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (this.log += chunk.toString()));
  }

  static async start(dir: string, connectPort: number, basicAuth?: string): Promise<Tinyproxy> {
    const port = await findFreePort();
    const configFile = join(dir, `tinyproxy-${port}.conf`);
    const lines = [`Port ${port}`, 'Listen 127.0.0.1', 'Allow 127.0.0.1', `ConnectPort ${connectPort}`, 'LogLevel Connect', 'MaxClients 20'];
    if (basicAuth) lines.push(`BasicAuth ${basicAuth}`);
    writeFileSync(configFile, `${lines.join('\n')}\n`);
    const proxy = new Tinyproxy(spawn('tinyproxy', ['-d', '-c', configFile], { stdio: ['ignore', 'pipe', 'pipe'] }), port);
    await waitForTcpListener(port, 5_000);
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  connectLines(): string[] {
    return this.log.split('\n').filter((line) => / CONNECT \S+ HTTP\/1\.1/.test(line));
  }

  /** The CONNECT lines after the first `from`, once `count` of them are in (the log arrives through a pipe, after the call). */
  async connectLinesAfter(from: number, count: number): Promise<string[]> {
    const until = Date.now() + 3_000;
    while (this.connectLines().length < from + count && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 20));
    await new Promise((resolve) => setTimeout(resolve, 100)); // and nothing more arrives
    return this.connectLines().slice(from);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }
}

const haveTinyproxy = spawnSync('tinyproxy', ['-v']).status === 0;
if (!haveTinyproxy) throw new Error('tinyproxy is missing: run scripts/ensure-system-packages.sh tests (or apt-get install -y tinyproxy)');

/**
 * The control-plane channel through a real HTTP CONNECT proxy (tinyproxy) to a real grpc-js TLS
 * server. The proxy's own log shows the CONNECT for each connection, and once the proxy is
 * stopped the same config can no longer reach the (still running) server: there is no direct path.
 */
describe('createWorkerGatewayClient through an HTTP CONNECT proxy', () => {
  let dir: string;
  let certs: ThrowawayCertificates;
  let gateway: TlsGatewayServer;
  let proxy: Tinyproxy;
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    // Refused and unreachable proxies are expected here; grpc-js would log each attempt.
    grpc.setLogVerbosity(grpc.logVerbosity.NONE);
    dir = mkdtempSync(join(tmpdir(), 'airlock-worker-proxy-'));
    certs = await createThrowawayCertificates(join(dir, 'server'));
    gateway = await TlsGatewayServer.start(certs);
    proxy = await Tinyproxy.start(dir, gateway.port);
  });

  afterEach(() => {
    for (const name of ['grpc_proxy', 'https_proxy', 'http_proxy', 'no_grpc_proxy', 'no_proxy']) {
      if (savedEnv[name] === undefined) delete process.env[name];
      else process.env[name] = savedEnv[name];
    }
  });

  afterAll(async () => {
    await proxy.stop();
    gateway.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const controlPlane = (proxyConfig: ControlPlaneProxyConfig | undefined) => ({
    address: `127.0.0.1:${gateway.port}`,
    tls: { caFile: certs.caFile, caPem: readFileSync(certs.caFile), serverName: undefined },
    proxy: proxyConfig,
  });

  function enroll(client: WorkerGatewayClient): Promise<EnrollResponse> {
    return new Promise<EnrollResponse>((resolve, reject) => {
      client.Enroll({ enrollmentToken: 'aet_x', workerPublicKey: Buffer.alloc(32), workerVersion: '0.1.0' }, { deadline: Date.now() + 5_000 }, (error, value) =>
        error || !value ? reject(error ?? new Error('empty response')) : resolve(value),
      );
    }).finally(() => client.close());
  }

  it('reaches the TLS control plane through the proxy, despite an inherited no_proxy listing it, and leaves the environment as it was', async () => {
    process.env['no_proxy'] = '127.0.0.1,localhost';
    process.env['https_proxy'] = 'http://127.0.0.1:9'; // for other tools; must not win over the config
    const connectsBefore = proxy.connectLines().length;
    const callsBefore = gateway.enrollCalls;

    const client = createWorkerGatewayClient(controlPlane({ url: proxy.url, credentials: undefined }));
    expect(process.env['grpc_proxy']).toBeUndefined();
    expect(process.env['no_grpc_proxy']).toBeUndefined();
    expect(process.env['no_proxy']).toBe('127.0.0.1,localhost');
    await expect(enroll(client)).resolves.toMatchObject({ workerId: 'w' });

    expect(gateway.enrollCalls).toBe(callsBefore + 1);
    const connects = await proxy.connectLinesAfter(connectsBefore, 1);
    expect(connects).toHaveLength(1);
    expect(connects[0]).toContain(`CONNECT 127.0.0.1:${gateway.port} HTTP/1.1`);
  });

  it('still verifies the server certificate end to end inside the tunnel', async () => {
    const other = await createThrowawayCertificates(join(dir, 'other'), 'Some other CA');
    const callsBefore = gateway.enrollCalls;
    const client = createWorkerGatewayClient({ ...controlPlane({ url: proxy.url, credentials: undefined }), tls: { caFile: other.caFile, caPem: readFileSync(other.caFile), serverName: undefined } });
    await expect(enroll(client)).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    expect(gateway.enrollCalls).toBe(callsBefore);
  });

  it('ignores inherited proxy variables when no proxy is configured (direct connection)', async () => {
    process.env['grpc_proxy'] = 'http://127.0.0.1:9';
    const connectsBefore = proxy.connectLines().length;
    await expect(enroll(createWorkerGatewayClient(controlPlane(undefined)))).resolves.toMatchObject({ workerId: 'w' });
    expect(await proxy.connectLinesAfter(connectsBefore, 0)).toEqual([]);
  });

  it('sends the proxyAuthEnv credentials as Basic auth to a proxy that requires them', async () => {
    const authProxy = await Tinyproxy.start(dir, gateway.port, 'bob s3cret');
    try {
      const callsBefore = gateway.enrollCalls;
      await expect(enroll(createWorkerGatewayClient(controlPlane({ url: authProxy.url, credentials: 'bob:s3cret' })))).resolves.toMatchObject({ workerId: 'w' });
      expect(await authProxy.connectLinesAfter(0, 1)).toHaveLength(1);
      await expect(enroll(createWorkerGatewayClient(controlPlane({ url: authProxy.url, credentials: undefined })))).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
      await expect(enroll(createWorkerGatewayClient(controlPlane({ url: authProxy.url, credentials: 'bob:wrong' })))).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
      expect(gateway.enrollCalls).toBe(callsBefore + 1);
    } finally {
      await authProxy.stop();
    }
  });

  it('doctor says the control plane is reachable through the proxy', async () => {
    const configFile = join(dir, 'worker.yml');
    writeFileSync(
      configFile,
      [
        `controlPlane: { address: '127.0.0.1:${gateway.port}', tls: { caFile: '${certs.caFile}' }, proxy: '${proxy.url}' }`,
        `stateDir: ${join(dir, 'state')}`,
        `workspaceDir: ${join(dir, 'workspace')}`,
        'sandbox: { mode: none }',
        'inference:',
        `  endpoints: [{ name: local, baseUrl: 'http://127.0.0.1:9/v1', model: m, timeout: 1s }]`,
        '',
      ].join('\n'),
    );
    let output = '';
    const connectsBefore = proxy.connectLines().length;
    await doctorCommand({ config: configFile }, (text) => (output += text));
    expect(output).toContain(`PASS control plane: 127.0.0.1:${gateway.port} reachable through HTTP CONNECT proxy ${proxy.url}\n`);
    const connects = await proxy.connectLinesAfter(connectsBefore, 1);
    expect(connects.length).toBeGreaterThan(0);
    for (const line of connects) expect(line).toContain(`CONNECT 127.0.0.1:${gateway.port} HTTP/1.1`);
  }, 30_000);

  it('cannot reach the still-running server once the proxy is stopped: there is no direct path', async () => {
    await proxy.stop();
    const callsBefore = gateway.enrollCalls;
    await expect(enroll(createWorkerGatewayClient(controlPlane({ url: proxy.url, credentials: undefined })))).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    expect(gateway.enrollCalls).toBe(callsBefore);
    // The server itself is up: the same call without the proxy succeeds.
    await expect(enroll(createWorkerGatewayClient(controlPlane(undefined)))).resolves.toMatchObject({ workerId: 'w' });
  });
});
