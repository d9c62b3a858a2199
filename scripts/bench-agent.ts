/**
 * `npm run bench:agent`: what a fix job costs the worker before the model sees anything,
 * on a large generated repository, through the worker's and the context engine's own code,
 * each next to a baseline measured in the same run on this machine:
 *
 * - workspace: `WorkspaceManager.prepare` (bare mirror + worktree) cold and warm, against a
 *   fresh `git clone` (full and `--depth 1`) from the same git daemon;
 * - setup: `SetupPhase` with the real `SetupRunner` (`npm ci` in the bwrap sandbox, through
 *   the egress proxy, from a local Verdaccio) on a dependency-cache miss, against the same
 *   phase on a hit (`DependencyCache.restore`);
 * - index: `ContextEngine.open` cold, incremental onto the next commit, and from its cache;
 * - retrieval: `RepositoryIndex.retrieve` latency as the CONTEXT phase calls it;
 * - recall@5 on the replay suite's ticket → changed-file pairs, against `git grep` ranking.
 *
 * Flags: --quick (or AIRLOCK_BENCH_QUICK=1: 5,000 files and 200 retrievals, what CI can
 * afford), --files N (default 50,000), --retrievals N (default 300), --repeat N workspace
 * rounds (default 3), --skip setup,recall,lifted, --keep (leave the temporary folder). Needs
 * git and bwrap (without it setup runs unsandboxed, and says so); the setup and npm replay
 * rows need the npm registry (without it they are skipped, and say so).
 */
import { execFile } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  loadReplayCase,
  materializeReplayCase,
  startGitServer,
  startNpmMirror,
  startPythonIndex,
  WORKSPACE_ROOT,
  type NpmMirror,
  type PythonIndex,
} from '@airlock/local-stack';
/* eslint-disable @nx/enforce-module-boundaries -- a benchmark of the worker must run the worker's own code, not a copy:
   the rule rightly keeps tooling off the worker's scope and out of apps; this file alone is the exception. */
import { ContextEngine, DEFAULT_CONTEXT_ENGINE_LIMITS, type RepositoryIndex, type RetrievalResult } from '@airlock/context-engine';
import { localEffectivePolicy } from '@airlock/policy';
import type { RepositoryConfig } from '../apps/worker/src/config/worker-config.loader';
import { GitRunner } from '../apps/worker/src/git/git-runner';
import { contextBudget, DEFAULT_CONTEXT_WINDOW } from '../apps/worker/src/jobs/context/context-budget';
import { JsonLogger } from '../apps/worker/src/logging/json-logger';
import { SetupPhase } from '../apps/worker/src/jobs/phases/setup.phase';
import { JobContext } from '../apps/worker/src/jobs/pipeline/job-context';
import type { JobRecorder } from '../apps/worker/src/jobs/record/job-recorder';
import type { SetupConfig } from '../apps/worker/src/jobs/repo-config/repo-config.schema';
import { checkSandbox, TestSandbox } from '../apps/worker/src/jobs/sandbox/test-sandbox';
import { DependencyCache } from '../apps/worker/src/jobs/setup/dependency-cache';
import { SetupRunner } from '../apps/worker/src/jobs/setup/setup.runner';
import { TestCommandRunner } from '../apps/worker/src/jobs/test-command.runner';
import { WorkspaceManager } from '../apps/worker/src/jobs/workspace/workspace.manager';
import type { JobPolicy } from '../apps/worker/src/policy/job-policy';
/* eslint-enable @nx/enforce-module-boundaries */
import { generateRepository, moveMain, type GeneratedRepository, prng, QUERY_VOCABULARY } from './bench-agent-repository';
import { summarise, type Summary } from './bench-summary';

const execFileAsync = promisify(execFile);

const flag = (name: string, fallback: number): number => {
  const index = process.argv.indexOf(`--${name}`);
  const value = index >= 0 ? Number(process.argv[index + 1]) : fallback;
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`--${name} expects a whole number above zero`);
  return value;
};
const QUICK = process.argv.includes('--quick') || process.env['AIRLOCK_BENCH_QUICK'] === '1';
const FILES = flag('files', QUICK ? 5_000 : 50_000);
const RETRIEVALS = flag('retrievals', QUICK ? 200 : 300);
const KEEP = process.argv.includes('--keep');
const skipIndex = process.argv.indexOf('--skip');
const SKIP = new Set(skipIndex >= 0 ? (process.argv[skipIndex + 1] ?? '').split(',') : []);
/** Rounds of the workspace sequence: on a shared 2-core machine the median of a few says more than one. */
const REPEATS = flag('repeat', 3);
/** The worker config's defaults (apps/worker/src/config/worker-config.schema.ts): files CONTEXT shows, and a completion's max_tokens. */
const WORKER_MAX_CONTEXT_FILES = 8;
const WORKER_MAX_MODEL_TOKENS = 4096;
/** A context window local coding models are commonly served with. */
const LARGE_WINDOW = 32_768;
/** At the small window nearly every retrieval walks the whole ranking (seconds each on a large repository): a sample. */
const SMALL_WINDOW_RETRIEVALS = 20;
/** "Generous": every one of the top files fits whole, so the top 5 is the ranking's own. */
const RECALL_TOKEN_BUDGET = 1_000_000;
const TOP = 5;
/**
 * A small real service's dependencies (75 packages with what they depend on); exact
 * versions, so every run installs the same tree.
 */
