import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestCommandRunner } from '../test-command.runner';
import { SANDBOX_HOME, SandboxUnavailableError, TestSandbox, checkSandbox, hiddenPathsOf } from './test-sandbox';

jest.setTimeout(60_000);

/**
 * The repository's test command is hostile code as far as the worker knows. Inside the
 * bubblewrap sandbox it must not read the worker's secrets, reach the network (not even
 * a listener on 127.0.0.1 next to it), or write the shared mirror — while an ordinary
 * test (`node --test` in its worktree) still passes. Real bwrap, real processes.
 */
describe('TestSandbox with bubblewrap (real bwrap)', () => {
  const base = mkdtempSync(join(tmpdir(), 'airlock-sandbox-it-'));
  const stateDir = join(base, 'state');
  const workspaceDir = join(base, 'workspace');
  const mirror = join(workspaceDir, 'mirrors', 'demo.git');
  const worktree = join(workspaceDir, 'jobs', 'job-1');
  const otherWorktree = join(workspaceDir, 'jobs', 'job-2');
  const configFile = join(base, 'worker.yml');
  const host = { path: process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin', lang: 'C.UTF-8' };
  const config = { stateDir, workspaceDir, configFile, host };
  const MAC_KEY = 'mac-key-secret-bytes';
  const MIRROR_CONFIG = '[core]\n\tbare = true\n';
  const GIT_LINK = `gitdir: ${join(mirror, 'worktrees', 'job-1')}\n`;
  let listener: Server;
  let port: number;
  let connections = 0;

  const sandboxed = new TestCommandRunner(host, TestSandbox.fromConfig({ ...config, sandbox: { mode: 'bwrap' } }));
  const unsandboxed = new TestCommandRunner(host, TestSandbox.fromConfig({ ...config, sandbox: { mode: 'none' } }));
  /** Runs `node -e script` in the worktree; the script exits 0 when the sandbox held. */
  const node = (runner: TestCommandRunner, script: string, timeoutMs = 20_000) =>
    runner.run({ argv: ['node', '-e', script], cwd: worktree, timeoutMs, signal: new AbortController().signal, logFile: join(base, 'test.log') });
  const log = () => readFileSync(join(base, 'test.log'), 'utf8');

  beforeAll(async () => {
    for (const dir of [stateDir, join(mirror, 'worktrees', 'job-1'), worktree, otherWorktree]) mkdirSync(dir, { recursive: true });
    writeFileSync(join(stateDir, 'mac.key'), MAC_KEY);
    writeFileSync(join(stateDir, 'worker-key.pem'), '-----BEGIN PRIVATE KEY-----\n');
    writeFileSync(join(mirror, 'config'), MIRROR_CONFIG);
    writeFileSync(join(worktree, '.git'), GIT_LINK);
    writeFileSync(join(otherWorktree, 'secret.js'), 'another job');
    writeFileSync(configFile, 'repositories: [{ alias: demo, cloneUrl: https://user:token@git.internal/demo.git }]\n');
    writeFileSync(join(worktree, 'package.json'), '{ "name": "demo", "private": true }\n');
    writeFileSync(
      join(worktree, 'add.test.js'),
      "const test = require('node:test');\nconst assert = require('node:assert');\ntest('adds', () => assert.strictEqual(1 + 2, 3));\n",
    );
    listener = createServer((socket) => {
      connections += 1;
      socket.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    port = (listener.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise((resolve) => listener.close(resolve));
    rmSync(base, { recursive: true, force: true });
  });

  it('gives a test process that ignores SIGTERM exactly limits.killGrace before SIGKILL', async () => {
    const stubborn = "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)";
    const timed = async (killGraceMs: number) => {
      const runner = new TestCommandRunner(host, TestSandbox.fromConfig({ ...config, sandbox: { mode: 'none' } }), killGraceMs);
      const started = performance.now();
      const outcome = await node(runner, stubborn, 200);
      return { outcome, ms: performance.now() - started };
    };
    const short = await timed(300);
    const long = await timed(2_500);
    expect(short.outcome).toMatchObject({ timedOut: true });
    expect(long.outcome).toMatchObject({ timedOut: true });
    // timeout (200 ms) + grace, give or take process start-up
    expect(short.ms).toBeGreaterThanOrEqual(480);
    expect(short.ms).toBeLessThan(2_000);
    expect(long.ms).toBeGreaterThanOrEqual(2_650);
  });

  it('passes the doctor/readiness probe (bwrap … true)', async () => {
    expect(await checkSandbox(TestSandbox.fromConfig({ ...config, sandbox: { mode: 'bwrap' } }), host)).toMatchObject({ name: 'sandbox', ok: true });
  });

  it('runs an ordinary test suite (node --test) in its worktree, which it may write', async () => {
    const outcome = await sandboxed.run({ argv: ['node', '--test'], cwd: worktree, timeoutMs: 30_000, signal: new AbortController().signal, logFile: join(base, 'test.log') });
    expect({ outcome, log: outcome.exitCode === 0 ? '' : log() }).toEqual({ outcome: { started: true, exitCode: 0, timedOut: false, aborted: false }, log: '' });
    const writes = await node(
      sandboxed,
      `const fs = require('fs');
       fs.writeFileSync('out.txt', 'written');
       fs.writeFileSync('/tmp/scratch', 'x');
       fs.writeFileSync(require('path').join(process.env.HOME, 'cache'), 'x');
       if (process.env.HOME !== ${JSON.stringify(SANDBOX_HOME)}) process.exit(2);`,
    );
    expect(writes.exitCode).toBe(0);
    expect(readFileSync(join(worktree, 'out.txt'), 'utf8')).toBe('written');
  });

  it("gives the command sandbox.env's variables (a toolchain's location), under the worker's own PATH and HOME", async () => {
    const withToolchain = new TestCommandRunner(host, TestSandbox.fromConfig({ ...config, sandbox: { mode: 'bwrap', env: { RUSTUP_HOME: '/opt/rustup', TOOL_FLAG: 'on' } } }));
    const outcome = await node(
      withToolchain,
      `const e = process.env;
       process.exit(e.RUSTUP_HOME === '/opt/rustup' && e.TOOL_FLAG === 'on' && e.HOME === ${JSON.stringify(SANDBOX_HOME)} && e.PATH === ${JSON.stringify(host.path)} ? 0 : 1);`,
    );
    expect(outcome.exitCode).toBe(0);
  });

  it("cannot read or write anything in stateDir (keys, mac.key), nor the worker's config file", async () => {
    const script = `const fs = require('fs');
      const leaked = [];
      for (const f of [${JSON.stringify(join(stateDir, 'mac.key'))}, ${JSON.stringify(join(stateDir, 'worker-key.pem'))}, ${JSON.stringify(configFile)}]) {
        try { if (fs.readFileSync(f, 'utf8').length > 0) leaked.push(f); } catch {}
      }
      try { if (fs.readdirSync(${JSON.stringify(stateDir)}).length > 0) leaked.push('listing'); } catch {}
      console.log(JSON.stringify(leaked));
      process.exit(leaked.length === 0 ? 0 : 1);`;
    expect((await node(sandboxed, script)).exitCode).toBe(0);
    // The control: the very same script does see them without the sandbox.
    expect((await node(unsandboxed, script)).exitCode).toBe(1);
    // Writes land on a throwaway tmpfs, never in the real stateDir.
    await node(sandboxed, `try { require('fs').writeFileSync(${JSON.stringify(join(stateDir, 'mac.key'))}, 'attacker') } catch {}`);
    expect(readFileSync(join(stateDir, 'mac.key'), 'utf8')).toBe(MAC_KEY);
  });

  it('cannot read the KEK or a token file the config names, wherever they lie on the host', async () => {
    // Outside /tmp, which the sandbox replaces with its own: /var/tmp is in the host's read-only view.
    const secrets = mkdtempSync(join('/var/tmp', 'airlock-sandbox-secrets-'));
    const [kekFile, tokenFile] = [join(secrets, 'worker.kek'), join(secrets, 'forge.token')];
    writeFileSync(kekFile, 'kek-material');
    writeFileSync(tokenFile, 'airlock-sealed:v1:token-material');
    const script = `const fs = require('fs');
      const read = [${JSON.stringify(kekFile)}, ${JSON.stringify(tokenFile)}].filter((f) => { try { return fs.readFileSync(f, 'utf8').length > 0; } catch { return false; } });
      process.exit(read.length === 0 ? 0 : 1);`;
    const hiding = new TestCommandRunner(host, TestSandbox.fromConfig({ ...config, secretFiles: [kekFile, tokenFile], sandbox: { mode: 'bwrap' } }));
    try {
      expect((await node(hiding, script)).exitCode).toBe(0);
      // The control: a sandbox that is not told of them shows them, as the host's read-only view does.
      expect((await node(sandboxed, script)).exitCode).toBe(1);
    } finally {
      rmSync(secrets, { recursive: true, force: true });
    }
  });

  it('cannot reach the network, not even a listener on 127.0.0.1 outside the sandbox', async () => {
    const script = `const socket = require('net').connect(${port}, '127.0.0.1');
      socket.on('connect', () => process.exit(1));
      socket.on('error', () => process.exit(0));
      setTimeout(() => process.exit(3), 5000);`;
    const outcome = await node(sandboxed, script);
    expect(outcome.exitCode).toBe(0);
    expect(connections).toBe(0);
    // The control: the listener is reachable without the sandbox.
    expect((await node(unsandboxed, script)).exitCode).toBe(1);
    expect(connections).toBe(1);
    const interfaces = await node(
      sandboxed,
      "const names = require('fs').readFileSync('/proc/net/dev', 'utf8').split('\\n').slice(2).map((l) => l.split(':')[0].trim()).filter(Boolean); process.exit(names.join() === 'lo' ? 0 : 1);",
    );
    expect(interfaces.exitCode).toBe(0);
  });

  it("cannot write the mirror (its git config), its worktree's .git link, or read another job's worktree", async () => {
    const script = `const fs = require('fs');
      const done = [];
      const tryIt = (what, fn) => { try { fn(); done.push(what); } catch {} };
      tryIt('mirror config', () => fs.appendFileSync(${JSON.stringify(join(mirror, 'config'))}, '[core]\\n\\tfsmonitor = touch /tmp/pwned\\n'));
      tryIt('mirror read', () => fs.readFileSync(${JSON.stringify(join(mirror, 'config'))}));
      tryIt('git link', () => fs.writeFileSync('.git', 'gitdir: /tmp/evil\\n'));
      tryIt('git link rename', () => fs.renameSync('package.json', '.git'));
      tryIt('git link unlink', () => fs.unlinkSync('.git'));
      tryIt('other job', () => fs.readFileSync(${JSON.stringify(join(otherWorktree, 'secret.js'))}));
      tryIt('host file', () => fs.writeFileSync('/etc/airlock-pwned', 'x'));
      console.log(JSON.stringify(done));
      process.exit(done.length === 0 ? 0 : 1);`;
    const outcome = await node(sandboxed, script);
    expect({ exitCode: outcome.exitCode, log: outcome.exitCode === 0 ? '' : log() }).toEqual({ exitCode: 0, log: '' });
    expect(readFileSync(join(mirror, 'config'), 'utf8')).toBe(MIRROR_CONFIG);
    expect(readFileSync(join(worktree, '.git'), 'utf8')).toBe(GIT_LINK);
  });

  it('still times out and kills the whole sandboxed process group', async () => {
    const started = Date.now();
    const outcome = await sandboxed.run({ argv: ['sh', '-c', 'sleep 30 & sleep 30'], cwd: worktree, timeoutMs: 500, signal: new AbortController().signal, logFile: join(base, 'test.log') });
    expect(outcome.timedOut).toBe(true);
    expect(outcome.exitCode).not.toBe(0);
    expect(outcome.started).toBe(true);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('tells a missing test command from a failing one, though bwrap exits 1 for both', async () => {
    const run = (argv: string[]) => sandboxed.run({ argv, cwd: worktree, timeoutMs: 20_000, signal: new AbortController().signal, logFile: join(base, 'test.log') });
    const missing = await run(['airlock-no-such-test-command']);
    // bwrap itself started, and says so on stderr; only its status pipe says the command never ran.
    expect({ outcome: missing, log: log() }).toEqual({
      outcome: { started: false, exitCode: 1, timedOut: false, aborted: false },
      log: expect.stringContaining('bwrap: execvp airlock-no-such-test-command: No such file or directory') as unknown,
    });
    expect(await run(['sh', '-c', 'exit 1'])).toEqual({ started: true, exitCode: 1, timedOut: false, aborted: false });
    // Not a file it may execute: the same as missing.
    expect(await run(['./package.json'])).toMatchObject({ started: false, exitCode: 1 });
  });

  it('reports a test command that cannot be spawned at all as not started (bwrap, or unsandboxed the command, not on PATH)', async () => {
    const noBwrap = new TestCommandRunner({ path: '/nonexistent', lang: 'C.UTF-8' }, TestSandbox.fromConfig({ ...config, sandbox: { mode: 'bwrap' } }));
    const request = { cwd: worktree, timeoutMs: 20_000, signal: new AbortController().signal, logFile: join(base, 'test.log') };
    expect(await noBwrap.run({ ...request, argv: ['node', '--test'] })).toEqual({ started: false, exitCode: 127, timedOut: false, aborted: false });
    expect(await unsandboxed.run({ ...request, argv: ['airlock-no-such-test-command'] })).toEqual({ started: false, exitCode: 127, timedOut: false, aborted: false });
    expect(await unsandboxed.run({ ...request, argv: ['sh', '-c', 'exit 1'] })).toEqual({ started: true, exitCode: 1, timedOut: false, aborted: false });
  });

  it('fails the probe with a clear message when bwrap is not on PATH, rather than running unsandboxed', async () => {
    const noBwrap = { path: '/nonexistent', lang: 'C.UTF-8' };
    const check = await checkSandbox(TestSandbox.fromConfig({ ...config, host: noBwrap, sandbox: { mode: 'bwrap' } }), noBwrap);
    expect(check.ok).toBe(false);
    expect(check.detail).toMatch(/bwrap not found on PATH/);
    expect(check.detail).toMatch(/sandbox\.mode: none/);
  });

  it('fails the probe when bwrap cannot report that it started the command (older than 0.3.2), since every test run would fail', async () => {
    const fakeBin = join(base, 'old-bwrap-bin');
    mkdirSync(fakeBin, { recursive: true });
    // An old bwrap either refuses the option or, as here, runs the command and reports nothing.
    writeFileSync(join(fakeBin, 'bwrap'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    const oldBwrap = { path: `${fakeBin}:${host.path}`, lang: 'C.UTF-8' };
    const check = await checkSandbox(TestSandbox.fromConfig({ ...config, host: oldBwrap, sandbox: { mode: 'bwrap' } }), oldBwrap);
    expect(check.ok).toBe(false);
    expect(check.detail).toMatch(/bwrap did not report starting the command: bubblewrap 0\.3\.2 or later is needed/);
    writeFileSync(join(fakeBin, 'bwrap'), '#!/bin/sh\necho "bwrap: Unknown option --json-status-fd" >&2\nexit 1\n', { mode: 0o755 });
    expect((await checkSandbox(TestSandbox.fromConfig({ ...config, host: oldBwrap, sandbox: { mode: 'bwrap' } }), oldBwrap)).detail).toMatch(/\(bwrap: Unknown option --json-status-fd\)/);
  });

  it('passes the probe with a loud warning when the operator turned the sandbox off', async () => {
    const check = await checkSandbox(TestSandbox.fromConfig({ ...config, sandbox: { mode: 'none' } }), host);
    expect(check).toMatchObject({ ok: true });
    expect(check.detail).toMatch(/^WARNING: sandbox\.mode is none/);
  });
});

describe('hiddenPathsOf', () => {
  const config = { stateDir: '/var/lib/airlock', workspaceDir: '/var/cache/airlock', configFile: '/etc/airlock/worker.yml' };

  it("hides state, workspace, /run, the config file and the worker's whole HOME", () => {
    const hidden = hiddenPathsOf({ ...config, host: { path: '/usr/bin:/bin', lang: 'C' } }, '/home/airlock');
    expect(hidden.dirs).toEqual(['/var/lib/airlock', '/var/cache/airlock', '/run', '/home/airlock']);
    expect(hidden.files).toEqual(['/etc/airlock/worker.yml']);
  });

  it('hides every secret file the config names (KEKs, token files) besides the config file', () => {
    const hidden = hiddenPathsOf({ ...config, secretFiles: ['/etc/airlock/worker.kek', '/srv/tokens/gitlab.token'], host: { path: '/usr/bin:/bin', lang: 'C' } }, '/home/airlock');
    expect(hidden.files).toEqual(['/etc/airlock/worker.yml', '/etc/airlock/worker.kek', '/srv/tokens/gitlab.token']);
  });

  it('hides the credential stores of a HOME that holds the toolchain (PATH), not the toolchain', () => {
    const hidden = hiddenPathsOf({ ...config, host: { path: '/home/airlock/.nvm/versions/node/v24/bin:/usr/bin', lang: 'C' } }, '/home/airlock');
    expect(hidden.dirs).not.toContain('/home/airlock');
    expect(hidden.dirs).toEqual(expect.arrayContaining(['/home/airlock/.ssh', '/home/airlock/.gnupg', '/home/airlock/.docker']));
    expect(hidden.files).toEqual(expect.arrayContaining(['/etc/airlock/worker.yml', '/home/airlock/.git-credentials', '/home/airlock/.netrc']));
  });

  it('refuses to build a sandbox that would have to hide /', () => {
    const sandbox = new TestSandbox('bwrap', { dirs: ['/'], files: [] });
    expect(() => sandbox.wrap(['true'], tmpdir())).toThrow(SandboxUnavailableError);
    expect(new TestSandbox('none', { dirs: ['/'], files: [] }).wrap(['true'], tmpdir())).toEqual(['true']);
  });
});
