/**
 * Checks of rendered Helm manifests for the properties the charts promise: PodSecurity
 * `restricted`, egress-only networking, one workload and one autoscaler per worker pool,
 * configuration from ConfigMaps and secrets from Secrets, probes, resources, and the control
 * plane's replicas, secret environment, services and ingresses. Each returns the problems it
 * found (empty when the property holds), so that a test can show it on a broken manifest too.
 * The objects are read after validate-manifests.mjs has held them to the Kubernetes schemas.
 */
import { parseAllDocuments } from 'yaml';

export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly labels?: Record<string, string>; readonly annotations?: Record<string, string> };
  readonly [field: string]: unknown;
}

export interface RenderedManifest {
  /** The template it came from, `<chart>/templates/<file>`. */
  readonly source: string;
  readonly object: KubeObject;
}

interface SecurityContext {
  readonly runAsNonRoot?: boolean;
  readonly runAsUser?: number;
  readonly allowPrivilegeEscalation?: boolean;
  readonly privileged?: boolean;
  readonly readOnlyRootFilesystem?: boolean;
  readonly capabilities?: { readonly drop?: string[]; readonly add?: string[] };
  readonly seccompProfile?: { readonly type?: string };
}

interface HttpProbe {
  readonly httpGet?: { readonly path?: string; readonly port?: number | string };
}

export interface EnvVar {
  readonly name: string;
  readonly value?: string;
  readonly valueFrom?: { readonly secretKeyRef?: { readonly name: string; readonly key: string }; readonly configMapKeyRef?: unknown; readonly fieldRef?: unknown };
}

export interface VolumeMount {
  readonly name: string;
  readonly mountPath: string;
  readonly subPath?: string;
}

export interface Container {
  readonly name: string;
  readonly command?: string[];
  readonly args?: string[];
  readonly env?: EnvVar[];
  readonly ports?: { readonly name?: string; readonly containerPort: number }[];
  readonly securityContext?: SecurityContext;
  readonly livenessProbe?: HttpProbe;
  readonly readinessProbe?: HttpProbe;
  readonly resources?: { readonly requests?: Record<string, unknown>; readonly limits?: Record<string, unknown> };
  readonly volumeMounts?: VolumeMount[];
}

export interface Volume {
  readonly name: string;
  readonly configMap?: { readonly name: string; readonly items?: { readonly key: string; readonly path: string }[] };
  readonly secret?: { readonly secretName: string; readonly items?: { readonly key: string; readonly path: string }[] };
  readonly emptyDir?: unknown;
  readonly [type: string]: unknown;
}

export interface PodSpec {
  readonly securityContext?: SecurityContext;
  readonly containers: Container[];
  readonly initContainers?: Container[];
  readonly volumes?: Volume[];
  readonly hostNetwork?: boolean;
  readonly hostPID?: boolean;
  readonly hostIPC?: boolean;
  readonly automountServiceAccountToken?: boolean;
}

export interface Workload {
  readonly object: KubeObject;
  readonly podLabels: Record<string, string>;
  readonly pod: PodSpec;
}

interface PeerSelector {
  readonly ipBlock?: { readonly cidr: string };
  readonly namespaceSelector?: unknown;
  readonly podSelector?: unknown;
}

interface PolicyRule {
  readonly to?: PeerSelector[];
  readonly from?: PeerSelector[];
  readonly ports?: { readonly protocol?: string; readonly port?: number | string }[];
}

/** The workload kinds whose pod templates are checked. */
const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Job']);

/** The volume types the `restricted` Pod Security Standard allows. */
const RESTRICTED_VOLUME_TYPES = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret']);

/** What every container of these charts runs as (the images' `airlock` user). */
export const AIRLOCK_UID = 10001;

export function parseManifests(stream: string): RenderedManifest[] {
  return parseAllDocuments(stream).map((document, index) => {
    const comment = `${document.commentBefore ?? ''}\n${document.contents?.commentBefore ?? ''}`;
    const source = /Source: (\S+)/.exec(comment)?.[1] ?? `document ${index + 1}`;
    return { source, object: document.toJS() as KubeObject };
  });
}