const DEPENDENCIES = { express: '4.21.2', lodash: '4.17.21', semver: '7.6.3', dayjs: '1.11.13' };
const SETUP: SetupConfig = { commands: [['npm', 'ci', '--no-audit', '--no-fund']], cacheKey: ['package-lock.json'], cachePaths: ['node_modules'] };
/** The recall baseline drops only words no one would grep for (as the context engine's recall spec does). */
const GREP_STOPWORDS = new Set('the and for are but not its one has have after once when than with does from lets of'.split(' '));

const HOST = { path: process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin', lang: 'C.UTF-8' };
const NEVER = new AbortController().signal;

/** The record no phase measured here writes to; JobContext needs one. */
const NO_RECORD: JobRecorder = {
  jobKey: 'bench',
  lastPatchNumber: undefined,
  baseCommit: () => undefined,
  transcript: () => undefined,
  patch: () => undefined,
  patchVerdict: () => undefined,
  end: () => undefined,
};

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work();
  return { value, ms: performance.now() - started };
}

const duration = (ms: number): string => (Number.isNaN(ms) ? '-' : ms < 1_000 ? `${ms.toFixed(ms < 10 ? 1 : 0)} ms` : `${(ms / 1_000).toFixed(ms < 100_000 ? 2 : 1)} s`);
const count = (n: number): string => n.toLocaleString('en-US');
const LOAD = (): string => loadavg().map((value) => value.toFixed(2)).join(' ');
const mib = (bytes: number): string => `${(bytes / 1024 ** 2).toFixed(1)} MiB`;

/** One line of the main table: a measure, its time, its ratio to the baseline of its group, and what it did. */
interface Row {
  readonly phase: string;
  readonly measure: string;
  readonly ms: number;
  /** Time of the group's baseline; the row's ratio is ms / baselineMs. Absent for rows without one. */
  readonly baselineMs?: number;
  readonly detail: string;
}

function printRows(rows: readonly Row[]): void {
  const widths = { phase: 9, measure: Math.max(...rows.map((row) => row.measure.length), 10) };
  console.log(`\n| ${'phase'.padEnd(widths.phase)} | ${'measure'.padEnd(widths.measure)} |      time | vs base | detail`);
  console.log(`|-${'-'.repeat(widths.phase)}-|-${'-'.repeat(widths.measure)}-|-----------|---------|-------`);
  for (const row of rows) {
    const ratio = row.baselineMs === undefined ? '' : `${(row.ms / row.baselineMs).toFixed(2)}×`;
    console.log(`| ${row.phase.padEnd(widths.phase)} | ${row.measure.padEnd(widths.measure)} | ${duration(row.ms).padStart(9)} | ${ratio.padStart(7)} | ${row.detail}`);
  }
}

/** The host's environment without npm's own settings (set by `npm run`), so only our flags pick the registry. */
function cleanEnvironment(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(npm_|NPM_CONFIG_)/i.test(name)));
}

interface Bench {
  readonly base: string;
  readonly git: GitRunner;
  readonly logger: JsonLogger;
  /** Every worker log line, parsed: the cache and setup events carry sizes. */
  readonly logs: Array<Record<string, unknown>>;
  readonly rows: Row[];
  readonly notes: string[];
}

/** The worktrees the index rows read (everything the rounds made stays until the run's folder is removed). */
interface Workspaces {
  readonly baseWorktree: string;
  readonly nextWorktree: string;
}

/**
 * Workspace: the worker's mirror + worktree against a fresh clone, all from one git daemon.
 * Each round runs the whole sequence on a new mirror (its own alias) interleaved with the
 * clones, so that load from other work on a shared machine falls on both sides:
 * main at commit 1 → cold prepare → main moves to commit 2 → clones → warm prepares →
 * release → one more warm prepare right after that release.
 *
 * Nothing is deleted between timed steps except by the timed release: on this machine's
 * file system (ext4, online discard) creating 50,000 files right after deleting 50,000 costs
 * several times more kernel time than on a fresh area, whatever the pause in between. That
 * cost falls on whichever step comes next, so it is measured once, deliberately, in the
 * "right after a release" row (a worker's steady state), and kept out of the others.
 */
