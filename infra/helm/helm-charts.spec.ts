/**
 * The Helm charts, rendered and checked with real tools: our Go renderer (Go's text/template,
 * sprig and sigs.k8s.io/yaml, the libraries Helm renders with), the Kubernetes schemas
 * (validate-manifests.mjs, kubernetes-models), the worker's own configuration loader (its CLI)
 * and the control plane's own environment parser. Then the properties the charts promise,
 * each also shown to catch a manifest that breaks it.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import {
  configFromConfigMap,
  configMapSecretPatternProblems,
  controlPlaneProblems,
  mountOf,
  networkPolicyProblems,
  ofKind,
  parseManifests,
  persistentStateProblems,
  poolProblems,
  probeProblems,
  restrictedPodSecurityProblems,
  resourceProblems,
  secretFileProblems,
  secretPlacementProblems,
  volumeOf,
  workloadsOf,
  type Container,
  type ControlPlaneExpectation,
  type KubeObject,
  type NetworkPolicyExpectation,
  type RenderedManifest,
  type Workload,
} from './manifest-checks';
// The worker's Node flags are the ones the build writes into its bundle: read from the build
// script itself (a deployment-file check reaching into the build is the point, as in prometheus/).
// eslint-disable-next-line @nx/enforce-module-boundaries
import { WORKER_NODE_FLAGS } from '../../scripts/build-apps';

const HELM_DIR = __dirname;
const REPO_ROOT = path.resolve(HELM_DIR, '..', '..');
const WORKER_CHART = path.join(HELM_DIR, 'airlock-worker');
const CONTROL_PLANE_CHART = path.join(HELM_DIR, 'airlock-control-plane');

const WORKER_PROBES = { worker: { liveness: '/healthz', readiness: '/healthz', port: 9464 } };
const CONTROL_PLANE_PROBES = { 'control-plane': { liveness: '/api/v1/health', readiness: '/api/v1/health/ready', port: 8080 } };

let workDir: string;
let renderer: string;
/** A throwaway CA (P-256, CA:TRUE) and a server certificate it issued, made with openssl. */
let pki: { caCert: string; caKey: string; serverCert: string; serverKey: string };

