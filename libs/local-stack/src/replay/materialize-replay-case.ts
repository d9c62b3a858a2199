import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { REPLAY_CASE_REPO_DIR, type ReplayCase } from './replay-case';

const execFileAsync = promisify(execFile);

export interface MaterializeOptions {
  /** Registry URL of the npm mirror (Verdaccio) the sources of npm cases are fetched through. */
  readonly npmMirror?: string;
  /** PEP 503 index URL the files of pypi cases are fetched from. */
  readonly pythonIndex?: string;
  /** An empty or absent folder: the repository is made in `<workDir>/repo`, downloads go beside it. */
  readonly workDir: string;
}

export interface MaterializedReplayCase {
  readonly repoDir: string;
  /** The commit holding the published code at base plus the case's extra files. */
  readonly baseCommit: string;
  /** Unified diff (git format, paths relative to the repository root) from base to fixed. */
  readonly fixPatch: string;
}

/** Fixed identity and time, so that one case always materialises to the same commit id. */
const REPRODUCIBLE_GIT_ENV = {
  GIT_AUTHOR_NAME: 'Airlock Replay',
  GIT_AUTHOR_EMAIL: 'replay@airlock.invalid',
  GIT_AUTHOR_DATE: '2000-01-01T00:00:00Z',
  GIT_COMMITTER_NAME: 'Airlock Replay',
  GIT_COMMITTER_EMAIL: 'replay@airlock.invalid',
  GIT_COMMITTER_DATE: '2000-01-01T00:00:00Z',
  // The machine's or user's git config (hooks, templates, autocrlf) must not change the result.
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_NOSYSTEM: '1',
};

async function run(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  try {
    const { stdout } = await execFileAsync(command, [...args], { cwd, env, maxBuffer: 64 * 1024 * 1024, timeout: 5 * 60_000 });
    return stdout;
  } catch (error) {
    const failure = error as { stderr?: string; message: string };
    throw new Error(`${command} ${args.join(' ')} (in ${cwd}) failed: ${failure.stderr?.trim() || failure.message}`);
  }
}

const git = (repoDir: string, ...args: string[]): Promise<string> =>
  run('git', ['-c', 'core.autocrlf=false', '-c', 'core.fileMode=true', ...args], repoDir, { ...process.env, ...REPRODUCIBLE_GIT_ENV });

/** Fetches an npm package's tarball through the mirror and unpacks it into `into`. */
async function unpackNpmPackage(name: string, version: string, npmMirror: string | undefined, downloadDir: string, into: string): Promise<void> {
  if (!npmMirror) throw new Error(`the case's source is ${name}@${version} from npm, but no npm mirror was given`);
  mkdirSync(downloadDir, { recursive: true });
  // npm pack resolves the tarball through the registry given, i.e. the mirror, never the internet.
  const packed = await run(
    'npm',
    ['pack', `${name}@${version}`, '--json', '--registry', npmMirror, '--cache', join(downloadDir, 'npm-cache'), '--pack-destination', downloadDir],
    downloadDir,
  );
  const [{ filename }] = JSON.parse(packed) as [{ filename: string }];
  mkdirSync(into, { recursive: true });
  // Tarballs hold one top folder (usually package/): strip it so the package is the repository root.
  await run('tar', ['-xzf', join(downloadDir, filename), '--strip-components=1', '--no-same-owner', '-C', into], downloadDir);
}

/** Downloads one file of a PEP 503 index: the project page gives its URL and sha256. */
async function downloadFromPythonIndex(project: string, fileName: string, pythonIndex: string | undefined, downloadDir: string): Promise<string> {
  if (!pythonIndex) throw new Error(`the case's source is ${fileName} from a Python index, but no index was given`);
  const normalized = project.replace(/[-_.]+/g, '-').toLowerCase();
  const pageUrl = new URL(`${normalized}/`, pythonIndex);
  const page = await (await fetch(pageUrl)).text();
  const link = [...page.matchAll(/href="([^"]+)"/g)].map((match) => new URL((match[1] ?? '').replace(/&amp;/g, '&'), pageUrl)).find((url) => decodeURIComponent(url.pathname).endsWith(`/${fileName}`));
  if (!link) throw new Error(`${pageUrl} lists no ${fileName}`);
  const response = await fetch(link);
  if (!response.ok) throw new Error(`GET ${link} answered ${response.status}`);
  const bytes = Buffer.from(await response.arrayBuffer());
  const expected = /^#sha256=([0-9a-f]{64})$/.exec(link.hash)?.[1];
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (expected && expected !== actual) throw new Error(`${fileName}: sha256 ${actual} differs from the index's ${expected}`);
  mkdirSync(downloadDir, { recursive: true });
  const path = join(downloadDir, fileName);
  writeFileSync(path, bytes);
  return path;
}

async function unpackPythonDistribution(file: string, into: string): Promise<void> {
  mkdirSync(into, { recursive: true });
  if (file.endsWith('.whl') || file.endsWith('.zip')) {
    // A wheel is a zip of the importable package: unpacked at the root, `import name` works from there.
    await run('python3', ['-m', 'zipfile', '-e', file, into], dirname(file));
    if (file.endsWith('.zip')) flattenSingleTopFolder(into);
  } else {
    await run('tar', ['-xzf', file, '--strip-components=1', '--no-same-owner', '-C', into], dirname(file));
  }
}

