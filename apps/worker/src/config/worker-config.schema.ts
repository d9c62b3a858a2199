import { isIPv4 } from 'node:net';
import { z } from 'zod';
import { signingKeyIdOf } from '@airlock/envelope';
import { isLocalInferenceUrl, LIMIT_CEILINGS, policyRulesSchema } from '@airlock/policy';
import { ID_PATTERNS, WIRE_LIMITS } from '@airlock/protocol';
import { byteSizeSchema } from './byte-size.schema';
import { parseDuration } from '@airlock/duration';
import { durationSchema } from './duration.schema';
import { workerSecretsSchema } from './worker-secrets';
import { setupSchema } from '../jobs/repo-config/repo-config.schema';

const duration = (fallback: string, what: string) =>
  durationSchema('expected a duration like 30s, 5m or 250ms')
    .prefault(fallback)
    .describe(`${what} (default ${fallback})`);

/** A duration between `min` and `max` (both spelt as in the file), in milliseconds once parsed. */
const boundedDuration = (min: string, max: string) => {
  const message = `expected a duration from ${min} to ${max}, like 30s, 5m or 250ms`;
  const [minMs, maxMs] = [parseDuration(min) ?? 0, parseDuration(max) ?? 0];
  return durationSchema(message).refine((ms) => ms >= minMs && ms <= maxMs, message);
};

/**
 * How much longer than `limits.jobTimeout` a drain waits by default: a job that started just
 * before the drain may run its whole timeout, then needs a moment to report.
 */
export const DRAIN_GRACE_AFTER_JOB_TIMEOUT_MS = 10_000;

const hostPort = z
  .string()
  .regex(/^[A-Za-z0-9.-]{1,253}:\d{1,5}$|^\[[0-9A-Fa-f:.]+\]:\d{1,5}$/, 'expected host:port')
  .describe('Control plane gRPC address, host:port.');

/**
 * The host part of a `host:port` or `[v6]:port` address, lower-cased. Plain-text gRPC is
 * allowed only to loopback: anywhere else, ticket text could be read and ResultAck, Cancel
 * or Drain forged on the path.
 */
export function isLoopbackAddress(address: string): boolean {
  const bracketed = /^\[([0-9A-Fa-f:.]+)\]:\d+$/.exec(address);
  const host = (bracketed ? bracketed[1] : address.slice(0, address.lastIndexOf(':')))?.toLowerCase() ?? '';
  if (host === 'localhost') return true;
  if (bracketed) return host === '::1' || /^(0{1,4}:){7}0{0,3}1$/.test(host);
  return isIPv4(host) && host.startsWith('127.');
}

const tls = z
  .strictObject({
    caFile: z.string().min(1, 'expected a file path').describe('PEM file of the CA certificate(s) that issued the control plane\'s certificate (a private CA is fine). Relative to this file.'),
    serverName: z
      .string()
      .regex(/^[A-Za-z0-9.-]{1,253}$/, 'expected a DNS name or IP address')
      .optional()
      .describe('Name to verify the server certificate against instead of the host in address (e.g. when dialing an IP address).'),
  })
  .describe('TLS to the control plane, verifying its certificate against caFile. Required unless address is loopback and insecure is true.');

/**
 * An HTTP CONNECT proxy as `http://host:port`. No user:password here (the password would sit in
 * the file and in logs): an authenticating proxy takes them from the env var in proxyAuthEnv.
 */
const proxyUrl = z
  .string()
  .regex(
    /^http:\/\/([A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]+\]):\d{1,5}\/?$/,
    'expected an HTTP CONNECT proxy URL http://host:port (no user:password, path or query; credentials go in the variable named by proxyAuthEnv)',
  )
  .describe('HTTP CONNECT proxy the control-plane channel goes through, http://host:port. Only the control-plane gRPC channel uses it; inference and git do not.');

/** A whole number within [min, max], with the message naming both. */
const boundedInt = (min: number, max: number, unit: string) => {
  const message = `expected a whole number of ${unit} from ${min} to ${max}`;
  return z.number({ error: message }).int(message).min(min, message).max(max, message);
};

/**
 * What each setup or test command may use, enforced by the kernel (docs/worker.md, "Sandbox
 * limits", says which mechanism applies where). Each command of a setup, and each test run,
 * gets the whole of it afresh. Only under `mode: bwrap`.
 */
const sandboxLimits = z
  .strictObject({
    cpuSeconds: boundedInt(1, 86_400, 'seconds')
      .default(3_600)
      .describe(
        'CPU time one command may use, in seconds: all its processes together where a cgroup is available, else each process alone (RLIMIT_CPU). Past it the job fails SANDBOX_CPU_LIMIT (default 3600, 1..86400).',
      ),
    memoryMiB: boundedInt(16, 1_048_576, 'MiB')
      .default(4_096)
      .describe(
        "Memory one command may use, in MiB: all its processes together, its /tmp's files included, where a cgroup is available (the kernel's OOM killer ends it: SANDBOX_MEMORY_LIMIT); else each process's data segment alone (RLIMIT_DATA: an allocation fails, which the command reports as it likes) (default 4096, 16..1048576).",
      ),
    processes: boundedInt(64, 4_194_304, 'processes')
      .default(2_048)
      .describe(
        "Processes and threads one command may have at once: its own count where a cgroup is available (a fork refused past it: SANDBOX_PROCESS_LIMIT if the command then fails); else RLIMIT_NPROC, which counts every process of the worker's user on the machine and does not bind root (default 2048, 64..4194304).",
      ),
    diskMiB: boundedInt(1, 1_048_576, 'MiB')
      .default(8_192)
      .describe(
        'The largest file one command may write, in MiB (RLIMIT_FSIZE: a process writing past it is killed by SIGXFSZ: SANDBOX_DISK_LIMIT), and the size of its /tmp (a tmpfs; full, a write fails with ENOSPC). Not a bound on all it writes to the worktree (default 8192, 1..1048576).',
      ),
  })
  .prefault({})
  .describe('Kernel-enforced limits of every setup and test command in the sandbox.');

