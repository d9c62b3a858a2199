import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { parseDuration } from '@airlock/duration';
import { ID_PATTERNS } from '@airlock/protocol';
import { LocalKeyEncryptionKeys, SealedSecretError, kekFromEnvironment, readKekFile, type KeyEncryptionKeys } from '@airlock/sealed-secrets';
import type { Role } from '@airlock/data-access';
import { ROLES } from '../auth/access';
import type { WorkerVersionWindow } from '../workers/worker-version';
import { InvalidConfigError } from './invalid-config.error';
import { loadWorkerVersionWindow, readControlPlaneVersion, workerVersionVariables } from './worker-version-window';
import { DEFAULT_TENANT_NAME } from '../bootstrap/default-tenant';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'] as const;

/**
 * The default of AIRLOCK_WORKER_MIN_VERSION: the first worker release (0.1.0) speaks airlock.v1
 * as this control plane does, and no older worker exists. Raise it when the protocol gains
 * something a control plane cannot do without.
 */
export const DEFAULT_WORKER_MIN_VERSION = '0.1.0';

/**
 * The default of AIRLOCK_GRPC_MAX_HANDSHAKES. A handshake holds its slot from Connect to
 * Welcome, the worker's own part included (slow under a storm: thousands of workers signing
 * at once), so the bound is on work queued rather than on connections: enough for the
 * gateway's batches to fill (it records up to 256 Hellos in one transaction) twice over,
 * while a worker admitted behind all of them is still welcomed within a few seconds, well
 * inside the 15 s it waits for its Welcome.
 */
export const DEFAULT_MAX_HANDSHAKES = 512;

/** The control plane's whole configuration, validated once at boot. */
export interface AppConfig {
  /** Absent: the control plane serves an embedded PostgreSQL with data under dataDir. */
  readonly databaseUrl: string | undefined;
  /**
   * The NATS servers (AIRLOCK_NATS_URL, comma-separated nats:// URLs) that replicas share:
   * queued jobs go out through JetStream, worker commands and live events over core NATS
   * (docs/scaling.md). Empty: one process, everything in memory.
   */
  readonly natsServers: readonly string[];
  readonly dataDir: string;
  readonly http: { readonly host: string; readonly port: number };
  /**
   * The listener of `GET /metrics` (AIRLOCK_METRICS_HOST / AIRLOCK_METRICS_PORT, default
   * 127.0.0.1:9464): a port of its own, apart from the REST API, since the metrics name
   * tenants and it asks for no token (docs/operations/metrics.md).
   */
  readonly metrics: { readonly host: string; readonly port: number };
  readonly grpc: {
    readonly host: string;
    readonly port: number;
    readonly tls: GrpcTlsConfig | undefined;
    /** How often the gateway pings each worker connection, and how long an answer may take before it is cut off. */
    readonly keepalive: { readonly timeMs: number; readonly timeoutMs: number };
    /**
     * Worker handshakes (Connect → Welcome) in progress at most (AIRLOCK_GRPC_MAX_HANDSHAKES);
     * a Connect past that is refused at once with RESOURCE_EXHAUSTED and a retry-after hint.
     */
    readonly maxHandshakes: number;
  };
  readonly leaseTtlMs: number;
  readonly heartbeatIntervalMs: number;
  readonly instructionTtlMs: number;
  readonly maxAttempts: number;
  /**
   * How long a job whose attempt lost its lease waits before it is dispatched again: the
   * base (AIRLOCK_ATTEMPT_BACKOFF) doubled for each attempt used, at most
   * AIRLOCK_ATTEMPT_BACKOFF_MAX, ±20 % jitter. A base of 0 requeues at once.
   */
  readonly attemptBackoff: { readonly baseMs: number; readonly maxMs: number };
  /**
   * The worker versions this control plane accepts at the Hello (docs/fleet.md, "The supported
   * version window"): AIRLOCK_WORKER_MIN_VERSION, _MAX_VERSION (excluded), _RECOMMENDED_VERSION,
   * and an optional deprecation (_DEPRECATED_BELOW until _END_OF_SUPPORT). A worker outside
   * is refused with the version to install; a deprecated one is welcomed with a notice.
   */
  readonly workerVersions: WorkerVersionWindow;
  /** The dashboard's live event streams (GET /api/v1/events). */
  readonly eventStreams: EventStreamConfig;
  /**
   * Where the first start writes the bootstrap admin token (mode 0600): the only place it is
   * ever written, never stdout or a log. Default `<AIRLOCK_DATA_DIR>/bootstrap-admin-token`.
   */
  readonly bootstrapTokenFile: string;
  /**
   * The tenant that operates this control plane (AIRLOCK_PLATFORM_TENANT, a tenant name;
   * default `default`, the tenant the first start creates). Only its people and tokens may
   * stage or activate instruction-signing keys, which sign for every tenant's workers.
   */
  readonly platformTenantName: string;
  /**
   * The built dashboard the control plane serves at `/` (AIRLOCK_DASHBOARD_DIR, default
   * `dist/apps/dashboard` from where it runs: the repository root for `npm run` scripts).
   */
  readonly dashboardDir: string;
  /**
   * The origin browsers reach the control plane at (AIRLOCK_PUBLIC_URL, e.g.
   * `https://airlock.example.com`): the only Origin a cookie-authenticated write is accepted
   * from; https makes the session cookie Secure and `__Host-` prefixed. Undefined when not
   * set: `http://<AIRLOCK_HTTP_HOST>:<the port it listens on>`, resolved once listening,
   * since the configured port may be 0.
   */
  readonly publicUrl: string | undefined;
  /** Dashboard sessions (docs/access.md). */
  readonly sessions: SessionConfig;
  /** Single sign-on with an OpenID Connect identity provider; undefined when not configured. */
  readonly oidc: OidcConfig | undefined;
  /** How secrets the control plane stores (the signing private keys) are sealed at rest. */
  readonly secretsAtRest: SecretsAtRestConfig;
  readonly logLevel: (typeof LOG_LEVELS)[number];
}

