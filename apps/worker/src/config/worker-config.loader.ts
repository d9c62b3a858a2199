import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { SealedSecretError, type SecretSealer, isSealedValue } from '@airlock/sealed-secrets';
import { type ConfigProblem, WorkerConfigInvalidError } from './worker-config-invalid.error';
import type { SetupConfig } from '../jobs/repo-config/repo-config.schema';
import { type WorkerConfigParsed, workerConfigSchema, type WorkerJobKind } from './worker-config.schema';
import { WORKER_TOKEN_PURPOSE, openWorkerSealer, sealedTokenProblem } from './worker-secrets';

/** An inference endpoint with its API key resolved from the environment (a secret: never logged). */
export interface InferenceEndpointConfig {
  readonly name: string;
  readonly baseUrl: string;
  readonly model: string;
  readonly apiKey: string | undefined;
  readonly timeoutMs: number;
  /** How the agent's tools are offered to this endpoint. */
  readonly toolCalling: 'auto' | 'native' | 'text';
  /** Longest silence between two chunks of a streamed answer; the client's default (60 s) when absent. */
  readonly idleTimeoutMs?: number | undefined;
  /** `http://host:port` of the HTTP proxy this endpoint is reached through; direct when absent. */
  readonly proxy?: string | undefined;
  /** The context window the operator configured, in tokens; asked from the server when absent. */
  readonly contextWindow?: number | undefined;
}

/** Where a forge's or a tracker's token is read from at each request (never the token itself: it is a secret). */
/** Where a token is read from; `sealer` opens it when it is sealed (docs/worker.md#sealed-token-files). */
export type ForgeTokenSource = ({ readonly env: string; readonly value: string | undefined } | { readonly file: string }) & { readonly sealer?: SecretSealer | undefined };

/** The customer's forge a repository's changes are proposed on (GitLab, GitHub Enterprise Server, Gitea/Forgejo). */
export interface ForgeConfig {
  readonly type: 'gitlab' | 'github' | 'gitea';
  /** The REST API root without a trailing slash, e.g. `https://gitlab.corp.example/api/v4`. */
  readonly apiUrl: string;
  /** owner/name (GitHub, Gitea); group/…/name or a numeric id (GitLab). */
  readonly project: string;
  readonly token: ForgeTokenSource;
  /** The PEM of the private CA the forge's certificate is checked against; the system's CAs when absent. */
  readonly caPem?: Buffer | undefined;
  /** The branch requests target; the job's base branch when absent. */
  readonly targetBranch?: string | undefined;
  readonly labels: readonly string[];
  readonly reviewers: readonly string[];
  readonly draft: boolean;
  readonly timeoutMs: number;
}

/**
 * An issue tracker a ticket may be named in (FixTask.ticket_ref `<name>:<key>`), read inside
 * the network: Jira Data Center/Server (REST API 2) or GitLab issues (REST API v4).
 */
export type TrackerConfig = {
  /** The tracker part of a ticket reference. */
  readonly name: string;
  /** Jira: its base URL (the REST API is under `/rest/api/2`); GitLab: the REST API root. No trailing slash. */
  readonly apiUrl: string;
  readonly token: ForgeTokenSource;
  /** The PEM of the private CA the tracker's certificate is checked against; the system's CAs when absent. */
  readonly caPem?: Buffer | undefined;
  readonly timeoutMs: number;
  /** Whether the merge request's link is posted on the ticket once it is opened or updated. */
  readonly comment: boolean;
} & (
  | { readonly type: 'jira' }
  | {
      readonly type: 'gitlab';
      /** The project whose issues the keys (iids) name: its full path or numeric id. */
      readonly project: string;
    }
);

/**
 * HTTPS credentials the worker presents to a repository's git server: the token is located
 * here and read at each fetch or push (GitCredentialEnvironment), never held or logged.
 */
export interface GitCredentialsConfig {
  readonly username: string;
  readonly token: ForgeTokenSource;
}

/** A catalog entry: what an alias means on this side of the trust boundary. */
export interface RepositoryConfig {
  readonly alias: string;
  readonly cloneUrl: string;
  /** Where the branch is pushed; without it the change goes only to the delivery outbox. */
  readonly pushUrl?: string | undefined;
  /** The forge a merge request is opened on after the push; without it the change also goes to the outbox. */
  readonly forge?: ForgeConfig | undefined;
  readonly branchPrefix: string;
  /** Branch names or globs (`*` = anything but `/`) a fix may start from; local policy. */
  readonly baseRefs: readonly string[];
  /** The catalog's setup for this repository; when set it wins over the repository's `.airlock.yml`. */
  readonly setup?: SetupConfig | undefined;
  /** The worker's own credentials for the http(s) cloneUrl and pushUrl; the host's git configuration when absent. */
  readonly git?: GitCredentialsConfig | undefined;
}