async function benchWorkspace(bench: Bench, repository: GeneratedRepository, originRoot: string): Promise<Workspaces> {
  const server = await startGitServer(originRoot, bench.base);
  const origin = join(originRoot, 'origin.git');
  const workspaceDir = join(bench.base, 'worker-workspace');
  const workspaces = new WorkspaceManager(workspaceDir, bench.git, bench.logger);
  const clones = join(bench.base, 'clones');
  try {
    const url = server.urlOf('origin.git');
    const repoFor = (alias: string): RepositoryConfig => ({ alias, cloneUrl: url, pushUrl: url, branchPrefix: 'airlock/', baseRefs: ['main'] });
    await workspaces.removeStale();
    mkdirSync(clones);
    /** Flushes the file system before a timed step, so that one step's write-back is not billed to the next. */
    const settled = async <T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> => {
      await execFileAsync('sync');
      return timed(work);
    };
    const samples = {
      cloneFull: [] as number[],
      cloneShallow: [] as number[],
      cold: [] as number[],
      warmNew: [] as number[],
      warmSame: [] as number[],
      release: [] as number[],
      afterRelease: [] as number[],
    };
    let kept: { baseWorktree: string; nextWorktree: string } | undefined;
    for (let round = 0; round < REPEATS; round += 1) {
      const repo = repoFor(`bench-${round}`);
      await moveMain(origin, repository.baseCommit);
      const cold = await settled(() => workspaces.prepare(repo, 'main', `job-${round}-base`, NEVER));
      samples.cold.push(cold.ms);
      // The next job's base: main moves on by one commit rewriting ~1% of the files.
      await moveMain(origin, repository.nextCommit);
      samples.cloneFull.push((await settled(() => bench.git.run(['clone', '--quiet', '--', url, join(clones, `full-${round}`)], { cwd: clones }))).ms);
      samples.cloneShallow.push((await settled(() => bench.git.run(['clone', '--quiet', '--depth', '1', '--', url, join(clones, `shallow-${round}`)], { cwd: clones }))).ms);
      const warmNew = await settled(() => workspaces.prepare(repo, 'main', `job-${round}-next`, NEVER));
      samples.warmNew.push(warmNew.ms);
      samples.warmSame.push((await settled(() => workspaces.prepare(repo, 'main', `job-${round}-again`, NEVER))).ms);
      samples.release.push((await settled(() => workspaces.release(repo, `job-${round}-again`))).ms);
      samples.afterRelease.push((await settled(() => workspaces.prepare(repo, 'main', `job-${round}-after`, NEVER))).ms);
      if (cold.value.baseCommit !== repository.baseCommit || warmNew.value.baseCommit !== repository.nextCommit) throw new Error('the worktrees are not at the generated commits');
      kept ??= { baseWorktree: cold.value.worktree, nextWorktree: warmNew.value.worktree };
    }
    if (kept === undefined) throw new Error('no workspace round ran');

    const files = `${count(repository.files)} files`;
    const spread = (values: readonly number[]): string => (values.length > 1 ? `; ${duration(Math.min(...values))}–${duration(Math.max(...values))}` : '');
    const baseline = median(samples.cloneFull);
    const row = (measure: string, values: readonly number[], detail: string, withBaseline = true): Row => ({
      phase: 'workspace',
      measure,
      ms: median(values),
      ...(withBaseline ? { baselineMs: baseline } : {}),
      detail: `${detail}${spread(values)}`,
    });
    bench.rows.push(
      row('baseline: git clone (full), then checkout', samples.cloneFull, `${files}, commit 2`),
      row('baseline: git clone --depth 1', samples.cloneShallow, `${files}, commit 2`),
      row('prepare, cold: mirror init + fetch + worktree', samples.cold, `${files}, commit 1`),
      row('prepare, warm mirror, main moved by 1 commit', samples.warmNew, `fetch of ${count(repository.changedFiles)} changed files + worktree`),
      row('prepare, warm mirror, nothing new', samples.warmSame, 'fetch (nothing to get) + worktree'),
      row('release: remove worktree + prune', samples.release, 'after the job', false),
      row('prepare, warm, right after a release', samples.afterRelease, 'a worker between two jobs: see the note'),
    );
    bench.notes.push(
      `workspace: each row is the median of ${REPEATS} interleaved rounds (min–max after it); "vs base" divides by the full clone's median. ` +
        'Nothing is deleted between timed steps except by the release row: on this disk, writing a checkout right after deleting one costs several times more kernel time, ' +
        'so that cost is shown once, in the "right after a release" row, and kept out of the clone/prepare comparison',
    );
    return kept;
  } finally {
    await server.stop();
  }
}

function median(values: readonly number[]): number {
  return summarise(values).p50;
}

/**
 * Setup: the worker's SetupPhase (real SetupRunner, real DependencyCache) on a miss and on
 * a hit, with each of its steps timed by a pass-through wrapper; plus one more `npm ci`
 * against the now warm mirror, straight through SetupRunner (the phase would hit the cache).
 */
