import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_BRANCH_BASE, DEMO_REPO_ALIAS, DEMO_TICKET, startLocalStack, WORKSPACE_ROOT, type JobView, type LocalStack } from '@airlock/local-stack';
import { buildAppsInto } from './support/build-apps';

/**
 * `npm run build` as a server gets it: both apps bundled by scripts/build-apps.ts into a
 * folder outside the workspace, run with plain `node <app>/main.js`, the control plane on its
 * embedded PostgreSQL, and the demo's fix job carried end to end by the bundled worker.
 */

/** The TypeScript toolchain: nothing in a bundle may load it. */
const BUILD_TOOLS = ['typescript', '@swc-node/register', '@swc/core', '@swc/jest', 'ts-node', 'jest', 'esbuild'];

/** `require("x")` (esbuild's `__require` too), `require.resolve("x")`, `import("x")`, `from "x"`, `import "x"`. */
const MODULE_REFERENCE = /(?:\b(?:__)?require(\.resolve)?|\bimport)\s*\(\s*"([\w@./:-]+)"\s*\)|\b(?:from|import)\s*"([\w@./:-]+)"/g;

const packageOf = (specifier: string): string => specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');

/** Every module a bundle's JavaScript files name, per file, with whether only `require.resolve` names it. */
function moduleReferences(appDir: string): Array<{ file: string; specifier: string; resolveOnly: boolean }> {
  return readdirSync(appDir)
    .filter((file) => file.endsWith('.js'))
    .flatMap((file) =>
      [...readFileSync(join(appDir, file), 'utf8').matchAll(MODULE_REFERENCE)].map((match) => ({ file, specifier: match[2] ?? match[3] ?? '', resolveOnly: match[1] !== undefined })),
    );
}

/** Every package folder under a node_modules tree, nested ones included (`@scope/name` or `name`). */
function installedPackages(nodeModules: string): string[] {
  if (!existsSync(nodeModules)) return [];
  return readdirSync(nodeModules).flatMap((entry) => {
    if (entry.startsWith('.')) return [];
    const names = entry.startsWith('@') ? readdirSync(join(nodeModules, entry)).map((name) => `${entry}/${name}`) : [entry];
    return names.flatMap((name) => [name, ...installedPackages(join(nodeModules, name, 'node_modules'))]);
  });
}

