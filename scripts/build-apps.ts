/**
 * `npm run build`: bundles the control plane and the worker into plain JavaScript a server
 * runs with `node <out>/<app>/main.js`, with no TypeScript transpiler at run time.
 *
 * For each app, into `<out>/<app>/` (default out: dist/apps):
 * - `main.js` (+ `main.js.map`): esbuild bundle of the app and the @airlock/* libraries
 *   (platform node, target node20, whitespace and syntax minified, names kept). The control
 *   plane is one CommonJS file; the worker is ES modules split into chunks at each import()
 *   (see AppBuild.format). SWC transpiles the workspace's TypeScript first, with decorator
 *   metadata as @swc-node/register and Jest do: NestJS injects by the constructor parameter
 *   types that metadata carries, which esbuild alone cannot emit. The worker also gets
 *   `egress-relay.js`, the program its setup sandbox starts (built on its own: it must be a
 *   file of Node built-ins only).
 * - the version stamp (package version, git commit, build time) defined into
 *   libs/protocol's buildInfo();
 * - the assets the code reads from disk: `proto/`, and for the control plane its migrations
 *   (`prisma/migrations/`), the Prisma query compiler (`query_compiler_bg.wasm`,
 *   `schema.prisma`) and the built dashboard (`dashboard/`);
 * - `package.json` naming exactly the packages left external (native addons, Wasm and data
 *   files loaded from their own folders), at the root package-lock.json's versions, a
 *   `package-lock.json` cut from the root one, and `node_modules/` with those packages and
 *   what they depend on, copied from the root node_modules (which `npm ci` installed from
 *   that same lockfile), so the build needs no network. `npm ci --omit=dev --ignore-scripts`
 *   in the folder installs the same tree from a registry.
 *
 * Flags: --out DIR (default dist/apps), --app NAME (repeatable; default both).
 * Needs the Prisma client generated (`npm run db:generate`) and the dashboard built
 * (`npm run dashboard:build`); `npm run build` does both first.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { transform } from '@swc/core';
import { build, type Metafile, type Plugin } from 'esbuild';
import type { BuildInfo } from '@airlock/protocol';

const WORKSPACE_ROOT = resolve(__dirname, '..');

type AppName = 'control-plane' | 'worker';

interface AppBuild {
  /** Output file name (without .js) → entry source, relative to the workspace. */
  readonly entries: Readonly<Record<string, string>>;
  /**
   * `esm` splits the code behind each dynamic import() into chunk files beside main.js, read
   * only when first imported (the folder's package.json says "type": "module"); `cjs` is one
   * file. A single file is parsed whole at start-up, code a job alone needs included.
   */
  readonly format: 'cjs' | 'esm';
  /**
   * Packages left out of the bundle and installed beside it. Only what cannot be bundled:
   * a native addon, or a package that finds its own Wasm or data files, or serves its own
   * static files, from its folder at run time.
   */
  readonly externalPackages: readonly string[];
  /**
   * Modules a bundled package requires only inside a try/catch, to use them when installed
   * (NestJS's transports and optional integrations, pg's native binding). They are not
   * dependencies: the bundle runs without them exactly as the sources do.
   */
  readonly absentOptionalModules: readonly string[];
  /** Files and folders copied beside main.js: workspace path → path under the app's folder. */
  readonly assets: ReadonlyArray<{ readonly from: string; readonly to: string; readonly missingHint?: string }>;
  /**
   * Node.js flags its launchers pass before main.js (the image's entrypoint, the systemd unit,
   * the Helm chart, the local stack). The bundle's package.json lists them as `airlock.nodeFlags`.
   */
  readonly nodeFlags: readonly string[];
}

/**
 * The worker's V8 flags: memory over speed, for a daemon that idles for hours between jobs
 * whose time goes to the model and the tests, not to JavaScript. On Node 24 they take the idle
 * worker from some 99 to 79 MiB resident (docs/operations/build.md has the table):
 * - `--max-semi-space-size=1`: a young generation of 1 MiB per half, not up to 16 MiB that
 *   V8 grows while the modules load and keeps while idle;
 * - `--optimize-for-size`: V8's own memory-over-speed trade-offs (smaller heap growth steps);
 * - `--no-opt --no-maglev`: no optimizing compilers; JavaScript runs in the interpreter and
 *   Sparkplug's baseline code. WebAssembly (tree-sitter, undici's HTTP parser) is not affected.
 */
