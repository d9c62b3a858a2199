import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { stringify } from 'yaml';
import { DEMO_BRANCH_BASE, DEMO_REPO_ALIAS, type JobView } from '@airlock/local-stack';
import { startE2eStack, type E2eStack } from './support/e2e-stack';
import { calculatorTest, call, createBareRepository, finish, pushChange, writeScenario } from './support/scenario-repository';

/**
 * What the agent pipeline does with real repositories, real setup and a real (simulated)
 * model, through the whole stack: control plane, worker daemon in its sandbox, inference
 * simulator, git server. Each ticket's model is a scripted conversation.
 */

const JOB_TIMEOUT_MS = 120_000;

/** A real HTTP server on a free loopback port, counting the connections it accepts. */
async function countingServer(answer: (path: string) => string): Promise<{ server: Server; url: string; connections: () => number }> {
  let connections = 0;
  const server = createServer((request, response) => response.writeHead(200, { 'content-type': 'application/json' }).end(answer(request.url ?? '/')));
  server.on('connection', () => (connections += 1));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, connections: () => connections };
}

const closeServer = (server: Server) =>
  new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });

const GREEN = {
  alias: 'green-calc',
  ticket: { title: 'Document the calculator add function', description: 'add() has no comment saying what it does; please add one.' },
  files: {
    '.airlock.yml': 'version: 1\ntest:\n  command: [node, --test]\n',
    'src/calc.js': "'use strict';\nfunction add(a, b) {\n  return a + b;\n}\nmodule.exports = { add };\n",
    'test/calc.test.js': calculatorTest(),
  },
};

const SETUP = {
  alias: 'setup-calc',
  ticket: { title: 'Setup calc: add subtracts its arguments', description: 'add(2, 3) returns -1; it must return 5.' },
  files: {
    '.airlock.yml': stringify({
      version: 1,
      setup: { commands: [['node', 'fetch-deps.js']], cacheKey: ['deps.lock'], cachePaths: ['deps'] },
      test: { command: ['node', '--test'] },
    }),
    'deps.lock': 'dep 1.0.0\n',
    // The "package manager": fetches from the mirror the worker's config names, at its own address.
    'fetch-deps.js': [
      "const http = require('node:http');",
      "const fs = require('node:fs');",
      "http.get(process.env.MIRROR_URL + '/dep.json', (res) => {",
      "  let body = '';",
      "  res.on('data', (chunk) => (body += chunk));",
      "  res.on('end', () => { if (res.statusCode !== 200) process.exit(1); fs.mkdirSync('deps', { recursive: true }); fs.writeFileSync('deps/dep.json', body); });",
      "}).on('error', (error) => { console.error(error.message); process.exit(2); });",
      '',
    ].join('\n'),
    'src/calc.js': "'use strict';\nfunction add(a, b) {\n  return a - b;\n}\nmodule.exports = { add };\n",
    // The tests need what setup installed: without deps/ they cannot even load.
    'test/calc.test.js': calculatorTest("require('../deps/dep.json');"),
  },
};

const FORBIDDEN = {
  alias: 'setup-forbidden',
  ticket: { title: 'Forbidden setup: add subtracts its arguments', description: 'add(2, 3) returns -1.' },
  files: {
    '.airlock.yml': stringify({ version: 1, setup: { commands: [['node', 'fetch-forbidden.js']] }, test: { command: ['node', '--test'] } }),
    // Tries the host the worker does not allow, directly and through the proxy it is given; succeeding at either is the failure.
    'fetch-forbidden.js': [
      "const http = require('node:http');",
      'const target = new URL(process.env.FORBIDDEN_URL);',
      "const proxy = new URL(process.env.HTTP_PROXY || 'http://127.0.0.1:1');",
      'let answered = 0;',
      'const done = () => { answered += 1; if (answered === 2) process.exit(3); };',
      "const check = (res) => { if (res.statusCode === 200) { console.error('reached the forbidden host'); process.exit(0); } res.resume(); done(); };",
      "http.get(target, check).on('error', done);",
      "http.get({ host: proxy.hostname, port: proxy.port, path: target.href, headers: { host: target.host } }, check).on('error', done);",
      '',
    ].join('\n'),
    'src/calc.js': "'use strict';\nfunction add(a, b) {\n  return a - b;\n}\nmodule.exports = { add };\n",
    'test/calc.test.js': calculatorTest(),
  },
};

