import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import {
  egressTraceWrapper,
  judgeEgress,
  parseSocketTrace,
  startNpmMirror,
  summarizeEgress,
  type EgressPolicy,
  type EgressVerdict,
  type JobView,
  type NpmMirror,
  type SocketTrace,
} from '@airlock/local-stack';
import { startE2eStack, type E2eStack } from './support/e2e-stack';
import { calculatorTest, call, createBareRepository, finish, writeScenario } from './support/scenario-repository';

/**
 * Issue 12, point 2: the worker's egress as the kernel saw it. The worker daemon runs under
 * strace, which records every connect and every addressed send of the daemon and of every
 * process it starts (git, bubblewrap, the egress relay, npm, the tests). One job takes every
 * path — clone, setup from the npm mirror, inference, tests, push — and every destination
 * must then be one of the four the customer configured.
 */

const execFileAsync = promisify(execFile);
const JOB_TIMEOUT_MS = 90_000;
const TRACE_FILE = 'worker.strace';

const REPO = {
  alias: 'egress-calc',
  ticket: { title: 'Egress calc: add subtracts its arguments', description: 'add(2, 3) returns -1; it must return 5.' },
};

describe('worker egress, as the kernel saw it', () => {
  let mirror: NpmMirror;
  let mirrorDir: string;
  let stack: E2eStack;
  let done: JobView;
  let trace: SocketTrace;
  let verdicts: EgressVerdict[];

  const hostPort = (address: string): { host: string; port: number } => {
    const url = new URL(address.includes('://') ? address : `tcp://${address}`);
    return { host: url.hostname, port: Number(url.port) };
  };

  beforeAll(async () => {
    mirrorDir = mkdtempSync(join(tmpdir(), 'airlock-e2e-egress-mirror-'));
    mirror = await startNpmMirror({ workDir: mirrorDir });
    // The lockfile as the repository would commit it, made on the host through the mirror (not traced).
    const project = join(mirrorDir, 'project');
    mkdirSync(project);
    const manifest = JSON.stringify({ name: 'egress-calc', version: '1.0.0', private: true, dependencies: { 'escape-html': '1.0.3' } });
    writeFileSync(join(project, 'package.json'), manifest);
    await execFileAsync('npm', ['install', '--package-lock-only', '--no-audit', '--no-fund', '--registry', mirror.url], { cwd: project, timeout: 60_000 });
    const files = {
      '.airlock.yml': stringify({
        version: 1,
        setup: { commands: [['npm', 'ci', '--no-audit', '--no-fund']], cacheKey: ['package-lock.json'], cachePaths: ['node_modules'] },
        test: { command: ['node', '--test'] },
      }),
      'package.json': manifest,
      'package-lock.json': readFileSync(join(project, 'package-lock.json'), 'utf8'),
      'src/calc.js': "'use strict';\nfunction add(a, b) {\n  return a - b;\n}\nmodule.exports = { add };\n",
      // The tests load what setup installed: without node_modules they cannot run at all.
      'test/calc.test.js': calculatorTest("require('escape-html');"),
    };

    stack = await startE2eStack('egress', {
      workerSetup: { mirrors: [`${mirror.host}:${mirror.port}`], env: { npm_config_registry: mirror.url } },
      prepareRepositories: (gitDir) => {
        createBareRepository(gitDir, REPO.alias, files);
        return Promise.resolve([{ alias: REPO.alias, name: `${REPO.alias}.git` }]);
      },
      writeScenarios: (dir) =>
        writeScenario(dir, '40-egress-fix.yaml', REPO.ticket.title, [
          { tool_calls: [call('edit_file', { path: 'src/calc.js', search: '  return a - b;', replace: '  return a + b;' }), call('run_tests')] },
          finish,
        ]),
      firstWorkerWrapper: (logDir) => egressTraceWrapper(join(logDir, TRACE_FILE)),
    });
    done = await stack.api.waitForTerminalJob((await stack.api.createFixJob({ repoAlias: REPO.alias, baseRef: 'main', ticket: REPO.ticket })).id, JOB_TIMEOUT_MS);
    // The trace is whole once the worker and all its children have exited.
    await stack.worker.process.stop();

    const policy: EgressPolicy = {
      endpoints: [
        { role: 'control plane (gRPC, TLS)', ...hostPort(stack.controlPlane.grpcAddress) },
        { role: 'inference endpoint', ...hostPort(stack.inference.url) },
        { role: 'catalog git host', ...hostPort(stack.gitServer.urlOf(`${REPO.alias}.git`)) },
        { role: 'setup package mirror', host: mirror.host, port: mirror.port },
      ],
      unixSockets: [
        // The relay inside the setup sandbox reaches the worker's egress proxy only through this bind mount.
        { role: 'egress proxy socket (in the setup sandbox)', path: '/tmp/airlock/egress.sock' },
      ],
    };
    trace = parseSocketTrace(readFileSync(join(stack.dirs.logs, TRACE_FILE), 'utf8'));
    verdicts = judgeEgress(trace, policy);
    process.stdout.write(`worker egress seen by strace:\n  ${summarizeEgress(verdicts).join('\n  ')}\n`);
  }, 170_000);

  afterAll(async () => {
    await stack?.stop();
    await mirror?.stop();
    if (mirrorDir) rmSync(mirrorDir, { recursive: true, force: true });
  });

  it('runs a job through every path: clone, setup from the mirror, inference, tests, push', () => {
    expect(done.status).toBe('SUCCEEDED');
    expect(done.events.filter((e) => e.type === 'PHASE_COMPLETED').map((e) => e.phase)).toEqual(
      expect.arrayContaining(['PHASE_WORKSPACE', 'PHASE_SETUP', 'PHASE_INFERENCE', 'PHASE_TEST', 'PHASE_DELIVER']),
    );
    expect(readFileSync(mirror.logFile, 'utf8')).toContain('GET /escape-html/-/escape-html-1.0.3.tgz');
    // The trace followed the children, sandboxes included, not only the daemon.
    expect([...trace.programs.keys()]).toEqual(expect.arrayContaining(['git', 'bwrap', 'npm']));
  });

  it('connects only to the control plane, the inference endpoint, the git host and the package mirror', () => {
    expect(verdicts.filter((verdict) => !verdict.allowed).map((verdict) => `${verdict.allowed ? '' : verdict.reason}: ${JSON.stringify(verdict.destination)}`)).toEqual([]);
    // Each allowed destination was really reached, so an empty list of refusals means something.
    const roles = new Set(verdicts.flatMap((verdict) => (verdict.allowed ? [verdict.role] : [])));
    for (const role of ['control plane (gRPC, TLS)', 'inference endpoint', 'catalog git host', 'setup package mirror', 'egress proxy socket (in the setup sandbox)']) {
      expect(roles).toContain(role);
    }
  });

  it('makes no name lookup: nothing to port 53, no name-service socket', () => {
    expect(trace.destinations.filter((destination) => destination.port === 53)).toEqual([]);
    expect(verdicts.filter((verdict) => !verdict.allowed && /name/.test(verdict.reason))).toEqual([]);
  });

  it("leaves nothing strace could miss: no io_uring but libuv's own in node, no process entering another network namespace", () => {
    // Node 24's libuv sets up io_uring rings at start (Node 20's does not); its connects stay
    // connect(2) calls, which the test above saw for every role node reaches. Any other program
    // with a ring could connect unseen.
    expect([...trace.ioUringSetups.keys()].filter((program) => program !== 'node')).toEqual([]);
    expect(trace.setnsCalls).toBe(0);
  });
});
