/**
 * The systemd units, checked with the real tools of systemd 252: `systemd-analyze verify`
 * (syntax, values, the program ExecStart names) and `security --offline` (the exposure
 * score, and systemd's own reading of each hardening line) against a throwaway root that
 * holds the host's unit files and ours, never the real /etc; `systemd-sysusers` and
 * `systemd-tmpfiles` against a throwaway root too. Then the settings the units promise, each
 * also shown to catch a copy that breaks it, and the worker's own bubblewrap sandbox run
 * under the worker unit's privileges (no_new_privs, no capabilities, an unprivileged user).
 * docs/operations/systemd.md says what is and is not proven here.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { accessSync, constants, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
// The worker's Node flags are the ones the build writes into its bundle: read from the build
// script itself (a deployment-file check reaching into the build is the point, as in prometheus/).
// eslint-disable-next-line @nx/enforce-module-boundaries
import { WORKER_NODE_FLAGS } from '../../scripts/build-apps';
import {
  assignments,
  environmentFileNames,
  isTrue,
  lastValue,
  listValue,
  overallExposure,
  parseUnitFile,
  type SecurityCheck,
  sysusersUsers,
  timeSpanSeconds,
  tmpfilesDirectories,
  type UnitFile,
  verifyFindings,
} from './unit-checks';

const UNIT_DIR = __dirname;
const REPO_ROOT = path.resolve(UNIT_DIR, '..', '..');

const WORKER_UNIT = 'airlock-worker.service';
const CONTROL_PLANE_UNIT = 'airlock-control-plane.service';

/**
 * The highest overall exposure (systemd-analyze security, 0 = locked down, 10 = none) each
 * unit may score: what was measured (control plane 1.1, worker 3.0) plus 0.1, so that
 * dropping any hardening line of weight 0.2 or more fails. The worker scores higher because
 * bwrap needs user namespaces, mount(2) and netlink, and its cgroup delegation.
 */
const MAX_EXPOSURE: Readonly<Record<string, number>> = { [CONTROL_PLANE_UNIT]: 1.2, [WORKER_UNIT]: 3.1 };

/**
 * What each unit starts: `/usr/bin/node <the bundle's Node flags> /opt/airlock/<app>/main.js …`
 * (the deployment conventions; the flags are the ones scripts/build-apps.ts writes into the bundle).
 */
const EXEC_START: Readonly<Record<string, string>> = {
  [CONTROL_PLANE_UNIT]: '/usr/bin/node /opt/airlock/control-plane/main.js',
  [WORKER_UNIT]: `/usr/bin/node ${WORKER_NODE_FLAGS.join(' ')} /opt/airlock/worker/main.js run --config /etc/airlock/worker.yml`,
};

const SERVICE_UNITS = [CONTROL_PLANE_UNIT, WORKER_UNIT] as const;

function unitText(name: string): string {
  return readFileSync(path.join(UNIT_DIR, name), 'utf8');
}

function unitOf(name: string): UnitFile {
  return parseUnitFile(unitText(name));
}

/** The absolute path of `program` on PATH, or undefined when it is not installed. */
function which(program: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '/usr/bin:/bin').split(path.delimiter)) {
    const candidate = path.join(dir, program);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // Not in this directory.
    }
  }
  return undefined;
}

function run(command: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeout?: number } = {}): SpawnSyncReturns<string> {
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024, timeout: 30_000, ...options });
  if (result.error) throw result.error;
  return result;
}

/**
 * A test that needs `programs`. scripts/ensure-system-packages.sh installs them (Debian's
 * systemd), so one that is missing fails the test, naming it, rather than skipping the check.
 */
function itWith(programs: readonly string[], title: string, body: () => void, timeoutMs?: number): void {
  it(
    title,
    () => {
      const missing = programs.filter((program) => which(program) === undefined);
      if (missing.length > 0) throw new Error(`${missing.join(', ')} not installed: run scripts/ensure-system-packages.sh as root (Debian package systemd)`);
      body();
    },
    timeoutMs,
  );
}