/**
 * Where the key-encryption key (KEK) that seals stored secrets comes from
 * (docs/security.md#secrets-at-rest):
 * - `kek-files`: AIRLOCK_KEK_FILE (seals and unseals) — or the key itself in AIRLOCK_KEK, for
 *   platforms that hand secrets over as variables (`activeFile` is then null) — and
 *   AIRLOCK_KEK_PREVIOUS_FILES (comma-separated, rotated-out keys that still unseal), read and
 *   checked at boot;
 * - `generated-kek`: neither set and the database embedded: a KEK generated on first start
 *   in `<AIRLOCK_DATA_DIR>/kek` (0600). It lies beside the database it protects, so it keeps
 *   the keys out of database dumps and nothing more;
 * - `unsealed`: neither set and an external database (DATABASE_URL): stored as PEM, with a
 *   warning at every start, since replicas cannot share a generated file.
 * `toJSON` shows the files and KEK ids, never a key.
 */
export type SecretsAtRestConfig =
  | {
      readonly kind: 'kek-files';
      /** Null when the active key came from AIRLOCK_KEK. */
      readonly activeFile: string | null;
      readonly previousFiles: readonly string[];
      readonly keys: KeyEncryptionKeys;
      toJSON(): { kind: 'kek-files'; activeFile: string | null; previousFiles: readonly string[]; kekIds: readonly string[] };
    }
  | { readonly kind: 'generated-kek'; readonly file: string }
  | { readonly kind: 'unsealed' };

/** How long a dashboard login lasts. */
export interface SessionConfig {
  /** The absolute lifetime of a session, whatever its activity (AIRLOCK_SESSION_TTL). */
  readonly ttlMs: number;
  /** A session unused this long ends (AIRLOCK_SESSION_IDLE_TIMEOUT). */
  readonly idleTimeoutMs: number;
}

/**
 * Single sign-on (docs/access.md): the identity provider, this control plane's client at it,
 * and who may come in. `toJSON` hides the client secret so that logging the config can never
 * print it.
 */
export interface OidcConfig {
  /** The issuer identifier as configured (AIRLOCK_OIDC_ISSUER); discovery reads `<issuer>/.well-known/openid-configuration`. */
  readonly issuer: string;
  /** The issuer is plain http on a loopback address: allowed for tests and labs only. */
  readonly insecureLoopbackIssuer: boolean;
  readonly clientId: string;
  /** Read once from AIRLOCK_OIDC_CLIENT_SECRET_FILE at boot, surrounding whitespace removed. */
  readonly clientSecret: string;
  readonly clientSecretFile: string;
  /** What the login page's button says after "Sign in with". */
  readonly displayName: string;
  /** The role a first sign-in with a verified email gets; null: only people an admin created may sign in. */
  readonly newUserRole: Role | null;
  /** Where the identity provider sends the browser back: `<AIRLOCK_PUBLIC_URL>/api/v1/auth/oidc/callback`. */
  readonly redirectUri: string;
  toJSON(): Omit<OidcConfig, 'clientSecret' | 'toJSON'>;
}

/**
 * The worker gateway's certificate chain and private key, as PEM bytes read at boot.
 * `toJSON` hides the bytes so that logging the config can never print the key.
 */
export interface GrpcTlsConfig {
  readonly certFile: string;
  readonly keyFile: string;
  readonly certChainPem: Buffer;
  readonly privateKeyPem: Buffer;
  /** Mutual TLS: the CA that issues workers' client certificates at enrollment (AIRLOCK_GRPC_CLIENT_CA_*); absent: none. */
  readonly clientCa: ClientCaConfig | undefined;
  toJSON(): { certFile: string; keyFile: string; clientCa: { certFile: string; keyFile: string; mode: ClientCertificateMode } | null };
}

