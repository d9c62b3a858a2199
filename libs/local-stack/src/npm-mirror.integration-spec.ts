import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startNpmMirror, type NpmMirror } from './npm-mirror';

const execFileAsync = promisify(execFile);

describe('npm mirror (a real Verdaccio proxying the configured registry)', () => {
  let root: string;
  let mirror: NpmMirror;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'airlock-npm-mirror-spec-'));
    mirror = await startNpmMirror({ workDir: join(root, 'mirror') });
  }, 60_000);

  afterAll(async () => {
    await mirror?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('answers the registry protocol on 127.0.0.1', async () => {
    expect(mirror.url).toBe(`http://127.0.0.1:${mirror.port}/`);
    const response = await fetch(new URL('ms', mirror.url));
    expect(response.status).toBe(200);
    const packument = (await response.json()) as { name: string; versions: Record<string, { dist: { tarball: string } }> };
    expect(packument.name).toBe('ms');
    // Tarball URLs are rewritten to the mirror, so clients never reach past it.
    expect(packument.versions['2.1.3']?.dist.tarball).toBe(`${mirror.url}ms/-/ms-2.1.3.tgz`);
  }, 60_000);

  it('installs a package into a project through the mirror, with a cold npm cache', async () => {
    const project = join(root, 'project');
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'mirror-probe', private: true, version: '1.0.0' }));
    await execFileAsync(
      'npm',
      ['install', '--no-audit', '--no-fund', '--registry', mirror.url, '--cache', join(root, 'npm-cache'), 'escape-html@1.0.3'],
      { cwd: project, timeout: 60_000, env: { ...process.env, npm_config_registry: mirror.url } },
    );
    const installed = JSON.parse(readFileSync(join(project, 'node_modules/escape-html/package.json'), 'utf8')) as { version: string };
    expect(installed.version).toBe('1.0.3');
    const log = readFileSync(mirror.logFile, 'utf8');
    expect(log).toContain("'GET /escape-html/-/escape-html-1.0.3.tgz'");
  }, 60_000);
});