async function benchSetup(bench: Bench): Promise<void> {
  const setupRoot = join(bench.base, 'setup');
  const stateDir = join(setupRoot, 'state');
  const workspaceDir = join(setupRoot, 'workspace');
  mkdirSync(join(stateDir, 'job-logs'), { recursive: true });
  let mirror: NpmMirror;
  try {
    mirror = await startNpmMirror({ workDir: join(setupRoot, 'npm-mirror') });
  } catch (error) {
    bench.notes.push(`setup rows skipped: Verdaccio did not start (${(error as Error).message.split('\n')[0]})`);
    return;
  }
  try {
    // The lockfile the repository would commit, resolved on the host through the mirror
    // (this fetches the packuments, not the tarballs: the first npm ci still fills the mirror).
    const project = join(setupRoot, 'project');
    mkdirSync(project);
    const manifest = `${JSON.stringify({ name: 'bench-service', version: '1.0.0', private: true, dependencies: DEPENDENCIES }, null, 2)}\n`;
    writeFileSync(join(project, 'package.json'), manifest);
    let lockMs: number;
    try {
      lockMs = (
        await timed(() =>
          execFileAsync('npm', ['install', '--package-lock-only', '--no-audit', '--no-fund', '--registry', mirror.url, '--cache', join(setupRoot, 'host-npm-cache')], {
            cwd: project,
            env: cleanEnvironment(),
            timeout: 5 * 60_000,
          }),
        )
      ).ms;
    } catch (error) {
      bench.notes.push(`setup rows skipped: the npm registry is not reachable through the mirror (${(error as Error).message.split('\n')[0]})`);
      return;
    }
    const lockfile = readFileSync(join(project, 'package-lock.json'), 'utf8');
    const packages = Object.keys((JSON.parse(lockfile) as { packages: Record<string, unknown> }).packages).filter((path) => path !== '').length;

    const sandbox = TestSandbox.fromConfig({ stateDir, workspaceDir, configFile: join(setupRoot, 'worker.yml'), host: HOST, sandbox: { mode: 'bwrap' } });
    const check = await checkSandbox(sandbox, HOST);
    const usable = check.ok ? sandbox : TestSandbox.fromConfig({ stateDir, workspaceDir, configFile: join(setupRoot, 'worker.yml'), host: HOST, sandbox: { mode: 'none' } });
    if (!check.ok) bench.notes.push(`setup ran WITHOUT the sandbox: ${check.detail}`);
    const where = check.ok ? 'bwrap' : 'no sandbox';
    const runner = new TestCommandRunner(HOST, usable);
    const setups = new SetupRunner(runner, usable, { setup: { mirrors: [`${mirror.host}:${mirror.port}`], env: { npm_config_registry: mirror.url }, timeout: 10 * 60_000 } });
    const cache = new DependencyCache(join(workspaceDir, 'dependency-cache'), 4 * 1024 ** 3, HOST);
    await cache.removeStale(bench.logger);

    // Pass-through wrappers: the phase runs exactly as in the worker, each step it takes is timed.
    let laps: Record<string, number> = {};
    const lap = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
      const { value, ms } = await timed(work);
      laps[name] = (laps[name] ?? 0) + ms;
      return value;
    };
    const phase = new SetupPhase(
      { run: (request) => lap('npm ci', () => setups.run(request)) },
      {
        keyFor: (...args) => lap('key', () => cache.keyFor(...args)),
        restore: (...args) => lap('restore', () => cache.restore(...args)),
        store: (...args) => lap('store', () => cache.store(...args)),
      },
      { stateDir },
    );
    let jobs = 0;
    const worktreeWithLockfile = (): string => {
      jobs += 1;
      const worktree = join(workspaceDir, 'jobs', `setup-${jobs}-1`);
      mkdirSync(worktree, { recursive: true });
      writeFileSync(join(worktree, 'package.json'), manifest);
      writeFileSync(join(worktree, 'package-lock.json'), lockfile);
      return worktree;
    };
    // SETUP does not consult the policy; the job carries one all the same, the worker's local one.
    const policy: JobPolicy = {
      enforced: localEffectivePolicy({
        allowedTaskKinds: ['fix'],
        repoAliases: ['bench'],
        baseRefRules: new Map([['bench', { allowed: ['main'], forbiddenPrefixes: ['airlock/'] }]]),
        endpointNames: ['bench'],
        maxChangedFiles: 25,
        maxChangedLines: 2_000,
        maxJobTokens: 500_000,
        agentTimeoutMs: 1_200_000,
      }),
      revision: 0,
      shadowRevision: 0,
      maxFixRetries: 2,
    };
    const runPhase = async (): Promise<{ ms: number; laps: Record<string, number>; worktree: string }> => {
      const worktree = worktreeWithLockfile();
      const repo: RepositoryConfig = { alias: 'bench', cloneUrl: '/nowhere', pushUrl: '/nowhere', branchPrefix: 'airlock/', baseRefs: ['main'], setup: SETUP };
      const ctx = new JobContext(
        { jobId: `setup-${jobs}`, attempt: 1, task: { repoAlias: 'bench', baseRef: 'main', ticketRef: '', deliveryJobId: '', deliveryGeneration: 0, ticket: null }, repo, policy, signal: NEVER, progress: () => undefined, confirmLease: () => Promise.resolve() },
        bench.logger,
        NO_RECORD,
      );
      ctx.provide('workspace', { worktree, baseCommit: '0'.repeat(40) });
      laps = {};
      const { ms } = await timed(() => phase.run(ctx));
      return { ms, laps, worktree };
    };

    const miss = await runPhase();
    const hit = await runPhase();
    const warmMirror = await timed(() =>
      setups.run({ setup: SETUP, worktree: worktreeWithLockfile(), logFile: join(stateDir, 'job-logs', 'warm-mirror.setup.log'), signal: NEVER, logger: bench.logger }),
    );
    const cacheEvents = bench.logs.filter((line) => String(line['event']).startsWith('setup-cache')).map((line) => `${String(line['event'])}${line['result'] ? ` ${String(line['result'])}` : ''}`);
    if (!cacheEvents.includes('setup-cache miss') || !cacheEvents.includes('setup-cache hit')) throw new Error(`the dependency cache did not miss then hit: ${cacheEvents.join(', ')}`);
    const stored = bench.logs.find((line) => line['event'] === 'setup-cache-stored');
    const size = typeof stored?.['sizeBytes'] === 'number' ? mib(stored['sizeBytes']) : '?';
    const installed = readdirSync(join(hit.worktree, 'node_modules')).filter((name) => !name.startsWith('.')).length;
    const lapsOf = (run: { laps: Record<string, number> }): string =>
      Object.entries(run.laps)
        .map(([name, ms]) => `${name} ${duration(ms)}`)
        .join(', ');
    bench.rows.push(
      { phase: 'setup', measure: `cold: SetupPhase miss, npm ci (${where}) via Verdaccio`, ms: miss.ms, baselineMs: miss.ms, detail: `${packages} packages, mirror fetching tarballs upstream; ${lapsOf(miss)}` },
      { phase: 'setup', measure: `npm ci (${where}), mirror warm, no dependency cache`, ms: warmMirror.ms, baselineMs: miss.ms, detail: 'SetupRunner.run alone; npm cache empty (sandbox HOME)' },
      { phase: 'setup', measure: 'cached: SetupPhase hit (DependencyCache.restore)', ms: hit.ms, baselineMs: miss.ms, detail: `node_modules ${size}, ${installed} top-level entries; ${lapsOf(hit)}` },
    );
    bench.notes.push(`setup: the lockfile was resolved on the host through the mirror first (${duration(lockMs)}, not in the table)`);
  } finally {
    await mirror.stop();
  }
}