/**
 * How the gateway uses client certificates: `issue` gives one to every worker that enrolls
 * and checks one a worker presents (a rollout: workers enrolled before go on without one),
 * `require` refuses every Connect without a certificate issued to the worker saying Hello.
 */
export type ClientCertificateMode = 'issue' | 'require';

export interface ClientCaConfig {
  readonly certFile: string;
  readonly keyFile: string;
  readonly certPem: Buffer;
  readonly keyPem: Buffer;
  readonly mode: ClientCertificateMode;
}

/** Bounds of the live event streams, so proxies keep them open and a revoked principal does not listen for ever. */
export interface EventStreamConfig {
  /** How often an idle stream sends a comment line. */
  readonly heartbeatIntervalMs: number;
  /** When a stream closes itself; the browser reconnects and is authenticated again. */
  readonly maxLifetimeMs: number;
  /** Open streams one tenant may hold on this replica. */
  readonly maxPerTenant: number;
}

/** Nest injection token for AppConfig. */
export const APP_CONFIG = Symbol('APP_CONFIG');

const duration = (min: number, max: number) =>
  z
    .string()
    .transform((text, ctx) => {
      const ms = parseDuration(text);
      if (ms === null || ms < min || ms > max) {
        ctx.addIssue({ code: 'custom', message: `expected a duration like "15s" or "500ms" between ${min}ms and ${max}ms` });
        return z.NEVER;
      }
      return ms;
    });

const port = z
  .string()
  .regex(/^\d{1,5}$/, 'expected a TCP port number (0 picks a free port)')
  .transform(Number)
  .refine((n) => n <= 65_535, 'expected a TCP port number (0 picks a free port)');

const host = z.string().min(1, 'expected a host name or IP address to listen on');

const PUBLIC_URL_EXPECTATION = 'expected an absolute http:// or https:// URL without path, query or credentials, e.g. https://airlock.example.com';

