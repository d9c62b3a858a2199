/**
 * The real-world replay suite: every case of e2e/replay/cases run through Airlock as a
 * customer runs it. One embedded stack (control plane, worker daemon, inference simulator,
 * git server); each case's repository at base in the worker's catalog; its dependencies
 * installed by the worker's SETUP phase in the sandbox, from a Verdaccio npm mirror and a
 * PEP 503 index this script starts — the only hosts setup may reach; the model a scripted
 * agent conversation made from the case's real fix (see scriptedConversation). Each case
 * is a job sent to the control plane's REST API; its outcome must be the case's `expect`.
 *
 *   npm run replay [-- [--keep] [--storage DIR] [--concurrency N] [CASE_ID...]]
 *
 * Prints a table and `replay: N of M cases reached the expected outcome`, and exits 1
 * unless every case did. --storage keeps Verdaccio's cache between runs; --keep leaves the
 * stack's folders (job records, logs) in place.
 */
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  editsFromPatch,
  loadReplayCase,
  materializeReplayCase,
  resolveSetupEnv,
  scriptedConversation,
  startLocalStack,
  startNpmMirror,
  startPythonIndex,
  WORKSPACE_ROOT,
  writeCaseScenario,
  type JobView,
  type ReplayCase,
  type ScriptedTurn,
} from '@airlock/local-stack';

const CASES_DIR = join(WORKSPACE_ROOT, 'e2e', 'replay', 'cases');
/** A case's job, setup and tests included; the slowest (vitest through a cold mirror) take about a minute here. */
const JOB_TIMEOUT_MS = 10 * 60_000;

interface Options {
  readonly keep: boolean;
  readonly storageDir: string | undefined;
  readonly concurrency: number;
  readonly ids: readonly string[];
}

function parseOptions(args: readonly string[]): Options {
  const valueOf = (flag: string): string | undefined => {
    const index = args.indexOf(flag);
    return index >= 0 ? args[index + 1] : undefined;
  };
  const flagsWithValues = new Set(['--storage', '--concurrency']);
  const ids = args.filter((arg, index) => !arg.startsWith('--') && !flagsWithValues.has(args[index - 1] ?? ''));
  const concurrency = Number(valueOf('--concurrency') ?? '2');
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 8) throw new Error('--concurrency: expected a whole number from 1 to 8');
  const storage = valueOf('--storage');
  return { keep: args.includes('--keep'), storageDir: storage === undefined ? undefined : resolve(storage), concurrency, ids };
}