const OPEN_COUNTS = (index: RepositoryIndex): string => {
  const { counts, complete } = index.report;
  const skipped = Object.entries(counts.skipped)
    .map(([reason, n]) => `${reason} ${count(n ?? 0)}`)
    .join(', ');
  return `read ${count(counts.analysed)}, carried over ${count(counts.reused)}${skipped ? `; skipped: ${skipped}` : ''}${complete ? '' : '; INCOMPLETE (time budget)'}`;
};

/** Index: a cold build of commit 1, the incremental update to commit 2, commit 1 again from the cache. */
async function benchIndex(bench: Bench, repository: GeneratedRepository, worktrees: { baseWorktree: string; nextWorktree: string }): Promise<RepositoryIndex> {
  const engine = new ContextEngine({ cacheDir: join(bench.base, 'context-cache'), git: bench.git });
  const cold = await timed(() => engine.open({ repositoryId: 'bench', worktree: worktrees.baseWorktree, commit: repository.baseCommit }));
  const next = await timed(() =>
    engine.open({ repositoryId: 'bench', worktree: worktrees.nextWorktree, commit: repository.nextCommit, previousCommit: repository.baseCommit }),
  );
  const cached = await timed(() => engine.open({ repositoryId: 'bench', worktree: worktrees.baseWorktree, commit: repository.baseCommit }));
  const expect = (index: RepositoryIndex, source: string): void => {
    if (index.report.source !== source) throw new Error(`expected a ${source} open, got ${index.report.source}`);
  };
  expect(cold.value, 'full');
  expect(next.value, 'incremental');
  expect(cached.value, 'cache');
  if (cached.value.digest !== cold.value.digest) throw new Error('the cached index differs from the one built');
  bench.rows.push(
    { phase: 'index', measure: 'ContextEngine.open, cold: full build of commit 1', ms: cold.ms, baselineMs: cold.ms, detail: OPEN_COUNTS(cold.value) },
    { phase: 'index', measure: 'open commit 2, incremental from commit 1', ms: next.ms, baselineMs: cold.ms, detail: OPEN_COUNTS(next.value) },
    { phase: 'index', measure: 'open commit 1 again: from the cache', ms: cached.ms, baselineMs: cold.ms, detail: `${count(cold.value.files().length)} entries read back` },
  );
  if (!SKIP.has('lifted')) {
    // The defaults stop at maxFiles and maxIndexBytes; what indexing everything would cost.
    const limits = { maxFiles: 1_000_000, maxIndexBytes: 1024 ** 3, timeBudgetMs: 60 * 60_000 };
    const lifted = await timed(() =>
      new ContextEngine({ cacheDir: join(bench.base, 'context-cache-lifted'), git: bench.git, limits }).open({ repositoryId: 'bench', worktree: worktrees.baseWorktree }),
    );
    bench.rows.push({ phase: 'index', measure: 'full build of commit 1, maxFiles + maxIndexBytes lifted', ms: lifted.ms, baselineMs: cold.ms, detail: OPEN_COUNTS(lifted.value) });
  }
  return cold.value;
}