/** How the repository's test command is isolated (`none` only for trusted repositories). */
export interface SandboxConfig {
  readonly mode: 'bwrap' | 'none';
  /** Variables every setup and test command gets besides PATH, HOME, LANG and CI (none when absent). */
  readonly env?: Readonly<Record<string, string>>;
  /** What each setup or test command may use (`sandbox.limits`; DEFAULT_SANDBOX_LIMITS when absent). */
  readonly limits?: SandboxLimits;
}

/** `sandbox.limits`: per command, enforced by the kernel (see SandboxLimiter). */
export interface SandboxLimits {
  readonly cpuSeconds: number;
  readonly memoryMiB: number;
  /** Processes and threads at once. */
  readonly processes: number;
  /** The largest file a process may write, and the size of the sandbox's /tmp. */
  readonly diskMiB: number;
}

/** The few host environment values child processes may inherit (everything else is scrubbed). */
export interface HostEnvironment {
  readonly path: string;
  readonly lang: string;
}

/** TLS to the control plane: the pinned CA's PEM, read at start. */
export interface ControlPlaneTlsConfig {
  /** Absolute path of the CA file. */
  readonly caFile: string;
  readonly caPem: Buffer;
  readonly serverName: string | undefined;
}

/** An HTTP CONNECT proxy to the control plane. */
export interface ControlPlaneProxyConfig {
  /** `http://host:port` as configured, without credentials (safe to print). */
  readonly url: string;
  /** `user:password` from the env var named by proxyAuthEnv (a secret: never logged). */
  readonly credentials: string | undefined;
}

/** How to reach the control plane. `tls` undefined means plain text, to loopback only. */
export interface ControlPlaneConfig {
  readonly address: string;
  readonly tls: ControlPlaneTlsConfig | undefined;
  /** undefined: direct connection (proxy environment variables are ignored). */
  readonly proxy: ControlPlaneProxyConfig | undefined;
  readonly trustedSigningKeys: WorkerConfigParsed['controlPlane']['trustedSigningKeys'];
}

/** How changes reach the customer beyond the push. */
export interface DeliveryConfig {
  /** Absolute path of the outbox of patch bundles. */
  readonly outboxDir: string;
  /** Retries of a forge request after a network error, a 5xx or a rate limit. */
  readonly maxRetries: number;
  /** Milliseconds one delivery may wait between retries in all, Retry-After included. */
  readonly retryBudgetMs: number;
  /** The watch of what became of each merge request: how often it is polled, the revert window and the age limit, in milliseconds. */
  readonly watch: { readonly intervalMs: number; readonly revertWindowMs: number; readonly maxAgeMs: number };
}

/** The validated worker configuration, with absolute paths and durations in milliseconds. */
export interface WorkerConfig {
  readonly configFile: string;
  readonly controlPlane: ControlPlaneConfig;
  readonly stateDir: string;
  readonly workspaceDir: string;
  readonly concurrency: number;
  readonly allowNoop: boolean;
  /** The task kinds the worker runs besides noop (which `allowNoop` adds): its local policy's job-kinds. */
  readonly jobKinds: readonly WorkerJobKind[];
  /** The pools this worker belongs to (Hello.labels): pool-scoped central policy layers apply by them. */
  readonly labels: readonly string[];
  /** Local policy rules (`rules`, the last word over central policy) and `maxFixRetries`. */
  readonly policy: WorkerConfigParsed['policy'];
  readonly inference: { readonly endpoints: readonly InferenceEndpointConfig[]; readonly allowedHosts: readonly string[] };
  readonly repositories: readonly RepositoryConfig[];
  /** The issue trackers a job may name its ticket in (`<name>:<key>`). */
  readonly trackers: readonly TrackerConfig[];
  readonly sandbox: SandboxConfig;
  readonly limits: WorkerConfigParsed['limits'];
  /** Rotation and retention of the egress audit log: `{ maxSegmentBytes, maxSegments }`, bytes as a number. */
  readonly audit: WorkerConfigParsed['audit'];
  /** Package mirrors setup may reach, its environment, timeout and cache bound (bytes). */
  readonly setup: WorkerConfigParsed['setup'];
  /** The delivery outbox (absolute path) and the retry bounds of forge requests. */
  readonly delivery: DeliveryConfig;
  /** Retention of the local job records: `{ maxAge (ms), maxBytes }`. */
  readonly records: WorkerConfigParsed['records'];
  readonly health: WorkerConfigParsed['health'];
  readonly host: HostEnvironment;
  /**
   * Every file holding a secret the config names — the KEK files and the forge, tracker and git
   * token files, absolute — so that the sandbox can hide them: a test command sees the host's
   * file system read-only, and a sealed token beside its KEK is no secret.
   */
  readonly secretFiles: readonly string[];
}

