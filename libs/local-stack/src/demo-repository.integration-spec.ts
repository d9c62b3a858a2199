import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDemoRepository, demoBrokenEdits, demoFixEdits, type DemoEdit } from './demo-repository';
import { startGitServer, type GitServer } from './git-server';

const canary = 'CANARY-test-0001';

/** Applies a scripted model's edits the simple way. */
function applyDemoEdits(worktree: string, edits: readonly DemoEdit[]): void {
  for (const { path, search, replace } of edits) {
    const file = join(worktree, path);
    writeFileSync(file, readFileSync(file, 'utf8').replace(search, replace));
  }
}

const runTests = (cwd: string): number => spawnSync('node', ['--test'], { cwd, stdio: 'ignore' }).status ?? -1;

describe('demo repository served by a real git server', () => {
  let root: string;
  let server: GitServer;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'airlock-demo-repo-spec-'));
    createDemoRepository(join(root, 'git'), 'demo', { canary });
    server = await startGitServer(join(root, 'git'), root);
  });

  afterAll(async () => {
    await server.stop();
    rmSync(root, { recursive: true, force: true });
  });

  const cloneFresh = (name: string): string => {
    const dir = join(root, name);
    execFileSync('git', ['clone', '--quiet', server.urlOf('demo.git'), dir]);
    return dir;
  };

  it('has a real bug: its own tests fail as cloned', () => {
    expect(runTests(cloneFresh('as-cloned'))).not.toBe(0);
  });

  it('passes its tests with the demo fix and still fails with the broken fix', () => {
    const fixed = cloneFresh('fixed');
    applyDemoEdits(fixed, demoFixEdits({ canary }));
    expect(runTests(fixed)).toBe(0);

    const broken = cloneFresh('broken');
    applyDemoEdits(broken, demoBrokenEdits({ canary }));
    expect(runTests(broken)).not.toBe(0);
  });

  it('accepts a pushed branch', () => {
    const work = cloneFresh('pusher');
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '--quiet', '--allow-empty', '-m', 'empty'], { cwd: work });
    execFileSync('git', ['push', '--quiet', 'origin', 'HEAD:refs/heads/airlock/spec'], { cwd: work });
    const refs = execFileSync('git', ['ls-remote', server.urlOf('demo.git')], { encoding: 'utf8' });
    expect(refs).toContain('refs/heads/airlock/spec');
  });

  it('plants the canary in contents and in a file name', () => {
    const files = execFileSync('git', ['ls-files'], { cwd: cloneFresh('canary'), encoding: 'utf8' });
    expect(files).toContain(`src/${canary}-notes.txt`);
  });
});