/**
 * Tickets for the large repository, half naming a generated definition as code, half only
 * in words; seeded, so every run asks the same questions.
 */
function retrievalQueries(repository: GeneratedRepository, n: number): string[] {
  const random = prng(7);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)] as T;
  const { nouns, verbs, adjectives, services } = QUERY_VOCABULARY;
  const queries: string[] = [];
  for (let i = 0; i < n; i += 1) {
    const definition = pick(repository.definitions);
    queries.push(
      i % 2 === 0
        ? `${definition.name}() returns a wrong ${pick(nouns)} for ${pick(adjectives)} ${definition.words.slice(1).join(' ')}\nSince the last release ${definition.name} in the ${pick(services)} service ignores the ${pick(nouns)} ${pick(nouns)}; expected the ${pick(adjectives)} ${pick(nouns)} to be kept.`
        : `${pick(verbs)} ${pick(nouns)} ${pick(nouns)} fails when the ${pick(nouns)} is ${pick(adjectives)}\nIn ${pick(services)}, ${pick(verbs)}ing a ${pick(adjectives)} ${pick(nouns)} leaves the ${pick(nouns)} ${pick(nouns)} ${pick(adjectives)}. It should ${pick(verbs)} the ${pick(nouns)} first.`,
    );
  }
  return queries;
}

/** Past this many ranked files that did not fit, the packer has walked (and read) the ranking's tail. */
const TAIL_SCAN = 100;

/** Latency of one group of retrievals, for the retrieval table. */
interface RetrievalGroup {
  readonly label: string;
  readonly summary: Summary;
}

/**
 * Retrieval as CONTEXT asks for it: `maxFiles` the worker's default, the token budget
 * the worker's `contextBudget` derives from the model's context window and the ticket.
 * Two windows: 32,768 tokens (≥ 200 tickets) and the worker's fallback when the server
 * does not say (DEFAULT_CONTEXT_WINDOW, 8,192: a budget of about 1,000 tokens).
 */
async function benchRetrieval(bench: Bench, repository: GeneratedRepository, index: RepositoryIndex): Promise<RetrievalGroup[]> {
  const queries = retrievalQueries(repository, RETRIEVALS + 1);
  const retrieve = (query: string, contextWindow: number): Promise<{ value: RetrievalResult & { budget: number }; ms: number }> => {
    const [title = '', ...rest] = query.split('\n');
    const { tokenBudget } = contextBudget({ contextWindow, maxModelTokens: WORKER_MAX_MODEL_TOKENS, ticket: { title, description: rest.join('\n') } });
    return timed(async () => ({ ...(await index.retrieve({ query, tokenBudget, maxFiles: WORKER_MAX_CONTEXT_FILES })), budget: tokenBudget }));
  };
  // The first retrieval builds the index's ranker (BM25 postings); every later one reuses it.
  const first = await retrieve(queries[0] ?? '', LARGE_WINDOW);
  bench.rows.push({ phase: 'retrieve', measure: 'first retrieve on the index (builds the ranker)', ms: first.ms, detail: `${count(first.value.filesRanked)} files ranked, ${first.value.files.length} returned` });

  const groups: RetrievalGroup[] = [];
  for (const [contextWindow, tickets] of [
    [LARGE_WINDOW, queries.slice(1)],
    [DEFAULT_CONTEXT_WINDOW, queries.slice(1, 1 + SMALL_WINDOW_RETRIEVALS)],
  ] as const) {
    const samples: Array<{ readonly ms: number; readonly named: boolean; readonly tailScan: boolean }> = [];
    const budgets: number[] = [];
    let files = 0;
    let tokens = 0;
    for (const [i, query] of tickets.entries()) {
      const { value, ms } = await retrieve(query, contextWindow);
      // queries[0] went to the warm-up, so the kinds alternate from odd: see retrievalQueries.
      samples.push({ ms, named: (i + 1) % 2 === 0, tailScan: value.filesOverBudget >= TAIL_SCAN });
      budgets.push(value.budget);
      files += value.files.length;
      tokens += value.tokensUsed;
    }
    const group = (label: string, keep: (sample: (typeof samples)[number]) => boolean): RetrievalGroup => ({ label, summary: summarise(samples.filter(keep).map((sample) => sample.ms)) });
    const window = `${count(contextWindow)}-token window`;
    groups.push(group(`${window}, every ticket`, () => true));
    if (contextWindow === LARGE_WINDOW) groups.push(group('  tickets naming a definition as code', (sample) => sample.named), group('  tickets in words only', (sample) => !sample.named));
    groups.push(group(`  budget full, ≥ ${TAIL_SCAN} ranked files tried after`, (sample) => sample.tailScan), group('  the others', (sample) => !sample.tailScan));
    bench.notes.push(
      `retrieval, ${window}: token budget ${count(Math.min(...budgets))}–${count(Math.max(...budgets))} (the worker's contextBudget for each ticket, max_tokens ${count(WORKER_MAX_MODEL_TOKENS)}), ` +
        `maxFiles ${WORKER_MAX_CONTEXT_FILES}; on average ${(files / samples.length).toFixed(1)} files and ${count(Math.round(tokens / samples.length))} tokens returned`,
    );
  }
  return groups;
}

