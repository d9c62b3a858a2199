/**
 * Starts each image built by scripts/build-images.sh the way a container runtime would, with
 * no container engine: the image's own root filesystem (buildah mount), mounted read-only in a
 * mount and PID namespace of its own, entered with pivot_root, with only its data volume, a
 * tmpfs /tmp and (for the worker) its config writable or mounted; then its own entrypoint,
 * command, environment, user and working directory from the image config. The control plane
 * must answer its liveness and readiness checks; the worker image enrols against that control
 * plane, runs its default command and must report itself connected on /healthz.
 *
 * Usage (as root): node -r @swc-node/register scripts/image-smoke.ts <control-plane.oci.tar> <worker.oci.tar>
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ControlPlaneApiClient } from '@airlock/local-stack';

const HEALTHY_TIMEOUT_MS = 60_000;
const POLL_MS = 250;

interface ImageConfig {
  readonly User?: string;
  readonly Env?: readonly string[];
  readonly Entrypoint?: readonly string[];
  readonly Cmd?: readonly string[];
  readonly WorkingDir?: string;
  readonly Volumes?: Readonly<Record<string, unknown>>;
}

interface MountedImage {
  readonly archive: string;
  readonly container: string;
  readonly root: string;
  readonly config: ImageConfig;
}

const buildah = (...args: string[]): string => execFileSync('buildah', ['--storage-driver', 'vfs', ...args], { encoding: 'utf8' }).trim();

function mountImage(archive: string): MountedImage {
  const container = buildah('from', '--quiet', `oci-archive:${archive}`);
  try {
    const root = buildah('mount', container);
    const inspected = JSON.parse(buildah('inspect', container)) as { OCIv1: { config: ImageConfig } };
    return { archive, container, root, config: inspected.OCIv1.config };
  } catch (error) {
    buildah('rm', container);
    throw error;
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A writable host folder mounted at `target` in the image, owned by the image's user like a volume a runtime makes. */
interface Bind {
  readonly source: string;
  readonly target: string;
  readonly readOnly: boolean;
}

const quote = (value: string): string => `'${value.replace(/'/g, `'\\''`)}'`;

/**
 * Runs the image's entrypoint (plus `args`, or its own command) on its read-only root. The
 * mount namespace is private, so nothing here touches the host's mounts; `pivot_root . .`
 * then a lazy unmount leaves the image's root as the only root, as runc does (chroot would
 * keep the host's root reachable and forbid the user namespaces the worker's sandbox makes).
 */
function runImage(image: MountedImage, options: { readonly args?: readonly string[]; readonly env: Record<string, string>; readonly binds: readonly Bind[]; readonly label: string }): ChildProcess {
  const { config, root } = image;
  const [user, group = user] = (config.User ?? '0').split(':');
  const argv = [...(config.Entrypoint ?? []), ...(options.args ?? config.Cmd ?? [])];
  const setup = [
    'set -e',
    'mount --make-rprivate /',
    // A mount point of its own (pivot_root needs one), entered after it is mounted: a cwd
    // taken before would still be the directory underneath.
    `mount --bind ${quote(root)} ${quote(root)}`,
    `cd ${quote(root)}`,
    'mount -o remount,bind,ro .',
    'mount -t proc proc proc',
    'mount -t tmpfs -o mode=1777,size=256m tmpfs tmp',
    'mount -t tmpfs -o mode=755,size=1m tmpfs dev',
    ...['null', 'zero', 'random', 'urandom'].flatMap((device) => [`touch dev/${device}`, `mount --bind /dev/${device} dev/${device}`]),
    ...options.binds.flatMap(({ source, target, readOnly }) => [
      `mount --bind ${quote(source)} ${quote(`.${target}`)}`,
      ...(readOnly ? [`mount -o remount,bind,ro ${quote(`.${target}`)}`] : []),
    ]),
    'pivot_root . .',
    'umount -l .',
    `cd ${quote(config.WorkingDir ?? '/')}`,
    `exec setpriv --reuid=${user} --regid=${group} --clear-groups --no-new-privs -- ${argv.map(quote).join(' ')}`,
  ].join('\n');
  const env = Object.fromEntries((config.Env ?? []).map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]));
  const child = spawn('unshare', ['--mount', '--pid', '--fork', '--kill-child', '--', 'sh', '-c', setup], {
    env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', ...env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const keep = (chunk: Buffer): void => {
    logs.push(chunk.toString('utf8'));
    if (logs.length > 400) logs.shift();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.once('exit', (code, signal) => {
    if (code !== 0 && signal === null) console.error(`${options.label} exited with ${code}:\n${logs.join('').slice(-4000)}`);
  });
  return Object.assign(child, { logs });
}

async function waitFor<T>(what: string, attempt: () => Promise<T | undefined>, child: ChildProcess): Promise<T> {
  const deadline = Date.now() + HEALTHY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what}: the process exited with ${child.exitCode}`);
    const value = await attempt().catch(() => undefined);
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  throw new Error(`${what}: not within ${HEALTHY_TIMEOUT_MS / 1000} s`);
}

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** A folder for a volume, owned by the image's user as a runtime's volume would be. */
function volume(base: string, name: string, owner: string | undefined): string {
  const path = join(base, name);
  mkdirSync(path, { recursive: true, mode: 0o700 });
  const [uid, gid = uid] = (owner ?? '0').split(':').map(Number);
  chownSync(path, uid!, gid!);
  return path;
}