export function ofKind(manifests: readonly RenderedManifest[], kind: string): KubeObject[] {
  return manifests.filter((manifest) => manifest.object.kind === kind).map((manifest) => manifest.object);
}

function field<T>(object: unknown, ...path: string[]): T | undefined {
  let current: unknown = object;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current as T | undefined;
}

export function workloadsOf(manifests: readonly RenderedManifest[]): Workload[] {
  return manifests
    .filter((manifest) => WORKLOAD_KINDS.has(manifest.object.kind))
    .map(({ object }) => ({
      object,
      podLabels: field<Record<string, string>>(object, 'spec', 'template', 'metadata', 'labels') ?? {},
      pod: field<PodSpec>(object, 'spec', 'template', 'spec') ?? { containers: [] },
    }));
}

function allContainers(pod: PodSpec): Container[] {
  return [...(pod.initContainers ?? []), ...pod.containers];
}

function label(workload: Workload, container?: Container): string {
  return `${workload.object.kind}/${workload.object.metadata.name}${container ? ` container ${container.name}` : ''}`;
}

/** Every pod template meets PodSecurity `restricted` and the charts' own rules (UID 10001, read-only root, /tmp an emptyDir). */
export function restrictedPodSecurityProblems(manifests: readonly RenderedManifest[]): string[] {
  const workloads = workloadsOf(manifests);
  if (workloads.length === 0) return ['no pod template to check'];
  const problems: string[] = [];
  for (const workload of workloads) {
    const { pod } = workload;
    const podContext = pod.securityContext ?? {};
    for (const host of ['hostNetwork', 'hostPID', 'hostIPC'] as const) {
      if (pod[host]) problems.push(`${label(workload)}: ${host} is set`);
    }
    if (pod.automountServiceAccountToken !== false) problems.push(`${label(workload)}: automountServiceAccountToken is not false`);
    for (const volume of pod.volumes ?? []) {
      const types = Object.keys(volume).filter((key) => key !== 'name');
      for (const type of types) {
        if (!RESTRICTED_VOLUME_TYPES.has(type)) problems.push(`${label(workload)}: volume ${volume.name} of type ${type} is not allowed by restricted`);
      }
    }
    for (const container of allContainers(pod)) {
      const context = container.securityContext ?? {};
      const where = label(workload, container);
      if ((context.runAsNonRoot ?? podContext.runAsNonRoot) !== true) problems.push(`${where}: runAsNonRoot is not true`);
      if ((context.runAsUser ?? podContext.runAsUser) !== AIRLOCK_UID) problems.push(`${where}: runAsUser is not ${AIRLOCK_UID}`);
      if (context.allowPrivilegeEscalation !== false) problems.push(`${where}: allowPrivilegeEscalation is not false`);
      if (context.privileged) problems.push(`${where}: privileged`);
      if (!(context.capabilities?.drop ?? []).includes('ALL')) problems.push(`${where}: capabilities do not drop ALL`);
      const added = (context.capabilities?.add ?? []).filter((capability) => capability !== 'NET_BIND_SERVICE');
      if (added.length > 0) problems.push(`${where}: adds capabilities ${added.join(', ')}`);
      if (context.readOnlyRootFilesystem !== true) problems.push(`${where}: readOnlyRootFilesystem is not true`);
      if ((context.seccompProfile ?? podContext.seccompProfile)?.type !== 'RuntimeDefault') problems.push(`${where}: seccompProfile is not RuntimeDefault`);
      const tmp = (container.volumeMounts ?? []).find((mount) => mount.mountPath === '/tmp');
      const tmpVolume = (pod.volumes ?? []).find((volume) => volume.name === tmp?.name);
      if (!tmpVolume?.emptyDir) problems.push(`${where}: /tmp is not an emptyDir (the root file system is read-only)`);
    }
  }
  return problems;
}

/** A named or numbered container port, as a number. */
function portNumber(container: Container, port: number | string | undefined): number | undefined {
  if (typeof port === 'number') return port;
  return container.ports?.find((candidate) => candidate.name === port)?.containerPort;
}

export interface ProbeExpectation {
  readonly liveness: string;
  readonly readiness: string;
  readonly port: number;
}