/** The task kinds a worker's `jobKinds` may list; noop is `allowNoop`'s. */
export const WORKER_JOB_KINDS = ['fix', 'review', 'index'] as const;
export type WorkerJobKind = (typeof WORKER_JOB_KINDS)[number];

/** A repository alias as the control plane knows it (same shape as the wire contract). */
export const REPO_ALIAS_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/** A pool label, as Hello.labels carries it (the wire contract's shape). */
export const WORKER_LABEL_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;
/**
 * Labels a config may list: one fewer than Hello.labels may carry, keeping room for the pool
 * the enrollment token named, which the worker counts among its pools too (policy/worker-pools.ts).
 */
export const MAX_WORKER_LABELS = WIRE_LIMITS.maxWorkerLabels - 1;

const trustedKey = z
  .strictObject({
    keyId: z
      .string()
      .regex(/^sk_[0-9a-f]{16}$/, 'expected a signing key id: sk_ followed by 16 lowercase hex characters')
      .describe('sk_ followed by the first 16 hex characters of SHA-256 over the raw public key, as `enroll` prints it.'),
    publicKey: z
      .string()
      .refine((value) => /^[A-Za-z0-9+/]+={0,2}$/.test(value) && Buffer.from(value, 'base64').length === 32, 'expected a base64 raw 32-byte Ed25519 public key')
      .describe('Raw 32-byte Ed25519 public key, base64.'),
  })
  .superRefine((key, ctx) => {
    // A key id that is not derived from its key would pass here and only fail when the
    // verifier is built: say so now, where the operator reads config errors.
    const publicKey = Buffer.from(key.publicKey, 'base64');
    if (publicKey.length !== 32 || !/^sk_[0-9a-f]{16}$/.test(key.keyId)) return;
    const derived = signingKeyIdOf(publicKey);
    if (key.keyId !== derived) {
      ctx.addIssue({ code: 'custom', path: ['keyId'], message: `expected the id derived from publicKey, ${derived} (sk_ + the first 16 hex characters of SHA-256 over the raw key)` });
    }
  });

// An endpoint's name and model cross to the control plane in each result's model_usage
// (not at the minimal metadata level), so both are held to the wire contract's shapes.
const endpoint = z.strictObject({
  name: z
    .string()
    .regex(ID_PATTERNS.inferenceEndpointName, 'expected a short name ([A-Za-z0-9._-]{1,64})')
    .describe("Name used in local logs and doctor output, and in each result's tokens per endpoint (unless the metadata level is minimal)."),
  baseUrl: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL such as http://127.0.0.1:8000/v1' }).describe('OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1. Must be local (see inference.allowedHosts).'),
  model: z
    .string()
    .regex(ID_PATTERNS.modelName, 'expected a model name of 1..200 characters from A-Z a-z 0-9 . _ : / @ + - (no spaces), such as Qwen/Qwen2.5-Coder-7B-Instruct or qwen2.5-coder:7b')
    .describe("Model name passed to /v1/chat/completions, and reported in each result's tokens per endpoint (unless the metadata level is minimal): 1..200 characters from A-Z a-z 0-9 . _ : / @ + -."),
  apiKeyEnv: z
    .string()
    .regex(/^[A-Z_][A-Z0-9_]{0,127}$/, 'expected an environment variable name')
    .optional()
    .describe('Name of the environment variable holding the API key, if the server needs one. The key itself never goes in this file.'),
  timeout: duration('120s', 'Per-request timeout'),
  idleTimeout: boundedDuration('1s', '10m')
    .prefault('60s')
    .describe(
      'Longest silence between two chunks of a streamed answer, counted from the response headers; past it the stream is aborted and the try counts as the endpoint failing (retried, then the next endpoint). timeout still bounds the whole request (default 60s).',
    ),
  proxy: z
    .string()
    .regex(
      /^http:\/\/([A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]+\]):\d{1,5}\/?$/,
      'expected an HTTP proxy URL http://host:port (no user:password, path or query)',
    )
    .optional()
    .describe(
      'HTTP proxy this endpoint is reached through, http://host:port: plain-HTTP requests are forwarded by it, https ones tunnelled with CONNECT. Must be local like baseUrl. Default: direct.',
    ),
  contextWindow: z
    .number()
    .int('expected an integer')
    .min(256, 'expected at least 256 tokens')
    .max(100_000_000, 'expected at most 100000000 tokens')
    .optional()
    .describe("The model's context window on this server, in tokens (prompt and answer). Default: asked from the server (llama.cpp /props, vLLM /v1/models, Ollama /api/show, TGI /info)."),
  toolCalling: z
    .enum(['auto', 'native', 'text'])
    .default('auto')
    .describe(
      "How the agent's tools are offered: native (OpenAI tools and tool_calls, not streamed), text (tools described in the prompt, edits as SEARCH/REPLACE blocks, calls as fenced tool blocks; streamed), or auto: native until the server refuses a request for its tools, then text (default auto).",
    ),
});