/** `host:port` of a mirror's URL: what the worker's setup.mirrors lets through. */
function hostPortOf(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || (parsed.protocol === 'https:' ? '443' : '80')}`;
}

/** Where a rustup-installed toolchain lives: the sandbox's HOME is a throwaway, so cargo's proxy needs it named. */
function toolchainEnv(): Record<string, string> {
  const rustupHome = process.env['RUSTUP_HOME'] ?? join(homedir(), '.rustup');
  return existsSync(rustupHome) ? { RUSTUP_HOME: rustupHome } : {};
}

/**
 * rustup puts cargo in ~/.cargo/bin, which a login shell adds to PATH and a CI shell may
 * not: the worker (which inherits this PATH, as a service would its unit's) gets it too.
 */
function withCargoOnPath(): void {
  const cargoBin = join(process.env['CARGO_HOME'] ?? join(homedir(), '.cargo'), 'bin');
  const path = process.env['PATH'] ?? '';
  if (existsSync(cargoBin) && !path.split(':').includes(cargoBin)) process.env['PATH'] = `${path}:${cargoBin}`;
}

interface CaseRun {
  readonly replayCase: ReplayCase;
  readonly job: JobView | undefined;
  readonly error: string | undefined;
  readonly seconds: number;
}

function expectedOutcome(replayCase: ReplayCase): string {
  const { expect, expectFailure } = replayCase.definition;
  return expect === 'SUCCEEDED' ? 'SUCCEEDED' : `FAILED ${expectFailure ?? ''}`.trim();
}

function actualOutcome(run: CaseRun): string {
  if (run.job === undefined) return `ERROR ${run.error ?? ''}`.trim();
  return run.job.status === 'SUCCEEDED' ? 'SUCCEEDED' : `${run.job.status} ${run.job.failureCode ?? ''}`.trim();
}

function verificationOf(job: JobView | undefined): string {
  const verification = (job?.result?.['verification'] ?? {}) as Record<string, unknown>;
  if (!verification['baseTestsRan']) return '-';
  const counts = verification['reportRead'] ? `${String(verification['failingBefore'])}/${String(verification['testsBefore'])} → ${String(verification['failingAfter'])}/${String(verification['testsAfter'])} failing` : `exit ${String(verification['baseTestExitCode'])} → ${String(verification['testExitCode'])}`;
  return `${counts}, ${String(verification['agentTestRuns'] ?? 0)} agent run(s)`;
}

function printTable(runs: readonly CaseRun[]): void {
  const rows = [
    ['case', 'language', 'conversation', 'expected', 'outcome', 'tests (base → change)', 'requests', 'time'],
    ...runs.map((run) => [
      run.replayCase.definition.id,
      run.replayCase.definition.language,
      run.replayCase.definition.conversation,
      expectedOutcome(run.replayCase),
      actualOutcome(run),
      verificationOf(run.job),
      String((run.job?.result?.['tokens'] as Record<string, unknown> | undefined)?.['requests'] ?? '-'),
      `${run.seconds} s`,
    ]),
  ];
  const widths = (rows[0] ?? []).map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  const line = (row: readonly string[]): string => `| ${row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(' | ')} |`;
  console.log(line(rows[0] ?? []));
  console.log(`|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`);
  for (const row of rows.slice(1)) console.log(line(row));
}

/** Runs `work` over `items`, at most `limit` at a time, results in order. */
async function pooled<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    for (let index = next++; index < items.length; index = next++) results[index] = await work(items[index] as T);
  });
  await Promise.all(lanes);
  return results;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  withCargoOnPath();
  const ids = readdirSync(CASES_DIR, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && (options.ids.length === 0 || options.ids.includes(entry.name)))
    .map((entry) => entry.name)
    .sort();
  if (ids.length === 0) throw new Error(`no case matches ${options.ids.join(', ')} in ${CASES_DIR}`);
  const cases = ids.map((id) => loadReplayCase(join(CASES_DIR, id)));

  const baseDir = mkdtempSync(join(tmpdir(), 'airlock-replay-'));
  const npmMirror = await startNpmMirror({ workDir: join(baseDir, 'npm-mirror'), storageDir: options.storageDir });
  const pythonIndex = await startPythonIndex({ logFile: join(baseDir, 'python-index.log') });
  const mirrors = { npmMirror: npmMirror.url, pythonIndex: pythonIndex.url };
  console.log(`replay: ${cases.length} case(s); npm mirror ${npmMirror.url}; python index ${pythonIndex.url}; work in ${baseDir}`);
  let stack: Awaited<ReturnType<typeof startLocalStack>> | undefined;
  const runs: CaseRun[] = [];
  try {
    const conversations = new Map<string, ScriptedTurn[]>();
    const materializeDir = join(baseDir, 'materialize');
    mkdirSync(materializeDir);
    stack = await startLocalStack({
      baseDir: join(baseDir, 'stack'),
      canary: `AIRLOCK-CANARY-${randomBytes(6).toString('hex')}`,
      workerConcurrency: options.concurrency,
      // The customer's side of the mirrors: setup may reach these two hosts and nothing else.
      workerSetup: {
        mirrors: [hostPortOf(npmMirror.url), hostPortOf(pythonIndex.url)],
        env: Object.assign({}, ...cases.map((replayCase) => resolveSetupEnv(replayCase.definition.setupEnv, mirrors))) as Record<string, string>,
      },
      sandboxEnv: toolchainEnv(),
      prepareRepositories: async (gitDir) => {
        const repositories: Array<{ alias: string; name: string }> = [];
        for (const replayCase of cases) {
          const { id, language, conversation } = replayCase.definition;
          const materialized = await materializeReplayCase(replayCase, { workDir: join(materializeDir, id), ...mirrors });
          execFileSync('git', ['clone', '--quiet', '--bare', materialized.repoDir, join(gitDir, `${id}.git`)]);
          conversations.set(id, scriptedConversation(conversation, language, editsFromPatch(materialized.fixPatch)));
          repositories.push({ alias: id, name: `${id}.git` });
          console.log(`  materialised ${id}`);
        }
        return repositories;
      },
      writeScenarios: (dir) => {
        for (const replayCase of cases) writeCaseScenario(dir, replayCase.definition, conversations.get(replayCase.definition.id) ?? []);
      },
    });
    const api = stack.api;
    runs.push(
      ...(await pooled(cases, options.concurrency, async (replayCase): Promise<CaseRun> => {
        const started = Date.now();
        const { id, ticket } = replayCase.definition;
        try {
          const created = await api.createFixJob({ repoAlias: id, baseRef: 'main', ticket });
          const job = await api.waitForTerminalJob(created.id, JOB_TIMEOUT_MS);
          const run = { replayCase, job, error: undefined, seconds: Math.round((Date.now() - started) / 1000) };
          console.log(`  ${actualOutcome(run) === expectedOutcome(replayCase) ? 'as expected' : 'UNEXPECTED '} ${id}: ${actualOutcome(run)} (${run.seconds} s)`);
          return run;
        } catch (error) {
          return { replayCase, job: undefined, error: (error as Error).message.split('\n')[0], seconds: Math.round((Date.now() - started) / 1000) };
        }
      })),
    );
  } finally {
    await stack?.stop();
    await npmMirror.stop();
    await pythonIndex.stop();
  }
  console.log('');
  printTable(runs);
  const reached = runs.filter((run) => actualOutcome(run) === expectedOutcome(run.replayCase)).length;
  console.log(`\nreplay: ${reached} of ${runs.length} cases reached the expected outcome`);
  if (reached !== runs.length) console.log(`job records and worker logs: ${join(baseDir, 'stack')} (kept)`);
  if (!options.keep && reached === runs.length) rmSync(baseDir, { recursive: true, force: true });
  process.exitCode = reached === runs.length ? 0 : 1;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 2;
});