/** Every workload's main containers have HTTP liveness and readiness probes on the expected paths and port. */
export function probeProblems(manifests: readonly RenderedManifest[], expected: Readonly<Record<string, ProbeExpectation>>): string[] {
  const problems: string[] = [];
  const workloads = workloadsOf(manifests);
  if (workloads.length === 0) return ['no workload to check'];
  for (const workload of workloads) {
    for (const container of workload.pod.containers) {
      const expectation = expected[container.name];
      if (!expectation) {
        problems.push(`${label(workload, container)}: no probe expectation for this container`);
        continue;
      }
      for (const [kind, probe, path] of [
        ['liveness', container.livenessProbe, expectation.liveness],
        ['readiness', container.readinessProbe, expectation.readiness],
      ] as const) {
        if (!probe?.httpGet) {
          problems.push(`${label(workload, container)}: no HTTP ${kind} probe`);
          continue;
        }
        if (probe.httpGet.path !== path) problems.push(`${label(workload, container)}: ${kind} probe GET ${probe.httpGet.path}, expected ${path}`);
        const port = portNumber(container, probe.httpGet.port);
        if (port !== expectation.port) problems.push(`${label(workload, container)}: ${kind} probe on port ${port}, expected ${expectation.port}`);
      }
    }
  }
  return problems;
}

/** Every container, init containers included, requests and limits CPU and memory. */
export function resourceProblems(manifests: readonly RenderedManifest[]): string[] {
  const problems: string[] = [];
  for (const workload of workloadsOf(manifests)) {
    for (const container of allContainers(workload.pod)) {
      for (const bound of ['requests', 'limits'] as const) {
        for (const resource of ['cpu', 'memory']) {
          if (container.resources?.[bound]?.[resource] === undefined) problems.push(`${label(workload, container)}: no ${bound}.${resource}`);
        }
      }
    }
  }
  return problems;
}

function selects(selector: Record<string, string> | undefined, labels: Record<string, string>): boolean {
  return Object.entries(selector ?? {}).every(([key, value]) => labels[key] === value);
}

export interface EgressExpectation {
  readonly cidr: string;
  readonly port: number;
}

export interface NetworkPolicyExpectation {
  /** Whether one ingress rule, to this port from a namespace selector (a Prometheus), is allowed. */
  readonly metrics: { readonly allowed: boolean; readonly port: number };
  /** Destinations that must each be allowed by an ipBlock rule. */
  readonly egress: readonly EgressExpectation[];
}