/** The http(s) root of a REST API (a forge's, a tracker's): no user:password, query or fragment, since the token goes in tokenEnv or tokenFile. */
const restApiUrl = (error: string) =>
  z
    .url({ protocol: /^https?$/, error })
    .refine((url) => !/[?#]/.test(url) && !/^https?:\/\/[^/]*@/.test(url), 'expected a URL without user:password, query or fragment (the token goes in tokenEnv or tokenFile)');

/** A forge's or a tracker's token is named in exactly one place: an environment variable or a file. */
function requireOneTokenSource(entry: { readonly tokenEnv?: string | undefined; readonly tokenFile?: string | undefined }, ctx: z.core.$RefinementCtx): void {
  if ((entry.tokenEnv === undefined) === (entry.tokenFile === undefined)) {
    ctx.addIssue({ code: 'custom', path: ['tokenEnv'], message: 'expected exactly one of tokenEnv or tokenFile' });
  }
}

/** A forge user name or label as the forges allow them (GitLab, GitHub and Gitea alike): no spaces, commas or control characters. */
const FORGE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,99}$/;

/**
 * A merge-request target on the customer's own forge. Its token never sits in this file: the
 * worker reads it from the variable or file named here each time it delivers, so a rotated
 * token is picked up without a restart, and it never appears in a log line.
 */
const forge = z
  .strictObject({
    type: z
      .enum(['gitlab', 'github', 'gitea'])
      .describe('gitlab (GitLab self-managed, REST v4), github (GitHub Enterprise Server, REST v3) or gitea (Gitea and Forgejo, REST v1).'),
    apiUrl: restApiUrl("expected the http(s) URL of the forge's REST API, such as https://gitlab.corp.example/api/v4")
      .describe('The REST API root: https://HOST/api/v4 (GitLab), https://HOST/api/v3 (GitHub Enterprise Server), https://HOST/api/v1 (Gitea, Forgejo).'),
    project: z
      .string()
      .regex(/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)+$|^\d{1,12}$/, 'expected owner/name (GitHub, Gitea), group/…/name or a numeric project id (GitLab)')
      .describe('The repository on the forge: owner/name for GitHub and Gitea; the full path (group/subgroup/name) or numeric id for GitLab.'),
    tokenEnv: z.string().regex(/^[A-Z_][A-Z0-9_]{0,127}$/, 'expected an environment variable name').optional().describe('Environment variable holding the API token (exactly one of tokenEnv, tokenFile).'),
    tokenFile: z.string().min(1, 'expected a file path').optional().describe('File holding the API token, read at each delivery (exactly one of tokenEnv, tokenFile). Relative to this file; keep it 0600.'),
    caFile: z.string().min(1, 'expected a file path').optional().describe("PEM CA certificate(s) the forge's HTTPS certificate is verified against (a private CA). Default: the system's CAs. Relative to this file."),
    targetBranch: z
      .string()
      .regex(/^(?!-)(?!\/)(?!.*\.\.)(?!.*\/\/)(?!.*@\{)(?!refs\/)[A-Za-z0-9._/-]{1,200}(?<![./])$/, 'expected a branch name without refs/heads/')
      .optional()
      .describe("The branch the request asks to merge into (default: the job's base branch)."),
    labels: z.array(z.string().regex(FORGE_NAME_PATTERN, 'expected a label name without spaces or commas')).max(20, 'expected at most 20 labels').default([]).describe('Labels put on the request (default []). On Gitea each must exist in the repository.'),
    reviewers: z.array(z.string().regex(FORGE_NAME_PATTERN, 'expected a user name')).max(10, 'expected at most 10 reviewers').default([]).describe('User names asked to review the request (default []).'),
    draft: z.boolean().default(false).describe('Open the request as a draft (default false).'),
    timeout: duration('30s', 'Per-request timeout to the forge API'),
  })
  .superRefine((entry, ctx) => {
    requireOneTokenSource(entry, ctx);
    if (entry.type !== 'gitlab' && /^\d+$/.test(entry.project)) {
      ctx.addIssue({ code: 'custom', path: ['project'], message: `expected owner/name for a ${entry.type} forge` });
    }
  });

/** The user name git credentials go with by default: GitHub requires it with an app's token; GitLab and Gitea take any name with a token. */
export const DEFAULT_GIT_USERNAME = 'x-access-token';

/**
 * HTTPS credentials the worker itself presents to a repository's git server, kept as a forge's
 * token is: named here, read anew (and opened, if sealed) for each fetch or push, never logged,
 * and handed to git in its environment only, never on its command line.
 */
const gitCredentials = z
  .strictObject({
    username: z
      .string()
      .regex(/^[\x21-\x39\x3b-\x7e]{1,128}$/, 'expected a user name of printable characters without spaces or colons')
      .default(DEFAULT_GIT_USERNAME)
      .describe(`User name sent with the token (default ${DEFAULT_GIT_USERNAME}: what GitHub asks with an app or fine-grained token; GitLab and Gitea take any name with a token, GitLab's OAuth tokens want oauth2).`),
    tokenEnv: z.string().regex(/^[A-Z_][A-Z0-9_]{0,127}$/, 'expected an environment variable name').optional().describe('Environment variable holding the git token or password (exactly one of tokenEnv, tokenFile).'),
    tokenFile: z.string().min(1, 'expected a file path').optional().describe('File holding the git token or password, plain or sealed, read at each fetch and push (exactly one of tokenEnv, tokenFile). Relative to this file; keep it 0600.'),
  })
  .superRefine(requireOneTokenSource);

/** Trackers a config may list: a catalog of a few, like the repositories'. */
export const MAX_TRACKERS = 16;

/**
 * An issue tracker a job may name its ticket in, as FixTask.ticket_ref `<name>:<key>`: the
 * worker reads the ticket there itself, so its text never passes through the control plane.
 * Its token is kept as a forge's: named here, read anew at each request, never logged.
 */
const tracker = z
  .strictObject({
    name: z
      .string()
      .regex(REPO_ALIAS_PATTERN, 'expected a name matching ^[a-z0-9][a-z0-9._-]{0,62}$')
      .describe('The tracker as ticket references name it: the part before the colon of <name>:<key>.'),
    type: z.enum(['jira', 'gitlab']).describe('jira (Jira Data Center or Server, REST API 2) or gitlab (GitLab issues, REST API v4).'),
    apiUrl: restApiUrl("expected the http(s) URL of the tracker, such as https://jira.corp.example or https://gitlab.corp.example/api/v4").describe(
      'Jira: its base URL, https://HOST or with its context path, https://HOST/jira (the REST API is under /rest/api/2). GitLab: the REST API root, https://HOST/api/v4.',
    ),
    project: z
      .string()
      .regex(/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)+$|^\d{1,12}$/, 'expected group/…/name or a numeric project id')
      .optional()
      .describe('GitLab only, and required there: the project whose issues the keys name, by full path (group/subgroup/name) or numeric id; a key is then the issue\'s number (iid), such as 42. A Jira key names its own project (PROJ-123).'),
    tokenEnv: z.string().regex(/^[A-Z_][A-Z0-9_]{0,127}$/, 'expected an environment variable name').optional().describe('Environment variable holding the API token (exactly one of tokenEnv, tokenFile).'),
    tokenFile: z.string().min(1, 'expected a file path').optional().describe('File holding the API token, read at each request (exactly one of tokenEnv, tokenFile). Relative to this file; keep it 0600.'),
    caFile: z.string().min(1, 'expected a file path').optional().describe("PEM CA certificate(s) the tracker's HTTPS certificate is verified against (a private CA). Default: the system's CAs. Relative to this file."),
    timeout: duration('30s', 'Per-request timeout to the tracker API'),
    comment: z.boolean().default(false).describe("Post the merge request's link on the ticket once the worker opened or updated it (default false)."),
  })
  .superRefine((entry, ctx) => {
    requireOneTokenSource(entry, ctx);
    if (entry.type === 'gitlab' && entry.project === undefined) {
      ctx.addIssue({ code: 'custom', path: ['project'], message: 'expected the GitLab project whose issues the keys name (group/name or a numeric id)' });
    }
    if (entry.type === 'jira' && entry.project !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['project'], message: 'expected no project for a jira tracker (a Jira key names its own project)' });
    }
  });