describe('the apps bundled for a server', () => {
  const workspaceVersion = (JSON.parse(readFileSync(join(WORKSPACE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  const headCommit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: WORKSPACE_ROOT, encoding: 'utf8' }).trim();
  let outDir: string;
  let appsDir: string;
  let buildOutput: string;
  let stack: LocalStack | undefined;
  let job: JobView;

  beforeAll(async () => {
    outDir = mkdtempSync(join(tmpdir(), 'airlock-bundled-apps-'));
    appsDir = join(outDir, 'apps');
    buildOutput = buildAppsInto(appsDir);

    stack = await startLocalStack({
      baseDir: join(outDir, 'stack'),
      canary: `AIRLOCK-CANARY-${randomBytes(8).toString('hex')}`,
      // Embedded PostgreSQL: no databaseUrl.
      bundledAppsDir: appsDir,
    });
    const created = await stack.api.createFixJob({ repoAlias: DEMO_REPO_ALIAS, baseRef: DEMO_BRANCH_BASE, ticket: DEMO_TICKET });
    job = await stack.api.waitForTerminalJob(created.id, 90_000);
  }, 240_000);

  afterAll(async () => {
    await stack?.stop();
    if (outDir && process.env['AIRLOCK_E2E_KEEP'] === undefined) rmSync(outDir, { recursive: true, force: true });
  });

  it('bundles each app into main.js with its package.json, lockfile and the external packages installed', () => {
    for (const app of ['control-plane', 'worker']) {
      const appDir = join(appsDir, app);
      const manifest = JSON.parse(readFileSync(join(appDir, 'package.json'), 'utf8')) as { version: string; main: string; dependencies: Record<string, string> };
      expect(manifest).toMatchObject({ version: workspaceVersion, main: 'main.js' });
      const rootLock = JSON.parse(readFileSync(join(WORKSPACE_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version: string }> };
      const appLock = JSON.parse(readFileSync(join(appDir, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string; dependencies?: Record<string, string> }> };
      expect(appLock.packages['']?.dependencies).toEqual(manifest.dependencies);
      for (const [name, version] of Object.entries(manifest.dependencies)) {
        // The root lockfile's version, installed.
        expect(rootLock.packages[`node_modules/${name}`]?.version).toBe(version);
        expect((JSON.parse(readFileSync(join(appDir, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version).toBe(version);
      }
    }
    expect(Object.keys((JSON.parse(readFileSync(join(appsDir, 'control-plane', 'package.json'), 'utf8')) as { dependencies: object }).dependencies).sort()).toEqual([
      '@electric-sql/pglite',
      '@electric-sql/pglite-socket',
      '@node-rs/argon2',
      'swagger-ui-dist',
    ]);
    expect(Object.keys((JSON.parse(readFileSync(join(appsDir, 'worker', 'package.json'), 'utf8')) as { dependencies: object }).dependencies).sort()).toEqual(['@vscode/tree-sitter-wasm', 'web-tree-sitter']);
    for (const asset of ['proto/airlock/v1/worker_gateway.proto', 'prisma/migrations', 'query_compiler_bg.wasm', 'schema.prisma', 'dashboard/index.html']) {
      expect(existsSync(join(appsDir, 'control-plane', asset))).toBe(true);
    }
    expect(existsSync(join(appsDir, 'worker', 'proto/airlock/v1/worker_gateway.proto'))).toBe(true);
    expect(existsSync(join(appsDir, 'worker', 'egress-relay.js'))).toBe(true);
  });

  it('needs no TypeScript toolchain: no bundle loads one, none is installed beside it, none can be found from it', () => {
    for (const app of ['control-plane', 'worker']) {
      const appDir = join(appsDir, app);
      const references = moduleReferences(appDir);
      // Sanity: the scan sees what the bundles do load.
      expect(references.map(({ specifier }) => specifier)).toContain(app === 'worker' ? 'web-tree-sitter' : '@node-rs/argon2');
      const toolchain = references.filter(({ specifier }) => BUILD_TOOLS.includes(packageOf(specifier)));
      // The one mention: the worker's node-program.ts resolves @swc-node/register for a `.ts` entry, which only a run from sources has.
      expect(toolchain.filter(({ specifier, resolveOnly }) => !(resolveOnly && specifier === '@swc-node/register'))).toEqual([]);
      expect(installedPackages(join(appDir, 'node_modules')).filter((name) => BUILD_TOOLS.includes(name))).toEqual([]);
      // Outside the workspace no node_modules up the tree holds them either: the apps below ran without them.
      for (const tool of BUILD_TOOLS) expect(() => require.resolve(tool, { paths: [appDir] })).toThrow();
    }
  });

  it('stamps the version, the commit and the build time: worker --version prints them', () => {
    const printed = execFileSync(process.execPath, [join(appsDir, 'worker', 'main.js'), '--version'], { cwd: outDir, encoding: 'utf8' }).trim();
    const stamp = new RegExp(`^${workspaceVersion.replace(/\./g, '\\.')} \\(commit ${headCommit}(-dirty)?, built (\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z)\\)$`);
    expect(printed).toMatch(stamp);
    expect(buildOutput).toContain(`built ${stamp.exec(printed)?.[2] ?? '?'}`);
  });

  /** A chunk of the worker bundle, by the name esbuild gives it before its hash. */
  function workerChunk(prefix: string): string {
    const found = readdirSync(join(appsDir, 'worker')).find((file) => file.startsWith(prefix) && file.endsWith('.js'));
    if (!found) throw new Error(`no ${prefix}*.js chunk in ${join(appsDir, 'worker')}`);
    return found;
  }

  /** What `main.js run` loads before any job: main.js, the run command's chunk, and every chunk they import statically. */
  function idleWorkerFiles(): Set<string> {
    const loaded = new Set<string>();
    const pending = ['main.js', workerChunk('run.command-')];
    while (pending.length > 0) {
      const file = pending.pop()!;
      if (loaded.has(file)) continue;
      loaded.add(file);
      const text = readFileSync(join(appsDir, 'worker', file), 'utf8');
      for (const match of text.matchAll(/\b(?:from|import)\s*"\.\/([\w.-]+\.js)"/g)) pending.push(match[1]!);
    }
    return loaded;
  }

  it("keeps a job's code out of an idle worker: the run command's static imports reach neither the pipelines nor tree-sitter", () => {
    const workerDir = join(appsDir, 'worker');
    const loaded = idleWorkerFiles();
    expect(loaded.has(workerChunk('job-pipelines-'))).toBe(false);
    const idleModules = [...loaded].flatMap((file) => [...readFileSync(join(workerDir, file), 'utf8').matchAll(MODULE_REFERENCE)].map((match) => match[2] ?? match[3]));
    expect(idleModules.filter((specifier) => specifier === 'web-tree-sitter')).toEqual([]);
    // Sanity: the job's chunk is where tree-sitter is imported from.
    expect(readdirSync(workerDir).some((file) => file.endsWith('.js') && !loaded.has(file) && readFileSync(join(workerDir, file), 'utf8').includes('from"web-tree-sitter"'))).toBe(true);
  });

  it('keeps HTTP clients out of an idle worker: neither undici, nor the openai SDK, nor the undici inside Node', () => {
    const workerDir = join(appsDir, 'worker');
    const loaded = idleWorkerFiles();
    const files = readdirSync(workerDir).filter((file) => file.endsWith('.js'));
    // Each is imported dynamically, on first use, so esbuild gives it a chunk named after it.
    expect([workerChunk('undici-'), workerChunk('openai-')].filter((chunk) => loaded.has(chunk))).toEqual([]);
    expect(files.filter((file) => file !== workerChunk('undici-') && readFileSync(join(workerDir, file), 'utf8').includes('"node_modules/undici/'))).toEqual([]);
    // An ES import of node:http makes Node 24 load its own undici (node:http's WebSocket getter):
    // the bundle takes node:http through require instead, everywhere.
    expect(files.filter((file) => /\bfrom\s*"(node:)?http"/.test(readFileSync(join(workerDir, file), 'utf8')))).toEqual([]);
    // And at run time, on whichever Node runs this (the check bites on Node 24).
    const runCommand = join(workerDir, workerChunk('run.command-'));
    const probe = spawnSync(process.execPath, ['--input-type=module', '-e', `await import(${JSON.stringify(runCommand)}); process.stdout.write(String(process.moduleLoadList.some((name) => name.includes('deps/undici'))))`], { encoding: 'utf8' });
    expect({ status: probe.status, nodeUndiciLoaded: probe.stdout }).toEqual({ status: 0, nodeUndiciLoaded: 'false' });
  });

  it('prints the worker config schema', () => {
    const schema = JSON.parse(execFileSync(process.execPath, [join(appsDir, 'worker', 'main.js'), 'config-schema'], { cwd: outDir, encoding: 'utf8' })) as { $schema: string; properties: object };
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['controlPlane', 'stateDir', 'workspaceDir', 'inference', 'repositories']));
  });

  it('runs the egress relay as a program of its own, and only as that', () => {
    const relay = spawnSync(process.execPath, [join(appsDir, 'worker', 'egress-relay.js'), '--bogus'], { cwd: outDir, encoding: 'utf8' });
    expect(relay.stderr).toContain('airlock-egress-relay: unknown option --bogus');
    expect(relay.status).not.toBe(0);
  });

  it('runs the control plane and the worker from the bundles, not from sources, each with the Node flags its package.json names', () => {
    const nodeFlagsOf = (app: string): string[] => (JSON.parse(readFileSync(join(appsDir, app, 'package.json'), 'utf8')) as { airlock: { nodeFlags: string[] } }).airlock.nodeFlags;
    expect(nodeFlagsOf('worker')).toEqual(expect.arrayContaining(['--max-semi-space-size=1', '--no-opt']));
    expect(nodeFlagsOf('control-plane')).toEqual([]);
    for (const [app, pid] of [
      ['control-plane', stack!.controlPlane.process.pid],
      ['worker', stack!.worker.process.pid],
    ] as const) {
      const flags = nodeFlagsOf(app);
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      expect(argv.slice(1, 2 + flags.length)).toEqual([...flags, join(appsDir, app, 'main.js')]);
      expect(argv.join(' ')).not.toContain('@swc-node/register');
    }
  });

  it('boots the control plane on embedded PostgreSQL, logs its build and serves health, the API, its docs and the dashboard', async () => {
    const buildInfo = stack!.controlPlane.process.allEvents().find((event) => event.event === 'build_info');
    expect(buildInfo).toEqual({ event: 'build_info', version: workspaceVersion, commit: expect.stringMatching(new RegExp(`^${headCommit}(-dirty)?$`)), builtAt: expect.any(String) });
    const health = await fetch(`${stack!.controlPlane.httpUrl}/api/v1/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    // NestJS injected the jobs controller's services (decorator metadata), the guard read the token, Prisma queried.
    const jobs = await stack!.api.request<{ items: unknown[] }>('GET', '/jobs');
    expect(jobs.status).toBe(200);
    const docs = await fetch(`${stack!.controlPlane.httpUrl}/api/docs/swagger-ui-bundle.js`);
    expect(docs.status).toBe(200);
    const dashboard = await fetch(`${stack!.controlPlane.httpUrl}/`);
    expect(dashboard.status).toBe(200);
    expect(await dashboard.text()).toMatch(/^<!doctype html>/i);
  });

  it('carries the demo fix job end to end through the bundled worker', () => {
    expect(job.status).toBe('SUCCEEDED');
    const phases = job.events.filter((event) => event.type === 'PHASE_COMPLETED').map((event) => event.phase);
    expect(phases).toEqual(['PHASE_WORKSPACE', 'PHASE_SETUP', 'PHASE_BASELINE', 'PHASE_CONTEXT', 'PHASE_INFERENCE', 'PHASE_APPLY', 'PHASE_TEST', 'PHASE_DELIVER']);
    const diff = execFileSync('git', ['--git-dir', stack!.demoRepositoryPath, 'diff', `${DEMO_BRANCH_BASE}...airlock/${job.id}`, '--', 'src/invoice.js'], { encoding: 'utf8' });
    expect(diff).toContain('+  return subtotal - discount;');
  });
});