/** One NetworkPolicy selects every pod: egress-only (ingress only from a Prometheus to the metrics port, if allowed), every egress rule bounded. */
export function networkPolicyProblems(manifests: readonly RenderedManifest[], expected: NetworkPolicyExpectation): string[] {
  const policies = ofKind(manifests, 'NetworkPolicy');
  if (policies.length !== 1) return [`expected one NetworkPolicy, found ${policies.length}`];
  const [policy] = policies as [KubeObject];
  const problems: string[] = [];
  const podSelector = field<Record<string, string>>(policy, 'spec', 'podSelector', 'matchLabels');
  if (!podSelector || Object.keys(podSelector).length === 0) problems.push('the NetworkPolicy selects no labels (it would select every pod of the namespace)');
  for (const workload of workloadsOf(manifests)) {
    if (!selects(podSelector, workload.podLabels)) problems.push(`the NetworkPolicy does not select ${label(workload)}`);
  }
  const types = field<string[]>(policy, 'spec', 'policyTypes') ?? [];
  for (const type of ['Ingress', 'Egress']) if (!types.includes(type)) problems.push(`policyTypes lacks ${type}`);

  const ingress = field<PolicyRule[]>(policy, 'spec', 'ingress') ?? [];
  if (!expected.metrics.allowed && ingress.length > 0) problems.push(`ingress rules present (${ingress.length}) where none may be`);
  for (const rule of expected.metrics.allowed ? ingress : []) {
    const ports = rule.ports ?? [];
    if (ports.length !== 1 || ports[0]?.port !== expected.metrics.port || (ports[0]?.protocol ?? 'TCP') !== 'TCP') problems.push(`an ingress rule opens ${JSON.stringify(ports)}, not only TCP ${expected.metrics.port}`);
    const from = rule.from ?? [];
    if (from.length === 0) problems.push('an ingress rule admits every source');
    for (const peer of from) {
      if (peer.ipBlock || !peer.namespaceSelector) problems.push(`an ingress rule admits ${JSON.stringify(peer)}, not a namespace selector`);
    }
  }

  const egress = field<PolicyRule[]>(policy, 'spec', 'egress') ?? [];
  if (egress.length === 0) problems.push('no egress rule: the workers could reach nothing');
  for (const [index, rule] of egress.entries()) {
    if (!rule.to || rule.to.length === 0) problems.push(`egress rule ${index} allows every destination`);
    if (!rule.ports || rule.ports.length === 0) problems.push(`egress rule ${index} allows every port`);
    for (const peer of rule.to ?? []) {
      if (peer.ipBlock?.cidr === '0.0.0.0/0' || peer.ipBlock?.cidr === '::/0') problems.push(`egress rule ${index} allows the whole internet`);
    }
  }
  const dns = egress.some((rule) => (rule.ports ?? []).some((port) => port.port === 53 && port.protocol === 'UDP'));
  if (!dns) problems.push('no egress rule for DNS (UDP 53)');
  for (const destination of expected.egress) {
    const allowed = egress.some(
      (rule) => (rule.to ?? []).some((peer) => peer.ipBlock?.cidr === destination.cidr) && (rule.ports ?? []).some((port) => port.port === destination.port),
    );
    if (!allowed) problems.push(`no egress rule to ${destination.cidr} port ${destination.port}`);
  }
  return problems;
}

/** Each pool named is one StatefulSet (or Deployment) with one autoscaling/v2 HorizontalPodAutoscaler on CPU or memory; nothing else is a pool. */
export function poolProblems(manifests: readonly RenderedManifest[], pools: readonly string[]): string[] {
  const problems: string[] = [];
  const workloads = workloadsOf(manifests).filter((workload) => workload.object.kind === 'StatefulSet' || workload.object.kind === 'Deployment');
  const autoscalers = ofKind(manifests, 'HorizontalPodAutoscaler');
  const poolOf = (object: KubeObject): string | undefined => object.metadata.labels?.['airlock.dev/pool'];
  const found = [...new Set(workloads.map((workload) => poolOf(workload.object)))].sort();
  if (JSON.stringify(found) !== JSON.stringify([...pools].sort())) problems.push(`pools rendered ${JSON.stringify(found)}, expected ${JSON.stringify([...pools].sort())}`);
  if (autoscalers.length !== workloads.length) problems.push(`${workloads.length} pool workloads but ${autoscalers.length} autoscalers`);
  for (const pool of pools) {
    const mine = workloads.filter((workload) => poolOf(workload.object) === pool);
    if (mine.length !== 1) {
      problems.push(`pool ${pool}: ${mine.length} workloads, expected 1`);
      continue;
    }
    const [workload] = mine as [Workload];
    if (!selects(field(workload.object, 'spec', 'selector', 'matchLabels'), workload.podLabels)) problems.push(`pool ${pool}: the selector does not select its own pods`);
    if (field(workload.object, 'spec', 'replicas') !== undefined) problems.push(`pool ${pool}: spec.replicas is set, which would fight the autoscaler at every upgrade`);
    const targeting = autoscalers.filter((hpa) => {
      const target = field<{ apiVersion: string; kind: string; name: string }>(hpa, 'spec', 'scaleTargetRef');
      return target?.apiVersion === 'apps/v1' && target.kind === workload.object.kind && target.name === workload.object.metadata.name;
    });
    if (targeting.length !== 1) {
      problems.push(`pool ${pool}: ${targeting.length} autoscalers target ${workload.object.kind}/${workload.object.metadata.name}, expected 1`);
      continue;
    }
    const [hpa] = targeting as [KubeObject];
    if (hpa.apiVersion !== 'autoscaling/v2') problems.push(`pool ${pool}: autoscaler is ${hpa.apiVersion}, expected autoscaling/v2`);
    const min = field<number>(hpa, 'spec', 'minReplicas');
    const max = field<number>(hpa, 'spec', 'maxReplicas') ?? 0;
    if (min === undefined || min < 1 || max < min) problems.push(`pool ${pool}: autoscaler bounds ${min}..${max}`);
    const metrics = field<{ type: string; resource?: { name: string; target?: { type: string; averageUtilization?: number } } }[]>(hpa, 'spec', 'metrics') ?? [];
    const resourceTargets = metrics.filter(
      (metric) => metric.type === 'Resource' && ['cpu', 'memory'].includes(metric.resource?.name ?? '') && metric.resource?.target?.type === 'Utilization' && (metric.resource.target.averageUtilization ?? 0) > 0,
    );
    if (resourceTargets.length === 0) problems.push(`pool ${pool}: autoscaler has no CPU or memory utilization target`);
  }
  return problems;
}