// Only the origin counts (it is what a browser sends as Origin), so anything beyond it is refused rather than ignored.
const publicUrl = z.string().transform((text, ctx) => {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  const originOnly = url && (url.protocol === 'http:' || url.protocol === 'https:') && url.username === '' && url.password === '' && url.pathname === '/' && url.search === '' && url.hash === '';
  if (!url || !originOnly || /[?#]$/.test(text)) {
    ctx.addIssue({ code: 'custom', message: PUBLIC_URL_EXPECTATION });
    return z.NEVER;
  }
  return url.origin;
});

/** The path of the callback the identity provider redirects to, under the public URL. */
export const OIDC_CALLBACK_PATH = '/api/v1/auth/oidc/callback';

/** Plain http is accepted for an issuer on one of these hosts only: nothing crosses a network. */
const LOOPBACK_HOSTNAMES: ReadonlySet<string> = new Set(['127.0.0.1', 'localhost', '[::1]']);

const OIDC_ISSUER_EXPECTATION =
  'expected an absolute https:// URL without query, fragment or credentials, e.g. https://login.example.com/realms/acme (http:// only on 127.0.0.1, localhost or [::1], for tests and labs)';

const oidcIssuer = z.string().transform((text, ctx) => {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  const allowedScheme = url && (url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTNAMES.has(url.hostname)));
  if (!url || !allowedScheme || url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '' || /[?#]$/.test(text)) {
    ctx.addIssue({ code: 'custom', message: OIDC_ISSUER_EXPECTATION });
    return z.NEVER;
  }
  // Kept as written: the provider's metadata must name exactly this issuer.
  return { issuer: text, insecureLoopbackIssuer: url.protocol === 'http:' };
});

/** Longest client secret file read; real ones are well under a hundred characters. */
const MAX_OIDC_CLIENT_SECRET_BYTES = 4_096;
const MAX_OIDC_DISPLAY_NAME_LENGTH = 60;
const OIDC_NEW_USER_ROLES = [...ROLES].reverse() as readonly Role[];

// Variables whose values must never appear in an error message.
// A NATS URL may carry a user and password (nats://user:password@host:port).
const SECRET_VARIABLES: ReadonlySet<string> = new Set(['DATABASE_URL', 'AIRLOCK_NATS_URL', 'AIRLOCK_KEK']);

const environmentSchema = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\/.+\/[^/?]+/, 'expected a postgresql://user:password@host:port/database URL')
    .optional(),
  AIRLOCK_NATS_URL: z
    .string()
    .regex(/^nats:\/\/[^\s/]+(,nats:\/\/[^\s/]+)*$/, 'expected nats://host:port, or several separated by commas')
    .optional(),
  AIRLOCK_DATA_DIR: z.string().min(1, 'expected a directory path').default('./.airlock/control-plane'),
  AIRLOCK_HTTP_HOST: host.default('127.0.0.1'),
  AIRLOCK_HTTP_PORT: port.default(8080),
  AIRLOCK_METRICS_HOST: host.default('127.0.0.1'),
  AIRLOCK_METRICS_PORT: port.default(9464),
  AIRLOCK_GRPC_HOST: host.default('127.0.0.1'),
  AIRLOCK_GRPC_PORT: port.default(50051),
  AIRLOCK_GRPC_KEEPALIVE_TIME: duration(1_000, 3_600_000).default(30_000),
  AIRLOCK_GRPC_KEEPALIVE_TIMEOUT: duration(1_000, 600_000).default(10_000),
  AIRLOCK_GRPC_MAX_HANDSHAKES: z
    .string()
    .regex(/^\d+$/, 'expected an integer from 1 to 100000')
    .transform(Number)
    .refine((n) => n >= 1 && n <= 100_000, 'expected an integer from 1 to 100000')
    .default(DEFAULT_MAX_HANDSHAKES),
  AIRLOCK_LEASE_TTL: duration(200, 3_600_000).default(30_000),
  AIRLOCK_HEARTBEAT_INTERVAL: duration(100, 600_000).default(5_000),
  AIRLOCK_INSTRUCTION_TTL: duration(1_000, 3_600_000).default(600_000),
  AIRLOCK_MAX_ATTEMPTS: z
    .string()
    .regex(/^\d+$/, 'expected an integer from 1 to 20')
    .transform(Number)
    .refine((n) => n >= 1 && n <= 20, 'expected an integer from 1 to 20')
    .default(3),
  AIRLOCK_ATTEMPT_BACKOFF: duration(0, 600_000).default(2_000),
  AIRLOCK_ATTEMPT_BACKOFF_MAX: duration(0, 3_600_000).default(120_000),
  AIRLOCK_BOOTSTRAP_TOKEN_FILE: z.string().min(1, 'expected a file path').optional(),
  AIRLOCK_PLATFORM_TENANT: z.string().min(1, 'expected the name of the tenant that operates this control plane').default(DEFAULT_TENANT_NAME),
  AIRLOCK_WORKER_MIN_VERSION: z
    .string()
    .regex(ID_PATTERNS.semver, 'expected a worker version like 0.1.0 (major.minor.patch, an optional -pre-release)')
    .default(DEFAULT_WORKER_MIN_VERSION),
  ...workerVersionVariables,
  AIRLOCK_EVENTS_HEARTBEAT: duration(100, 60_000).default(15_000),
  AIRLOCK_EVENTS_MAX_LIFETIME: duration(1_000, 86_400_000).default(3_600_000),
  AIRLOCK_EVENTS_MAX_STREAMS: z
    .string()
    .regex(/^\d+$/, 'expected an integer from 1 to 200')
    .transform(Number)
    .refine((n) => n >= 1 && n <= 200, 'expected an integer from 1 to 200')
    .default(50),
  AIRLOCK_DASHBOARD_DIR: z.string().min(1, 'expected a directory path').default('./dist/apps/dashboard'),
  AIRLOCK_GRPC_TLS_CERT_FILE: z.string().min(1, 'expected a file path').optional(),
  AIRLOCK_GRPC_TLS_KEY_FILE: z.string().min(1, 'expected a file path').optional(),
  AIRLOCK_GRPC_CLIENT_CA_CERT_FILE: z.string().min(1, 'expected a file path').optional(),
  AIRLOCK_GRPC_CLIENT_CA_KEY_FILE: z.string().min(1, 'expected a file path').optional(),
  AIRLOCK_GRPC_CLIENT_CERTS: z.enum(['issue', 'require'], { error: 'expected issue or require' }).optional(),
  AIRLOCK_PUBLIC_URL: publicUrl.optional(),
  AIRLOCK_SESSION_TTL: duration(300_000, 2_592_000_000).default(43_200_000),
  AIRLOCK_SESSION_IDLE_TIMEOUT: duration(60_000, 86_400_000).default(1_800_000),
  AIRLOCK_OIDC_ISSUER: oidcIssuer.optional(),
  AIRLOCK_OIDC_CLIENT_ID: z
    .string()
    .regex(/^[\x21-\x7e]{1,255}$/, 'expected the client id the identity provider gave this control plane (1..255 visible ASCII characters, no spaces)')
    .optional(),
  AIRLOCK_OIDC_CLIENT_SECRET_FILE: z.string().min(1, 'expected a file path').optional(),
  AIRLOCK_OIDC_DISPLAY_NAME: z
    .string()
    .transform((text) => text.trim())
    .pipe(
      z
        .string()
        .min(1, `expected 1..${MAX_OIDC_DISPLAY_NAME_LENGTH} characters on one line`)
        .max(MAX_OIDC_DISPLAY_NAME_LENGTH, `expected 1..${MAX_OIDC_DISPLAY_NAME_LENGTH} characters on one line`)
        .regex(/^[^\p{Cc}]+$/u, `expected 1..${MAX_OIDC_DISPLAY_NAME_LENGTH} characters on one line`),
    )
    .optional(),
  AIRLOCK_KEK_FILE: z.string().min(1, 'expected a file path').optional(),
  AIRLOCK_KEK: z.string().min(1, 'expected a key-encryption key (64 hex characters or base64 of 32 bytes)').optional(),
  AIRLOCK_KEK_PREVIOUS_FILES: z
    .string()
    .regex(/^[^,]+(,[^,]+)*$/, 'expected file paths separated by commas')
    .optional(),
  AIRLOCK_OIDC_NEW_USER_ROLE: z.enum(OIDC_NEW_USER_ROLES as [Role, ...Role[]], { message: `expected one of ${OIDC_NEW_USER_ROLES.join(', ')}, or unset so that only people an admin created can sign in` }).optional(),
  LOG_LEVEL: z.enum(LOG_LEVELS, { message: `expected one of ${LOG_LEVELS.join(', ')}` }).default('log'),
});

