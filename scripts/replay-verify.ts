/**
 * Checks every real-world replay case (e2e/replay/cases/*) the way a case author needs:
 * materialise it from the registries through local mirrors, run its setup, run its test
 * command at base (it must fail), apply the known fix, run it again (it must pass).
 *
 *   npm run replay:verify [-- [--keep] [--storage DIR] [CASE_ID...]]
 *
 * --storage keeps Verdaccio's cache in DIR between runs; --keep leaves each case's work
 * folder (repository, logs) in place. Setup runs here without a sandbox: this is an
 * author's tool, not the worker.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  loadReplayCase,
  materializeReplayCase,
  readReplayRepoConfig,
  resolveSetupEnv,
  startNpmMirror,
  startPythonIndex,
  WORKSPACE_ROOT,
  type NpmMirror,
  type PythonIndex,
  type ReplayCase,
} from '@airlock/local-stack';

const CASES_DIR = join(WORKSPACE_ROOT, 'e2e', 'replay', 'cases');
const SETUP_TIMEOUT_MS = 5 * 60_000;
const TEST_TIMEOUT_MS = 3 * 60_000;

interface CommandResult {
  readonly exitCode: number | null;
  readonly timedOut: boolean;
}

/**
 * Runs one argv without a shell, output appended to a log. Always asynchronous: the Python
 * index answers from this process, so a synchronous spawn would starve pip.
 */
function runLogged(argv: readonly string[], cwd: string, env: NodeJS.ProcessEnv, logFile: string, timeoutMs: number): Promise<CommandResult> {
  const [command, ...args] = argv;
  if (!command) throw new Error('empty command');
  const log = createWriteStream(logFile, { flags: 'a' });
  log.write(`\n$ ${argv.join(' ')}\n`);
  return new Promise((resolveRun) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    let timedOut = false;
    // detached: the command gets its own process group, so a timeout ends its children too.
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    }, timeoutMs);
    const finish = (exitCode: number | null): void => {
      clearTimeout(timer);
      log.end(`[exit ${exitCode}${timedOut ? ', timed out' : ''}]\n`, () => resolveRun({ exitCode, timedOut }));
    };
    child.once('error', (error) => {
      log.write(`${error.message}\n`);
      finish(null);
    });
    child.once('close', (code) => finish(code));
  });
}

/** The host's environment without package-manager settings, so only the case's setupEnv picks the mirrors. */
function cleanEnvironment(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(npm_|PIP_|NPM_CONFIG_|UV_|CARGO_REGISTRIES_)/i.test(name)));
}

type Verdict = 'PASS' | 'FAIL' | 'ERROR';

interface CaseOutcome {
  readonly id: string;
  readonly base: string;
  readonly fixed: string;
  readonly verdict: Verdict;
  readonly note: string;
}

const describe = (result: CommandResult): string => (result.timedOut ? 'timeout' : result.exitCode === 0 ? 'pass' : `fail (${result.exitCode})`);

async function verifyCase(replayCase: ReplayCase, mirrors: { npmMirror?: NpmMirror; pythonIndex?: PythonIndex }, scratch: string, npmCache: string): Promise<CaseOutcome> {
  const { id } = replayCase.definition;
  const workDir = join(scratch, id);
  const logFile = join(workDir, 'commands.log');
  try {
    const materialized = await materializeReplayCase(replayCase, {
      workDir,
      npmMirror: mirrors.npmMirror?.url,
      pythonIndex: mirrors.pythonIndex?.url,
    });
    writeFileSync(join(workDir, 'fix.patch'), materialized.fixPatch);
    const config = readReplayRepoConfig(replayCase);
    const setupEnv = {
      ...cleanEnvironment(),
      // A cache of our own: every package has to come through the mirror, not the host's ~/.npm.
      npm_config_cache: npmCache,
      ...resolveSetupEnv(replayCase.definition.setupEnv, { npmMirror: mirrors.npmMirror?.url, pythonIndex: mirrors.pythonIndex?.url }),
    };
    for (const command of config.setup?.commands ?? []) {
      const result = await runLogged(command, materialized.repoDir, setupEnv, logFile, SETUP_TIMEOUT_MS);
      if (result.exitCode !== 0) return { id, base: `setup ${describe(result)}`, fixed: '-', verdict: 'ERROR', note: `setup failed: ${command.join(' ')}; see ${logFile}` };
    }
    const testEnv = cleanEnvironment();
    const atBase = await runLogged(config.test.command, materialized.repoDir, testEnv, logFile, TEST_TIMEOUT_MS);
    const junitAtBase = (config.test.junit ?? []).filter((path) => !path.includes('*')).every((path) => existsSync(join(materialized.repoDir, path)));
    const applied = await runLogged(['git', 'apply', '--whitespace=nowarn', join(workDir, 'fix.patch')], materialized.repoDir, testEnv, logFile, 60_000);
    if (applied.exitCode !== 0) return { id, base: describe(atBase), fixed: '-', verdict: 'ERROR', note: `the fix does not apply; see ${logFile}` };
    const withFix = await runLogged(config.test.command, materialized.repoDir, testEnv, logFile, TEST_TIMEOUT_MS);
    const expected = atBase.exitCode !== 0 && !atBase.timedOut && withFix.exitCode === 0;
    const note = !junitAtBase ? 'JUnit report missing at base' : expected ? '' : `see ${logFile}`;
    return { id, base: describe(atBase), fixed: describe(withFix), verdict: expected && junitAtBase ? 'PASS' : 'FAIL', note };
  } catch (error) {
    return { id, base: '-', fixed: '-', verdict: 'ERROR', note: (error as Error).message.split('\n')[0] ?? '' };
  }
}