/** Where the host keeps its packaged units: systemd-analyze resolves our units' dependencies (sysinit.target, network-online.target, …) against them. */
function hostUnitDirectory(): string {
  const found = ['/usr/lib/systemd/system', '/lib/systemd/system'].find((dir) => existsSync(path.join(dir, 'sysinit.target')));
  if (found === undefined) throw new Error('no systemd unit directory with sysinit.target on this host');
  return realpathSync(found);
}

/**
 * A throwaway root for `systemd-analyze --root`: the host's packaged units (copied, links
 * kept as links; `lib` -> `usr/lib` so that absolute links into /lib resolve inside it), our
 * units in etc/systemd/system, and an executable usr/bin/node. verify checks only that
 * ExecStart's program exists and is executable, so a two-line script stands in for node;
 * node itself is never run by it, and main.js is not looked at.
 */
function makeSystemdRoot(): string {
  const root = mkdtempSync(path.join(tmpdir(), 'airlock-systemd-root-'));
  cpSync(hostUnitDirectory(), path.join(root, 'usr/lib/systemd/system'), { recursive: true, verbatimSymlinks: true });
  symlinkSync('usr/lib', path.join(root, 'lib'));
  mkdirSync(path.join(root, 'etc/systemd/system'), { recursive: true });
  mkdirSync(path.join(root, 'usr/bin'), { recursive: true });
  writeFileSync(path.join(root, 'usr/bin/node'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  for (const name of SERVICE_UNITS) writeFileSync(path.join(root, 'etc/systemd/system', name), unitText(name));
  return root;
}

interface VerifyResult {
  readonly status: number | null;
  /** Lines about the unit checked: any one is a problem, also when systemd-analyze exits 0 (it does for an unknown key or a bad value, which it ignores). */
  readonly findings: readonly string[];
  readonly output: string;
}

/** `systemd-analyze verify` of `name` in `root`, its file replaced by `text` when given. */
function verify(root: string, name: string, text?: string): VerifyResult {
  if (text !== undefined) writeFileSync(path.join(root, 'etc/systemd/system', name), text);
  // --man=no: no Documentation= to check; --generators=no: none would add anything to a root without an fstab.
  const result = run('systemd-analyze', ['verify', `--root=${root}`, '--man=no', '--generators=no', name]);
  const output = `${result.stdout}${result.stderr}`;
  return { status: result.status, findings: verifyFindings(output, name), output };
}

function security(root: string, name: string, json: boolean): SpawnSyncReturns<string> {
  return run('systemd-analyze', ['security', '--offline=yes', `--root=${root}`, ...(json ? ['--json=short'] : []), name]);
}

describe('systemd units, checked by systemd-analyze', () => {
  let root: string;

  beforeAll(() => {
    if (which('systemd-analyze') !== undefined) root = makeSystemdRoot();
  });

  afterAll(() => {
    if (root !== undefined) rmSync(root, { recursive: true, force: true });
  });

  afterEach(() => {
    // A test may have replaced a unit by a broken copy; the next starts from ours.
    if (root !== undefined) for (const name of SERVICE_UNITS) writeFileSync(path.join(root, 'etc/systemd/system', name), unitText(name));
  });

  for (const name of SERVICE_UNITS) {
    itWith(['systemd-analyze'], `verify: nothing to say about ${name}`, () => {
      const result = verify(root, name);
      expect(result.findings).toEqual([]);
      expect(result.status).toBe(0);
    });

    itWith(['systemd-analyze'], `security: ${name} scores at most ${MAX_EXPOSURE[name]}`, () => {
      const result = security(root, name, false);
      const exposure = overallExposure(result.stdout, name);
      console.log(`${name}: overall exposure ${exposure} (at most ${MAX_EXPOSURE[name]})`);
      expect(exposure).toBeDefined();
      expect(exposure).toBeLessThanOrEqual(MAX_EXPOSURE[name] as number);
    });

    itWith(['systemd-analyze'], `security: systemd reads ${name} as hardened (no_new_privs, strict read-only OS, no homes, private /tmp, no capability, not root)`, () => {
      const checks = JSON.parse(security(root, name, true).stdout) as SecurityCheck[];
      const byField = new Map(checks.map((check) => [check.json_field, check]));
      for (const field of ['NoNewPrivileges', 'ProtectSystem', 'ProtectHome', 'PrivateTmp', 'UserOrDynamicUser', 'RestrictSUIDSGID', 'LockPersonality', 'RestrictRealtime']) {
        expect({ field, set: byField.get(field)?.set }).toEqual({ field, set: true });
      }
      expect(byField.get('ProtectSystem')?.description).toMatch(/strict/);
      const capabilities = checks.filter((check) => check.json_field.startsWith('CapabilityBoundingSet_'));
      expect(capabilities.length).toBeGreaterThan(20);
      expect(capabilities.filter((check) => !check.set).map((check) => check.name)).toEqual([]);
    });
  }

  itWith(['systemd-analyze'], 'verify catches an unknown directive, a bad value and a missing program in a broken copy', () => {
    const text = unitText(WORKER_UNIT);
    const broken = (pattern: RegExp, replacement: string) => {
      const copy = text.replace(pattern, replacement);
      expect(copy).not.toBe(text);
      return copy;
    };
    const unknownKey = verify(root, WORKER_UNIT, broken(/^NoNewPrivileges=yes$/m, 'NoNewPrivilege=yes'));
    expect(unknownKey.findings.join('\n')).toMatch(/Unknown key 'NoNewPrivilege'/);
    // systemd ignores the line and exits 0 all the same: only the output tells.
    expect(unknownKey.status).toBe(0);
    const badValue = verify(root, WORKER_UNIT, broken(/^ProtectSystem=strict$/m, 'ProtectSystem=stricter'));
    expect(badValue.findings.join('\n')).toMatch(/Failed to parse protect system value/);
    const badTime = verify(root, WORKER_UNIT, broken(/^TimeoutStopSec=.*$/m, 'TimeoutStopSec=32 minutes or so'));
    expect(badTime.findings.join('\n')).toMatch(/Failed to parse/);
    const missingProgram = verify(root, WORKER_UNIT, broken(/^ExecStart=\/usr\/bin\/node/m, 'ExecStart=/usr/local/bin/node'));
    expect(missingProgram.findings.join('\n')).toMatch(/\/usr\/local\/bin\/node is not executable/);
    expect(missingProgram.status).not.toBe(0);
  });

  itWith(['systemd-analyze'], 'security fails the threshold when a hardening line is dropped', () => {
    const weakened = unitText(CONTROL_PLANE_UNIT).replace(/^PrivateUsers=yes\n/m, '').replace(/^ProtectKernelTunables=yes\n/m, '');
    expect(weakened.length).toBeLessThan(unitText(CONTROL_PLANE_UNIT).length);
    writeFileSync(path.join(root, 'etc/systemd/system', CONTROL_PLANE_UNIT), weakened);
    const exposure = overallExposure(security(root, CONTROL_PLANE_UNIT, false).stdout, CONTROL_PLANE_UNIT);
    expect(exposure).toBeGreaterThan(MAX_EXPOSURE[CONTROL_PLANE_UNIT] as number);
  });
});

describe('what the units promise', () => {
  for (const name of SERVICE_UNITS) {
    it(`${name}: runs node as airlock, simple, restarts on failure, stops with SIGTERM to node first`, () => {
      const unit = unitOf(name);
      expect(lastValue(unit, 'Service', 'ExecStart')).toBe(EXEC_START[name]);
      expect(lastValue(unit, 'Service', 'User')).toBe('airlock');
      expect(lastValue(unit, 'Service', 'Group')).toBe('airlock');
      // Neither app calls sd_notify: Type=notify would time out waiting for READY=1.
      expect(lastValue(unit, 'Service', 'Type')).toBe('simple');
      expect(lastValue(unit, 'Service', 'Restart')).toBe('on-failure');
      expect(timeSpanSeconds(lastValue(unit, 'Service', 'RestartSec') ?? '')).toBeGreaterThanOrEqual(1);
      expect(Number(lastValue(unit, 'Unit', 'StartLimitBurst'))).toBeGreaterThan(0);
      expect(timeSpanSeconds(lastValue(unit, 'Unit', 'StartLimitIntervalSec') ?? '')).toBeGreaterThan(0);
      expect(lastValue(unit, 'Service', 'KillSignal')).toBe('SIGTERM');
      expect(lastValue(unit, 'Service', 'KillMode')).toBe('mixed');
      expect(Number(lastValue(unit, 'Service', 'LimitNOFILE'))).toBeGreaterThanOrEqual(65_536);
    });

    it(`${name}: carries the hardening lines (no_new_privs, strict read-only OS, no homes, private /tmp and devices, no capability)`, () => {
      const unit = unitOf(name);
      expect(isTrue(lastValue(unit, 'Service', 'NoNewPrivileges'))).toBe(true);
      expect(lastValue(unit, 'Service', 'ProtectSystem')).toBe('strict');
      expect(isTrue(lastValue(unit, 'Service', 'ProtectHome'))).toBe(true);
      expect(isTrue(lastValue(unit, 'Service', 'PrivateTmp'))).toBe(true);
      expect(isTrue(lastValue(unit, 'Service', 'PrivateDevices'))).toBe(true);
      // Empty: the bounding set holds no capability at all.
      expect(lastValue(unit, 'Service', 'CapabilityBoundingSet')).toBe('');
      expect(listValue(unit, 'Service', 'AmbientCapabilities')).toEqual([]);
      for (const key of ['ProtectKernelModules', 'ProtectClock', 'ProtectHostname', 'RestrictSUIDSGID', 'RestrictRealtime', 'LockPersonality', 'PrivateMounts']) {
        expect({ key, on: isTrue(lastValue(unit, 'Service', key)) }).toEqual({ key, on: true });
      }
      expect(lastValue(unit, 'Service', 'SystemCallArchitectures')).toBe('native');
      expect(listValue(unit, 'Service', 'SystemCallFilter')).toContain('@system-service');
      expect(listValue(unit, 'Service', 'RestrictAddressFamilies')).toEqual(expect.arrayContaining(['AF_UNIX', 'AF_INET', 'AF_INET6']));
      // V8's JIT (and WebAssembly) needs writable and executable memory: node aborts at start under this.
      expect(isTrue(lastValue(unit, 'Service', 'MemoryDenyWriteExecute'))).toBe(false);
    });
  }

  it('the control plane: every kernel and /proc protection, its own user namespace, no namespaces of its own, no mount(2)', () => {
    const unit = unitOf(CONTROL_PLANE_UNIT);
    for (const key of ['ProtectKernelTunables', 'ProtectKernelLogs', 'ProtectControlGroups', 'PrivateUsers', 'PrivateIPC', 'RestrictNamespaces']) {
      expect({ key, on: isTrue(lastValue(unit, 'Service', key)) }).toEqual({ key, on: true });
    }
    expect(lastValue(unit, 'Service', 'ProcSubset')).toBe('pid');
    expect(lastValue(unit, 'Service', 'ProtectProc')).toBe('invisible');
    expect(listValue(unit, 'Service', 'RestrictAddressFamilies')).toEqual(['AF_UNIX', 'AF_INET', 'AF_INET6']);
    expect(listValue(unit, 'Service', 'SystemCallFilter')).toEqual(['@system-service', '~@privileged', '@resources']);
  });

  it('the control plane: its secret files arrive as credentials, the rest from a root-only environment file', () => {
    const unit = unitOf(CONTROL_PLANE_UNIT);
    const credentials = new Map(assignments(unit, 'Service', 'LoadCredential').map((value) => value.split(':') as [string, string]));
    const environment = new Map(assignments(unit, 'Service', 'Environment').map((value) => [value.slice(0, value.indexOf('=')), value.slice(value.indexOf('=') + 1)]));
    // Each *_FILE variable names the copy in $CREDENTIALS_DIRECTORY (%d) of a credential loaded from /etc/credstore.
    for (const variable of ['AIRLOCK_KEK_FILE', 'AIRLOCK_GRPC_TLS_CERT_FILE', 'AIRLOCK_GRPC_TLS_KEY_FILE']) {
      const value = environment.get(variable) ?? '';
      expect({ variable, value }).toEqual({ variable, value: expect.stringMatching(/^%d\/[a-z.-]+$/) });
      const source = credentials.get(value.slice('%d/'.length));
      expect({ variable, source }).toEqual({ variable, source: expect.stringMatching(/^\/etc\/credstore\/airlock-control-plane\./) });
    }
    expect(lastValue(unit, 'Service', 'EnvironmentFile')).toBe('/etc/airlock/control-plane.env');
    expect(environment.get('AIRLOCK_DATA_DIR')).toBe('/var/lib/airlock/control-plane');
    // DATABASE_URL holds a password and is read from the environment only: never in the unit.
    expect(unitText(CONTROL_PLANE_UNIT)).not.toMatch(/^Environment=.*DATABASE_URL/m);
    expect(listValue(unit, 'Service', 'RestartPreventExitStatus')).toEqual(['2']);
  });

  it('the control plane environment example: only variables the control plane reads, none that the credentials already set', () => {
    const known = controlPlaneVariables();
    const example = environmentFileNames(readFileSync(path.join(UNIT_DIR, 'airlock-control-plane.env.example'), 'utf8'));
    expect(example.set).toContain('DATABASE_URL');
    expect([...example.set, ...example.commented].filter((name) => !known.has(name))).toEqual([]);
    expect(example.set.filter((name) => ['AIRLOCK_KEK_FILE', 'AIRLOCK_GRPC_TLS_CERT_FILE', 'AIRLOCK_GRPC_TLS_KEY_FILE'].includes(name))).toEqual([]);
    // A misspelt variable is caught: the control plane would ignore it without a word.
    expect(known.has('AIRLOCK_HTTP_PORTS')).toBe(false);
  });

  it('the worker: what bwrap needs to build its sandbox is allowed (namespaces, netlink, mount(2), a fully visible /proc)', () => {
    const unit = unitOf(WORKER_UNIT);
    // bwrap --unshare-all: user, ipc, pid, net, uts, cgroup namespaces, and its own mount namespace.
    expect([...listValue(unit, 'Service', 'RestrictNamespaces')].sort()).toEqual(['cgroup', 'ipc', 'mnt', 'net', 'pid', 'user', 'uts']);
    // The loopback of the sandbox's network namespace is brought up over rtnetlink.
    expect(listValue(unit, 'Service', 'RestrictAddressFamilies')).toContain('AF_NETLINK');
    // mount, umount2 and pivot_root build the sandbox's root.
    expect(listValue(unit, 'Service', 'SystemCallFilter')).toEqual(['@system-service', '@mount']);
    // /proc masks and a pid-only /proc stop bwrap mounting /proc for the sandbox.
    expect(isTrue(lastValue(unit, 'Service', 'ProtectKernelTunables'))).toBe(false);
    expect(isTrue(lastValue(unit, 'Service', 'ProtectKernelLogs'))).toBe(false);
    expect(lastValue(unit, 'Service', 'ProcSubset')).toBeUndefined();
    // Its per-command cgroups need a delegated subtree it can write.
    expect(listValue(unit, 'Service', 'Delegate')).toEqual(['cpu', 'memory', 'pids']);
    expect(isTrue(lastValue(unit, 'Service', 'ProtectControlGroups'))).toBe(false);
  });

  it("the worker: the stop timeout outlasts the drain with the worker's default limits, and exit codes a restart cannot fix are not restarted", () => {
    const unit = unitOf(WORKER_UNIT);
    const schema = JSON.parse(readFileSync(path.join(REPO_ROOT, 'apps/worker/worker-config.schema.json'), 'utf8')) as {
      properties: { limits: { properties: Record<string, { default?: string; description?: string }> } };
    };
    const limits = schema.properties.limits.properties;
    const seconds = (key: string) => timeSpanSeconds(limits[key]?.default ?? '');
    const graceAfterJob = /limits\.jobTimeout \+ (\d+\s*[a-z]+)/.exec(limits['shutdownGrace']?.description ?? '')?.[1];
    expect(graceAfterJob).toBeDefined();
    // The longest a drain takes: shutdownGrace (jobTimeout + its margin), then the longer of the result-ack wait and the abort grace.
    const drainSeconds = seconds('jobTimeout') + timeSpanSeconds(graceAfterJob as string) + Math.max(seconds('resultAckWait'), seconds('abortGrace'));
    expect(drainSeconds).toBeGreaterThanOrEqual(30 * 60);
    expect(timeSpanSeconds(lastValue(unit, 'Service', 'TimeoutStopSec') ?? '')).toBeGreaterThan(drainSeconds);
    // 2 bad config, 3 not enrolled, 5 identity refused, 6 version refused (apps/worker/README.md).
    expect(listValue(unit, 'Service', 'RestartPreventExitStatus')).toEqual(['2', '3', '5', '6']);
  });
});

/** Every AIRLOCK_* variable (and DATABASE_URL, LOG_LEVEL) the control plane's configuration reads. */
function controlPlaneVariables(): ReadonlySet<string> {
  const configDir = path.join(REPO_ROOT, 'apps/control-plane/src/app/config');
  const sources = ['app-config.ts', 'worker-version-window.ts'].map((file) => readFileSync(path.join(configDir, file), 'utf8')).join('\n');
  // The keys of the environment schema: `  AIRLOCK_HTTP_PORT: port.default(8080),`.
  return new Set([...sources.matchAll(/^\s+((?:AIRLOCK_|DATABASE_URL|LOG_LEVEL)[A-Z0-9_]*):/gm)].map((match) => match[1] as string));
}

describe('sysusers.d and tmpfiles.d, applied to a throwaway root', () => {
  let root: string;
  const sysusersFile = path.join(UNIT_DIR, 'airlock.sysusers.conf');
  const tmpfilesFile = path.join(UNIT_DIR, 'airlock.tmpfiles.conf');
  const asRoot = process.getuid?.() === 0;

  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'airlock-sysusers-root-'));
    mkdirSync(path.join(root, 'etc'));
  });

  afterEach(() => rmSync(root, { recursive: true, force: true }));

  itWith(['systemd-sysusers'], 'systemd-sysusers creates airlock with UID and GID 10001, the user both units run as', () => {
    const result = run('systemd-sysusers', [`--root=${root}`, sysusersFile]);
    expect(result.status).toBe(0);
    const passwd = readFileSync(path.join(root, 'etc/passwd'), 'utf8');
    expect(passwd).toMatch(/^airlock:x:10001:10001:[^:]*:\/var\/lib\/airlock:\/usr\/sbin\/nologin$/m);
    expect(readFileSync(path.join(root, 'etc/group'), 'utf8')).toMatch(/^airlock:x:10001:$/m);
    const [user] = sysusersUsers(readFileSync(sysusersFile, 'utf8'));
    for (const name of SERVICE_UNITS) expect(lastValue(unitOf(name), 'Service', 'User')).toBe(user?.name);
  });

  itWith(['systemd-sysusers', 'systemd-tmpfiles'], `systemd-tmpfiles creates every data directory 0700${asRoot ? ' owned by airlock' : ' (ownership only checked as root)'}, the units' state and working directories among them`, () => {
    expect(run('systemd-sysusers', [`--root=${root}`, sysusersFile]).status).toBe(0);
    const result = run('systemd-tmpfiles', [`--root=${root}`, '--create', tmpfilesFile]);
    const problems = `${result.stdout}${result.stderr}`.split('\n').filter(Boolean);
    if (asRoot) {
      expect(problems).toEqual([]);
      expect(result.status).toBe(0);
    } else {
      // Without root, chown to 10001 is refused (EPERM) and is the only complaint: every line parsed, every user resolved in the root.
      expect(problems.filter((line) => !/^fchownat\(\) of .* failed: Operation not permitted$/.test(line))).toEqual([]);
    }
    const directories = tmpfilesDirectories(readFileSync(tmpfilesFile, 'utf8'));
    for (const directory of directories.filter((entry) => entry.path.startsWith('/var/lib/airlock'))) {
      const info = statSync(path.join(root, directory.path));
      expect({ path: directory.path, mode: info.mode & 0o7777 }).toEqual({ path: directory.path, mode: 0o700 });
      if (asRoot) expect({ path: directory.path, uid: info.uid, gid: info.gid }).toEqual({ path: directory.path, uid: 10001, gid: 10001 });
    }
    for (const name of SERVICE_UNITS) {
      const unit = unitOf(name);
      const stateDirectories = listValue(unit, 'Service', 'StateDirectory').map((dir) => `/var/lib/${dir}`);
      const workingDirectory = lastValue(unit, 'Service', 'WorkingDirectory') as string;
      for (const dir of [...stateDirectories, workingDirectory]) expect({ name, dir, exists: existsSync(path.join(root, dir)) }).toEqual({ name, dir, exists: true });
    }
  });

  itWith(['systemd-sysusers', 'systemd-tmpfiles'], 'systemd-tmpfiles refuses a line naming a user that does not exist', () => {
    expect(run('systemd-sysusers', [`--root=${root}`, sysusersFile]).status).toBe(0);
    const broken = path.join(root, 'broken-tmpfiles.conf');
    const text = readFileSync(tmpfilesFile, 'utf8');
    const brokenText = text.replace(/^(d\s+\/var\/lib\/airlock\/worker\/state\s+\S+\s+)airlock/m, '$1airlokc');
    expect(brokenText).not.toBe(text);
    writeFileSync(broken, brokenText);
    const result = run('systemd-tmpfiles', [`--root=${root}`, '--create', broken]);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/Failed to resolve user 'airlokc'/);
  });
});