/**
 * Reads and validates the environment. Fails fast with every problem at once, each naming
 * the variable and what it expects, and never echoing a secret's value. `controlPlaneVersion`
 * (package.json's) gives the worker version window its defaults.
 */
export function loadAppConfig(env: Readonly<Record<string, string | undefined>>, controlPlaneVersion = readControlPlaneVersion()): AppConfig {
  // An empty variable counts as unset, as shells and compose files often leave them so.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = environmentSchema.safeParse(present);
  if (!parsed.success) {
    throw new InvalidConfigError(
      parsed.error.issues.map((issue) => {
        const variable = String(issue.path[0] ?? 'environment');
        const message = SECRET_VARIABLES.has(variable) ? issue.message.replace(/received .*/i, '').trim() : issue.message;
        return `${variable}: ${message}`;
      }),
    );
  }
  const vars = parsed.data;
  if (vars.AIRLOCK_HEARTBEAT_INTERVAL >= vars.AIRLOCK_LEASE_TTL) {
    throw new InvalidConfigError([
      'AIRLOCK_HEARTBEAT_INTERVAL: expected a duration shorter than AIRLOCK_LEASE_TTL, or every lease would expire between heartbeats',
    ]);
  }
  if (vars.AIRLOCK_SESSION_IDLE_TIMEOUT > vars.AIRLOCK_SESSION_TTL) {
    throw new InvalidConfigError(['AIRLOCK_SESSION_IDLE_TIMEOUT: expected a duration no longer than AIRLOCK_SESSION_TTL, which ends every session anyway']);
  }
  const tls = loadGrpcTls(vars.AIRLOCK_GRPC_TLS_CERT_FILE, vars.AIRLOCK_GRPC_TLS_KEY_FILE, loadClientCa(vars));
  const oidc = loadOidc(vars);
  const secretsAtRest = loadSecretsAtRest(vars);
  const workerVersions = loadWorkerVersionWindow(vars, controlPlaneVersion);
  return {
    databaseUrl: vars.DATABASE_URL,
    natsServers: vars.AIRLOCK_NATS_URL?.split(',') ?? [],
    dataDir: path.resolve(vars.AIRLOCK_DATA_DIR),
    http: { host: vars.AIRLOCK_HTTP_HOST, port: vars.AIRLOCK_HTTP_PORT },
    metrics: { host: vars.AIRLOCK_METRICS_HOST, port: vars.AIRLOCK_METRICS_PORT },
    grpc: {
      host: vars.AIRLOCK_GRPC_HOST,
      port: vars.AIRLOCK_GRPC_PORT,
      tls,
      keepalive: { timeMs: vars.AIRLOCK_GRPC_KEEPALIVE_TIME, timeoutMs: vars.AIRLOCK_GRPC_KEEPALIVE_TIMEOUT },
      maxHandshakes: vars.AIRLOCK_GRPC_MAX_HANDSHAKES,
    },
    leaseTtlMs: vars.AIRLOCK_LEASE_TTL,
    heartbeatIntervalMs: vars.AIRLOCK_HEARTBEAT_INTERVAL,
    instructionTtlMs: vars.AIRLOCK_INSTRUCTION_TTL,
    maxAttempts: vars.AIRLOCK_MAX_ATTEMPTS,
    attemptBackoff: { baseMs: vars.AIRLOCK_ATTEMPT_BACKOFF, maxMs: vars.AIRLOCK_ATTEMPT_BACKOFF_MAX },
    workerVersions,
    eventStreams: {
      heartbeatIntervalMs: vars.AIRLOCK_EVENTS_HEARTBEAT,
      maxLifetimeMs: vars.AIRLOCK_EVENTS_MAX_LIFETIME,
      maxPerTenant: vars.AIRLOCK_EVENTS_MAX_STREAMS,
    },
    bootstrapTokenFile: path.resolve(vars.AIRLOCK_BOOTSTRAP_TOKEN_FILE ?? path.join(vars.AIRLOCK_DATA_DIR, 'bootstrap-admin-token')),
    platformTenantName: vars.AIRLOCK_PLATFORM_TENANT,
    dashboardDir: path.resolve(vars.AIRLOCK_DASHBOARD_DIR),
    publicUrl: vars.AIRLOCK_PUBLIC_URL,
    sessions: { ttlMs: vars.AIRLOCK_SESSION_TTL, idleTimeoutMs: vars.AIRLOCK_SESSION_IDLE_TIMEOUT },
    oidc,
    secretsAtRest,
    logLevel: vars.LOG_LEVEL,
  };
}