/**
 * Reads, validates and resolves the worker's YAML config. Fails fast with every problem,
 * each naming the field path and what it expects. This is the only place the worker reads
 * `process.env` (unless another environment is passed, as tests do).
 */
export function loadWorkerConfig(file: string, env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const configFile = resolve(file);
  const text = readWorkerConfigText(configFile);
  const document = parseDocument(text, { prettyErrors: false });
  if (document.errors.length > 0) {
    // Positions only: the offending text might be a value the operator considers sensitive.
    throw new WorkerConfigInvalidError(
      configFile,
      document.errors.map((e) => ({ path: `line ${e.linePos?.[0]?.line ?? '?'}`, expected: `valid YAML (${e.code})` })),
    );
  }
  const parsed = workerConfigSchema.safeParse(document.toJS());
  if (!parsed.success) throw new WorkerConfigInvalidError(configFile, parsed.error.issues.map(toProblem));
  const config = parsed.data;
  const base = dirname(configFile);
  const problems: ConfigProblem[] = [];
  const sealer = openWorkerSealer(config.secrets, base, env, problems);
  const endpoints = config.inference.endpoints.map((endpoint, index) => {
    const apiKey = endpoint.apiKeyEnv === undefined ? undefined : env[endpoint.apiKeyEnv];
    if (endpoint.apiKeyEnv !== undefined && !apiKey) {
      problems.push({ path: `inference.endpoints[${index}].apiKeyEnv`, expected: `the environment variable ${endpoint.apiKeyEnv} to be set` });
    }
    return {
      name: endpoint.name,
      baseUrl: endpoint.baseUrl,
      model: endpoint.model,
      apiKey,
      timeoutMs: endpoint.timeout,
      toolCalling: endpoint.toolCalling,
      idleTimeoutMs: endpoint.idleTimeout,
      proxy: endpoint.proxy?.replace(/\/$/, ''),
      contextWindow: endpoint.contextWindow,
    };
  });
  const tls = config.controlPlane.tls && loadControlPlaneTls(resolve(base, config.controlPlane.tls.caFile), config.controlPlane.tls.serverName, problems);
  const { proxy: proxyUrl, proxyAuthEnv } = config.controlPlane;
  let proxy: ControlPlaneProxyConfig | undefined;
  if (proxyUrl !== undefined) {
    const credentials = proxyAuthEnv === undefined ? undefined : env[proxyAuthEnv];
    if (proxyAuthEnv !== undefined && !/^[^:]+:/.test(credentials ?? '')) {
      problems.push({ path: 'controlPlane.proxyAuthEnv', expected: `the environment variable ${proxyAuthEnv} to be set to user:password` });
    }
    proxy = { url: proxyUrl.replace(/\/$/, ''), credentials };
  }
  const repositories = config.repositories.map((repo, index) => ({
    ...repo,
    cloneUrl: resolveGitLocation(base, repo.cloneUrl),
    pushUrl: repo.pushUrl === undefined ? undefined : resolveGitLocation(base, repo.pushUrl),
    forge: repo.forge && resolveForge(repo.forge, `repositories[${index}].forge`, base, env, problems, sealer),
    git: repo.git && { username: repo.git.username, token: locateToken(repo.git, `repositories[${index}].git`, base, env, problems, sealer) },
  }));
  const trackers = config.trackers.map((tracker, index) => resolveTracker(tracker, `trackers[${index}]`, base, env, problems, sealer));
  if (problems.length > 0) throw new WorkerConfigInvalidError(configFile, problems);
  const stateDir = resolve(base, config.stateDir);
  return {
    configFile,
    controlPlane: { address: config.controlPlane.address, tls, proxy, trustedSigningKeys: config.controlPlane.trustedSigningKeys },
    stateDir,
    workspaceDir: resolve(base, config.workspaceDir),
    concurrency: config.concurrency,
    allowNoop: config.allowNoop,
    jobKinds: config.jobKinds,
    labels: config.labels,
    policy: config.policy,
    inference: { endpoints, allowedHosts: config.inference.allowedHosts },
    repositories,
    trackers,
    sandbox: config.sandbox,
    limits: config.limits,
    audit: config.audit,
    setup: { ...config.setup, mirrors: config.setup.mirrors.map((mirror) => mirror.toLowerCase()) },
    delivery: {
      outboxDir: config.delivery.outboxDir === undefined ? resolve(stateDir, 'delivery-outbox') : resolve(base, config.delivery.outboxDir),
      maxRetries: config.delivery.maxRetries,
      retryBudgetMs: config.delivery.retryBudget,
      watch: { intervalMs: config.delivery.watch.interval, revertWindowMs: config.delivery.watch.revertWindow, maxAgeMs: config.delivery.watch.maxAge },
    },
    records: config.records,
    health: config.health,
    host: { path: env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin', lang: env['LANG'] ?? 'C.UTF-8' },
    secretFiles: secretFilesOf(config.secrets, repositories, trackers, base),
  };
}

/** A repository's forge with its token located (see locateToken) and its private CA read. */
function resolveForge(forge: NonNullable<WorkerConfigParsed['repositories'][number]['forge']>, path: string, base: string, env: NodeJS.ProcessEnv, problems: ConfigProblem[], sealer: SecretSealer | undefined): ForgeConfig {
  return {
    type: forge.type,
    apiUrl: forge.apiUrl.replace(/\/+$/, ''),
    project: forge.project,
    token: locateToken(forge, path, base, env, problems, sealer),
    caPem: readPrivateCa(forge.caFile, path, base, problems),
    targetBranch: forge.targetBranch,
    labels: forge.labels,
    reviewers: forge.reviewers,
    draft: forge.draft,
    timeoutMs: forge.timeout,
  };
}

/** A tracker with its token located and its private CA read, as a forge's are. */
function resolveTracker(tracker: WorkerConfigParsed['trackers'][number], path: string, base: string, env: NodeJS.ProcessEnv, problems: ConfigProblem[], sealer: SecretSealer | undefined): TrackerConfig {
  const shared = {
    name: tracker.name,
    apiUrl: tracker.apiUrl.replace(/\/+$/, ''),
    token: locateToken(tracker, path, base, env, problems, sealer),
    caPem: readPrivateCa(tracker.caFile, path, base, problems),
    timeoutMs: tracker.timeout,
    comment: tracker.comment,
  };
  // The schema requires a project of a GitLab tracker; `?? ''` only satisfies the type.
  return tracker.type === 'gitlab' ? { ...shared, type: 'gitlab', project: tracker.project ?? '' } : { ...shared, type: 'jira' };
}

/**
 * Where a forge's, a tracker's or a repository's git token is read from. Only located here: the variable must be
 * set and the file readable now, so that a typo is a config error, but the file is read again
 * at each request so that a rotated token needs no restart.
 */
function locateToken(entry: { readonly tokenEnv?: string | undefined; readonly tokenFile?: string | undefined }, path: string, base: string, env: NodeJS.ProcessEnv, problems: ConfigProblem[], sealer: SecretSealer | undefined): ForgeTokenSource {
  if (entry.tokenEnv !== undefined) {
    if (!env[entry.tokenEnv]) problems.push({ path: `${path}.tokenEnv`, expected: `the environment variable ${entry.tokenEnv} to be set` });
    const sealedProblem = sealedTokenProblem(env[entry.tokenEnv] ?? '', `the environment variable ${entry.tokenEnv}`, sealer);
    if (sealedProblem) problems.push({ path: `${path}.tokenEnv`, expected: sealedProblem });
    return { env: entry.tokenEnv, value: env[entry.tokenEnv], sealer };
  }
  const file = resolve(base, entry.tokenFile ?? '');
  try {
    const token = readFileSync(file, 'utf8').trim();
    if (token === '') problems.push({ path: `${path}.tokenFile`, expected: `a token in ${file} (the file is empty)` });
    const sealedProblem = sealedTokenProblem(token, file, sealer);
    if (sealedProblem) problems.push({ path: `${path}.tokenFile`, expected: sealedProblem });
  } catch (error) {
    problems.push({ path: `${path}.tokenFile`, expected: `a readable file (${(error as NodeJS.ErrnoException).code ?? 'unreadable'}: ${file})` });
  }
  return { file, sealer };
}

/** The PEM of a private CA a forge's or tracker's certificate is checked against, read now; undefined for the system's CAs. */
function readPrivateCa(caFile: string | undefined, path: string, base: string, problems: ConfigProblem[]): Buffer | undefined {
  if (caFile === undefined) return undefined;
  const file = resolve(base, caFile);
  try {
    const caPem = readFileSync(file);
    if (!caPem.includes('-----BEGIN CERTIFICATE-----')) problems.push({ path: `${path}.caFile`, expected: `a PEM certificate (-----BEGIN CERTIFICATE-----) in ${file}` });
    return caPem;
  } catch (error) {
    problems.push({ path: `${path}.caFile`, expected: `a readable PEM file (${(error as NodeJS.ErrnoException).code ?? 'unreadable'}: ${file})` });
    return undefined;
  }
}

/**
 * The token of a forge or a tracker, read now: from the environment as loaded, or from its
 * file (trimmed), opened with the worker's KEK when it is sealed. Never log it.
 */
export async function readForgeToken(source: ForgeTokenSource): Promise<string> {
  const where = 'file' in source ? `the token file ${source.file}` : `the environment variable ${source.env}`;
  const token = 'file' in source ? readFileSync(source.file, 'utf8').trim() : (source.value ?? '');
  if (token === '') throw new Error('file' in source ? `${where} is empty` : `${where} is not set`);
  if (!isSealedValue(token)) return token;
  if (!source.sealer) throw new Error(`${where} holds a sealed token, but the worker config has no secrets.kekFile or secrets.kekEnv`);
  try {
    return (await source.sealer.unsealText(WORKER_TOKEN_PURPOSE, token)).trim();
  } catch (error) {
    if (error instanceof SealedSecretError) throw new Error(`${where} holds a sealed token that does not open: ${error.message}`);
    throw error;
  }
}

/** Reads the pinned CA now, so that a wrong path is a config error rather than a failed handshake. */
function loadControlPlaneTls(caFile: string, serverName: string | undefined, problems: ConfigProblem[]): ControlPlaneTlsConfig | undefined {
  let caPem: Buffer;
  try {
    caPem = readFileSync(caFile);
  } catch (error) {
    problems.push({ path: 'controlPlane.tls.caFile', expected: `a readable PEM file (${(error as NodeJS.ErrnoException).code ?? 'unreadable'}: ${caFile})` });
    return undefined;
  }
  let parses = false;
  try {
    parses = caPem.includes('-----BEGIN CERTIFICATE-----') && new X509Certificate(caPem).ca;
  } catch {
    parses = false;
  }
  if (!parses) {
    problems.push({ path: 'controlPlane.tls.caFile', expected: `a PEM CA certificate (-----BEGIN CERTIFICATE-----, basicConstraints CA:TRUE) in ${caFile}` });
    return undefined;
  }
  return { caFile, caPem, serverName };
}

/** Relative local paths resolve against the config file; URLs (scheme:// or scp-like) stay as written. */
function resolveGitLocation(base: string, location: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location) || /^[^/]+@[^/]+:/.test(location)) return location;
  return resolve(base, location);
}

