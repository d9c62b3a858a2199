import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_AUDIT_ROTATION } from '../audit/egress-audit.log';
import { DEFAULT_SANDBOX_LIMITS } from '../jobs/sandbox/sandbox-limiter';
import { WorkerConfigInvalidError } from './worker-config-invalid.error';
import { loadWorkerConfig } from './worker-config.loader';
import { DRAIN_GRACE_AFTER_JOB_TIMEOUT_MS, workerConfigJsonSchema } from './worker-config.schema';

const fixtures = join(__dirname, 'fixtures');
const env = { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' };

/** Loads a config file that must be refused, and returns the refusal. */
function refusalOf(file: string): WorkerConfigInvalidError {
  try {
    loadWorkerConfig(file, env);
  } catch (error) {
    if (error instanceof WorkerConfigInvalidError) return error;
    throw error;
  }
  throw new Error(`${file} was accepted; expected a WorkerConfigInvalidError`);
}

describe('loadWorkerConfig', () => {
  it.each(readdirSync(join(fixtures, 'ok')))('accepts ok/%s', (name) => {
    const config = loadWorkerConfig(join(fixtures, 'ok', name), env);
    expect(config.stateDir.startsWith('/')).toBe(true);
    expect(config.inference.endpoints.length).toBeGreaterThan(0);
  });

  it('lists every secret file it names, absolute and once, for the sandbox to hide', () => {
    expect(loadWorkerConfig(join(fixtures, 'ok', 'trackers.yml'), env).secretFiles).toEqual([join(fixtures, 'secrets', 'tracker-token')]);
    expect(loadWorkerConfig(join(fixtures, 'ok', 'minimal.yml'), env).secretFiles).toEqual([]);
  });

  it('applies defaults, converts durations and resolves relative paths against the file', () => {
    const config = loadWorkerConfig(join(fixtures, 'ok', 'minimal.yml'), env);
    expect(config.stateDir).toBe(join(fixtures, 'ok', 'state'));
    expect(config.concurrency).toBe(1);
    expect(config.allowNoop).toBe(false);
    expect(config.jobKinds).toEqual(['fix', 'review', 'index']);
    expect(config.limits).toEqual({
      maxContextFiles: 8,
      maxContextBytes: 200 * 1024,
      maxModelTokens: 4096,
      maxAgentTurns: 30,
      maxJobTokens: 500_000,
      agentTimeout: 1_200_000,
      maxAgentTestRuns: 10,
      maxReviewComments: 30,
      maxChangedFiles: 25,
      maxChangedLines: 2_000,
      testTimeout: 300_000,
      jobTimeout: 1_800_000,
      shutdownGrace: 1_810_000,
      resultAckWait: 5_000,
      killGrace: 2_000,
      abortGrace: 10_000,
    });
    expect(config.inference.endpoints[0]?.timeoutMs).toBe(120_000);
    expect(config.inference.endpoints[0]?.toolCalling).toBe('auto');
    expect(config.health).toEqual({ host: '127.0.0.1', port: 0 });
    expect(config.sandbox).toEqual({ mode: 'bwrap', env: {}, limits: DEFAULT_SANDBOX_LIMITS });
  });

  it('reads sandbox.limits, and refuses a bad one naming the key and the range it expects', () => {
    expect(loadWorkerConfig(join(fixtures, 'ok', 'full.yml'), env).sandbox.limits).toEqual({ cpuSeconds: 600, memoryMiB: 2048, processes: 512, diskMiB: 4096 });
    expect(refusalOf(join(fixtures, 'not-ok', 'sandbox-limits-memory-too-small.yml')).problems).toEqual([
      { path: 'sandbox.limits.memoryMiB', expected: 'a whole number of MiB from 16 to 1048576' },
    ]);
    expect(refusalOf(join(fixtures, 'not-ok', 'sandbox-limits-unknown-key.yml')).problems.map((problem) => problem.path)).toEqual(['sandbox.limits']);
  });

  it('bounds the egress audit log by default with the values the log itself defaults to (64 MiB segments, 16 kept)', () => {
    const config = loadWorkerConfig(join(fixtures, 'ok', 'minimal.yml'), env);
    expect(config.audit).toEqual({ maxSegmentBytes: 64 * 1024 * 1024, maxSegments: 16 });
    expect(config.audit).toEqual(DEFAULT_AUDIT_ROTATION);
  });

  it('reads audit sizes with binary units or as bytes', () => {
    expect(loadWorkerConfig(join(fixtures, 'ok', 'full.yml'), env).audit).toEqual({ maxSegmentBytes: 16 * 1024 * 1024, maxSegments: 8 });
    expect(loadWorkerConfig(join(fixtures, 'ok', 'audit-bytes.yml'), env).audit).toEqual({ maxSegmentBytes: 1_048_576, maxSegments: 1 });
    expect(() => loadWorkerConfig(join(fixtures, 'not-ok', 'audit-segment-bytes-decimal-unit.yml'), env)).toThrow(
      /audit\.maxSegmentBytes: a size from 64KiB to 4GiB, like 64MiB or 512KiB, or a number of bytes/,
    );
  });

  it('reads the shutdown timings as milliseconds, and derives the drain deadline from the job timeout when it is not set', () => {
    expect(loadWorkerConfig(join(fixtures, 'ok', 'shutdown-limits.yml'), env).limits).toMatchObject({ jobTimeout: 1_200_000, shutdownGrace: 120_000, resultAckWait: 1_500, killGrace: 500, abortGrace: 0 });
    const file = join(tmpdir(), `airlock-config-shutdown-${process.pid}.yml`);
    writeFileSync(file, `${readFileSync(join(fixtures, 'ok', 'minimal.yml'), 'utf8')}\nlimits: { jobTimeout: 1h }\n`);
    expect(loadWorkerConfig(file, env).limits.shutdownGrace).toBe(3_600_000 + DRAIN_GRACE_AFTER_JOB_TIMEOUT_MS);
    expect(() => loadWorkerConfig(join(fixtures, 'not-ok', 'shutdown-grace-too-short.yml'), env)).toThrow(/limits\.shutdownGrace: a duration from 1s to 24h/);
  });

  it("defaults a repository's base refs to main and master", () => {
    const file = join(tmpdir(), `airlock-config-baserefs-${process.pid}.yml`);
    writeFileSync(file, `${readFileSync(join(fixtures, 'ok', 'minimal.yml'), 'utf8')}\nrepositories:\n  - { alias: demo, cloneUrl: ./a.git, pushUrl: ./a.git }\n`);
    expect(loadWorkerConfig(file, env).repositories[0]?.baseRefs).toEqual(['main', 'master']);
  });

  it('reads the job kinds the worker runs besides noop', () => {
    expect(loadWorkerConfig(join(fixtures, 'ok', 'full.yml'), env)).toMatchObject({ allowNoop: true, jobKinds: ['fix', 'review'] });
    expect(refusalOf(join(fixtures, 'not-ok', 'job-kinds-unknown.yml')).problems).toEqual([{ path: 'jobKinds[1]', expected: 'one of fix, review, index' }]);
  });

  it('reads the pools and the local policy, with its rules parsed as a policy document parses them', () => {
    expect(loadWorkerConfig(join(fixtures, 'ok', 'minimal.yml'), env)).toMatchObject({ labels: [], policy: { maxFixRetries: 2 } });
    expect(loadWorkerConfig(join(fixtures, 'ok', 'minimal.yml'), env).policy.rules).toBeUndefined();
    const config = loadWorkerConfig(join(fixtures, 'ok', 'full.yml'), env);
    expect(config.labels).toEqual(['gpu', 'eu-west.1']);
    expect(config.policy).toEqual({
      maxFixRetries: 1,
      rules: {
        'protected-paths': { paths: ['infra/**'], level: 'mandatory' },
        'max-files-changed': { max: 10, level: 'mandatory' },
        'inference-time-budget': { max: 900_000 },
        'metadata-level': { report: 'standard', buckets: true },
      },
    });
  });

  it('names the path of a bad local policy rule and what it expects', () => {
    expect(refusalOf(join(fixtures, 'not-ok', 'policy-rule-bad-value.yml')).problems).toEqual([
      { path: 'policy.rules.max-files-changed.max', expected: 'at least 1' },
    ]);
    expect(refusalOf(join(fixtures, 'not-ok', 'label-duplicate.yml')).problems).toEqual([
      { path: 'labels[2]', expected: 'a unique label (this one appears twice)' },
    ]);
    expect(refusalOf(join(fixtures, 'not-ok', 'labels-too-many.yml')).problems).toEqual([
      { path: 'labels', expected: 'at most 15 labels (a worker belongs to at most 16 pools; one is kept for the pool its enrollment token names)' },
    ]);
  });

  it('keeps URLs and resolves local repository paths', () => {
    const config = loadWorkerConfig(join(fixtures, 'ok', 'full.yml'), env);
    expect(config.repositories[0]?.cloneUrl).toBe('ssh://git@git.internal/team/payments.git');
    expect(config.repositories[0]?.branchPrefix).toBe('bots/airlock/');
    expect(config.repositories[0]?.baseRefs).toEqual(['main', 'release/*']);
    expect(config.limits.testTimeout).toBe(120_000);
  });

  it('reads the trackers with their defaults, token files resolved against the file and private CA read; none by default', () => {
    expect(loadWorkerConfig(join(fixtures, 'ok', 'minimal.yml'), env).trackers).toEqual([]);
    const [jira, gitlab, ...others] = loadWorkerConfig(join(fixtures, 'ok', 'trackers.yml'), env).trackers;
    expect(others).toEqual([]);
    expect(jira).toEqual({
      name: 'jira',
      type: 'jira',
      apiUrl: 'https://jira.corp.example/jira',
      token: { file: join(fixtures, 'secrets', 'tracker-token') },
      caPem: readFileSync(join(fixtures, 'certs', 'ca.pem')),
      timeoutMs: 30_000,
      comment: true,
    });
    expect(gitlab).toEqual({
      name: 'ops',
      type: 'gitlab',
      apiUrl: 'https://gitlab.corp.example/api/v4',
      project: 'platform/ops',
      token: { file: join(fixtures, 'secrets', 'tracker-token') },
      caPem: undefined,
      timeoutMs: 10_000,
      comment: false,
    });
  });

  it("takes a tracker's token from the variable named, and never echoes the token or a URL's password", () => {
    const file = join(tmpdir(), `airlock-config-tracker-env-${process.pid}.yml`);
    writeFileSync(file, `${readFileSync(join(fixtures, 'ok', 'minimal.yml'), 'utf8')}\ntrackers:\n  - { name: jira, type: jira, apiUrl: 'https://jira.corp.example', tokenEnv: AIRLOCK_JIRA_TOKEN }\n`);
    expect(loadWorkerConfig(file, { ...env, AIRLOCK_JIRA_TOKEN: 'jira-pat-never-echoed' }).trackers[0]?.token).toEqual({ env: 'AIRLOCK_JIRA_TOKEN', value: 'jira-pat-never-echoed' });
    expect(refusalOf(file).problems).toEqual([{ path: 'trackers[0].tokenEnv', expected: 'the environment variable AIRLOCK_JIRA_TOKEN to be set' }]);
    expect(refusalOf(join(fixtures, 'not-ok', 'tracker-credentials-in-url.yml')).message).not.toContain('sk-secret-value-never-echoed');
  });

  it.each(readdirSync(join(fixtures, 'not-ok')))('refuses not-ok/%s naming the field', (name) => {
    const file = join(fixtures, 'not-ok', name);
    const expectedPath = /^# expect: (.+)$/m.exec(readFileSync(file, 'utf8'))?.[1];
    const error = refusalOf(file);
    expect(error.problems.map((p) => p.path)).toContain(expectedPath);
    expect(error.message).not.toContain('sk-secret-value-never-echoed');
  });

  it('reads delivery.watch in milliseconds: every 10 minutes, a 14-day revert window and a 30-day age limit unless told', () => {
    expect(loadWorkerConfig(join(fixtures, 'ok', 'minimal.yml'), env).delivery.watch).toEqual({ intervalMs: 600_000, revertWindowMs: 336 * 3_600_000, maxAgeMs: 720 * 3_600_000 });
    expect(loadWorkerConfig(join(fixtures, 'ok', 'delivery-watch.yml'), env).delivery.watch).toEqual({ intervalMs: 30_000, revertWindowMs: 72 * 3_600_000, maxAgeMs: 240 * 3_600_000 });
  });

  it('resolves controlPlane.tls.caFile against the file and reads the CA', () => {
    const config = loadWorkerConfig(join(fixtures, 'ok', 'full.yml'), env);
    expect(config.controlPlane.tls?.caFile).toBe(join(fixtures, 'certs', 'ca.pem'));
    expect(config.controlPlane.tls?.caPem.toString()).toBe(readFileSync(join(fixtures, 'certs', 'ca.pem'), 'utf8'));
    expect(config.controlPlane.tls?.serverName).toBe('airlock.example.com');
    expect(loadWorkerConfig(join(fixtures, 'ok', 'minimal.yml'), env).controlPlane.tls).toBeUndefined();
  });

  it.each([
    ['10.0.0.5:50051', false],
    ['airlock.example.com:443', false],
    ['localhost.example.com:443', false],
    ['127.0.0.1.example.com:443', false],
    ['[::ffff:127.0.0.1]:443', false],
    ['[2001:db8::1]:443', false],
    ['0.0.0.0:50051', false],
    ['127.0.0.1:50051', true],
    ['127.12.0.9:50051', true],
    ['localhost:50051', true],
    ['LOCALHOST:50051', true],
    ['[::1]:50051', true],
  ])('insecure: true to %s is accepted: %s', (address, accepted) => {
    const file = join(tmpdir(), `airlock-config-insecure-${process.pid}.yml`);
    writeFileSync(file, readFileSync(join(fixtures, 'ok', 'minimal.yml'), 'utf8').replace('address: 127.0.0.1:7443', `address: '${address}'`));
    if (accepted) {
      expect(loadWorkerConfig(file, env).controlPlane).toMatchObject({ address, tls: undefined });
      return;
    }
    expect(refusalOf(file).problems).toEqual([
      { path: 'controlPlane.insecure', expected: expect.stringContaining('controlPlane.tls to be configured') as unknown },
    ]);
  });

  it('refuses tls together with insecure: true, even to loopback', () => {
    expect(() => loadWorkerConfig(join(fixtures, 'not-ok', 'tls-and-insecure.yml'), env)).toThrow(/controlPlane\.insecure: .*exactly one of tls or insecure/);
  });

  it('names a missing API key variable without its value', () => {
    const file = join(fixtures, 'ok', 'minimal.yml');
    const text = readFileSync(file, 'utf8').replace('model: qwen2.5-coder', 'model: qwen2.5-coder\n      apiKeyEnv: AIRLOCK_TEST_KEY');
    const temp = join(tmpdir(), `airlock-config-${process.pid}.yml`);
    writeFileSync(temp, text);
    expect(() => loadWorkerConfig(temp, env)).toThrow(/inference\.endpoints\[0\]\.apiKeyEnv/);
    expect(loadWorkerConfig(temp, { ...env, AIRLOCK_TEST_KEY: 'k' }).inference.endpoints[0]?.apiKey).toBe('k');
  });

  it('reads controlPlane.proxy, and proxy credentials only from the variable named by proxyAuthEnv', () => {
    expect(loadWorkerConfig(join(fixtures, 'ok', 'minimal.yml'), env).controlPlane.proxy).toBeUndefined();
    expect(loadWorkerConfig(join(fixtures, 'ok', 'full.yml'), env).controlPlane.proxy).toEqual({ url: 'http://proxy.corp.example:3128', credentials: undefined });
    const file = join(fixtures, 'not-ok', 'proxy-auth-env-unset.yml');
    const loaded = loadWorkerConfig(file, { ...env, AIRLOCK_TEST_PROXY_AUTH_UNSET: 'bob:s3cr:et' });
    expect(loaded.controlPlane.proxy).toEqual({ url: 'http://proxy.corp.example:3128', credentials: 'bob:s3cr:et' });
    // Set but not user:password: named, value not echoed.
    expect(() => loadWorkerConfig(file, { ...env, AIRLOCK_TEST_PROXY_AUTH_UNSET: 'sk-secret-value-never-echoed' })).toThrow(/controlPlane\.proxyAuthEnv: .*AIRLOCK_TEST_PROXY_AUTH_UNSET to be set to user:password/);
    expect(() => loadWorkerConfig(file, { ...env, AIRLOCK_TEST_PROXY_AUTH_UNSET: 'sk-secret-value-never-echoed' })).not.toThrow(/sk-secret-value-never-echoed/);
  });

  it.each(['ftp://proxy:3128', 'http://proxy:3128/path', 'http://proxy:3128?x=1', 'proxy:3128', 'http://u:p@proxy:3128'])('refuses controlPlane.proxy %s naming the field', (proxy) => {
    const file = join(tmpdir(), `airlock-config-proxy-${process.pid}.yml`);
    writeFileSync(file, readFileSync(join(fixtures, 'ok', 'full.yml'), 'utf8').replace('http://proxy.corp.example:3128', `'${proxy}'`));
    expect(() => loadWorkerConfig(file, env)).toThrow(/controlPlane\.proxy: an HTTP CONNECT proxy URL http:\/\/host:port/);
  });

  /** minimal.yml with `fields` (YAML lines) added to its one inference endpoint. */
  function withEndpointFields(...fields: string[]): string {
    const file = join(tmpdir(), `airlock-config-endpoint-${process.pid}.yml`);
    const text = readFileSync(join(fixtures, 'ok', 'minimal.yml'), 'utf8').replace('model: qwen2.5-coder', ['model: qwen2.5-coder', ...fields].join('\n      '));
    writeFileSync(file, text);
    return file;
  }

  it("reads an endpoint's idleTimeout (default 60s), proxy (default direct) and contextWindow (default: ask the server)", () => {
    expect(loadWorkerConfig(join(fixtures, 'ok', 'minimal.yml'), env).inference.endpoints[0]).toMatchObject({ idleTimeoutMs: 60_000, proxy: undefined, contextWindow: undefined });
    const file = withEndpointFields('idleTimeout: 90s', "proxy: 'http://10.1.2.3:3128/'", 'contextWindow: 32768');
    expect(loadWorkerConfig(file, env).inference.endpoints[0]).toMatchObject({ idleTimeoutMs: 90_000, proxy: 'http://10.1.2.3:3128', contextWindow: 32_768 });
  });

  it.each([
    ['idleTimeout: 500ms', /inference\.endpoints\[0\]\.idleTimeout: a duration from 1s to 10m/],
    ['idleTimeout: 11m', /inference\.endpoints\[0\]\.idleTimeout: a duration from 1s to 10m/],
    ["proxy: 'http://u:p@10.1.2.3:3128'", /inference\.endpoints\[0\]\.proxy: an HTTP proxy URL http:\/\/host:port/],
    ["proxy: 'https://10.1.2.3:3128'", /inference\.endpoints\[0\]\.proxy: an HTTP proxy URL http:\/\/host:port/],
    // Every prompt passes the proxy: it must be as local as the server.
    ["proxy: 'http://proxy.example.com:3128'", /inference\.endpoints\[0\]\.proxy: a local proxy URL/],
    ['contextWindow: 100', /inference\.endpoints\[0\]\.contextWindow: at least 256 tokens/],
  ])('refuses an endpoint with %s, naming the field', (field, message) => {
    expect(() => loadWorkerConfig(withEndpointFields(field), env)).toThrow(message);
  });
});

describe('worker-config.schema.json', () => {
  it('is up to date with the zod schema (regenerate: npm run worker -- config-schema > apps/worker/worker-config.schema.json)', () => {
    const committed = JSON.parse(readFileSync(join(__dirname, '..', '..', 'worker-config.schema.json'), 'utf8')) as unknown;
    expect(committed).toEqual(workerConfigJsonSchema());
  });
});