export const WORKER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1', '--optimize-for-size', '--no-opt', '--no-maglev'];

const PROTO_ASSET = { from: 'proto', to: 'proto' } as const;

const APPS: Readonly<Record<AppName, AppBuild>> = {
  worker: {
    entries: { main: 'apps/worker/src/main.ts', 'egress-relay': 'apps/worker/src/jobs/setup/egress-relay.ts' },
    // The daemon idles for hours between jobs: what only a job needs stays in chunks until one comes.
    format: 'esm',
    externalPackages: [
      // The context engine's tree-sitter runtime loads tree-sitter.wasm from its own folder, and
      // the grammars (.wasm) are found through require.resolve of their package.
      'web-tree-sitter',
      '@vscode/tree-sitter-wasm',
    ],
    absentOptionalModules: [],
    assets: [PROTO_ASSET],
    nodeFlags: WORKER_NODE_FLAGS,
  },
  'control-plane': {
    entries: { main: 'apps/control-plane/src/main.ts' },
    format: 'cjs',
    externalPackages: [
      // A native addon (.node), with its platform packages as optional dependencies.
      '@node-rs/argon2',
      // Embedded PostgreSQL: Wasm and data files (postgres.wasm, postgres.data, extensions) beside its code.
      '@electric-sql/pglite',
      '@electric-sql/pglite-socket',
      // @nestjs/swagger serves the /api/docs UI's files from this package's folder.
      'swagger-ui-dist',
    ],
    absentOptionalModules: [
      '@nestjs/websockets',
      'amqp-connection-manager',
      'amqplib',
      'class-transformer/storage',
      'file-type',
      'ioredis',
      'kafkajs',
      'mqtt',
      'nats',
      'pg-native',
    ],
    assets: [
      PROTO_ASSET,
      // Applied at start-up (libs/data-access migration-runner), found beside main.js in a bundle.
      { from: 'libs/data-access/prisma/migrations', to: 'prisma/migrations' },
      // The generated Prisma client is bundled; it reads its query compiler and schema from the bundle's folder.
      { from: 'node_modules/.prisma/client/query_compiler_bg.wasm', to: 'query_compiler_bg.wasm', missingHint: 'npm run db:generate' },
      { from: 'node_modules/.prisma/client/schema.prisma', to: 'schema.prisma', missingHint: 'npm run db:generate' },
      { from: 'dist/apps/dashboard', to: 'dashboard', missingHint: 'npm run dashboard:build' },
    ],
    // A server with room to spare: V8's defaults.
    nodeFlags: [],
  },
};

/**
 * What CommonJS gives every module and an ES module lacks, for the bundled CommonJS packages
 * and the workspace code that use them: each output file's own `require`, `__filename` and
 * `__dirname` (main.js and its chunks lie in one folder, so `__dirname` is the app's folder).
 */
const ESM_BANNER = [
  "import { createRequire as __airlockCreateRequire } from 'node:module';",
  "import { fileURLToPath as __airlockFileURLToPath } from 'node:url';",
  "import { dirname as __airlockDirname } from 'node:path';",
  'const require = __airlockCreateRequire(import.meta.url);',
  'const __filename = __airlockFileURLToPath(import.meta.url);',
  'const __dirname = __airlockDirname(__filename);',
].join(' ');

/** Packages that only build or test the apps: a bundle must never need them. */
const BUILD_ONLY_PACKAGES = ['typescript', '@swc-node/register', '@swc/core', '@swc/jest', 'ts-node', 'jest', 'esbuild'] as const;

interface LockEntry {
  readonly version?: string;
  readonly resolved?: string;
  readonly integrity?: string;
  readonly license?: string;
  readonly dependencies?: Record<string, string>;
  readonly optionalDependencies?: Record<string, string>;
  readonly peerDependencies?: Record<string, string>;
  readonly peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  readonly optional?: boolean;
  readonly dev?: boolean;
  readonly devOptional?: boolean;
  readonly peer?: boolean;
  readonly [field: string]: unknown;
}

interface RootLock {
  readonly packages: Record<string, LockEntry>;
}