function toProblem(issue: z.core.$ZodIssue): ConfigProblem {
  const path = issue.path.reduce<string>((acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)), '');
  if (issue.code === 'unrecognized_keys') return { path, expected: `no unknown keys (found ${issue.keys.join(', ')})` };
  if (issue.code === 'invalid_type') return { path, expected: `a ${issue.expected}` };
  return { path, expected: issue.message.replace(/^expected /, '') };
}

/** The config file's text; WorkerConfigInvalidError naming the file when it cannot be read. */
export function readWorkerConfigText(configFile: string): string {
  try {
    return readFileSync(configFile, 'utf8');
  } catch (error) {
    throw new WorkerConfigInvalidError(configFile, [{ path: '', expected: `a readable file (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})` }]);
  }
}

/** The files of `WorkerConfig.secretFiles`: the KEKs' and every token file's, each once. */
function secretFilesOf(
  secrets: WorkerConfigParsed['secrets'],
  repositories: readonly RepositoryConfig[],
  trackers: readonly TrackerConfig[],
  base: string,
): string[] {
  const kekFiles = secrets === undefined ? [] : [...(secrets.kekFile === undefined ? [] : [secrets.kekFile]), ...secrets.previousKekFiles];
  const tokenSources = [...repositories.flatMap((repo) => [repo.forge?.token, repo.git?.token]), ...trackers.map((tracker) => tracker.token)];
  const tokenFiles = tokenSources.flatMap((source) => (source !== undefined && 'file' in source ? [source.file] : []));
  return [...new Set([...kekFiles.map((file) => resolve(base, file)), ...tokenFiles])];
}