/**
 * Run in the repository root by `node -r @swc-node/register`, as the worker would run it: the
 * worker's own TestSandbox and SandboxLimiter (rlimits; no cgroup outside a systemd unit)
 * build the bwrap command line. Prints one JSON line: this process's credentials, the
 * worker's readiness check of the sandbox (`bwrap … true`, which bwrap must report having
 * started), and what a command inside the sandbox sees of its own.
 */
const SANDBOX_PROBE = `
const { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const { spawnSync } = require('node:child_process');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { TestSandbox, checkSandbox, hiddenPathsOf } = require('./apps/worker/src/jobs/sandbox/test-sandbox');
const { SandboxLimiter, DEFAULT_SANDBOX_LIMITS } = require('./apps/worker/src/jobs/sandbox/sandbox-limiter');
(async () => {
  const base = mkdtempSync(join(tmpdir(), 'airlock-nnp-probe-'));
  try {
    const host = { path: process.env.PATH, lang: 'C.UTF-8' };
    const stateDir = join(base, 'state');
    const worktree = join(base, 'workspace', 'jobs', 'job-1');
    mkdirSync(stateDir, { recursive: true });
    mkdirSync(worktree, { recursive: true });
    writeFileSync(join(stateDir, 'mac.key'), 'secret');
    const config = { stateDir, workspaceDir: join(base, 'workspace'), configFile: join(base, 'worker.yml'), host };
    const sandbox = new TestSandbox('bwrap', hiddenPathsOf(config), {}, DEFAULT_SANDBOX_LIMITS, new SandboxLimiter(DEFAULT_SANDBOX_LIMITS, null));
    const check = await checkSandbox(sandbox, host);
    const limited = await sandbox.limiter.start();
    const inside = 'grep -E "^(NoNewPrivs|CapEff):" /proc/self/status; echo "net: $(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " " | tr "\\\\n" " ")"; echo "state: $(ls -A ' + stateDir + ' | tr "\\\\n" " ")"';
    const argv = limited.wrap(sandbox.wrap(['/bin/sh', '-c', inside], worktree));
    const command = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', env: { PATH: host.path, LANG: host.lang } });
    await limited.dispose();
    const self = readFileSync('/proc/self/status', 'utf8').split('\\n').filter((line) => /^(Uid|NoNewPrivs|CapEff|CapBnd):/.test(line));
    process.stdout.write(JSON.stringify({ self, check, command: { status: command.status, stdout: command.stdout, stderr: command.stderr } }) + '\\n');
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
})();
`;