const BUDGET_TICKET = { title: 'Invoice module: explore before changing anything', description: 'Read around the billing module and tell us what you find.' };

describe('agent scenarios through the whole stack', () => {
  let stack: E2eStack;
  let mirror: Awaited<ReturnType<typeof countingServer>>;
  let forbidden: Awaited<ReturnType<typeof countingServer>>;

  const job = async (repoAlias: string, ticket: { title: string; description: string }, baseRef = 'main'): Promise<JobView> =>
    stack.api.waitForTerminalJob((await stack.api.createFixJob({ repoAlias, baseRef, ticket })).id, JOB_TIMEOUT_MS);
  const workerEvents = (jobId: string, event: string) => stack.worker.process.allEvents().filter((e) => e['event'] === event && e['jobId'] === jobId);

  beforeAll(async () => {
    mirror = await countingServer(() => JSON.stringify({ name: 'dep', version: '1.0.0' }));
    forbidden = await countingServer(() => '{"secret": true}');
    stack = await startE2eStack('agent', {
      // Small enough that a model that only reads runs out before its turns do.
      workerLimits: { maxJobTokens: 20_000 },
      workerSetup: { mirrors: [new URL(mirror.url).host], env: { MIRROR_URL: mirror.url, FORBIDDEN_URL: forbidden.url } },
      prepareRepositories: (gitDir) => {
        for (const repo of [GREEN, SETUP, FORBIDDEN]) createBareRepository(gitDir, repo.alias, repo.files);
        return Promise.resolve([GREEN, SETUP, FORBIDDEN].map(({ alias }) => ({ alias, name: `${alias}.git` })));
      },
      writeScenarios: (dir) => {
        writeScenario(dir, '40-green-comment.yaml', GREEN.ticket.title, [
          { tool_calls: [call('edit_file', { path: 'src/calc.js', search: 'function add(a, b) {', replace: '/** Adds a and b. */\nfunction add(a, b) {' })] },
          finish,
        ]);
        writeScenario(dir, '41-setup-fix.yaml', SETUP.ticket.title, [
          { tool_calls: [call('edit_file', { path: 'src/calc.js', search: '  return a - b;', replace: '  return a + b;' }), call('run_tests')] },
          finish,
        ]);
        // Reads for ever: only a limit ends it.
        writeScenario(dir, '42-budget-reader.yaml', BUDGET_TICKET.title, [{ tool_calls: [call('read_file', { path: 'src/invoice.js' }), call('read_file', { path: 'test/invoice.test.js' }), call('list_dir')] }]);
      },
    });
  });

  afterAll(async () => {
    await stack?.stop();
    await closeServer(mirror.server);
    await closeServer(forbidden.server);
  });

  it('does not report a comment-only change on a green repository as SUCCEEDED: nothing shows it was needed', async () => {
    const done = await job(GREEN.alias, GREEN.ticket);
    expect(done.status).toBe('FAILED');
    expect(done.failureCode).toBe('REPRODUCTION_MISSING');
    expect(done.result).toMatchObject({ failedPhase: 'PHASE_TEST', verification: { baseTestsRan: true, baseTestExitCode: 0, testsRan: true, testExitCode: 0, reproductionAdded: false } });
  });

  it('installs dependencies from the allowed mirror, reuses them for the same lockfile, and installs again when it changes', async () => {
    const first = await job(SETUP.alias, SETUP.ticket);
    expect(first.status).toBe('SUCCEEDED');
    const second = await job(SETUP.alias, SETUP.ticket);
    expect(second.status).toBe('SUCCEEDED');
    const fetchesAfterTwo = mirror.connections();
    pushChange(stack.dirs.git, SETUP.alias, { 'deps.lock': 'dep 1.0.1\n' });
    const third = await job(SETUP.alias, SETUP.ticket);
    expect(third.status).toBe('SUCCEEDED');

    const cacheResults = [first, second, third].map((done) => workerEvents(done.id, 'setup-cache').map((e) => e['result']));
    expect(cacheResults).toEqual([['miss'], ['hit'], ['miss']]);
    // The mirror was asked by the first job and the third, never by the cache hit.
    expect(fetchesAfterTwo).toBe(1);
    expect(mirror.connections()).toBe(2);
  });

  it('refuses setup any host but the mirrors, the worker host\'s own loopback services included: SETUP_FAILED, and the host never sees a connection', async () => {
    const done = await job(FORBIDDEN.alias, FORBIDDEN.ticket);
    expect(done.status).toBe('FAILED');
    expect(done.failureCode).toBe('SETUP_FAILED');
    expect(done.result).toMatchObject({ failedPhase: 'PHASE_SETUP' });
    expect(forbidden.connections()).toBe(0);
    expect(workerEvents(done.id, 'setup-egress-refused').map((e) => e['target'])).toContain(new URL(forbidden.url).host);
  });

  it('ends a model that never stops reading with TOKEN_BUDGET_EXHAUSTED, its spending counted', async () => {
    const done = await job(DEMO_REPO_ALIAS, BUDGET_TICKET, DEMO_BRANCH_BASE);
    expect(done.status).toBe('FAILED');
    expect(done.failureCode).toBe('TOKEN_BUDGET_EXHAUSTED');
    const tokens = (done.result?.['tokens'] ?? {}) as { requests: number; promptTokens: number; completionTokens: number };
    expect(tokens.promptTokens + tokens.completionTokens).toBeGreaterThanOrEqual(20_000);
    expect(tokens.requests).toBeGreaterThan(1);
  });
});