function flattenSingleTopFolder(dir: string): void {
  const entries = readdirSync(dir, { withFileTypes: true });
  const [only] = entries;
  if (entries.length !== 1 || !only?.isDirectory()) return;
  const inner = join(dir, only.name);
  const staging = `${dir}.flatten`;
  cpSync(inner, staging, { recursive: true });
  rmSync(dir, { recursive: true, force: true });
  cpSync(staging, dir, { recursive: true });
  rmSync(staging, { recursive: true, force: true });
}

/** Takes a Debian package's files with apt (from the archive the machine is set up for) and keeps one folder. */
async function unpackDebianFolder(pkg: string, version: string, folder: string, downloadDir: string, into: string): Promise<void> {
  mkdirSync(downloadDir, { recursive: true });
  await run('apt-get', ['download', `${pkg}=${version}`], downloadDir);
  const deb = readdirSync(downloadDir).find((name) => name.startsWith(`${pkg}_`) && name.endsWith('.deb'));
  if (!deb) throw new Error(`apt-get download ${pkg}=${version} left no .deb in ${downloadDir}`);
  const extracted = join(downloadDir, 'extracted');
  await run('dpkg-deb', ['-x', join(downloadDir, deb), extracted], downloadDir);
  const source = join(extracted, folder);
  if (!existsSync(source)) throw new Error(`${deb} has no ${folder}`);
  cpSync(source, into, { recursive: true });
}

/**
 * Makes the case's repository at base: the published code of the case's source, fetched at
 * this moment from the mirrors (never from a commit), plus the case's extra files, committed
 * with a fixed author and date. The fix patch is the difference of the listed files between
 * this version and the next one on npm, or the case's own fix.patch.
 */
export async function materializeReplayCase(replayCase: ReplayCase, options: MaterializeOptions): Promise<MaterializedReplayCase> {
  const { definition } = replayCase;
  const repoDir = join(options.workDir, 'repo');
  if (existsSync(repoDir)) throw new Error(`${repoDir} already exists; materialise into an empty work folder`);
  mkdirSync(options.workDir, { recursive: true });
  const downloads = mkdtempSync(join(options.workDir, 'downloads-'));
  const { source } = definition;

  if ('npm' in source) {
    await unpackNpmPackage(source.npm.name, source.npm.version, options.npmMirror, join(downloads, 'base'), repoDir);
  } else if ('pypi' in source) {
    const file = await downloadFromPythonIndex(source.pypi.name, source.pypi.file, options.pythonIndex, downloads);
    await unpackPythonDistribution(file, repoDir);
  } else {
    await unpackDebianFolder(source.debian.package, source.debian.version, source.debian.path, downloads, repoDir);
  }

  for (const path of definition.files) {
    const target = join(repoDir, path);
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(join(replayCase.dir, REPLAY_CASE_REPO_DIR, path), target);
  }

  await git(repoDir, 'init', '--quiet', '--initial-branch=main');
  // -f: a package's own .gitignore must not keep its published files out of the base.
  await git(repoDir, 'add', '--all', '--force', '.');
  await git(repoDir, 'commit', '--quiet', '--no-verify', '--no-gpg-sign', '-m', `${definition.id}: published code at base, with the case's files`);
  const baseCommit = (await git(repoDir, 'rev-parse', 'HEAD')).trim();

  let fixPatch: string;
  if ('patch' in definition.fix) {
    fixPatch = readFileSync(join(replayCase.dir, definition.fix.patch), 'utf8');
  } else {
    if (!('npm' in source)) throw new Error(`${definition.id}: fix.npm needs an npm source`);
    const fixedDir = join(downloads, 'fixed-package');
    await unpackNpmPackage(source.npm.name, definition.fix.npm.version, options.npmMirror, join(downloads, 'fixed'), fixedDir);
    fixPatch = await diffAgainstFixedFiles(repoDir, fixedDir, definition.fix.npm.files);
  }
  rmSync(downloads, { recursive: true, force: true });
  if (fixPatch.trim() === '') throw new Error(`${definition.id}: the fix is empty`);
  return { repoDir, baseCommit, fixPatch };
}

/**
 * Lays the fixed version's files over the work tree, asks git for the difference (so the
 * patch has git's relative a/ and b/ paths and applies with `git apply`), and puts the
 * base files back.
 */
async function diffAgainstFixedFiles(repoDir: string, fixedDir: string, files: readonly string[]): Promise<string> {
  const originals = new Map<string, Buffer>();
  for (const path of files) {
    const base = join(repoDir, path);
    const fixed = join(fixedDir, path);
    if (!existsSync(base)) throw new Error(`fix.npm.files: ${path} is not in the version at base`);
    if (!existsSync(fixed)) throw new Error(`fix.npm.files: ${path} is not in the fixed version`);
    originals.set(path, readFileSync(base));
    copyFileSync(fixed, base);
  }
  try {
    return await git(repoDir, 'diff', '--no-color', '--no-ext-diff', '--', ...files);
  } finally {
    for (const [path, content] of originals) writeFileSync(join(repoDir, path), content);
  }
}