function run(command: string, args: readonly string[], options: { input?: string; env?: NodeJS.ProcessEnv; timeout?: number; cwd?: string } = {}): SpawnSyncReturns<string> {
  const result = spawnSync(command, args, { cwd: REPO_ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
  if (result.error && (result.error as NodeJS.ErrnoException).code !== 'ETIMEDOUT') throw result.error;
  return result;
}

function openssl(args: readonly string[]): void {
  const result = run('openssl', args);
  if (result.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${result.stderr}`);
}

beforeAll(() => {
  workDir = mkdtempSync(path.join(tmpdir(), 'airlock-helm-'));
  renderer = path.join(workDir, 'render');
  // GOPATH mode against Debian's packaged sprig and sigs.k8s.io/yaml: no module download.
  const build = run('go', ['build', '-o', renderer, '.'], {
    cwd: path.join(HELM_DIR, 'render'),
    env: { ...process.env, GO111MODULE: 'off', GOPATH: '/usr/share/gocode', GOCACHE: path.join(workDir, 'go-cache'), GOFLAGS: '' },
  });
  if (build.status !== 0) throw new Error(`go build failed:\n${build.stderr}`);

  const dir = path.join(workDir, 'pki');
  mkdirSync(dir);
  const file = (name: string): string => path.join(dir, name);
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', file('ca.key'), '-out', file('ca.crt'), '-days', '2', '-subj', '/CN=Airlock chart test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', file('server.key'), '-out', file('server.csr'), '-subj', '/CN=grpc.airlock.example.com']);
  writeFileSync(file('server.ext'), 'subjectAltName=DNS:grpc.airlock.example.com\nextendedKeyUsage=serverAuth\n');
  openssl(['x509', '-req', '-in', file('server.csr'), '-CA', file('ca.crt'), '-CAkey', file('ca.key'), '-CAcreateserial', '-out', file('server.crt'), '-days', '2', '-extfile', file('server.ext')]);
  pki = { caCert: readFileSync(file('ca.crt'), 'utf8'), caKey: readFileSync(file('ca.key'), 'utf8'), serverCert: readFileSync(file('server.crt'), 'utf8'), serverKey: readFileSync(file('server.key'), 'utf8') };
}, 180_000);

afterAll(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

interface Render {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function render(chart: string, release: string, valueFiles: readonly string[] = []): Render {
  const result = run(renderer, ['--release', release, '--namespace', 'airlock', ...valueFiles.flatMap((file) => ['-f', file]), chart]);
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

let valuesFileCount = 0;
/** A values file written for one test, in the spec's own temporary folder. */
function valuesFile(values: unknown): string {
  const file = path.join(workDir, `values-${++valuesFileCount}.yaml`);
  writeFileSync(file, stringifyYaml(values));
  return file;
}

function renderOk(chart: string, release: string, valueFiles: readonly string[] = []): RenderedManifest[] {
  const result = render(chart, release, valueFiles);
  if (result.status !== 0) throw new Error(`render of ${chart} failed:\n${result.stderr}`);
  return parseManifests(result.stdout);
}

function validate(stream: string): { status: number | null; report: { documents: number; kinds: Record<string, number>; errors: { source: string; error: string }[] } } {
  const result = run(process.execPath, [path.join(HELM_DIR, 'validate-manifests.mjs')], { input: stream });
  return { status: result.status, report: JSON.parse(result.stdout) };
}

function examples(chart: string): string[] {
  const dir = path.join(chart, 'examples');
  return readdirSync(dir)
    .filter((name) => name.endsWith('.yaml'))
    .sort()
    .map((name) => path.join(dir, name));
}

function workerContainer(workload: Workload): Container {
  const container = workload.pod.containers.find((candidate) => candidate.name === 'worker');
  if (!container) throw new Error(`${workload.object.metadata.name}: no worker container`);
  return container;
}

/** The paths a worker config names as secret files: every `*File` key and `previousKekFiles`, except the CA (public). */
function secretFilesNamed(config: unknown, found: string[] = []): string[] {
  if (Array.isArray(config)) config.forEach((item) => secretFilesNamed(item, found));
  else if (config && typeof config === 'object') {
    for (const [key, value] of Object.entries(config)) {
      if (typeof value === 'string' && /File$/.test(key) && key !== 'caFile') found.push(value);
      else if (key === 'previousKekFiles' && Array.isArray(value)) found.push(...value.filter((item): item is string => typeof item === 'string'));
      else secretFilesNamed(value, found);
    }
  }
  return found;
}

/** Every string in `value` that is one of `from` or lies under it gets `root` in front. */
function rerooted(value: unknown, from: readonly string[], root: string): unknown {
  if (typeof value === 'string') return from.some((prefix) => value === prefix || value.startsWith(`${prefix}/`)) ? path.join(root, value) : value;
  if (Array.isArray(value)) return value.map((item) => rerooted(item, from, root));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, rerooted(item, from, root)]));
  return value;
}

const HEX_KEY = 'a'.repeat(64);

/**
 * The files a pod's container sees, under `root`: ConfigMaps and Secrets the chart rendered as
 * they are; ConfigMaps it expects to exist (the control plane's CA) as the test CA; external
 * Secrets' files as test content chosen by `contentFor`; emptyDirs and claims as folders.
 */
function materialize(root: string, manifests: readonly RenderedManifest[], workload: Workload, container: Container, secretFiles: readonly string[], contentFor: (file: string) => string): void {
  const claims = new Set(((workload.object.spec as { volumeClaimTemplates?: { metadata: { name: string } }[] }).volumeClaimTemplates ?? []).map((claim) => claim.metadata.name));
  for (const mount of container.volumeMounts ?? []) {
    const target = path.join(root, mount.mountPath);
    const volume = volumeOf(workload.pod, mount);
    const source = volume?.configMap ?? volume?.secret;
    if (!volume) {
      if (!claims.has(mount.name)) throw new Error(`mount ${mount.name}: no such volume or claim`);
      mkdirSync(target, { recursive: true });
      continue;
    }
    if (!source) {
      mkdirSync(target, { recursive: true });
      continue;
    }
    const name = volume.configMap?.name ?? volume.secret?.secretName;
    const rendered = manifests.find((manifest) => manifest.object.kind === (volume.configMap ? 'ConfigMap' : 'Secret') && manifest.object.metadata.name === name)?.object;
    const data = (rendered?.data ?? rendered?.stringData) as Record<string, string> | undefined;
    const files: Record<string, string> = data ? { ...data } : volume.configMap ? { [source.items?.[0]?.key ?? 'ca.crt']: pki.caCert } : {};
    if (mount.subPath) {
      const content = files[mount.subPath];
      if (content === undefined) throw new Error(`mount ${mount.name}: no key ${mount.subPath}`);
      mkdirSync(path.dirname(target), { recursive: true });
      writeFileSync(target, content);
      continue;
    }
    mkdirSync(target, { recursive: true });
    const items = source.items ?? Object.keys(files).map((key) => ({ key, path: key }));
    for (const item of items) {
      const content = files[item.key];
      if (content !== undefined) writeFileSync(path.join(target, item.path), content, { mode: 0o600 });
    }
  }
  for (const file of secretFiles) {
    const mount = mountOf(container, file);
    if (!mount) continue;
    const target = path.join(root, file);
    if (!existsSync(target)) writeFileSync(target, contentFor(file), { mode: 0o600 });
  }
}

/** Secret environment variables of a container, with test values (user:password shape, as a proxy's credentials need). */
function containerEnvironment(container: Container): Record<string, string> {
  const env: Record<string, string> = {};
  for (const variable of container.env ?? []) {
    if (variable.value !== undefined) env[variable.name] = variable.value;
    else if (variable.valueFrom?.secretKeyRef) env[variable.name] = 'test-user:test-password';
  }
  return env;
}

/** Runs the worker's own configuration loader (`airlock-worker jobs list`) on one pool's config, as its pod sees it. */
function checkWithWorkerLoader(manifests: readonly RenderedManifest[], workload: Workload): SpawnSyncReturns<string> {
  const found = configFromConfigMap(manifests, workload, 'worker');
  if (typeof found === 'string') throw new Error(found);
  const container = workerContainer(workload);
  const root = mkdtempSync(path.join(workDir, 'pod-'));
  const config = parseYaml(found.text) as Record<string, unknown>;
  const secretFiles = secretFilesNamed(config);
  materialize(root, manifests, workload, container, secretFiles, (file) => (/kek/i.test(path.basename(file)) ? HEX_KEY : `test-token-${path.basename(file)}`));
  const mountPaths = (container.volumeMounts ?? []).map((mount) => mount.mountPath);
  const configFile = path.join(root, found.configPath);
  writeFileSync(configFile, stringifyYaml(rerooted(config, mountPaths, root)));
  chmodSync(configFile, 0o600);
  const sealedFiles = secretFiles.filter((file) => file.endsWith('.sealed') && readFileSync(path.join(root, file), 'utf8').startsWith('test-token-'));
  if (sealedFiles.length > 0) {
    // Sealed as an operator seals them: the worker's own `secrets seal`, under the KEK the pod mounts.
    const sealed = path.join(root, 'tmp', 'token.sealed');
    const seal = run(process.execPath, ['-r', '@swc-node/register', 'apps/worker/src/main.ts', 'secrets', 'seal', '--config', configFile, '--out', sealed], { input: 'test-token\n', env: { PATH: process.env.PATH, HOME: root }, timeout: 60_000 });
    if (seal.status !== 0) throw new Error(`secrets seal failed: ${seal.stderr}`);
    for (const file of sealedFiles) writeFileSync(path.join(root, file), readFileSync(sealed));
  }
  return run(process.execPath, ['-r', '@swc-node/register', 'apps/worker/src/main.ts', 'jobs', 'list', '--config', configFile], {
    env: { PATH: process.env.PATH, HOME: root, ...containerEnvironment(container) },
    timeout: 60_000,
  });
}

/** Runs the control plane's own environment parser (loadAppConfig) on the Deployment's environment, files as the pod sees them. */
function checkWithControlPlaneConfig(manifests: readonly RenderedManifest[]): SpawnSyncReturns<string> {
  const [workload] = workloadsOf(manifests).filter((candidate) => candidate.object.kind === 'Deployment');
  if (!workload) throw new Error('no Deployment');
  const container = workload.pod.containers.find((candidate) => candidate.name === 'control-plane');
  if (!container) throw new Error('no control-plane container');
  const root = mkdtempSync(path.join(workDir, 'pod-'));
  const env = containerEnvironment(container);
  const contentByVariable: Record<string, string> = {
    AIRLOCK_KEK_FILE: HEX_KEY,
    AIRLOCK_KEK_PREVIOUS_FILES: 'b'.repeat(64),
    AIRLOCK_GRPC_TLS_CERT_FILE: pki.serverCert,
    AIRLOCK_GRPC_TLS_KEY_FILE: pki.serverKey,
    AIRLOCK_GRPC_CLIENT_CA_CERT_FILE: pki.caCert,
    AIRLOCK_GRPC_CLIENT_CA_KEY_FILE: pki.caKey,
    AIRLOCK_OIDC_CLIENT_SECRET_FILE: 'test-client-secret',
  };
  const contentByFile = new Map<string, string>();
  for (const [name, value] of Object.entries(env)) {
    const content = contentByVariable[name];
    if (content !== undefined) for (const file of value.split(',')) contentByFile.set(file, content);
  }
  materialize(root, manifests, workload, container, [...contentByFile.keys()], (file) => contentByFile.get(file) ?? '');
  const mountPaths = (container.volumeMounts ?? []).map((mount) => mount.mountPath);
  const rerootedEnv = Object.fromEntries(Object.entries(env).map(([name, value]) => [name, value.split(',').map((part) => rerooted(part, mountPaths, root)).join(',')]));
  // The Secrets' values, as an operator would put them there.
  if (rerootedEnv.DATABASE_URL) rerootedEnv.DATABASE_URL = 'postgresql://airlock:password@127.0.0.1:5432/airlock';
  if (rerootedEnv.AIRLOCK_NATS_URL) rerootedEnv.AIRLOCK_NATS_URL = 'nats://127.0.0.1:4222';
  const script = [
    "try { require('./apps/control-plane/src/app/config/app-config').loadAppConfig(process.env); process.stdout.write('config accepted\\n'); }",
    'catch (error) { process.stderr.write(`${error.name}: ${error.message}\\n`); process.exit(2); }',
  ].join('\n');
  return run(process.execPath, ['-r', '@swc-node/register', '-e', script], { env: { PATH: process.env.PATH, HOME: root, ...rerootedEnv }, timeout: 60_000 });
}

interface WorkerCase {
  readonly name: string;
  readonly valueFiles: readonly string[];
  readonly pools: readonly string[];
  readonly networkPolicy: NetworkPolicyExpectation;
}

const WORKER_CASES: readonly WorkerCase[] = [
  {
    name: 'default values',
    valueFiles: [],
    pools: ['general'],
    networkPolicy: { metrics: { allowed: false, port: 9464 }, egress: [{ cidr: '203.0.113.10/32', port: 443 }, { cidr: '198.51.100.0/28', port: 443 }] },
  },
  {
    name: 'examples/mutual-tls.yaml',
    valueFiles: [path.join(WORKER_CHART, 'examples', 'mutual-tls.yaml')],
    pools: ['general'],
    networkPolicy: { metrics: { allowed: false, port: 9464 }, egress: [{ cidr: '10.20.0.10/32', port: 50051 }, { cidr: '10.30.0.0/24', port: 443 }, { cidr: '10.50.0.7/32', port: 8080 }] },
  },
  {
    name: 'examples/proxy-sealed-tokens.yaml',
    valueFiles: [path.join(WORKER_CHART, 'examples', 'proxy-sealed-tokens.yaml')],
    pools: ['general'],
    networkPolicy: { metrics: { allowed: false, port: 9464 }, egress: [{ cidr: '10.0.0.3/32', port: 3128 }, { cidr: '10.30.0.0/24', port: 443 }, { cidr: '10.50.0.0/24', port: 443 }] },
  },
  {
    name: 'examples/two-pools.yaml',
    valueFiles: [path.join(WORKER_CHART, 'examples', 'two-pools.yaml')],
    pools: ['general', 'gpu'],
    networkPolicy: { metrics: { allowed: true, port: 9464 }, egress: [{ cidr: '10.20.0.10/32', port: 443 }, { cidr: '10.30.0.0/24', port: 443 }, { cidr: '10.40.0.5/32', port: 443 }] },
  },
];

interface ControlPlaneCase {
  readonly name: string;
  readonly valueFiles: readonly string[];
  readonly expected: ControlPlaneExpectation;
}

const CONTROL_PLANE_CASES: readonly ControlPlaneCase[] = [
  { name: 'default values', valueFiles: [], expected: { replicas: 2, nats: true, gatewayTls: true, grpcIngress: 'terminating' } },
  { name: 'examples/mutual-tls.yaml', valueFiles: [path.join(CONTROL_PLANE_CHART, 'examples', 'mutual-tls.yaml')], expected: { replicas: 3, nats: true, gatewayTls: true, grpcIngress: 'none' } },
  {
    name: 'examples/single-replica-tls-at-ingress.yaml',
    valueFiles: [path.join(CONTROL_PLANE_CHART, 'examples', 'single-replica-tls-at-ingress.yaml')],
    expected: { replicas: 1, nats: false, gatewayTls: false, grpcIngress: 'terminating' },
  },
];

describe('the test cases cover every example values file', () => {
  it('has one case per example of each chart', () => {
    const covered = [...WORKER_CASES, ...CONTROL_PLANE_CASES].flatMap((testCase) => testCase.valueFiles).sort();
    expect(covered).toEqual([...examples(WORKER_CHART), ...examples(CONTROL_PLANE_CHART)].sort());
  });
});

describe('the renderer behaves as Helm does where the charts depend on it', () => {
  let chart: string;
  beforeAll(() => {
    chart = path.join(workDir, 'fixture-chart');
    mkdirSync(path.join(chart, 'templates'), { recursive: true });
    writeFileSync(path.join(chart, 'Chart.yaml'), 'apiVersion: v2\nname: fixture\nversion: 1.2.3\nappVersion: "4.5"\n');
    // (A key `y` would read as true: YAML 1.1, as sigs.k8s.io/yaml and so Helm read values.)
    writeFileSync(path.join(chart, 'values.yaml'), 'list: [a, b]\nnested: {keep: 1, drop: 2, deep: {x: 1}}\n');
    writeFileSync(path.join(chart, 'templates', '_helpers.tpl'), '{{- define "fixture.name" -}}{{ .Chart.Name }}-{{ .Release.Name }}{{- end -}}\n');
    writeFileSync(path.join(chart, 'templates', 'NOTES.txt'), 'never printed\n');
    writeFileSync(
      path.join(chart, 'templates', 'a.yaml'),
      [
        'name: {{ include "fixture.name" . }}',
        'versions: {{ .Chart.Version }}/{{ .Chart.AppVersion }} in {{ .Release.Namespace }}',
        'missing: "{{ .Values.absent }}"',
        'list: {{ toYaml .Values.list | quote }}',
        'nested: {{ toJson .Values.nested }}',
        'tpl: {{ tpl "{{ .Release.Name }}!" . }}',
        '---',
        '{{- if false }}',
        'empty: document',
        '{{- end }}',
        '---',
        'second: document',
      ].join('\n'),
    );
  });

  it('renders includes, the release and chart objects, missing keys as nothing, toYaml without its trailing newline, tpl, and drops empty documents', () => {
    const override = valuesFile({ nested: { drop: null, deep: { z: 2 } } });
    const result = render(chart, 'rel', [override]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(
      [
        '---',
        '# Source: fixture/templates/a.yaml',
        'name: fixture-rel',
        'versions: 1.2.3/4.5 in airlock',
        'missing: ""',
        'list: "- a\\n- b"',
        'nested: {"deep":{"x":1,"z":2},"keep":1}',
        'tpl: rel!',
        // As `helm template`: a document keeps the newline its template left before `---`.
        '',
        '---',
        '# Source: fixture/templates/a.yaml',
        'second: document',
        '',
      ].join('\n'),
    );
  });

  it('has no env or expandenv, as Helm removes them', () => {
    writeFileSync(path.join(chart, 'templates', 'env.yaml'), 'home: {{ env "HOME" }}\n');
    try {
      const result = render(chart, 'rel');
      expect(result.status).toBe(1);
      expect(result.stderr).toContain('function "env" not defined');
    } finally {
      rmSync(path.join(chart, 'templates', 'env.yaml'));
    }
  });

  it('stops on required and fail with their message, located as Helm words it', () => {
    writeFileSync(path.join(chart, 'templates', 'required.yaml'), 'x: {{ required "absent is required" .Values.absent }}\n');
    try {
      const result = render(chart, 'rel');
      expect(result.status).toBe(1);
      expect(result.stderr).toBe('Error: execution error at (fixture/templates/required.yaml:1:6): absent is required\n');
    } finally {
      rmSync(path.join(chart, 'templates', 'required.yaml'));
    }
  });
});

describe('NOTES.txt', () => {
  it("names each pool's enrollment Secret and its keys, and where the control plane's bootstrap token is", () => {
    const worker = run(renderer, ['--notes', '--release', 'airlock-worker', '-f', path.join(WORKER_CHART, 'examples', 'two-pools.yaml'), WORKER_CHART]);
    expect(worker.status).toBe(0);
    expect(worker.stdout).toContain('pool general: Secret airlock-worker-general-enrollment, keys token-0 … token-5');
    expect(worker.stdout).toContain('pool gpu: Secret airlock-worker-gpu-enrollment, keys token-0 … token-1');
    const controlPlane = run(renderer, ['--notes', '--release', 'airlock-control-plane', CONTROL_PLANE_CHART]);
    expect(controlPlane.status).toBe(0);
    expect(controlPlane.stdout).toContain('exec <that pod> -- cat /var/lib/airlock/control-plane/bootstrap-admin-token');
  });
});

describe.each(WORKER_CASES)('airlock-worker with $name', (testCase) => {
  let stream: string;
  let manifests: RenderedManifest[];
  beforeAll(() => {
    const result = render(WORKER_CHART, 'airlock-worker', testCase.valueFiles);
    if (result.status !== 0) throw new Error(`render failed:\n${result.stderr}`);
    stream = result.stdout;
    manifests = parseManifests(stream);
  });

  it('is valid against the Kubernetes schemas, with no unknown field', () => {
    const { status, report } = validate(stream);
    expect(report.errors).toEqual([]);
    expect(status).toBe(0);
    expect(report.documents).toBe(manifests.length);
  });

  it('runs every container as PodSecurity restricted allows', () => {
    expect(restrictedPodSecurityProblems(manifests)).toEqual([]);
  });

  it('is egress-only, to DNS and the destinations in values', () => {
    expect(networkPolicyProblems(manifests, testCase.networkPolicy)).toEqual([]);
  });

  it('renders one StatefulSet and one HorizontalPodAutoscaler per pool', () => {
    expect(poolProblems(manifests, testCase.pools)).toEqual([]);
  });

  it('has HTTP probes on /healthz:9464 and resources on every container', () => {
    expect(probeProblems(manifests, WORKER_PROBES)).toEqual([]);
    expect(resourceProblems(manifests)).toEqual([]);
  });

  it('runs the worker with the Node flags of its bundle', () => {
    for (const workload of workloadsOf(manifests)) {
      expect(workerContainer(workload).command?.slice(0, 3 + WORKER_NODE_FLAGS.length)).toEqual(['/usr/bin/node', ...WORKER_NODE_FLAGS, '/opt/airlock/worker/main.js', 'run']);
    }
  });

  it("takes each pool's config from a ConfigMap, its token and key files from Secret mounts, its state from a claim per pod", () => {
    for (const workload of workloadsOf(manifests)) {
      const found = configFromConfigMap(manifests, workload, 'worker');
      if (typeof found === 'string') throw new Error(found);
      const config = parseYaml(found.text) as { stateDir: string; controlPlane: { tls: { caFile: string } } };
      expect(secretFileProblems(workload, found.container, secretFilesNamed(config))).toEqual([]);
      expect(volumeOf(workload.pod, mountOf(found.container, config.controlPlane.tls.caFile))?.configMap).toBeDefined();
      expect(persistentStateProblems(workload, found.container, config.stateDir)).toEqual([]);
    }
    expect(configMapSecretPatternProblems(manifests)).toEqual([]);
  });

  it('enrolls in an init container that alone sees the enrollment Secret', () => {
    for (const workload of workloadsOf(manifests)) {
      const enroll = workload.pod.initContainers?.find((container) => container.name === 'enroll');
      const script = enroll?.args?.join('\n') ?? '';
      expect(script).toContain('enroll --config /etc/airlock/worker.yml --token-file');
      const tokenVolume = volumeOf(workload.pod, mountOf(enroll as Container, '/etc/airlock/enrollment/token-0'));
      expect(tokenVolume?.secret?.secretName).toBe(`${workload.object.metadata.name}-enrollment`);
      expect(volumeOf(workload.pod, mountOf(workerContainer(workload), '/etc/airlock/enrollment/token-0'))?.secret).toBeUndefined();
    }
  });

  it("gives every pool a config the worker's own loader accepts, with every file it names present in the pod", () => {
    for (const workload of workloadsOf(manifests)) {
      const result = checkWithWorkerLoader(manifests, workload);
      expect({ pool: workload.object.metadata.name, status: result.status, stderr: result.stderr }).toEqual({ pool: workload.object.metadata.name, status: 0, stderr: '' });
      expect(result.stdout).toMatch(/^no job records in /);
    }
  }, 120_000);
});

describe.each(CONTROL_PLANE_CASES)('airlock-control-plane with $name', (testCase) => {
  let stream: string;
  let manifests: RenderedManifest[];
  beforeAll(() => {
    const result = render(CONTROL_PLANE_CHART, 'airlock-control-plane', testCase.valueFiles);
    if (result.status !== 0) throw new Error(`render failed:\n${result.stderr}`);
    stream = result.stdout;
    manifests = parseManifests(stream);
  });

  it('is valid against the Kubernetes schemas, with no unknown field', () => {
    const { status, report } = validate(stream);
    expect(report.errors).toEqual([]);
    expect(status).toBe(0);
    expect(report.documents).toBe(manifests.length);
  });

  it('runs as PodSecurity restricted allows, with probes and resources', () => {
    expect(restrictedPodSecurityProblems(manifests)).toEqual([]);
    expect(probeProblems(manifests, CONTROL_PLANE_PROBES)).toEqual([]);
    expect(resourceProblems(manifests)).toEqual([]);
  });

  it('has its replicas, DATABASE_URL and AIRLOCK_NATS_URL from Secrets, key files on Secret mounts, a Service per port and its ingresses', () => {
    expect(controlPlaneProblems(manifests, testCase.expected)).toEqual([]);
    expect(configMapSecretPatternProblems(manifests)).toEqual([]);
    expect(ofKind(manifests, 'PodDisruptionBudget').length).toBe(testCase.expected.replicas > 1 ? 1 : 0);
  });

  it("sets an environment the control plane's own parser accepts, with every file it names present in the pod", () => {
    const result = checkWithControlPlaneConfig(manifests);
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
    expect(result.stdout).toBe('config accepted\n');
  }, 120_000);
});

describe('secrets given in values land in Secrets only', () => {
  it('puts inline token files in the Secret, mounted, and only their paths in the ConfigMap', () => {
    const tokens = { 'gitlab-token': 'glpat-MARKER-0c8a1f3e9d', 'jira-token': 'MARKER-jira-5b7e2c' };
    const override = valuesFile({
      secretFiles: { files: tokens },
      config: {
        repositories: [
          {
            alias: 'payments',
            cloneUrl: 'https://gitlab.corp.example/platform/payments.git',
            pushUrl: 'https://gitlab.corp.example/platform/payments.git',
            forge: { type: 'gitlab', apiUrl: 'https://gitlab.corp.example/api/v4', project: 'platform/payments', tokenFile: '/etc/airlock/secrets/gitlab-token' },
          },
        ],
        trackers: [{ name: 'jira', type: 'jira', apiUrl: 'https://jira.corp.example', tokenFile: '/etc/airlock/secrets/jira-token' }],
      },
    });
    const manifests = renderOk(WORKER_CHART, 'airlock-worker', [override]);
    expect(secretPlacementProblems(manifests, Object.values(tokens))).toEqual([]);
    const [workload] = workloadsOf(manifests) as [Workload];
    const found = configFromConfigMap(manifests, workload, 'worker');
    if (typeof found === 'string') throw new Error(found);
    expect(secretFilesNamed(parseYaml(found.text))).toEqual(['/etc/airlock/secrets/gitlab-token', '/etc/airlock/secrets/jira-token']);
    expect(secretFileProblems(workload, found.container, ['/etc/airlock/secrets/gitlab-token'])).toEqual([]);
    const result = checkWithWorkerLoader(manifests, workload);
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
  }, 120_000);
});

describe('the enroll init container', () => {
  function script(manifests: readonly RenderedManifest[]): string {
    const [workload] = workloadsOf(manifests) as [Workload];
    return workload.pod.initContainers?.find((container) => container.name === 'enroll')?.args?.[0] ?? '';
  }

  it('skips enrollment when the state volume already holds an identity', () => {
    const state = mkdtempSync(path.join(workDir, 'state-'));
    writeFileSync(path.join(state, 'identity.json'), '{}');
    // Bounded: a script that ignored the identity would wait for a token for ever.
    const result = run('/bin/sh', ['-c', script(renderOk(WORKER_CHART, 'airlock-worker'))], { env: { PATH: process.env.PATH, POD_NAME: 'airlock-worker-general-3', STATE_DIR: state, TOKEN_DIR: state, TOKEN_SECRET: 'x' }, timeout: 3000 });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('already enrolled');
  });

  it("waits for its own ordinal's token while there is none", () => {
    const state = mkdtempSync(path.join(workDir, 'state-'));
    const result = run('/bin/sh', ['-c', script(renderOk(WORKER_CHART, 'airlock-worker'))], {
      env: { PATH: process.env.PATH, POD_NAME: 'airlock-worker-general-3', STATE_DIR: state, TOKEN_DIR: state, TOKEN_SECRET: 'airlock-worker-general-enrollment' },
      timeout: 1500,
    });
    expect(result.status).toBeNull();
    expect(result.stdout).toContain('waiting for an enrollment token in key token-3 of Secret airlock-worker-general-enrollment');
  });
});

describe('a missing or contradictory value stops rendering with its message', () => {
  it.each([
    ['worker', WORKER_CHART, { controlPlane: { address: '' } }, "controlPlane.address is required (host:port of the control plane's gRPC gateway)"],
    ['worker', WORKER_CHART, { pools: [{ config: { labels: ['x'] } }] }, 'pools[].name is required (a DNS label, e.g. gpu)'],
    ['worker', WORKER_CHART, { pools: [{ name: 'GPU_pool' }] }, 'pools[].name "GPU_pool": expected a DNS label'],
    ['worker', WORKER_CHART, { config: { stateDir: '/data' } }, 'config.stateDir is set by the chart'],
    ['worker', WORKER_CHART, { networkPolicy: { egress: { controlPlane: null } } }, 'networkPolicy.egress.controlPlane is required'],
    ['control plane', CONTROL_PLANE_CHART, { database: { existingSecret: '' } }, 'database.existingSecret is required: the Secret holding DATABASE_URL'],
    ['control plane', CONTROL_PLANE_CHART, { nats: { existingSecret: '' } }, 'nats.existingSecret is required with more than one replica'],
    ['control plane', CONTROL_PLANE_CHART, { grpc: { clientCa: { existingSecret: 'ca' } } }, 'ingress.grpc: with mutual TLS (grpc.clientCa) set ingress.grpc.sslPassthrough'],
    ['control plane', CONTROL_PLANE_CHART, { env: { DATABASE_URL: 'postgresql://u:p@db/airlock' } }, 'env.DATABASE_URL: a secret'],
  ])('%s: %j', (_chart, chart, values, message) => {
    const result = render(chart, 'airlock', [valuesFile(values)]);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^Error: execution error at \(airlock-[a-z-]+\/templates\/[^)]+\): /);
    expect(result.stderr).toContain(message);
  });
});

/**
 * Each property check, on a manifest broken the way a template mistake would break it: the
 * checks above can fail.
 */
// The mutations reach into parsed YAML wherever a template mistake could: untyped on purpose.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Untyped = any;

describe('the checks catch a broken manifest', () => {
  let worker: RenderedManifest[];
  let controlPlane: RenderedManifest[];
  beforeAll(() => {
    worker = renderOk(WORKER_CHART, 'airlock-worker');
    controlPlane = renderOk(CONTROL_PLANE_CHART, 'airlock-control-plane');
  });

  /** A deep copy of the manifests with `change` applied to the first object of `kind`. */
  function broken(manifests: readonly RenderedManifest[], kind: string, change: (object: Untyped) => void): RenderedManifest[] {
    const copy = structuredClone(manifests) as RenderedManifest[];
    const target = copy.find((manifest) => manifest.object.kind === kind);
    if (!target) throw new Error(`no ${kind}`);
    change(target.object as Untyped);
    return copy;
  }
  const podOf = (object: Untyped): Untyped => object.spec.template.spec;
  const defaults = WORKER_CASES[0] as WorkerCase;

  it.each<[string, (object: Untyped) => void, string]>([
    ['a writable root file system', (o) => delete podOf(o).containers[0].securityContext.readOnlyRootFilesystem, 'readOnlyRootFilesystem is not true'],
    ['privilege escalation allowed', (o) => (podOf(o).initContainers[0].securityContext.allowPrivilegeEscalation = true), 'container enroll: allowPrivilegeEscalation is not false'],
    ['capabilities kept', (o) => (podOf(o).containers[0].securityContext.capabilities.drop = []), 'capabilities do not drop ALL'],
    ['running as root', (o) => (podOf(o).containers[0].securityContext.runAsUser = 0), 'runAsUser is not 10001'],
    ['no seccomp profile', (o) => (delete podOf(o).containers[0].securityContext.seccompProfile, delete podOf(o).securityContext.seccompProfile), 'seccompProfile is not RuntimeDefault'],
    ['the host network', (o) => (podOf(o).hostNetwork = true), 'hostNetwork is set'],
    ['a hostPath volume', (o) => podOf(o).volumes.push({ name: 'host', hostPath: { path: '/' } }), 'volume host of type hostPath'],
    ['no /tmp emptyDir', (o) => (podOf(o).containers[0].volumeMounts = podOf(o).containers[0].volumeMounts.filter((m: { mountPath: string }) => m.mountPath !== '/tmp')), '/tmp is not an emptyDir'],
    ['the service account token mounted', (o) => delete podOf(o).automountServiceAccountToken, 'automountServiceAccountToken is not false'],
  ])('PodSecurity: %s', (_what, change, problem) => {
    expect(restrictedPodSecurityProblems(broken(worker, 'StatefulSet', change)).join('\n')).toContain(problem);
  });

  it.each<[string, (object: Untyped) => void, string]>([
    ['an ingress rule', (o) => (o.spec.ingress = [{}]), 'ingress rules present (1) where none may be'],
    ['an egress rule without ports', (o) => delete o.spec.egress[1].ports, 'egress rule 1 allows every port'],
    ['an egress rule to anywhere', (o) => o.spec.egress.push({ ports: [{ port: 443 }] }), 'allows every destination'],
    ['no Egress policy type', (o) => (o.spec.policyTypes = ['Ingress']), 'policyTypes lacks Egress'],
    ['the control plane not allowed', (o) => o.spec.egress.splice(1, 1), 'no egress rule to 203.0.113.10/32 port 443'],
    ['a selector missing the pods', (o) => (o.spec.podSelector.matchLabels['airlock.dev/pool'] = 'other'), 'does not select StatefulSet'],
  ])('NetworkPolicy: %s', (_what, change, problem) => {
    expect(networkPolicyProblems(broken(worker, 'NetworkPolicy', change), defaults.networkPolicy).join('\n')).toContain(problem);
  });

  it('NetworkPolicy: a metrics rule open to more than the metrics port', () => {
    const open = broken(worker, 'NetworkPolicy', (o) => (o.spec.ingress = [{ from: [{ namespaceSelector: {} }], ports: [{ protocol: 'TCP', port: 22 }] }]));
    expect(networkPolicyProblems(open, { ...defaults.networkPolicy, metrics: { allowed: true, port: 9464 } }).join('\n')).toContain('not only TCP 9464');
  });

  it('pools: a missing autoscaler, a second one, replicas set, an autoscaler without a resource target', () => {
    expect(poolProblems(worker.filter((manifest) => manifest.object.kind !== 'HorizontalPodAutoscaler'), ['general']).join('\n')).toContain('0 autoscalers target StatefulSet');
    const twice = [...worker, ...worker.filter((manifest) => manifest.object.kind === 'HorizontalPodAutoscaler')];
    expect(poolProblems(twice, ['general']).join('\n')).toContain('2 autoscalers target');
    expect(poolProblems(broken(worker, 'StatefulSet', (o) => (o.spec.replicas = 2)), ['general']).join('\n')).toContain('spec.replicas is set');
    expect(poolProblems(broken(worker, 'HorizontalPodAutoscaler', (o) => (o.spec.metrics = [])), ['general']).join('\n')).toContain('no CPU or memory utilization target');
    expect(poolProblems(worker, ['general', 'gpu']).join('\n')).toContain('pool gpu: 0 workloads');
  });

  it('probes and resources: a missing readiness probe, a wrong path, an init container without limits', () => {
    expect(probeProblems(broken(worker, 'StatefulSet', (o) => delete podOf(o).containers[0].readinessProbe), WORKER_PROBES).join('\n')).toContain('no HTTP readiness probe');
    expect(probeProblems(broken(controlPlane, 'Deployment', (o) => (podOf(o).containers[0].readinessProbe.httpGet.path = '/api/v1/health')), CONTROL_PLANE_PROBES).join('\n')).toContain('expected /api/v1/health/ready');
    expect(resourceProblems(broken(worker, 'StatefulSet', (o) => delete podOf(o).initContainers[0].resources.limits)).join('\n')).toContain('container enroll: no limits.cpu');
  });

  it('config and secrets: config not from a ConfigMap, a token in a ConfigMap, a token file off the Secret mount, state on an emptyDir', () => {
    const notFromConfigMap = broken(worker, 'StatefulSet', (o) => (podOf(o).volumes.find((v: { name: string }) => v.name === 'config').configMap.name = 'elsewhere'));
    expect(configFromConfigMap(notFromConfigMap, workloadsOf(notFromConfigMap)[0] as Workload, 'worker')).toContain('ConfigMap elsewhere is not rendered by the chart');
    const leaked = broken(worker, 'ConfigMap', (o) => (o.data['worker.yml'] += '# glpat-MARKER-0c8a1f3e9d\n'));
    expect(secretPlacementProblems(leaked, ['glpat-MARKER-0c8a1f3e9d']).join('\n')).toContain('appears in ConfigMap');
    const sealedInConfigMap = broken(worker, 'ConfigMap', (o) => (o.data['worker.yml'] += '# airlock-sealed:v1:k:abc\n'));
    expect(configMapSecretPatternProblems(sealedInConfigMap).join('\n')).toContain('holds a sealed token');
    const [workload] = workloadsOf(worker) as [Workload];
    expect(secretFileProblems(workload, workerContainer(workload), ['/etc/airlock/worker-token'])).toEqual([expect.stringContaining('/etc/airlock/worker-token is not on a Secret volume')]);
    const onEmptyDir = workloadsOf(broken(worker, 'StatefulSet', (o) => podOf(o).volumes.push({ name: 'state', emptyDir: {} })))[0] as Workload;
    expect(persistentStateProblems(onEmptyDir, workerContainer(onEmptyDir), '/var/lib/airlock/worker/state').join('\n')).toContain('not a volumeClaimTemplate');
  });

  it('control plane: a plain DATABASE_URL, other replicas, a wrong gRPC backend protocol, no REST ingress, a key file off its Secret mount', () => {
    const expected = (CONTROL_PLANE_CASES[0] as ControlPlaneCase).expected;
    const plainDatabase = broken(controlPlane, 'Deployment', (o) => (podOf(o).containers[0].env[0] = { name: 'DATABASE_URL', value: 'postgresql://u:p@db/airlock' }));
    expect(controlPlaneProblems(plainDatabase, expected).join('\n')).toMatch(/DATABASE_URL is not taken from a Secret[\s\S]*DATABASE_URL carries a connection URL/);
    expect(controlPlaneProblems(broken(controlPlane, 'Deployment', (o) => (o.spec.replicas = 1)), expected).join('\n')).toContain('replicas 1, expected 2');
    const grpcIngress = (object: KubeObject): boolean => object.kind === 'Ingress' && object.metadata.name.endsWith('-grpc');
    const plainGrpc = structuredClone(controlPlane) as RenderedManifest[];
    const ingress = plainGrpc.find((manifest) => grpcIngress(manifest.object))?.object as { metadata: { annotations: Record<string, string> } };
    ingress.metadata.annotations['nginx.ingress.kubernetes.io/backend-protocol'] = 'GRPC';
    expect(controlPlaneProblems(plainGrpc, expected).join('\n')).toContain('backend-protocol is GRPC, expected GRPCS');
    expect(controlPlaneProblems(controlPlane.filter((manifest) => !(manifest.object.kind === 'Ingress' && !grpcIngress(manifest.object))), expected).join('\n')).toContain('no Ingress to the REST API');
    const kekOffMount = broken(controlPlane, 'Deployment', (o) => (podOf(o).containers[0].volumeMounts = podOf(o).containers[0].volumeMounts.filter((m: { name: string }) => m.name !== 'kek')));
    expect(controlPlaneProblems(kekOffMount, expected).join('\n')).toContain('AIRLOCK_KEK_FILE');
  });
});