describe('inference failures through the whole stack', () => {
  let stack: E2eStack;
  let simulatorUrl = '';
  const TICKET = { title: 'Invoice discount is added, not subtracted (fallback check)', description: 'invoiceTotal adds the discount; it must subtract it.' };

  beforeAll(async () => {
    // A port nothing listens on: the primary endpoint is down.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const deadPort = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    stack = await startE2eStack('inference', {
      inferenceEndpoints: (url) => {
        simulatorUrl = url;
        return [
          { name: 'primary', baseUrl: `http://127.0.0.1:${deadPort}/v1`, model: 'airlock-sim-coder' },
          // Streamed: the plain-text tool protocol, so the cut below is a cut stream.
          { name: 'fallback', baseUrl: url, model: 'airlock-sim-coder', toolCalling: 'text' },
        ];
      },
      writeScenarios: (dir) =>
        writeScenario(dir, '05-fallback-text.yaml', TICKET.title, [
          {
            content: 'src/invoice.js\n<<<<<<< SEARCH\n  return subtotal + discount;\n=======\n  return subtotal - discount;\n>>>>>>> REPLACE\n```tool\n{"name": "run_tests", "arguments": {}}\n```\n',
            // The first stream of the conversation loses its connection halfway.
            cut_times: 1,
          },
          { content: '```tool\n{"name": "finish", "arguments": {"summary": "subtracts the discount"}}\n```\n' },
        ]),
    });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('uses the fallback endpoint when the primary is down and retries a stream cut mid-answer, counting every request', async () => {
    const done = await stack.api.waitForTerminalJob((await stack.api.createFixJob({ repoAlias: DEMO_REPO_ALIAS, baseRef: DEMO_BRANCH_BASE, ticket: TICKET })).id, JOB_TIMEOUT_MS);
    expect(done.status).toBe('SUCCEEDED');
    // Each of the two answers: three refused connections to the primary, then the fallback;
    // the first answer's stream was cut once and asked again.
    expect(done.result).toMatchObject({ tokens: { requests: 9 }, verification: { agentTestRuns: 1, testExitCode: 0 } });
    const ledger = (await (await fetch(`${simulatorUrl}/sim/requests`)).json()) as { byScenario: Record<string, number> };
    expect(ledger.byScenario['05-fallback-text']).toBe(3);
  });
});