interface SandboxProbe {
  readonly self: readonly string[];
  readonly check: { readonly ok: boolean; readonly detail: string };
  readonly command: { readonly status: number | null; readonly stdout: string; readonly stderr: string };
}

/** A `Name:\tvalue` line of /proc/<pid>/status. */
function statusField(lines: readonly string[] | string, field: string): string | undefined {
  const all = typeof lines === 'string' ? lines.split('\n') : lines;
  return all.find((line) => line.startsWith(`${field}:`))?.slice(field.length + 1).trim();
}

describe("the worker's bubblewrap sandbox under the worker unit's privileges", () => {
  const asRoot = process.getuid?.() === 0;
  /**
   * setpriv applies what the unit's NoNewPrivileges=yes, CapabilityBoundingSet= and
   * AmbientCapabilities= apply. As root it also becomes an unprivileged user (nobody, like
   * User=airlock) and empties the bounding set; as any other user only no_new_privs is new,
   * since such a user holds no capability and cannot drop from its bounding set.
   */
  const privileges = asRoot ? ['--reuid=65534', '--regid=65534', '--clear-groups', '--bounding-set=-all', '--inh-caps=-all', '--ambient-caps=-all', '--no-new-privs'] : ['--no-new-privs'];

  itWith(
    ['bwrap', 'prlimit', 'setpriv'],
    `no_new_privs${asRoot ? ', no capabilities and an unprivileged user' : ''}: the worker's sandbox still starts, isolated (own network, state hidden, no capabilities inside)`,
    () => {
      const result = run('setpriv', [...privileges, process.execPath, '-r', '@swc-node/register', '-e', SANDBOX_PROBE], {
        cwd: REPO_ROOT,
        env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', LANG: 'C.UTF-8' },
        timeout: 20_000,
      });
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      const probe = JSON.parse(result.stdout) as SandboxProbe;
      // The restrictions were in force for the worker's process.
      expect(statusField(probe.self, 'NoNewPrivs')).toBe('1');
      expect(statusField(probe.self, 'CapEff')).toBe('0000000000000000');
      if (asRoot) {
        expect(statusField(probe.self, 'Uid')?.split(/\s+/)).toEqual(['65534', '65534', '65534', '65534']);
        expect(statusField(probe.self, 'CapBnd')).toBe('0000000000000000');
      }
      // The worker's readiness check: bwrap reported starting the command.
      expect(probe.check).toEqual(expect.objectContaining({ ok: true, detail: expect.stringMatching(/^bubblewrap works/) }));
      // Inside: no_new_privs kept, no capability, only its own loopback, the worker's state an empty tmpfs.
      expect(probe.command.status).toBe(0);
      expect(statusField(probe.command.stdout, 'NoNewPrivs')).toBe('1');
      expect(statusField(probe.command.stdout, 'CapEff')).toBe('0000000000000000');
      expect(probe.command.stdout).toMatch(/^net: lo $/m);
      expect(probe.command.stdout).toMatch(/^state: $/m);
    },
    30_000,
  );
});
