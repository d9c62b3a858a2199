import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { MACHINE_SIMPLE_INDEX_DIRS, normalizeProjectName, projectOfDistributionFile, startPythonIndex, type PythonIndex } from './python-index';

// pip must run asynchronously: the index answers from this very process.
const execFileAsync = promisify(execFile);

describe('normalizeProjectName and projectOfDistributionFile', () => {
  it('normalise names as PEP 503 says', () => {
    expect(normalizeProjectName('Typing_Extensions')).toBe('typing-extensions');
    expect(normalizeProjectName('zope.interface')).toBe('zope-interface');
    expect(normalizeProjectName('a-_.b')).toBe('a-b');
  });

  it('find the project of wheels and sdists', () => {
    expect(projectOfDistributionFile('typing_extensions-4.15.0-py3-none-any.whl')).toBe('typing_extensions');
    expect(projectOfDistributionFile('python-dateutil-2.9.0.tar.gz')).toBe('python-dateutil');
    expect(projectOfDistributionFile('README.txt')).toBeUndefined();
  });
});

const localIndexPresent = MACHINE_SIMPLE_INDEX_DIRS.some((dir) => {
  try {
    return readFileSync(join(dir, 'pytest', 'index.html'), 'utf8').length > 0;
  } catch {
    return false;
  }
});

describe('Python index over HTTP (PEP 503) from the local index', () => {
  let root: string;
  let index: PythonIndex;

  beforeAll(async () => {
    if (!localIndexPresent) throw new Error(`this machine has no local Python index with pytest at ${MACHINE_SIMPLE_INDEX_DIRS.join(' or ')}`);
    root = mkdtempSync(join(tmpdir(), 'airlock-python-index-spec-'));
    index = await startPythonIndex({ logFile: join(root, 'index.log') });
  });

  afterAll(async () => {
    await index?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('lists projects at /simple/ and links files with their sha256', async () => {
    const rootPage = await (await fetch(index.url)).text();
    expect(rootPage).toContain('<a href="pytest/">pytest</a>');
    const projectPage = await (await fetch(new URL('pytest/', index.url))).text();
    expect(projectPage).toMatch(/<a href="\.\.\/\.\.\/files\/pytest\/pytest-[^"]+\.whl#sha256=[0-9a-f]{64}"/);
  });

  it('redirects a name that is not normalised', async () => {
    const response = await fetch(new URL('Typing_Extensions/', index.url), { redirect: 'manual' });
    expect(response.status).toBe(301);
    expect(response.headers.get('location')).toBe('/simple/typing-extensions/');
  });

  it('refuses to start without a local index, saying where it looked', async () => {
    await expect(startPythonIndex({ simpleIndexDirs: [join(tmpdir(), 'no-such-index')], findLinksDirs: [] })).rejects.toThrow(/no local Python index to serve: none of .*no-such-index/);
  });

  it('lets pip install pytest into a fresh venv from this index alone', async () => {
    const venv = join(root, 'venv');
    await execFileAsync('python3', ['-m', 'venv', venv], { timeout: 60_000 });
    // PIP_CONFIG_FILE=/dev/null: the machine's pip.conf (extra index, find-links) must not
    // offer a second source, so every file has to come through our server.
    const inherited = Object.entries(process.env).filter(([name]) => !name.startsWith('PIP_'));
    const env = { ...Object.fromEntries(inherited), PIP_CONFIG_FILE: '/dev/null', PIP_INDEX_URL: index.url, PIP_DISABLE_PIP_VERSION_CHECK: '1' };
    await execFileAsync(join(venv, 'bin', 'pip'), ['install', '--no-cache-dir', 'pytest'], { env, timeout: 60_000 });
    const { stdout } = await execFileAsync(join(venv, 'bin', 'python'), ['-m', 'pytest', '--version'], { timeout: 30_000 });
    expect(stdout).toMatch(/pytest \d+\./);
    expect(index.servedFiles().some((file) => file.startsWith('pytest-'))).toBe(true);
    expect(readFileSync(join(root, 'index.log'), 'utf8')).toMatch(/^200 GET \/files\/pytest\/pytest-/m);
  }, 60_000);
});