/** The files a fix patch touches, as git reads the patch. */
async function changedFilesOf(repoDir: string, patchFile: string): Promise<string[]> {
  const { stdout } = await execFileAsync('git', ['apply', '--numstat', patchFile], { cwd: repoDir });
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split('\t')[2] ?? '');
}

/**
 * The baseline a developer would reach for: `git grep -c -i -F` of each ticket word (three
 * letters or more). Two rankings of its output: by the number of distinct ticket words a
 * file contains, and by the matching lines summed (the context engine's recall spec);
 * ties by path in both.
 */
async function grepRankings(repoDir: string, ticket: string): Promise<{ byWords: string[]; byLines: string[] }> {
  const words = [...new Set((ticket.toLowerCase().match(/[a-z0-9_]{3,}/g) ?? []).filter((word) => !GREP_STOPWORDS.has(word)))];
  const wordsIn = new Map<string, number>();
  const linesIn = new Map<string, number>();
  for (const word of words) {
    let stdout = '';
    try {
      ({ stdout } = await execFileAsync('git', ['grep', '-c', '-i', '-F', '-e', word], { cwd: repoDir, maxBuffer: 64 * 1024 ** 2 }));
    } catch {
      continue; // exit 1: no file holds the word
    }
    for (const line of stdout.split('\n').filter(Boolean)) {
      const separator = line.lastIndexOf(':');
      const path = line.slice(0, separator);
      wordsIn.set(path, (wordsIn.get(path) ?? 0) + 1);
      linesIn.set(path, (linesIn.get(path) ?? 0) + Number(line.slice(separator + 1)));
    }
  }
  const ranked = (scores: Map<string, number>): string[] => [...scores].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([path]) => path);
  return { byWords: ranked(wordsIn), byLines: ranked(linesIn) };
}

interface RecallRow {
  readonly id: string;
  readonly files: number;
  readonly changed: readonly string[];
  readonly engine: number;
  readonly grepWords: number;
  readonly grepLines: number;
}

/** Recall@5 of the context engine and of git grep on every replay case that materialises here. */
async function benchRecall(bench: Bench): Promise<void> {
  const casesDir = join(WORKSPACE_ROOT, 'e2e', 'replay', 'cases');
  const recallRoot = join(bench.base, 'replay');
  mkdirSync(recallRoot);
  const [mirror, pythonIndex] = await Promise.all([
    startNpmMirror({ workDir: join(recallRoot, 'npm-mirror') }).catch((error: unknown) => {
      bench.notes.push(`recall: no npm mirror (${(error as Error).message.split('\n')[0]}); npm cases skipped`);
      return undefined;
    }),
    startPythonIndex().catch((error: unknown) => {
      bench.notes.push(`recall: no Python index (${(error as Error).message.split('\n')[0]}); pypi cases skipped`);
      return undefined;
    }) as Promise<PythonIndex | undefined>,
  ]);
  const engine = new ContextEngine({ cacheDir: join(recallRoot, 'context-cache'), git: bench.git });
  const rows: RecallRow[] = [];
  const skipped: string[] = [];
  try {
    for (const id of readdirSync(casesDir).sort()) {
      if (!existsSync(join(casesDir, id, 'case.yml'))) continue;
      const replayCase = loadReplayCase(join(casesDir, id));
      let materialized;
      try {
        materialized = await materializeReplayCase(replayCase, { workDir: join(recallRoot, id), npmMirror: mirror?.url, pythonIndex: pythonIndex?.url });
      } catch (error) {
        skipped.push(`${id} (${(error as Error).message.split('\n')[0]?.slice(0, 160)})`);
        continue;
      }
      const patchFile = join(recallRoot, id, 'fix.patch');
      writeFileSync(patchFile, materialized.fixPatch);
      const changed = await changedFilesOf(materialized.repoDir, patchFile);
      const { title, description } = replayCase.definition.ticket;
      const ticket = `${title}\n${description}`;
      const index = await engine.open({ repositoryId: id, worktree: materialized.repoDir, commit: materialized.baseCommit });
      const engineTop = (await index.retrieve({ query: ticket, tokenBudget: RECALL_TOKEN_BUDGET })).files.slice(0, TOP).map((file) => file.path);
      const grep = await grepRankings(materialized.repoDir, ticket);
      const found = (top: readonly string[]): number => changed.filter((path) => top.includes(path)).length;
      rows.push({
        id,
        files: index.files().length,
        changed,
        engine: found(engineTop),
        grepWords: found(grep.byWords.slice(0, TOP)),
        grepLines: found(grep.byLines.slice(0, TOP)),
      });
    }
  } finally {
    await Promise.all([mirror?.stop(), pythonIndex?.stop()]);
  }
  const recall = (key: 'engine' | 'grepWords' | 'grepLines'): string =>
    rows.length === 0 ? '-' : (rows.reduce((sum, row) => sum + row[key] / row.changed.length, 0) / rows.length).toFixed(2);
  const idWidth = Math.max(...rows.map((row) => row.id.length), 4);
  console.log(`\nrecall@${TOP} on the replay suite: share of the fix's changed files in the top ${TOP}, per case`);
  console.log(`| ${'case'.padEnd(idWidth)} | files | changed files              | engine | grep: words | grep: lines |`);
  console.log(`|-${'-'.repeat(idWidth)}-|-------|----------------------------|--------|-------------|-------------|`);
  for (const row of rows) {
    const cell = (found: number): string => `${found}/${row.changed.length}`;
    console.log(
      `| ${row.id.padEnd(idWidth)} | ${String(row.files).padStart(5)} | ${row.changed.join(', ').slice(0, 26).padEnd(26)} | ${cell(row.engine).padStart(6)} | ${cell(row.grepWords).padStart(11)} | ${cell(row.grepLines).padStart(11)} |`,
    );
  }
  console.log(`| ${'recall@5 (mean)'.padEnd(idWidth)} |       |                            | ${recall('engine').padStart(6)} | ${recall('grepWords').padStart(11)} | ${recall('grepLines').padStart(11)} |`);
  console.log(`counted: ${rows.length} cases (${rows.map((row) => row.id).join(', ') || 'none'}); skipped: ${skipped.length}${skipped.length > 0 ? ` — ${skipped.join('; ')}` : ''}`);
}