function printTable(outcomes: readonly CaseOutcome[]): void {
  const rows = [['case', 'base', 'fixed', 'verdict', 'note'], ...outcomes.map((o) => [o.id, o.base, o.fixed, o.verdict, o.note])];
  const widths = [0, 1, 2, 3].map((column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  const line = (row: readonly string[]): string => `| ${row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(' | ')} |`;
  console.log(line(rows[0] ?? []));
  console.log(`|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|${'-'.repeat(6)}|`);
  for (const row of rows.slice(1)) console.log(line(row));
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const keep = args.includes('--keep');
  const storageIndex = args.indexOf('--storage');
  const storageDir = storageIndex >= 0 ? resolve(args[storageIndex + 1] ?? '') : undefined;
  const wanted = args.filter((arg, index) => !arg.startsWith('--') && (storageIndex < 0 || index !== storageIndex + 1));
  const ids = readdirSync(CASES_DIR, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .filter((id) => wanted.length === 0 || wanted.includes(id))
    .sort();
  if (ids.length === 0) throw new Error(`no case matches ${wanted.join(', ')} in ${CASES_DIR}`);
  const cases = ids.map((id) => loadReplayCase(join(CASES_DIR, id)));

  const scratch = mkdtempSync(join(tmpdir(), 'airlock-replay-verify-'));
  const npmCache = join(scratch, 'npm-cache');
  mkdirSync(npmCache);
  const needsNpm = cases.some((c) => 'npm' in c.definition.source || Object.values(c.definition.setupEnv).some((v) => v.includes('{npmMirror}')));
  const needsPython = cases.some((c) => 'pypi' in c.definition.source || Object.values(c.definition.setupEnv).some((v) => v.includes('{pythonIndex}')));
  const npmMirror = needsNpm ? await startNpmMirror({ workDir: join(scratch, 'npm-mirror'), storageDir }) : undefined;
  const pythonIndex = needsPython ? await startPythonIndex({ logFile: join(scratch, 'python-index.log') }) : undefined;
  console.log(`replay: ${cases.length} case(s); work in ${scratch}${npmMirror ? `; npm mirror ${npmMirror.url}` : ''}${pythonIndex ? `; python index ${pythonIndex.url}` : ''}`);

  const outcomes: CaseOutcome[] = [];
  try {
    for (const replayCase of cases) {
      const started = Date.now();
      const outcome = await verifyCase(replayCase, { npmMirror, pythonIndex }, scratch, npmCache);
      console.log(`  ${outcome.verdict.padEnd(5)} ${outcome.id} (${Math.round((Date.now() - started) / 1000)} s)`);
      outcomes.push(outcome);
    }
  } finally {
    await npmMirror?.stop();
    await pythonIndex?.stop();
  }
  console.log('');
  printTable(outcomes);
  const passed = outcomes.filter((o) => o.verdict === 'PASS').length;
  console.log(`\nreplay: ${passed} passed, ${outcomes.length - passed} failed`);
  if (!keep && passed === outcomes.length) rmSync(scratch, { recursive: true, force: true });
  process.exitCode = passed === outcomes.length ? 0 : 1;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 2;
});
