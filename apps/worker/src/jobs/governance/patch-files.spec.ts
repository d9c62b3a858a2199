import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { patchCandidate } from './candidate-change';
import { parsePatchFiles, unquote } from './patch-files';

const env = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' };

/** A patch as APPLY records it (`git diff --cached --binary <base>`), from a real repository. */
function stagedPatch(before: Record<string, string | Buffer>, change: (dir: string, git: (...args: string[]) => string) => void): string {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-patch-files-'));
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, env, encoding: 'utf8' });
  try {
    git('init', '--quiet', '--initial-branch=main');
    for (const [path, content] of Object.entries(before)) writeFileSync(join(dir, path), content);
    git('add', '--all');
    git('commit', '--quiet', '-m', 'base');
    change(dir, git);
    git('add', '--all');
    return git('diff', '--cached', '--binary', 'HEAD');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('parsePatchFiles (patches from real git)', () => {
  const patch = stagedPatch(
    { 'sp ace.txt': 'a\nb\n', 'tést.txt': 'x\n', 'old.txt': 'keep\nthis\nfile\nas\nit\nis\n', 'gone.txt': 'del\nme\n', 'image.bin': Buffer.from([0, 1, 2]) },
    (dir, git) => {
      writeFileSync(join(dir, 'sp ace.txt'), 'a\nc\n');
      writeFileSync(join(dir, 'tést.txt'), 'y');
      git('mv', 'old.txt', 'new.txt');
      writeFileSync(join(dir, 'new.txt'), 'keep\nthis\nfile\nas\nit\nwas\n');
      unlinkSync(join(dir, 'gone.txt'));
      writeFileSync(join(dir, 'image.bin'), Buffer.from([0, 9, 9, 9]));
      writeFileSync(join(dir, 'added.js'), "const token = 'x';\nmodule.exports = token;");
      writeFileSync(join(dir, 'empty.txt'), '');
    },
  );

  it('reads status, paths (both sides of a rename, quoted and spaced names), added lines and removed counts', () => {
    const files = Object.fromEntries(parsePatchFiles(patch).map((entry) => [entry.file.path, entry.file]));
    expect(Object.keys(files).sort()).toEqual(['added.js', 'empty.txt', 'gone.txt', 'image.bin', 'new.txt', 'sp ace.txt', 'tést.txt']);
    expect(files['sp ace.txt']).toEqual({ path: 'sp ace.txt', status: 'modified', addedLines: ['c'], removedLines: 1 });
    expect(files['tést.txt']).toEqual({ path: 'tést.txt', status: 'modified', addedLines: ['y'], removedLines: 1 });
    expect(files['new.txt']).toEqual({ path: 'new.txt', previousPath: 'old.txt', status: 'renamed', addedLines: ['was'], removedLines: 1 });
    expect(files['gone.txt']).toEqual({ path: 'gone.txt', status: 'deleted', addedLines: [], removedLines: 2 });
    expect(files['image.bin']).toEqual({ path: 'image.bin', status: 'modified', addedLines: [], removedLines: 0 });
    expect(files['added.js']).toEqual({ path: 'added.js', status: 'added', addedLines: ["const token = 'x';", 'module.exports = token;'], removedLines: 0 });
    expect(files['empty.txt']).toEqual({ path: 'empty.txt', status: 'added', addedLines: [], removedLines: 0 });
  });

  it('shows a reader only what the patch holds whole: a created file after, a deleted one before', async () => {
    const candidate = patchCandidate(patch);
    await expect(candidate.readAfter('added.js')).resolves.toBe("const token = 'x';\nmodule.exports = token;");
    await expect(candidate.readBefore('gone.txt')).resolves.toBe('del\nme\n');
    await expect(candidate.readAfter('sp ace.txt')).resolves.toBeUndefined();
    await expect(candidate.readBefore('sp ace.txt')).resolves.toBeUndefined();
    await expect(candidate.readAfter('nowhere.txt')).resolves.toBeUndefined();
  });

  it('keeps the files a patch cut short still shows', () => {
    // Cut inside gone.txt's hunk, after its first removed line.
    const cut = patch.slice(0, patch.indexOf('-del\n') + 5);
    expect(parsePatchFiles(cut).map((entry) => entry.file)).toEqual([
      expect.objectContaining({ path: 'added.js' }),
      expect.objectContaining({ path: 'empty.txt' }),
      { path: 'gone.txt', status: 'deleted', addedLines: [], removedLines: 1 },
    ]);
  });

  it('reads no file out of text that is no patch', () => {
    expect(parsePatchFiles('')).toEqual([]);
    expect(parsePatchFiles('hello\n@@ -1 +1 @@\n+x\n')).toEqual([]);
  });

  it("unquotes git's C-quoted paths, octal bytes as UTF-8", () => {
    expect(unquote('"t\\303\\251st\\ttab\\"q\\\\"')).toBe('tést\ttab"q\\');
    expect(unquote('plain name')).toBe('plain name');
  });
});