async function main(): Promise<void> {
  const started = performance.now();
  const cpu = cpus();
  console.log(
    `bench:agent — ${count(FILES)} files${QUICK ? ' (quick)' : ''}, ${RETRIEVALS} retrievals; Node ${process.version}, ${cpu.length} × ${cpu[0]?.model.trim() ?? 'cpu'}, ${(await execFileAsync('git', ['--version'])).stdout.trim()}; load average ${LOAD()}`,
  );
  const base = mkdtempSync(join(tmpdir(), 'airlock-bench-agent-'));
  const logs: Array<Record<string, unknown>> = [];
  const logFile = createWriteStream(join(base, 'worker.log'));
  const logger = new JsonLogger((line) => {
    logFile.write(line);
    logs.push(JSON.parse(line) as Record<string, unknown>);
  });
  const bench: Bench = { base, git: new GitRunner(HOST), logger, logs, rows: [], notes: [] };
  try {
    const originRoot = join(base, 'origin');
    mkdirSync(originRoot);
    const repository = await generateRepository(join(originRoot, 'origin.git'), FILES);
    const kinds = Object.entries(repository.kinds)
      .sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0))
      .map(([kind, n]) => `${kind} ${count(n ?? 0)}`)
      .join(', ');
    console.log(
      `repository: ${count(repository.files)} files, ${mib(repository.bytes)} (${kinds}); packed ${mib(repository.packBytes)}; ` +
        `commit 2 rewrites ${count(repository.changedFiles)} files. Generated in ${duration(repository.generateMs)} (fast-import) + ${duration(repository.repackMs)} (repack), not measured below.`,
    );

    const workspace = await benchWorkspace(bench, repository, originRoot);
    if (!SKIP.has('setup')) await benchSetup(bench);
    const index = await benchIndex(bench, repository, workspace);
    const retrieval = await benchRetrieval(bench, repository, index);

    printRows(bench.rows);
    const cell = (v: number): string => duration(v).padStart(9);
    console.log(`\n| ${`retrieval as CONTEXT asks, ${count(FILES)}-file repo`.padEnd(45)} |      n |       p50 |       p90 |       p99 |       max |`);
    console.log('|-----------------------------------------------|--------|-----------|-----------|-----------|-----------|');
    for (const { label, summary } of retrieval) {
      console.log(`| ${label.padEnd(45)} | ${String(summary.n).padStart(6)} | ${cell(summary.p50)} | ${cell(summary.p90)} | ${cell(summary.p99)} | ${cell(summary.max)} |`);
    }
    if (!SKIP.has('recall')) await benchRecall(bench);
    console.log('');
    for (const note of bench.notes) console.log(`note: ${note}`);
    console.log(
      `engine limits: the worker's defaults (maxFiles ${count(DEFAULT_CONTEXT_ENGINE_LIMITS.maxFiles)}, maxIndexBytes ${mib(DEFAULT_CONTEXT_ENGINE_LIMITS.maxIndexBytes)}, ` +
        `time budget ${duration(DEFAULT_CONTEXT_ENGINE_LIMITS.timeBudgetMs)}); git served by git daemon on loopback; everything on one local disk with a warm page cache.`,
    );
    console.log(`bench:agent took ${duration(performance.now() - started)}; load average at the end ${LOAD()} (other work on this machine shares its cores and disk)${KEEP ? `; kept ${base}` : ''}`);
  } finally {
    logFile.end();
    if (!KEEP) rmSync(base, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(`bench:agent failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
});