/**
 * Reads the KEK files now, so that a wrong path or a key of the wrong size stops the start
 * rather than the first seal. Problems name the variable and the file, never what is in it.
 */
function loadSecretsAtRest(vars: z.infer<typeof environmentSchema>): SecretsAtRestConfig {
  const { AIRLOCK_KEK_FILE: activeFile, AIRLOCK_KEK: activeValue, AIRLOCK_KEK_PREVIOUS_FILES: previousList } = vars;
  if (activeFile !== undefined && activeValue !== undefined) {
    throw new InvalidConfigError(['AIRLOCK_KEK: expected either it or AIRLOCK_KEK_FILE, not both (the key new values are sealed under is one key)']);
  }
  if (activeFile === undefined && activeValue === undefined) {
    if (previousList !== undefined) {
      throw new InvalidConfigError(['AIRLOCK_KEK_PREVIOUS_FILES: has no effect without AIRLOCK_KEK_FILE or AIRLOCK_KEK, the key new values are sealed under; set one, or unset this one']);
    }
    return vars.DATABASE_URL === undefined ? { kind: 'generated-kek', file: path.resolve(vars.AIRLOCK_DATA_DIR, 'kek') } : { kind: 'unsealed' };
  }
  const problems: string[] = [];
  const collected = (readKey: () => Buffer): Buffer | undefined => {
    try {
      return readKey();
    } catch (error) {
      if (!(error instanceof SealedSecretError)) throw error;
      problems.push(error.message);
      return undefined;
    }
  };
  const read = (variable: string, file: string): Buffer | undefined => collected(() => readKekFile(file, variable));
  const fromEnvironment = (value: string | undefined): Buffer | undefined => collected(() => kekFromEnvironment('AIRLOCK_KEK', value));
  const files = { activeFile: activeFile === undefined ? null : path.resolve(activeFile), previousFiles: (previousList?.split(',') ?? []).map((file) => path.resolve(file.trim())) };
  const active = files.activeFile === null ? fromEnvironment(activeValue) : read('AIRLOCK_KEK_FILE', files.activeFile);
  const previous = files.previousFiles.map((file) => read('AIRLOCK_KEK_PREVIOUS_FILES', file));
  if (problems.length > 0 || !active) throw new InvalidConfigError(problems);
  const keys = new LocalKeyEncryptionKeys(active, previous.filter((key): key is Buffer => key !== undefined));
  return { kind: 'kek-files', ...files, keys, toJSON: () => ({ kind: 'kek-files', ...files, kekIds: keys.kekIds }) };
}

/**
 * Reads the gateway's certificate and key (both or neither) and checks, at boot rather than
 * at the first handshake, that they are PEM and belong together. Problems name the variable
 * and the file, never what is in it (the key file is a secret).
 */