/** The mount a path lies under (the longest mountPath that is it or a parent of it). */
export function mountOf(container: Container, path: string): VolumeMount | undefined {
  return (container.volumeMounts ?? [])
    .filter((mount) => path === mount.mountPath || path.startsWith(`${mount.mountPath}/`))
    .sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
}

export function volumeOf(pod: PodSpec, mount: VolumeMount | undefined): Volume | undefined {
  return mount ? pod.volumes?.find((volume) => volume.name === mount.name) : undefined;
}

export interface ConfigFromConfigMap {
  readonly workload: Workload;
  readonly container: Container;
  readonly configPath: string;
  readonly configMap: KubeObject;
  readonly key: string;
  readonly text: string;
}

/**
 * The file a container's `--config` names, found through its mount in the ConfigMap the chart
 * rendered; or the problem that stopped the search.
 */
export function configFromConfigMap(manifests: readonly RenderedManifest[], workload: Workload, containerName: string): ConfigFromConfigMap | string {
  const container = workload.pod.containers.find((candidate) => candidate.name === containerName);
  if (!container) return `${label(workload)}: no container ${containerName}`;
  const argv = [...(container.command ?? []), ...(container.args ?? [])];
  const configPath = argv[argv.indexOf('--config') + 1];
  if (argv.indexOf('--config') < 0 || !configPath) return `${label(workload, container)}: no --config argument`;
  const mount = mountOf(container, configPath);
  const volume = volumeOf(workload.pod, mount);
  if (!mount || !volume?.configMap) return `${label(workload, container)}: ${configPath} is not on a ConfigMap volume`;
  const relative = mount.subPath ?? configPath.slice(mount.mountPath.length + 1);
  const key = volume.configMap.items?.find((item) => item.path === relative)?.key ?? relative;
  const configMap = ofKind(manifests, 'ConfigMap').find((candidate) => candidate.metadata.name === volume.configMap?.name);
  if (!configMap) return `${label(workload, container)}: ConfigMap ${volume.configMap.name} is not rendered by the chart`;
  const text = field<string>(configMap, 'data', key);
  if (typeof text !== 'string') return `${label(workload, container)}: ConfigMap ${configMap.metadata.name} has no key ${key}`;
  return { workload, container, configPath, configMap, key, text };
}

/** Every string in the given values appears only in Secrets: never in a ConfigMap, an annotation or a plain env value. */
export function secretPlacementProblems(manifests: readonly RenderedManifest[], secretValues: readonly string[]): string[] {
  const problems: string[] = [];
  const secretsText = ofKind(manifests, 'Secret').map((secret) => JSON.stringify([field(secret, 'data'), field(secret, 'stringData')]));
  for (const value of secretValues) {
    if (!secretsText.some((text) => text.includes(JSON.stringify(value).slice(1, -1)))) problems.push(`secret value ${value.slice(0, 8)}… is in no Secret`);
    for (const { source, object } of manifests) {
      if (object.kind === 'Secret') continue;
      if (JSON.stringify(object).includes(JSON.stringify(value).slice(1, -1))) problems.push(`secret value ${value.slice(0, 8)}… appears in ${object.kind}/${object.metadata.name} (${source})`);
    }
  }
  return problems;
}