/** The image's process: unshare's only child, which sh replaced with the entrypoint. */
function namespaceInit(unsharePid: number): number | undefined {
  try {
    const [first] = readFileSync(`/proc/${unsharePid}/task/${unsharePid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    return first === undefined ? undefined : Number(first);
  } catch {
    return undefined;
  }
}

function rssMiB(pid: number | undefined): string {
  const app = pid === undefined ? undefined : namespaceInit(pid);
  if (app === undefined) return '?';
  const status = readFileSync(`/proc/${app}/status`, 'utf8');
  const kib = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return (kib / 1024).toFixed(0);
}

async function main(): Promise<void> {
  const [controlPlaneArchive, workerArchive] = process.argv.slice(2);
  if (!controlPlaneArchive || !workerArchive) throw new Error('usage: image-smoke.ts <control-plane.oci.tar> <worker.oci.tar>');
  if (process.getuid?.() !== 0) throw new Error('image-smoke.ts runs as root (buildah, mount namespaces)');
  const base = mkdtempSync('/var/tmp/airlock-image-smoke-');
  const images: MountedImage[] = [];
  const children: ChildProcess[] = [];
  const rows: string[][] = [];
  try {
    console.log(`mounting ${controlPlaneArchive}`);
    const controlPlane = mountImage(controlPlaneArchive);
    images.push(controlPlane);
    console.log(`starting the control plane image's entrypoint (${(controlPlane.config.Entrypoint ?? []).join(' ')})`);
    const [httpPort, grpcPort, metricsPort, healthPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const started = Date.now();
    const controlPlaneProcess = runImage(controlPlane, {
      label: 'control plane',
      // Loopback only: the smoke test shares the host's network, and a loopback gateway may be plain text.
      env: { AIRLOCK_HTTP_HOST: '127.0.0.1', AIRLOCK_HTTP_PORT: String(httpPort), AIRLOCK_GRPC_HOST: '127.0.0.1', AIRLOCK_GRPC_PORT: String(grpcPort), AIRLOCK_METRICS_HOST: '127.0.0.1', AIRLOCK_METRICS_PORT: String(metricsPort) },
      binds: [{ source: volume(base, 'control-plane-data', controlPlane.config.User), target: '/var/lib/airlock/control-plane', readOnly: false }],
    });
    children.push(controlPlaneProcess);
    const httpUrl = `http://127.0.0.1:${httpPort}`;
    await waitFor('control plane /api/v1/health/ready', async () => ((await getJson(`${httpUrl}/api/v1/health/ready`)).status === 200 ? true : undefined), controlPlaneProcess);
    const controlPlaneMs = Date.now() - started;
    const metrics = await fetch(`http://127.0.0.1:${metricsPort}/metrics`).then((response) => response.text());
    if (!/^airlock_/m.test(metrics)) throw new Error('the control plane image serves no airlock_ metric on its metrics port');
    rows.push(['control plane', controlPlane.config.User ?? 'root', 'read-only', 'GET /api/v1/health/ready 200, /metrics', `${(controlPlaneMs / 1000).toFixed(1)} s`, rssMiB(controlPlaneProcess.pid)]);

    const token = readFileSync(join(base, 'control-plane-data', 'bootstrap-admin-token'), 'utf8').trim();
    const api = new ControlPlaneApiClient(httpUrl, token);
    const enrollment = await api.createEnrollmentToken();
    const signingKeys = await api.signingKeys();

    console.log(`mounting ${workerArchive}`);
    const worker = mountImage(workerArchive);
    images.push(worker);
    console.log(`enrolling the worker image, then starting its entrypoint (${[...(worker.config.Entrypoint ?? []), ...(worker.config.Cmd ?? [])].join(' ')})`);
    const etc = join(base, 'worker-etc');
    mkdirSync(etc, { mode: 0o755 });
    writeFileSync(join(etc, 'enrollment-token'), `${enrollment.token}\n`, { mode: 0o644 });
    writeFileSync(
      join(etc, 'worker.yml'),
      stringify({
        controlPlane: { address: `127.0.0.1:${grpcPort}`, insecure: true, trustedSigningKeys: signingKeys.map(({ keyId, publicKey }) => ({ keyId, publicKey })) },
        stateDir: '/var/lib/airlock/worker/state',
        workspaceDir: '/var/lib/airlock/worker/workspace',
        inference: { endpoints: [{ name: 'local', baseUrl: 'http://127.0.0.1:9/v1', model: 'smoke' }] },
        health: { host: '127.0.0.1', port: healthPort },
      }),
      { mode: 0o644 },
    );
    const workerBinds: Bind[] = [
      { source: volume(base, 'worker-data', worker.config.User), target: '/var/lib/airlock/worker', readOnly: false },
      { source: etc, target: '/etc/airlock', readOnly: true },
    ];
    const enroll = runImage(worker, { label: 'worker enroll', args: ['enroll', '--config', '/etc/airlock/worker.yml', '--token-file', '/etc/airlock/enrollment-token'], env: {}, binds: workerBinds });
    const enrolled = await new Promise<number | null>((resolve) => enroll.once('exit', resolve));
    if (enrolled !== 0) throw new Error(`the worker image's enroll exited with ${enrolled}`);
    const workerStarted = Date.now();
    const workerProcess = runImage(worker, { label: 'worker', env: {}, binds: workerBinds });
    children.push(workerProcess);
    const health = await waitFor(
      'worker /healthz connected',
      async () => {
        const { status, body } = await getJson(`http://127.0.0.1:${healthPort}/healthz`);
        return status === 200 && body['connected'] === true ? body : undefined;
      },
      workerProcess,
    );
    const workerMs = Date.now() - workerStarted;
    const workerMetrics = await fetch(`http://127.0.0.1:${healthPort}/metrics`).then((response) => response.text());
    if (!/^airlock_worker_/m.test(workerMetrics)) throw new Error('the worker image serves no airlock_worker_ metric on /metrics');
    rows.push(['worker', worker.config.User ?? 'root', 'read-only', `GET /healthz 200 (state ${String(health['state'])}, connected), /metrics`, `${(workerMs / 1000).toFixed(1)} s`, rssMiB(workerProcess.pid)]);

    for (const image of images) rows.find((row) => row[0] === (image === controlPlane ? 'control plane' : 'worker'))?.splice(1, 0, `${(statSync(image.archive).size / 1024 / 1024).toFixed(0)} MiB`);
    const header = ['image', 'archive', 'user', 'root', 'health', 'start → healthy', 'RSS MiB'];
    const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
    const line = (cells: readonly string[]): string => `| ${cells.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`;
    console.log([line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n'));
  } finally {
    // unshare ignores SIGTERM while it waits for its child, and its --kill-child signal is
    // cleared when setpriv changes the user: kill the image's process itself, which is the
    // PID namespace's init, so every process of the image goes with it.
    for (const child of children) {
      const init = child.pid === undefined ? undefined : namespaceInit(child.pid);
      if (init !== undefined) process.kill(init, 'SIGKILL');
      child.kill('SIGKILL');
    }
    await Promise.all(children.map((child) => (child.exitCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', resolve)))));
    for (const image of images) {
      buildah('umount', image.container);
      buildah('rm', image.container);
    }
    rmSync(base, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