function loadGrpcTls(certFile: string | undefined, keyFile: string | undefined, clientCa: ClientCaConfig | undefined): GrpcTlsConfig | undefined {
  if (certFile === undefined && keyFile === undefined) {
    if (clientCa) throw new InvalidConfigError(['AIRLOCK_GRPC_CLIENT_CA_CERT_FILE: has no effect without TLS on the gateway; set AIRLOCK_GRPC_TLS_CERT_FILE and AIRLOCK_GRPC_TLS_KEY_FILE too']);
    return undefined;
  }
  if (certFile === undefined || keyFile === undefined) {
    const [missing, present] = certFile === undefined ? ['AIRLOCK_GRPC_TLS_CERT_FILE', 'AIRLOCK_GRPC_TLS_KEY_FILE'] : ['AIRLOCK_GRPC_TLS_KEY_FILE', 'AIRLOCK_GRPC_TLS_CERT_FILE'];
    throw new InvalidConfigError([`${missing}: expected a file path as well, since ${present} is set (TLS needs both the certificate and its key, or neither)`]);
  }
  const problems: string[] = [];
  const certChainPem = readPem('AIRLOCK_GRPC_TLS_CERT_FILE', certFile, problems);
  const privateKeyPem = readPem('AIRLOCK_GRPC_TLS_KEY_FILE', keyFile, problems);
  let certificate: X509Certificate | undefined;
  let privateKey: KeyObject | undefined;
  if (certChainPem) {
    try {
      // The first certificate of the chain is the gateway's own.
      certificate = certChainPem.includes('-----BEGIN CERTIFICATE-----') ? new X509Certificate(certChainPem) : undefined;
    } catch {
      certificate = undefined;
    }
    if (!certificate) problems.push(`AIRLOCK_GRPC_TLS_CERT_FILE: expected a PEM certificate chain (-----BEGIN CERTIFICATE-----) in ${certFile}`);
  }
  if (privateKeyPem) {
    try {
      privateKey = /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(privateKeyPem.toString('latin1')) ? createPrivateKey(privateKeyPem) : undefined;
    } catch {
      // Never the parser's message: it could quote part of the key.
      privateKey = undefined;
    }
    if (!privateKey) problems.push(`AIRLOCK_GRPC_TLS_KEY_FILE: expected an unencrypted PEM private key (-----BEGIN … PRIVATE KEY-----) in ${keyFile}`);
  }
  if (certificate && privateKey && !certificate.checkPrivateKey(privateKey)) {
    problems.push(`AIRLOCK_GRPC_TLS_KEY_FILE: expected the private key of the certificate in AIRLOCK_GRPC_TLS_CERT_FILE (${keyFile} holds another key)`);
  }
  if (problems.length > 0 || !certChainPem || !privateKeyPem) throw new InvalidConfigError(problems);
  const files = { certFile: path.resolve(certFile), keyFile: path.resolve(keyFile) };
  const clientCaFiles = clientCa ? { certFile: clientCa.certFile, keyFile: clientCa.keyFile, mode: clientCa.mode } : null;
  return { ...files, certChainPem, privateKeyPem, clientCa, toJSON: () => ({ ...files, clientCa: clientCaFiles }) };
}

/**
 * The client CA of mutual TLS (both files or neither; AIRLOCK_GRPC_CLIENT_CERTS only with
 * them): a certificate with its P-256 private key, which must belong together and be a CA.
 * Problems name the variable and the file, never what is in it.
 */