function parseArgs(argv: readonly string[]): { out: string; apps: AppName[] } {
  let out = join(WORKSPACE_ROOT, 'dist', 'apps');
  const apps: AppName[] = [];
  for (let index = 0; index < argv.length; index += 1) {
    const flag = argv[index];
    const value = argv[index + 1];
    if (flag === '--out' && value) {
      out = resolve(value);
      index += 1;
    } else if (flag === '--app' && (value === 'worker' || value === 'control-plane')) {
      apps.push(value);
      index += 1;
    } else {
      throw new Error(`unknown or incomplete option ${flag ?? ''}: expected --out DIR, --app worker|control-plane`);
    }
  }
  return { out, apps: apps.length > 0 ? apps : ['control-plane', 'worker'] };
}

function git(args: readonly string[]): string | undefined {
  try {
    return execFileSync('git', args, { cwd: WORKSPACE_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

/**
 * The stamp: the root package's version, the short commit (`-dirty` when tracked files
 * differ from it; untracked files do not count), and the build time — SOURCE_DATE_EPOCH's
 * when set, so that a rebuild of one commit can be byte for byte the same.
 */
function currentBuildInfo(): BuildInfo {
  const { version } = JSON.parse(readFileSync(join(WORKSPACE_ROOT, 'package.json'), 'utf8')) as { version: string };
  const sha = git(['rev-parse', '--short', 'HEAD']);
  const dirty = sha !== undefined && git(['status', '--porcelain', '--untracked-files=no']) !== '';
  const epoch = process.env['SOURCE_DATE_EPOCH'];
  const builtAt = new Date(epoch ? Number(epoch) * 1000 : Date.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return { version, commit: sha === undefined ? 'unknown' : `${sha}${dirty ? '-dirty' : ''}`, builtAt, bundled: true };
}

/**
 * Transpiles the workspace's TypeScript with SWC, with the options of jest.preset.js (legacy
 * decorators, their metadata, no define semantics for class fields), into ES modules that
 * esbuild then bundles and tree-shakes. In a module that is not this bundle's entry, a
 * `require.main === module` guard (a file that is also a program of its own) becomes false:
 * in a bundle every module shares the entry's `module`, so the guard would run that program
 * inside the app. In the entry it becomes true (an ES module has no `module` to compare).
 */
function swcTypeScript(entryFile: string): Plugin {
  return {
    name: 'airlock-swc-typescript',
    setup(pluginBuild) {
      pluginBuild.onLoad({ filter: /\.ts$/ }, async ({ path }) => {
        if (path.includes('/node_modules/')) return undefined;
        let source = await readFile(path, 'utf8');
        source = source.replace(/\brequire\.main === module\b/g, path === entryFile ? 'true /* bundled: the entry */' : 'false /* bundled: not the entry */');
        const output = await transform(source, {
          filename: path,
          swcrc: false,
          configFile: false,
          sourceMaps: 'inline',
          jsc: {
            parser: { syntax: 'typescript', decorators: true },
            transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
            target: 'es2022',
            keepClassNames: true,
          },
          module: { type: 'es6' },
        });
        return { contents: output.code, loader: 'js', resolveDir: dirname(path) };
      });
    },
  };
}

/**
 * Node 24 loads its own copy of undici for an ES `import` of node:http: the ES facade of a
 * built-in reads every export, and node:http's WebSocket, CloseEvent and MessageEvent are
 * getters that load it (importing the idle worker's modules on Node 24 took 75.6 MiB with it,
 * 69.3 without). A CommonJS `require` reads none of them, so in an ES-module bundle these
 * built-ins are taken through `require` (the banner's createRequire): each import of them
 * resolves to a one-line CommonJS module that re-exports the require.
 */
const BUILTINS_THROUGH_REQUIRE = /^(node:)?http$/;
const throughRequire: Plugin = {
  name: 'airlock-builtins-through-require',
  setup(pluginBuild) {
    const namespace = 'airlock-builtin-through-require';
    pluginBuild.onResolve({ filter: BUILTINS_THROUGH_REQUIRE }, ({ path, namespace: from }) =>
      from === namespace ? { path, external: true } : { path: path.startsWith('node:') ? path : `node:${path}`, namespace },
    );
    pluginBuild.onLoad({ filter: /.*/, namespace }, ({ path }) => ({ contents: `module.exports = require(${JSON.stringify(path)});`, loader: 'js' }));
  },
};

/** `@scope/name` or `name` of an import path; undefined for a Node built-in or a relative path. */
function packageOf(importPath: string): string | undefined {
  if (importPath.startsWith('node:') || builtinModules.includes(importPath.split('/')[0] ?? '') || builtinModules.includes(importPath)) return undefined;
  if (importPath.startsWith('.') || isAbsolute(importPath)) return undefined;
  const parts = importPath.split('/');
  return importPath.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/**
 * `require.resolve("x")` (esbuild's `__require.resolve` too) in a bundle's JavaScript: an ES
 * module bundle leaves these out of esbuild's record of its imports.
 */
const REQUIRE_RESOLVE = /\b(?:__)?require\.resolve\s*\(\s*"([\w@./:-]+)"\s*\)/g;

/**
 * The packages the bundle leaves to node_modules, from esbuild's record of its imports and
 * the require.resolve calls in its text: each must be a declared external or a known absent
 * optional module, never a build tool.
 */
function externalPackagesOf(metafile: Metafile, app: AppBuild, name: string): Set<string> {
  const used = new Set<string>();
  const check = (specifier: string, resolveOnly: boolean, where: string): void => {
    const pkg = packageOf(specifier);
    if (pkg === undefined) return;
    if ((BUILD_ONLY_PACKAGES as readonly string[]).includes(pkg)) {
      // The worker's node-program.ts resolves @swc-node/register only for a `.ts` entry, which a bundle never has.
      if (resolveOnly && pkg === '@swc-node/register') return;
      throw new Error(`${where} loads ${specifier}, a build tool that must not be needed at run time`);
    }
    if (app.externalPackages.includes(pkg)) used.add(pkg);
    else if (!app.absentOptionalModules.some((absent) => specifier === absent || specifier.startsWith(`${absent}/`))) {
      throw new Error(`${where} loads ${specifier}, which is neither bundled nor a declared external`);
    }
  };
  for (const [file, output] of Object.entries(metafile.outputs)) {
    for (const imported of output.imports) {
      if (imported.external) check(imported.path, imported.kind === 'require-resolve', `${name} (${file})`);
    }
    if (file.endsWith('.js')) {
      for (const [, specifier = ''] of readFileSync(join(WORKSPACE_ROOT, file), 'utf8').matchAll(REQUIRE_RESOLVE)) check(specifier, true, `${name} (${file})`);
    }
  }
  for (const input of Object.keys(metafile.inputs)) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (match && (BUILD_ONLY_PACKAGES as readonly string[]).includes(match[1] ?? '')) throw new Error(`${name}: ${input} of a build tool was bundled`);
  }
  return used;
}

/** Where Node would find `dependency` from the package at lockfile path `from` (`node_modules/a/node_modules/b`). */
function resolveInLock(lock: RootLock, from: string, dependency: string): string | undefined {
  let base = from;
  for (;;) {
    const candidate = `${base ? `${base}/` : ''}node_modules/${dependency}`;
    if (lock.packages[candidate]) return candidate;
    if (!base) return undefined;
    const cut = base.lastIndexOf('/node_modules/');
    base = cut < 0 ? '' : base.slice(0, cut);
  }
}

/**
 * The root lockfile's entries for `packages` and everything they depend on, at the same
 * paths, so that every package resolves its dependencies to the versions it does in the
 * workspace. Flags that describe the workspace (dev, peer) are dropped: here all is production.
 */
function lockClosure(lock: RootLock, packages: Iterable<string>): Map<string, LockEntry> {
  const closure = new Map<string, LockEntry>();
  const pending = [...packages].map((name) => {
    const path = `node_modules/${name}`;
    if (!lock.packages[path]) throw new Error(`${name} is not in the root package-lock.json`);
    return path;
  });
  while (pending.length > 0) {
    const path = pending.pop()!;
    if (closure.has(path)) continue;
    const { dev: _dev, devOptional: _devOptional, peer: _peer, ...entry } = lock.packages[path]!;
    closure.set(path, entry);
    // npm installs required peers, and leaves optional ones to whoever else needs them.
    const optionalPeers = new Set(Object.entries(entry.peerDependenciesMeta ?? {}).filter(([, meta]) => meta.optional).map(([name]) => name));
    const wanted: Array<[string, boolean]> = [
      ...Object.keys(entry.dependencies ?? {}).map((name): [string, boolean] => [name, false]),
      // Platform packages (a native addon's prebuilt binaries): the lockfile keeps every one.
      ...Object.keys(entry.optionalDependencies ?? {}).map((name): [string, boolean] => [name, true]),
      ...Object.keys(entry.peerDependencies ?? {})
        .filter((name) => !optionalPeers.has(name))
        .map((name): [string, boolean] => [name, false]),
    ];
    for (const [dependency, optional] of wanted) {
      const found = resolveInLock(lock, path, dependency);
      if (found) pending.push(found);
      else if (!optional) throw new Error(`${path} depends on ${dependency}, which the root package-lock.json does not hold`);
    }
  }
  return new Map([...closure.entries()].sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * package.json and package-lock.json for the app's folder, and its node_modules copied from
 * the workspace's. A package the lockfile lists but this machine did not install (another
 * platform's optional binary) is left to `npm ci` on that platform.
 */
function writeProductionDependencies(appDir: string, name: AppName, externals: ReadonlySet<string>, info: BuildInfo): { packages: number; bytes: number } {
  const lock = JSON.parse(readFileSync(join(WORKSPACE_ROOT, 'package-lock.json'), 'utf8')) as RootLock;
  const dependencies = Object.fromEntries(
    [...externals].sort().map((pkg) => {
      const version = lock.packages[`node_modules/${pkg}`]?.version;
      if (!version) throw new Error(`${pkg} has no version in the root package-lock.json`);
      return [pkg, version];
    }),
  );
  const manifest = {
    name: `@airlock/${name}`,
    version: info.version,
    private: true,
    description: `Airlock ${name}, built from ${info.commit} at ${info.builtAt}`,
    license: 'UNLICENSED',
    main: 'main.js',
    ...(APPS[name].format === 'esm' ? { type: 'module' } : {}),
    engines: { node: '>=20.19.0' },
    dependencies,
    airlock: { nodeFlags: APPS[name].nodeFlags },
  };
  writeFileSync(join(appDir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const closure = lockClosure(lock, externals);
  const packageLock = {
    name: manifest.name,
    version: manifest.version,
    lockfileVersion: 3,
    requires: true,
    packages: { '': { name: manifest.name, version: manifest.version, license: manifest.license, dependencies, engines: manifest.engines }, ...Object.fromEntries(closure) },
  };
  writeFileSync(join(appDir, 'package-lock.json'), `${JSON.stringify(packageLock, null, 2)}\n`);

  let packages = 0;
  for (const [path, entry] of closure) {
    const source = join(WORKSPACE_ROOT, path);
    if (!existsSync(source)) {
      if (entry.optional) continue;
      throw new Error(`${path} is in the lockfile but not installed: run npm ci`);
    }
    const installed = (JSON.parse(readFileSync(join(source, 'package.json'), 'utf8')) as { version?: string }).version;
    if (installed !== entry.version) throw new Error(`${path} is ${installed ?? 'unversioned'} in node_modules but ${entry.version ?? '?'} in package-lock.json: run npm ci`);
    // Its nested node_modules hold other lockfile entries, copied only when the closure has them.
    const nested = join(source, 'node_modules');
    cpSync(source, join(appDir, path), { recursive: true, dereference: true, filter: (file) => file !== nested && !file.startsWith(`${nested}/`) });
    packages += 1;
  }
  return { packages, bytes: directoryBytes(join(appDir, 'node_modules')) };
}

function directoryBytes(path: string): number {
  if (!existsSync(path)) return 0;
  const output = execFileSync('du', ['-sb', path], { encoding: 'utf8' });
  return Number(output.split('\t')[0]);
}

function copyAssets(appDir: string, app: AppBuild, name: AppName): void {
  for (const asset of app.assets) {
    const from = join(WORKSPACE_ROOT, asset.from);
    if (!existsSync(from)) throw new Error(`${name}: ${asset.from} is missing${asset.missingHint ? `: run ${asset.missingHint} first` : ''}`);
    const to = join(appDir, asset.to);
    mkdirSync(dirname(to), { recursive: true });
    cpSync(from, to, { recursive: true });
  }
}

/**
 * The generated Prisma client must be of the committed schema, or the bundle would carry a
 * stale one. Prisma keeps a copy of the schema it generated from, with its columns aligned anew.
 */
function checkPrismaClientCurrent(): void {
  const generated = join(WORKSPACE_ROOT, 'node_modules/.prisma/client/schema.prisma');
  const schema = join(WORKSPACE_ROOT, 'libs/data-access/prisma/schema.prisma');
  const normalized = (file: string): string => readFileSync(file, 'utf8').replace(/[ \t]+/g, ' ');
  if (!existsSync(generated) || normalized(generated) !== normalized(schema)) {
    throw new Error('the generated Prisma client is missing or of another schema: run npm run db:generate first');
  }
}

async function buildApp(name: AppName, outRoot: string, info: BuildInfo): Promise<string> {
  const app = APPS[name];
  const appDir = join(outRoot, name);
  // Only the app's own folder: a rebuild must not keep files a previous build left.
  rmSync(appDir, { recursive: true, force: true });
  mkdirSync(appDir, { recursive: true });
  if (name === 'control-plane') checkPrismaClientCurrent();

  const externals = new Set<string>();
  const outputs: Array<{ readonly file: string; readonly bytes: number; readonly entry: boolean }> = [];
  const started = Date.now();
  for (const [outName, entry] of Object.entries(app.entries)) {
    const entryFile = join(WORKSPACE_ROOT, entry);
    const result = await build({
      entryPoints: { [outName]: entryFile },
      outdir: appDir,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: app.format,
      ...(app.format === 'esm' ? { splitting: true, banner: { js: ESM_BANNER } } : {}),
      sourcemap: 'linked',
      // Whitespace and syntax only: the names stay, so stack traces name their functions and
      // classes (main.js.map maps the positions back with --enable-source-maps). Without the
      // comments the source is smaller and ASCII, so V8 keeps it one byte per character.
      minifyWhitespace: true,
      minifySyntax: true,
      minifyIdentifiers: false,
      keepNames: true,
      legalComments: 'linked',
      tsconfig: join(WORKSPACE_ROOT, 'tsconfig.json'),
      external: [...app.externalPackages, ...app.absentOptionalModules],
      define: { AIRLOCK_BUILD_INFO: JSON.stringify(info) },
      plugins: app.format === 'esm' ? [throughRequire, swcTypeScript(entryFile)] : [swcTypeScript(entryFile)],
      metafile: true,
      logLevel: 'warning',
      // A require.resolve esbuild leaves alone is checked against the externals from the metafile (externalPackagesOf).
      logOverride: { 'require-resolve-not-external': 'silent' },
      absWorkingDir: WORKSPACE_ROOT,
    });
    for (const pkg of externalPackagesOf(result.metafile, app, `${name}/${outName}.js`)) externals.add(pkg);
    for (const [file, output] of Object.entries(result.metafile.outputs)) {
      if (file.endsWith('.js')) outputs.push({ file: relative(appDir, join(WORKSPACE_ROOT, file)), bytes: output.bytes, entry: file.endsWith(`/${outName}.js`) });
    }
  }
  for (const declared of app.externalPackages) {
    if (!externals.has(declared)) throw new Error(`${name}: ${declared} is declared external but the bundle never imports it`);
  }
  copyAssets(appDir, app, name);
  const installed = writeProductionDependencies(appDir, name, externals, info);
  const size = (bytes: number): string => (bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(2)} MiB` : `${(bytes / 1024).toFixed(0)} KiB`);
  const chunks = outputs.filter((output) => !output.entry);
  const bundles = [
    ...outputs.filter((output) => output.entry).map((output) => `${output.file} ${size(output.bytes)}`),
    ...(chunks.length > 0 ? [`${chunks.length} chunks ${size(chunks.reduce((sum, chunk) => sum + chunk.bytes, 0))} (read on first import)`] : []),
  ].join(', ');
  const shown = relative(process.cwd(), appDir);
  return `${shown.startsWith('..') ? appDir : shown}: ${bundles}; external ${[...externals].sort().join(', ')}: ${installed.packages} packages with what they depend on, ${size(installed.bytes)} in node_modules; built in ${((Date.now() - started) / 1000).toFixed(1)} s`;
}

async function main(): Promise<void> {
  const { out, apps } = parseArgs(process.argv.slice(2));
  const info = currentBuildInfo();
  process.stdout.write(`build ${info.version}, commit ${info.commit}, built ${info.builtAt}\n`);
  for (const name of apps) process.stdout.write(`${await buildApp(name, out, info)}\n`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`build failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