/** Key material that never belongs in a ConfigMap, whoever put it there. */
const SECRET_PATTERNS: readonly [string, RegExp][] = [
  ['a private key', /-----BEGIN [A-Z ]*PRIVATE KEY-----/],
  ['a sealed token', /airlock-sealed:v\d+:/],
  ['an enrollment token', /\baet_[A-Za-z0-9_-]{8,}/],
  ['a URL with credentials', /\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]+@/i],
];

export function configMapSecretPatternProblems(manifests: readonly RenderedManifest[]): string[] {
  const problems: string[] = [];
  for (const configMap of ofKind(manifests, 'ConfigMap')) {
    const text = JSON.stringify(field(configMap, 'data') ?? {});
    for (const [what, pattern] of SECRET_PATTERNS) if (pattern.test(text)) problems.push(`ConfigMap ${configMap.metadata.name} holds ${what}`);
  }
  return problems;
}

/** Each path lies under a mount of a Secret volume in this container. */
export function secretFileProblems(workload: Workload, container: Container, paths: readonly string[]): string[] {
  return paths
    .filter((path) => !volumeOf(workload.pod, mountOf(container, path))?.secret)
    .map((path) => `${label(workload, container)}: ${path} is not on a Secret volume`);
}

export interface ControlPlaneExpectation {
  readonly replicas: number;
  /** Whether AIRLOCK_NATS_URL is expected (from a Secret). */
  readonly nats: boolean;
  /** Whether the gateway serves TLS itself (a mounted certificate). */
  readonly gatewayTls: boolean;
  /** The gRPC ingress: absent, terminating TLS, or passing it through. */
  readonly grpcIngress: 'none' | 'terminating' | 'passthrough';
}

const CONTROL_PLANE_PORTS = { http: 8080, grpc: 50051, metrics: 9464 } as const;