function loadClientCa(vars: { AIRLOCK_GRPC_CLIENT_CA_CERT_FILE?: string | undefined; AIRLOCK_GRPC_CLIENT_CA_KEY_FILE?: string | undefined; AIRLOCK_GRPC_CLIENT_CERTS?: ClientCertificateMode | undefined }): ClientCaConfig | undefined {
  const { AIRLOCK_GRPC_CLIENT_CA_CERT_FILE: certFile, AIRLOCK_GRPC_CLIENT_CA_KEY_FILE: keyFile, AIRLOCK_GRPC_CLIENT_CERTS: mode } = vars;
  if (certFile === undefined && keyFile === undefined) {
    if (mode !== undefined) throw new InvalidConfigError(['AIRLOCK_GRPC_CLIENT_CERTS: has no effect without a client CA; set AIRLOCK_GRPC_CLIENT_CA_CERT_FILE and AIRLOCK_GRPC_CLIENT_CA_KEY_FILE too']);
    return undefined;
  }
  if (certFile === undefined || keyFile === undefined) {
    const [missing, present] = certFile === undefined ? ['AIRLOCK_GRPC_CLIENT_CA_CERT_FILE', 'AIRLOCK_GRPC_CLIENT_CA_KEY_FILE'] : ['AIRLOCK_GRPC_CLIENT_CA_KEY_FILE', 'AIRLOCK_GRPC_CLIENT_CA_CERT_FILE'];
    throw new InvalidConfigError([`${missing}: expected a file path as well, since ${present} is set (the client CA needs its certificate and its key)`]);
  }
  const problems: string[] = [];
  const certPem = readPem('AIRLOCK_GRPC_CLIENT_CA_CERT_FILE', certFile, problems);
  const keyPem = readPem('AIRLOCK_GRPC_CLIENT_CA_KEY_FILE', keyFile, problems);
  let certificate: X509Certificate | undefined;
  let privateKey: KeyObject | undefined;
  try {
    certificate = certPem?.includes('-----BEGIN CERTIFICATE-----') ? new X509Certificate(certPem) : undefined;
  } catch {
    certificate = undefined;
  }
  if (certPem && !certificate) problems.push(`AIRLOCK_GRPC_CLIENT_CA_CERT_FILE: expected a PEM certificate (-----BEGIN CERTIFICATE-----) in ${certFile}`);
  if (certificate && !certificate.ca) problems.push(`AIRLOCK_GRPC_CLIENT_CA_CERT_FILE: expected a CA certificate (basicConstraints CA:TRUE) in ${certFile}`);
  try {
    privateKey = keyPem && /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(keyPem.toString('latin1')) ? createPrivateKey(keyPem) : undefined;
  } catch {
    privateKey = undefined;
  }
  if (keyPem && (!privateKey || privateKey.asymmetricKeyType !== 'ec' || privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1')) {
    problems.push(`AIRLOCK_GRPC_CLIENT_CA_KEY_FILE: expected an unencrypted PEM P-256 (prime256v1) private key in ${keyFile}`);
  } else if (certificate && privateKey && !certificate.checkPrivateKey(privateKey)) {
    problems.push(`AIRLOCK_GRPC_CLIENT_CA_KEY_FILE: expected the private key of the certificate in AIRLOCK_GRPC_CLIENT_CA_CERT_FILE (${keyFile} holds another key)`);
  }
  if (problems.length > 0 || !certPem || !keyPem) throw new InvalidConfigError(problems);
  return { certFile: path.resolve(certFile), keyFile: path.resolve(keyFile), certPem, keyPem, mode: mode ?? 'require' };
}

/**
 * Single sign-on is all or nothing: the issuer, the client id and the client secret file
 * together, and the public URL the identity provider sends people back to. A partial setup
 * is a start-up error naming what is missing rather than a login button that cannot work.
 * The secret is read here, once; problems name the file, never what is in it.
 */
function loadOidc(vars: z.infer<typeof environmentSchema>): OidcConfig | undefined {
  const required = {
    AIRLOCK_OIDC_ISSUER: vars.AIRLOCK_OIDC_ISSUER,
    AIRLOCK_OIDC_CLIENT_ID: vars.AIRLOCK_OIDC_CLIENT_ID,
    AIRLOCK_OIDC_CLIENT_SECRET_FILE: vars.AIRLOCK_OIDC_CLIENT_SECRET_FILE,
  };
  const set = Object.entries(required).filter(([, value]) => value !== undefined).map(([name]) => name);
  const optionalSet = ['AIRLOCK_OIDC_DISPLAY_NAME', 'AIRLOCK_OIDC_NEW_USER_ROLE'].filter((name) => vars[name as keyof typeof vars] !== undefined);
  if (set.length === 0) {
    if (optionalSet.length > 0) {
      throw new InvalidConfigError(optionalSet.map((name) => `${name}: has no effect without single sign-on; set AIRLOCK_OIDC_ISSUER, AIRLOCK_OIDC_CLIENT_ID and AIRLOCK_OIDC_CLIENT_SECRET_FILE too, or unset it`));
    }
    return undefined;
  }
  const missing = Object.keys(required).filter((name) => !set.includes(name));
  const problems = missing.map((name) => `${name}: expected a value as well, since ${set.join(' and ')} ${set.length === 1 ? 'is' : 'are'} set (single sign-on needs the issuer, the client id and the client secret file)`);
  if (vars.AIRLOCK_PUBLIC_URL === undefined) {
    problems.push(`AIRLOCK_PUBLIC_URL: expected the URL browsers reach the control plane at, since single sign-on is set up: the identity provider sends people back to <AIRLOCK_PUBLIC_URL>${OIDC_CALLBACK_PATH}`);
  }
  const { AIRLOCK_OIDC_ISSUER: issuer, AIRLOCK_OIDC_CLIENT_ID: clientId, AIRLOCK_OIDC_CLIENT_SECRET_FILE: secretFile } = required;
  const clientSecret = secretFile === undefined ? undefined : readClientSecret(secretFile, problems);
  if (problems.length > 0 || !issuer || !clientId || !secretFile || clientSecret === undefined || vars.AIRLOCK_PUBLIC_URL === undefined) throw new InvalidConfigError(problems);
  const visible = {
    issuer: issuer.issuer,
    insecureLoopbackIssuer: issuer.insecureLoopbackIssuer,
    clientId,
    clientSecretFile: path.resolve(secretFile),
    displayName: vars.AIRLOCK_OIDC_DISPLAY_NAME ?? 'single sign-on',
    newUserRole: vars.AIRLOCK_OIDC_NEW_USER_ROLE ?? null,
    redirectUri: `${vars.AIRLOCK_PUBLIC_URL}${OIDC_CALLBACK_PATH}`,
  };
  return { ...visible, clientSecret, toJSON: () => visible };
}

function readClientSecret(file: string, problems: string[]): string | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    problems.push(`AIRLOCK_OIDC_CLIENT_SECRET_FILE: expected a readable file holding the client secret (${(error as NodeJS.ErrnoException).code ?? 'unreadable'}: ${file})`);
    return undefined;
  }
  const secret = bytes.length <= MAX_OIDC_CLIENT_SECRET_BYTES ? bytes.toString('utf8').trim() : '';
  if (secret === '' || /[\r\n]/.test(secret)) {
    problems.push(`AIRLOCK_OIDC_CLIENT_SECRET_FILE: expected the client secret on one line, 1..${MAX_OIDC_CLIENT_SECRET_BYTES} bytes, in ${file}`);
    return undefined;
  }
  return secret;
}

function readPem(variable: string, file: string, problems: string[]): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch (error) {
    problems.push(`${variable}: expected a readable PEM file (${(error as NodeJS.ErrnoException).code ?? 'unreadable'}: ${file})`);
    return undefined;
  }
}