/**
 * A base-ref entry: a branch name (without refs/heads/) or a simple glob where `*` matches
 * any characters but `/`. Same shape as a ref on the wire, plus `*`.
 */
const BASE_REF_PATTERN = /^(?!-)(?!\/)(?!.*\.\.)(?!.*\/\/)(?!.*@\{)(?!refs\/)[A-Za-z0-9._/*-]{1,200}(?<![./])$/;

const repository = z.strictObject({
  alias: z.string().regex(REPO_ALIAS_PATTERN, 'expected an alias matching ^[a-z0-9][a-z0-9._-]{0,62}$').describe('The name the control plane uses for this repository.'),
  cloneUrl: z.string().min(1, 'expected a git URL or path').describe('Where the worker fetches from (any URL git understands, or a local path).'),
  pushUrl: z
    .string()
    .min(1, 'expected a git URL or path')
    .optional()
    .describe("Where the worker pushes its branch. Without it the change goes only to the delivery outbox (delivery.outboxDir) as a patch bundle; a forge needs it."),
  branchPrefix: z
    .string()
    .regex(/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*\/$/, 'expected a branch prefix ending in / such as airlock/')
    .default('airlock/')
    .describe('Every branch the worker pushes starts with this prefix (default airlock/).'),
  baseRefs: z
    .array(z.string().regex(BASE_REF_PATTERN, 'expected a branch name without refs/heads/, or a glob such as release/* (* matches anything but /)'))
    .min(1, 'expected at least one branch name or glob')
    .default(['main', 'master'])
    .describe(
      'Branches a fix may start from: names without refs/heads/, or globs where * matches any characters but / (default [main, master]). The base branch decides which .airlock.yml, hence which test command, runs. Branches under branchPrefix are always refused.',
    ),
  setup: setupSchema
    .optional()
    .describe("How this repository's dependencies are installed; when set, it wins over the setup of the repository's .airlock.yml (same shape)."),
  forge: forge
    .optional()
    .describe('The forge the branch is proposed on as a merge (pull) request. Without it the pushed change is also written to the delivery outbox as a patch bundle.'),
  git: gitCredentials
    .optional()
    .describe("HTTPS credentials for cloneUrl and an http(s) pushUrl, sent as a Basic Authorization header to those URLs only. Only with an http(s) cloneUrl. Without it git uses the host's own configuration (credential helper, SSH keys)."),
});

/**
 * A package mirror setup may reach, `host:port`: the only network a setup command has.
 * Names are matched exactly (lower-cased), so `nexus.corp:443` does not allow `nexus.corp:80`.
 */
const mirrorAddress = z
  .string()
  .regex(/^([A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]+\]):\d{1,5}$/, 'expected host:port of a package mirror, such as nexus.corp.example:443 or 127.0.0.1:4873')
  .refine((address) => {
    const port = Number(address.slice(address.lastIndexOf(':') + 1));
    return port >= 1 && port <= 65535;
  }, 'expected a port from 1 to 65535');

/** Variables the worker sets for setup itself; a repository or mirror entry cannot override them. */
export const RESERVED_SETUP_ENV = ['PATH', 'HOME', 'LANG', 'CI', 'HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy'];

/**
 * The worker's customer-owned YAML configuration. Parsing it yields milliseconds for every
 * duration; relative paths are resolved by the loader against the file's folder.
 */
export const workerConfigSchema = z
  .strictObject({
    controlPlane: z.strictObject({
      address: hostPort,
      tls: tls.optional(),
      insecure: z.boolean().default(false).describe('Plain-text gRPC, allowed only when address is loopback (127.0.0.0/8, ::1, localhost); anywhere else configure tls (default false).'),
      proxy: proxyUrl.optional(),
      proxyAuthEnv: z
        .string()
        .regex(/^[A-Z_][A-Z0-9_]{0,127}$/, 'expected an environment variable name')
        .optional()
        .describe('Name of the environment variable holding user:password for the proxy (Basic auth), if it needs one. Requires proxy.'),
      trustedSigningKeys: z.array(trustedKey).default([]).describe('Instruction-signing keys this worker trusts, as printed by `enroll` (default []).'),
    }),
    stateDir: z.string().min(1, 'expected a directory path').describe('Identity, nonce store, outbox, egress audit log and HMAC key.'),
    workspaceDir: z.string().min(1, 'expected a directory path').describe('Bare mirrors and per-job worktrees.'),
    concurrency: z.number().int('expected an integer').min(1, 'expected at least 1').max(64, 'expected at most 64').default(1).describe('Jobs run at once, 1..64 (default 1).'),
    allowNoop: z.boolean().default(false).describe('Accept noop tasks (health probes, benchmarks) besides jobKinds (default false).'),
    jobKinds: z
      .array(z.enum(WORKER_JOB_KINDS, { error: `expected one of ${WORKER_JOB_KINDS.join(', ')}` }))
      .min(1, 'expected at least one job kind (fix, review or index)')
      .prefault([...WORKER_JOB_KINDS])
      .superRefine((kinds, ctx) => {
        kinds.forEach((kind, index) => {
          if (kinds.indexOf(kind) !== index) ctx.addIssue({ code: 'custom', path: [index], message: 'expected a unique job kind (this one appears twice)' });
        });
      })
      .describe(
        'The task kinds this worker runs besides noop: fix (change the code for a ticket and deliver it), review (comment on a merge request on the repository\'s forge), index (build the context index of a base branch ahead of fixes). Central policy may narrow them, never widen them (default [fix, review, index]).',
      ),
    labels: z
      .array(z.string().regex(WORKER_LABEL_PATTERN, 'expected a pool label matching ^[a-z0-9][a-z0-9._-]{0,62}$'))
      .max(MAX_WORKER_LABELS, `expected at most ${MAX_WORKER_LABELS} labels (a worker belongs to at most ${WIRE_LIMITS.maxWorkerLabels} pools; one is kept for the pool its enrollment token names)`)
      .default([])
      .describe(
        `The pools this worker belongs to besides the one its enrollment token named, sent to the control plane in its Hello with that one: central policy layers published to a pool apply to the workers in it (at most ${MAX_WORKER_LABELS}, default []).`,
      ),
    policy: z
      .strictObject({
        rules: policyRulesSchema
          .optional()
          .describe(
            "Local policy rules, in the shape of a policy document's rules (docs/policy.md). They have the last word: central policy merges with them rule by rule and the stricter wins, so the control plane can narrow them, never widen them.",
          ),
        maxFixRetries: z
          .number()
          .int('expected an integer')
          .min(0, 'expected at least 0')
          .max(5, 'expected at most 5')
          .default(2)
          .describe('How many times a change that breaks a mandatory rule goes back to the model with the verdict before the job fails POLICY_VIOLATION, 0..5 (default 2).'),
      })
      .prefault({})
      .describe('Local policy: what this worker allows whatever central policy says.'),
    inference: z.strictObject({
      endpoints: z
        .array(endpoint)
        .min(1, 'expected at least one endpoint')
        .max(WIRE_LIMITS.maxInferenceEndpoints, `expected at most ${WIRE_LIMITS.maxInferenceEndpoints} endpoints`)
        .describe(`Tried in order; the next is used when one is unreachable or answers 5xx (1..${WIRE_LIMITS.maxInferenceEndpoints}).`),
      allowedHosts: z.array(z.string().min(1)).default([]).describe('Extra host names counted as local besides loopback and private addresses (default []).'),
    }),
    repositories: z.array(repository).default([]).describe('The local catalog: alias → URLs. Aliases must be unique (default []).'),
    trackers: z
      .array(tracker)
      .max(MAX_TRACKERS, `expected at most ${MAX_TRACKERS} trackers`)
      .default([])
      .superRefine((trackers, ctx) => {
        const seen = new Set<string>();
        trackers.forEach((entry, index) => {
          if (seen.has(entry.name)) ctx.addIssue({ code: 'custom', path: [index, 'name'], message: 'expected a unique name (this one appears twice)' });
          seen.add(entry.name);
        });
      })
      .describe(`The issue trackers jobs may name their ticket in, as <name>:<key>; the worker reads the ticket there, inside the network. Names must be unique (at most ${MAX_TRACKERS}, default []).`),
    sandbox: z
      .strictObject({
        mode: z
          .enum(['bwrap', 'none'])
          .default('bwrap')
          .describe(
            "How the repository's test command is isolated: bwrap (bubblewrap: no network, read-only host, own worktree writable, worker state, workspace and config hidden) or none (runs with the worker's own rights; only for trusted repositories) (default bwrap).",
          ),
        env: z
          .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'expected an environment variable name'), z.string().max(4096))
          .default({})
          .refine((env) => Object.keys(env).every((name) => !RESERVED_SETUP_ENV.includes(name)), `expected none of the variables the worker sets itself (${RESERVED_SETUP_ENV.join(', ')})`)
          .describe(
            "Variables every setup and test command gets, for toolchains that find themselves through the environment: RUSTUP_HOME, JAVA_HOME, GOROOT… HOME is a throwaway inside the sandbox, so a toolchain under the worker's HOME needs its location here. Not for secrets: the repository's commands see them (default {}).",
          ),
        limits: sandboxLimits,
      })
      .prefault({}),
    limits: z
      .strictObject({
        maxContextFiles: z.number().int().min(1).max(200).default(8).describe('Files shown to the model (default 8).'),
        maxContextBytes: z.number().int().min(1024).max(16 * 1024 * 1024).default(200 * 1024).describe('Bytes of file content shown to the model (default 204800 = 200 KiB).'),
        maxModelTokens: z.number().int().min(16).max(LIMIT_CEILINGS.answerTokens).default(4096).describe('max_tokens for one completion (default 4096).'),
        maxAgentTurns: z.number().int().min(1).max(500).default(30).describe('Answers the model may give in one job, tool calls and all; past it the job fails AGENT_TURNS_EXHAUSTED (default 30).'),
        maxJobTokens: z
          .number()
          .int()
          .min(1_000)
          .max(LIMIT_CEILINGS.jobTokens)
          .default(500_000)
          .describe('Prompt and completion tokens one job may spend across all its requests; past it the job fails TOKEN_BUDGET_EXHAUSTED (default 500000).'),
        agentTimeout: duration('20m', 'Wall time the agent loop may take in one job (AGENT_TIME_EXHAUSTED past it)'),
        maxReviewComments: z
          .number()
          .int('expected an integer')
          .min(1, 'expected at least 1')
          .max(200, 'expected at most 200')
          .default(30)
          .describe("Comments one review job may post on a merge request; the model's comments past it are dropped and counted as such (default 30, 1..200)."),
        maxAgentTestRuns: z.number().int().min(0).max(100).default(10).describe('Test runs the model may ask for in one job (default 10).'),
        maxChangedFiles: z.number().int().min(1).max(LIMIT_CEILINGS.filesChanged).default(25).describe('Files one change may touch; a larger change fails CHANGE_TOO_LARGE (default 25).'),
        maxChangedLines: z.number().int().min(1).max(LIMIT_CEILINGS.linesChanged).default(2_000).describe('Lines one change may add and remove in all; a larger change fails CHANGE_TOO_LARGE (default 2000).'),
        testTimeout: duration('5m', 'Test command timeout when .airlock.yml sets none'),
        jobTimeout: duration('30m', 'Whole-job timeout'),
        shutdownGrace: boundedDuration('1s', '24h')
          .optional()
          .describe(
            'How long a drain (the first SIGTERM/SIGINT, or a Drain from the control plane) waits for running jobs to finish; past it they are aborted and the worker exits 130 (default limits.jobTimeout + 10s).',
          ),
        resultAckWait: boundedDuration('0ms', '10m')
          .prefault('5s')
          .describe(
            'Once a drain has no job left running, how long the worker waits for the control plane to acknowledge the results it sent before it exits; unacknowledged results stay in the outbox and are sent again after the next start (default 5s).',
          ),
        killGrace: boundedDuration('100ms', '1m')
          .prefault('2s')
          .describe(
            'When a test command is stopped (timeout, cancel, shutdown), how long its process group has between SIGTERM and SIGKILL (default 2s).',
          ),
        abortGrace: boundedDuration('0ms', '5m')
          .prefault('10s')
          .describe(
            'After a forced stop (a second signal, the drain deadline, or a fatal error), how long aborted jobs get to end and put their WORKER_SHUTDOWN result in the outbox before the process exits (default 10s).',
          ),
      })
      .prefault({})
      // The drain deadline follows the job timeout unless set: a drain should not cut short a job the worker allowed to run.
      .transform((limits) => ({ ...limits, shutdownGrace: limits.shutdownGrace ?? limits.jobTimeout + DRAIN_GRACE_AFTER_JOB_TIMEOUT_MS })),
    audit: z
      .strictObject({
        maxSegmentBytes: byteSizeSchema(64 * 1024, 4 * 1024 ** 3, 'expected a size from 64KiB to 4GiB, like 64MiB or 512KiB, or a number of bytes')
          .prefault('64MiB')
          .describe(
            'The egress audit log rotates before its active file would grow past this size: the file becomes the next numbered segment (egress-audit.000001.jsonl, …) and a new active file continues the hash chain. A number of bytes or a size with a binary unit: 512KiB, 64MiB, 1GiB (default 64MiB).',
          ),
        maxSegments: z
          .number()
          .int('expected an integer')
          .min(1, 'expected at least 1')
          .max(10_000, 'expected at most 10000')
          .default(16)
          .describe(
            'Closed segments of the egress audit log kept besides the active file; the oldest beyond this are deleted, each deletion logged locally with its seq range and final hash. Disk use stays under (maxSegments + 1) × maxSegmentBytes (default 16).',
          ),
      })
      .prefault({})
      .describe('Size bounds of the egress audit log in stateDir.'),
    setup: z
      .strictObject({
        mirrors: z
          .array(mirrorAddress)
          .max(64)
          .default([])
          .describe(
            'host:port of the package mirrors (Artifactory, Nexus, Verdaccio, devpi) that setup commands may reach, through a proxy of the worker that refuses every other host, the worker host\'s own loopback services included. Tests never have network (default []: setup has no network at all).',
          ),
        env: z
          .record(
            z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'expected an environment variable name'),
            z.string().max(4096),
          )
          .default({})
          .refine((env) => Object.keys(env).every((name) => !RESERVED_SETUP_ENV.includes(name)), `expected none of the variables the worker sets itself (${RESERVED_SETUP_ENV.join(', ')})`)
          .describe(
            'Variables setup commands get, to point package managers at the mirrors: npm_config_registry, PIP_INDEX_URL, GOPROXY, … Not for secrets: they are visible to the repository\'s own commands (default {}).',
          ),
        timeout: duration('15m', 'Whole-setup timeout when neither the catalog nor .airlock.yml sets one'),
        cacheMaxBytes: byteSizeSchema(1024 ** 2, 4 * 1024 ** 4, 'expected a size from 1MiB to 4096GiB, like 20GiB, or a number of bytes')
          .prefault('20GiB')
          .describe('Disk the dependency cache may use; the least recently used entries are evicted past it (default 20GiB).'),
      })
      .prefault({})
      .describe('Dependency setup: the mirrors it may reach and its cache, under workspaceDir.'),
    records: z
      .strictObject({
        maxAge: duration('720h', 'How long the local record of a job (transcript, patches, logs) is kept'),
        maxBytes: byteSizeSchema(1024 ** 2, 4 * 1024 ** 4, 'expected a size from 1MiB to 4096GiB, like 2GiB, or a number of bytes')
          .prefault('2GiB')
          .describe('Disk the job records may use; the oldest are deleted past it (default 2GiB).'),
      })
      .prefault({})
      .describe("The customer's own record of every job in stateDir/job-records: never sent upstream; read it with `airlock-worker jobs list|show`."),
    delivery: z
      .strictObject({
        outboxDir: z
          .string()
          .min(1, 'expected a directory path')
          .optional()
          .describe(
            'Where changes are kept as patch bundles with their record: every change of a repository without a forge, and every change a push or a forge could not take (default stateDir/delivery-outbox). Read it with `airlock-worker outbox list`.',
          ),
        maxRetries: z.number().int('expected an integer').min(0, 'expected at least 0').max(10, 'expected at most 10').default(3).describe('Retries of a forge request that failed with a network error, 5xx or a rate limit (default 3).'),
        retryBudget: boundedDuration('0ms', '30m')
          .prefault('2m')
          .describe("How long one delivery may spend waiting between those retries, a forge's Retry-After included; past it the job fails and the change stays in the outbox (default 2m)."),
        watch: z
          .strictObject({
            interval: boundedDuration('1s', '24h').prefault('10m').describe('How often each watched merge request is read from its forge (default 10m, from 1s to 24h).'),
            revertWindow: boundedDuration('1m', '8760h')
              .prefault('336h')
              .describe('After a merge, how long a revert on the target branch still counts; the outcome is final after it (default 336h, 14 days).'),
            maxAge: boundedDuration('1h', '8760h')
              .prefault('720h')
              .describe('How long a request still open is watched, and how long an ended watch is kept (default 720h, 30 days).'),
          })
          .prefault({})
          .describe('What became of each merge request the worker opened: states, counts and durations sent upstream at the metadata level in force, never a name or a link.'),
      })
      .prefault({})
      .describe('How changes reach the customer: the delivery outbox, the retries of forge requests, and the watch of what became of each merge request.'),
    health: z
      .strictObject({
        host: z.string().min(1).default('127.0.0.1').describe('Health listener address (default 127.0.0.1).'),
        port: z.number().int().min(0).max(65535).default(0).describe('Health listener port; 0 picks a free one (default 0).'),
      })
      .prefault({}),
    secrets: workerSecretsSchema.optional(),
  })
  .superRefine((config, ctx) => {
    const { address, insecure, tls: tlsConfig, proxy, proxyAuthEnv } = config.controlPlane;
    if (proxyAuthEnv !== undefined && proxy === undefined) {
      ctx.addIssue({ code: 'custom', path: ['controlPlane', 'proxyAuthEnv'], message: 'expected controlPlane.proxy to be set too (proxyAuthEnv only names the proxy credentials)' });
    }
    // Through a proxy, "loopback" is the proxy's loopback and the path is a network: TLS only.
    if (proxy !== undefined && insecure) {
      ctx.addIssue({ code: 'custom', path: ['controlPlane', 'proxy'], message: 'expected controlPlane.tls when going through a proxy (plain text through a proxy would cross the network in the clear)' });
    }
    if (insecure && tlsConfig) {
      ctx.addIssue({ code: 'custom', path: ['controlPlane', 'insecure'], message: 'expected insecure to be left out when controlPlane.tls is set (exactly one of tls or insecure: true)' });
    } else if (insecure && !isLoopbackAddress(address)) {
      ctx.addIssue({
        code: 'custom',
        path: ['controlPlane', 'insecure'],
        message: 'expected controlPlane.tls to be configured instead: plain-text gRPC (insecure: true) is allowed only to a loopback address (127.0.0.0/8, ::1, localhost)',
      });
    } else if (!insecure && !tlsConfig) {
      ctx.addIssue({ code: 'custom', path: ['controlPlane', 'tls'], message: 'expected controlPlane.tls ({caFile}), or insecure: true for a loopback address' });
    }
    const labels = new Set<string>();
    config.labels.forEach((label, index) => {
      if (labels.has(label)) ctx.addIssue({ code: 'custom', path: ['labels', index], message: 'expected a unique label (this one appears twice)' });
      labels.add(label);
    });
    const seen = new Set<string>();
    config.repositories.forEach((repo, index) => {
      if (seen.has(repo.alias)) ctx.addIssue({ code: 'custom', path: ['repositories', index, 'alias'], message: 'expected a unique alias (this one appears twice)' });
      seen.add(repo.alias);
      if (repo.git !== undefined) {
        // git:// has no authentication, ssh its own keys: a token there would go nowhere, or the wrong way.
        const problem = gitCredentialsUrlProblem(repo.cloneUrl);
        if (problem !== undefined) ctx.addIssue({ code: 'custom', path: ['repositories', index, 'git'], message: `expected ${problem}` });
        if (repo.pushUrl !== undefined && /^https?:\/\/[^/]*@/i.test(repo.pushUrl)) {
          ctx.addIssue({ code: 'custom', path: ['repositories', index, 'pushUrl'], message: 'expected a pushUrl without user@ (the credentials are in git)' });
        }
      }
      if (repo.forge !== undefined && repo.pushUrl === undefined) {
        ctx.addIssue({ code: 'custom', path: ['repositories', index, 'pushUrl'], message: 'expected a pushUrl: a forge request needs the branch pushed first' });
      }
      // The worker's own output branches hold what a model wrote: they are never a base.
      repo.baseRefs.forEach((baseRef, refIndex) => {
        if (baseRef.toLowerCase().startsWith(repo.branchPrefix.toLowerCase())) {
          ctx.addIssue({ code: 'custom', path: ['repositories', index, 'baseRefs', refIndex], message: 'expected a branch outside branchPrefix (the worker never starts from its own branches)' });
        }
      });
    });
    // A non-local endpoint would send prompts (source code) out of the customer's network.
    config.inference.endpoints.forEach((entry, index) => {
      if (!isLocalInferenceUrl(entry.baseUrl, config.inference.allowedHosts)) {
        ctx.addIssue({ code: 'custom', path: ['inference', 'endpoints', index, 'baseUrl'], message: 'expected a local inference URL (loopback, private address, or a host in inference.allowedHosts)' });
      }
      // The proxy sees every prompt in the clear (plain HTTP) or at least where they go: it must be as local as the server.
      if (entry.proxy !== undefined && !isLocalInferenceUrl(entry.proxy, config.inference.allowedHosts)) {
        ctx.addIssue({ code: 'custom', path: ['inference', 'endpoints', index, 'proxy'], message: 'expected a local proxy URL (loopback, private address, or a host in inference.allowedHosts)' });
      }
    });
  });

/** Why `git` credentials cannot go with this cloneUrl, as what is expected instead; undefined when they can. */
function gitCredentialsUrlProblem(cloneUrl: string): string | undefined {
  if (!/^https?:\/\//i.test(cloneUrl)) return 'an http(s) cloneUrl: git credentials go only over HTTP(S) (for ssh, use the host\'s SSH keys; git:// has no authentication)';
  if (/^https?:\/\/[^/]*@/i.test(cloneUrl)) return 'a cloneUrl without user@ (the credentials are in git)';
  return undefined;
}

/** The worker config after validation, with durations in milliseconds and paths as written. */
export type WorkerConfigParsed = z.output<typeof workerConfigSchema>;

/** The JSON Schema of the YAML file, for editors and for customers' own checks. */
export function workerConfigJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(workerConfigSchema, { io: 'input' }) as Record<string, unknown>;
}