/** The control plane: replicas, secrets only by reference, files on Secret mounts, a Service per port, ingresses for REST and gRPC. */
export function controlPlaneProblems(manifests: readonly RenderedManifest[], expected: ControlPlaneExpectation): string[] {
  const problems: string[] = [];
  const deployments = workloadsOf(manifests).filter((workload) => workload.object.kind === 'Deployment');
  if (deployments.length !== 1) return [`expected one Deployment, found ${deployments.length}`];
  const [deployment] = deployments as [Workload];
  const replicas = field<number>(deployment.object, 'spec', 'replicas');
  if (replicas !== expected.replicas) problems.push(`replicas ${replicas}, expected ${expected.replicas}`);
  const container = deployment.pod.containers.find((candidate) => candidate.name === 'control-plane');
  if (!container) return [...problems, 'no control-plane container'];
  const env = container.env ?? [];

  const secretVariables = ['DATABASE_URL', ...(expected.nats ? ['AIRLOCK_NATS_URL'] : [])];
  for (const name of secretVariables) {
    const variable = env.find((candidate) => candidate.name === name);
    if (!variable?.valueFrom?.secretKeyRef || variable.value !== undefined) problems.push(`${name} is not taken from a Secret (secretKeyRef)`);
  }
  if (!expected.nats && env.some((variable) => variable.name === 'AIRLOCK_NATS_URL')) problems.push('AIRLOCK_NATS_URL set where no NATS is expected');
  for (const variable of env) {
    if (variable.value !== undefined && /^(postgres(ql)?|nats):\/\//.test(variable.value)) problems.push(`${variable.name} carries a connection URL as a plain value`);
    if (variable.name === 'AIRLOCK_KEK' && variable.value !== undefined) problems.push('AIRLOCK_KEK is a plain value');
  }
  const fileVariables = env.filter((variable) => /^AIRLOCK_.*_FILES?$/.test(variable.name) && variable.value !== undefined);
  for (const variable of fileVariables) {
    problems.push(...secretFileProblems(deployment, container, (variable.value ?? '').split(',')).map((problem) => `${variable.name}: ${problem}`));
  }
  const gatewayTls = env.some((variable) => variable.name === 'AIRLOCK_GRPC_TLS_CERT_FILE');
  if (gatewayTls !== expected.gatewayTls) problems.push(`gateway TLS ${gatewayTls}, expected ${expected.gatewayTls}`);

  const services = ofKind(manifests, 'Service');
  for (const [name, port] of Object.entries(CONTROL_PLANE_PORTS)) {
    const service = services.find((candidate) => (field<{ port: number; targetPort: number | string }[]>(candidate, 'spec', 'ports') ?? []).some((entry) => entry.port === port && portNumber(container, entry.targetPort) === port));
    if (!service) problems.push(`no Service forwarding ${port} (${name}) to the container's ${port}`);
    else if (!selects(field(service, 'spec', 'selector'), deployment.podLabels)) problems.push(`Service ${service.metadata.name} does not select the control plane's pods`);
  }

  const ingresses = ofKind(manifests, 'Ingress');
  const backendOf = (ingress: KubeObject): { service: string; port?: string | number } | undefined => {
    const rule = (field<{ http?: { paths?: { backend?: { service?: { name: string; port?: { name?: string; number?: number } } } }[] } }[]>(ingress, 'spec', 'rules') ?? [])[0];
    const service = rule?.http?.paths?.[0]?.backend?.service;
    return service ? { service: service.name, port: service.port?.name ?? service.port?.number } : undefined;
  };
  const serviceFor = (port: number): KubeObject | undefined => services.find((service) => (field<{ port: number }[]>(service, 'spec', 'ports') ?? []).some((entry) => entry.port === port));
  const httpService = serviceFor(CONTROL_PLANE_PORTS.http);
  const grpcService = serviceFor(CONTROL_PLANE_PORTS.grpc);
  const httpIngress = ingresses.find((ingress) => backendOf(ingress)?.service === httpService?.metadata.name);
  if (!httpIngress) problems.push('no Ingress to the REST API (http Service)');
  const grpcIngress = ingresses.find((ingress) => backendOf(ingress)?.service === grpcService?.metadata.name);
  if (expected.grpcIngress === 'none') {
    if (grpcIngress) problems.push('a gRPC Ingress where none is expected');
  } else if (!grpcIngress) {
    problems.push('no Ingress to the worker gateway (grpc Service)');
  } else {
    const annotations = grpcIngress.metadata.annotations ?? {};
    const hosts = (field<{ host?: string }[]>(grpcIngress, 'spec', 'rules') ?? []).map((rule) => rule.host);
    const tlsHosts = (field<{ hosts?: string[] }[]>(grpcIngress, 'spec', 'tls') ?? []).flatMap((entry) => entry.hosts ?? []);
    if (expected.grpcIngress === 'passthrough') {
      if (annotations['nginx.ingress.kubernetes.io/ssl-passthrough'] !== 'true') problems.push('the gRPC Ingress does not pass TLS through');
    } else {
      const protocol = annotations['nginx.ingress.kubernetes.io/backend-protocol'];
      const wanted = expected.gatewayTls ? 'GRPCS' : 'GRPC';
      if (protocol !== wanted) problems.push(`the gRPC Ingress's backend-protocol is ${protocol}, expected ${wanted}`);
      if (!hosts.every((host) => host && tlsHosts.includes(host))) problems.push('the gRPC Ingress does not serve TLS for its host');
    }
  }
  return problems;
}

/** The worker's state directory is on a volume claimed per pod (a StatefulSet's volumeClaimTemplate), so it outlives the pod. */
export function persistentStateProblems(workload: Workload, container: Container, stateDir: string): string[] {
  const mount = mountOf(container, stateDir);
  const claims = (field<{ metadata: { name: string } }[]>(workload.object, 'spec', 'volumeClaimTemplates') ?? []).map((claim) => claim.metadata.name);
  if (workload.object.kind !== 'StatefulSet') return [`${label(workload)}: not a StatefulSet, so no claim per pod`];
  if (!mount) return [`${label(workload, container)}: stateDir ${stateDir} is on no mount (the read-only root)`];
  if (!claims.includes(mount.name) || volumeOf(workload.pod, mount)) return [`${label(workload, container)}: stateDir ${stateDir} is on volume ${mount.name}, not a volumeClaimTemplate`];
  return [];
}
