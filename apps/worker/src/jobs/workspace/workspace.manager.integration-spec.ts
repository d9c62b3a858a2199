import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RepositoryConfig } from '../../config/worker-config.loader';
import { GitRunner } from '../../git/git-runner';
import { JsonLogger } from '../../logging/json-logger';
import { createBareRepo, git } from '../../testing/git-fixture.mock';
import { BaseRefNotFoundError } from './base-ref-not-found.error';
import { WorkspaceManager } from './workspace.manager';

jest.setTimeout(60_000);

/**
 * The workspace resolves exactly `refs/heads/<baseRef>` in a mirror that holds branches
 * only: a tag, a pull-request ref or any other namespace on the server never becomes a
 * base, whatever its name, and refs an older worker mirrored are dropped.
 */
describe('WorkspaceManager base refs (real git)', () => {
  const origin = createBareRepo({ 'README.md': 'main\n', '.airlock.yml': 'version: 1\ntest:\n  command: [node, -e, "0"]\n' });
  const rev = (ref: string) => git(origin, 'rev-parse', ref).trim();
  const mainCommit = rev('refs/heads/main');
  // Other namespaces on the server, each holding a commit that is not on main.
  const hostile = git(origin, 'commit-tree', '-p', mainCommit, '-m', 'hostile .airlock.yml', `${mainCommit}^{tree}`).trim();
  for (const ref of ['refs/pull/7/head', 'refs/tags/v1', 'refs/tags/main', 'refs/heads/refs/heads/develop', 'refs/heads/airlock/earlier-job', 'refs/heads/release/2.1', 'refs/notes/x']) {
    git(origin, 'update-ref', ref, hostile);
  }
  const host = { path: process.env['PATH'] ?? '/usr/bin:/bin', lang: 'C.UTF-8' };
  const repo = (baseRefs: string[]): RepositoryConfig => ({ alias: 'demo', cloneUrl: origin, pushUrl: origin, branchPrefix: 'airlock/', baseRefs });
  let workspaceDir: string;
  let manager: WorkspaceManager;
  let jobs = 0;

  const prepare = (baseRefs: string[], baseRef: string) => {
    jobs += 1;
    return manager.prepare(repo(baseRefs), baseRef, `job-${jobs}`, new AbortController().signal);
  };
  const mirrorRefs = () =>
    execFileSync('git', ['for-each-ref', '--format=%(refname)'], { cwd: join(workspaceDir, 'mirrors', 'demo.git'), encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .sort();

  beforeEach(async () => {
    workspaceDir = mkdtempSync(join(tmpdir(), 'airlock-ws-it-'));
    manager = new WorkspaceManager(workspaceDir, new GitRunner(host), new JsonLogger(() => undefined));
    await manager.removeStale();
  });

  it('checks out an allowed branch, and mirrors branches only (no tags, no pull or notes refs)', async () => {
    const workspace = await prepare(['main'], 'main');
    expect(workspace.baseCommit).toBe(mainCommit);
    expect(mirrorRefs()).toEqual(['refs/heads/airlock/earlier-job', 'refs/heads/main', 'refs/heads/refs/heads/develop', 'refs/heads/release/2.1']);
    // No remote with a catch-all refspec is recorded either (fetches name the URL and the refspec).
    expect(spawnSync('git', ['config', '--get-regexp', '^remote\\.'], { cwd: join(workspaceDir, 'mirrors', 'demo.git'), encoding: 'utf8' }).stdout).toBe('');
  });

  it('resolves a glob-allowed branch', async () => {
    expect((await prepare(['main', 'release/*'], 'release/2.1')).baseCommit).toBe(hostile);
  });

  it.each([
    ['a tag, even one named like an allowed branch', ['*', 'refs/*', 'tags/*'], 'v1'],
    ['a pull-request ref', ['*', 'pull/*/*'], 'pull/7/head'],
    ['a full ref name (no DWIM into another branch or namespace)', ['*'], 'refs/heads/develop'],
    ['a branch that does not exist', ['*'], 'nope'],
  ])('never resolves %s', async (_what, baseRefs, baseRef) => {
    await expect(prepare(baseRefs, baseRef)).rejects.toBeInstanceOf(BaseRefNotFoundError);
  });

  it("refuses the worker's own branches and unlisted branches before touching the mirror", async () => {
    await expect(prepare(['*', '*/*'], 'airlock/earlier-job')).rejects.toBeInstanceOf(BaseRefNotFoundError);
    await expect(prepare(['main'], 'release/2.1')).rejects.toBeInstanceOf(BaseRefNotFoundError);
    expect(() => mirrorRefs()).toThrow();
  });

  it('drops every ref outside refs/heads from a mirror an older worker cloned with +refs/*:refs/*', async () => {
    execFileSync('git', ['clone', '--mirror', '--quiet', origin, join(workspaceDir, 'mirrors', 'demo.git')]);
    expect(mirrorRefs()).toContain('refs/pull/7/head');
    await prepare(['main'], 'main');
    expect(mirrorRefs().filter((ref) => !ref.startsWith('refs/heads/'))).toEqual([]);
  });
});
