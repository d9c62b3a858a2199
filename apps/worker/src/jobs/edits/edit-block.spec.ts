import { mkdtempSync, mkdirSync, readFileSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { EditBlockApplier } from './edit-block.applier';
import { parseEditBlocks } from './edit-block.parser';
import { EditPathRejectedError } from './edit-path-rejected.error';

const block = (path: string, search: string, replace: string) => `${path}\n<<<<<<< SEARCH\n${search}\n=======\n${replace}\n>>>>>>> REPLACE\n`;

describe('parseEditBlocks', () => {
  it('reads path, search and replace, inside or outside fences', () => {
    const answer = `Here is the fix:\n\n\`\`\`js\n${block('src/a.js', 'return a - b;', 'return a + b;')}\`\`\`\n\nand\n${block('src/b.js', 'x', 'y')}`;
    const { blocks, malformed } = parseEditBlocks(answer);
    expect(malformed).toBe(0);
    expect(blocks).toEqual([
      { path: 'src/a.js', search: ['return a - b;'], replace: ['return a + b;'] },
      { path: 'src/b.js', search: ['x'], replace: ['y'] },
    ]);
  });

  it('reuses the previous path for a block that follows another directly', () => {
    const answer = `${block('src/a.js', 'one', 'uno')}<<<<<<< SEARCH\ntwo\n=======\ndos\n>>>>>>> REPLACE\n`;
    expect(parseEditBlocks(answer).blocks.map((b) => b.path)).toEqual(['src/a.js', 'src/a.js']);
  });

  it('counts an unterminated block as malformed and finds no block in prose', () => {
    expect(parseEditBlocks('src/a.js\n<<<<<<< SEARCH\nx\n=======\ny\n').malformed).toBe(1);
    expect(parseEditBlocks('I think you should change the adder.').blocks).toHaveLength(0);
  });

  it('treats an empty SEARCH as a new file', () => {
    const { blocks } = parseEditBlocks('docs/new.md\n<<<<<<< SEARCH\n=======\n# New\n>>>>>>> REPLACE\n');
    expect(blocks[0]).toEqual({ path: 'docs/new.md', search: [], replace: ['# New'] });
  });

  it('reads a path line holding a long run of decoration in linear time (it took quadratic time before)', () => {
    // A run of `*` that does not end the line made the path clean-up regex retry from every
    // character: 40 000 of them took 1.6 s, a million some seventeen minutes of blocked event
    // loop. The vm timeout only turns such a hang into a failure; the parse takes milliseconds.
    const pathLine = `a${'*'.repeat(1_000_000)}b`;
    const answer = `${pathLine}\n<<<<<<< SEARCH\nold\n=======\nnew\n>>>>>>> REPLACE\n`;
    const parsed = runInNewContext('parse(answer)', { parse: parseEditBlocks, answer }, { timeout: 10_000 }) as ReturnType<typeof parseEditBlocks>;
    expect(parsed.blocks).toEqual([{ path: pathLine, search: ['old'], replace: ['new'] }]);
  });
});

describe('EditBlockApplier', () => {
  const applier = new EditBlockApplier();
  let root: string;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'airlock-apply-'));
    mkdirSync(join(root, 'src'));
    writeFileSync(join(root, 'src', 'a.js'), 'function add(a, b) {\n  return a - b;\n}\n');
  });

  it('replaces a unique exact match', async () => {
    const outcome = await applier.applyEdit(root, { path: 'src/a.js', search: ['  return a - b;'], replace: ['  return a + b;'] });
    expect(outcome.applied).toBe(true);
    expect(readFileSync(join(root, 'src', 'a.js'), 'utf8')).toBe('function add(a, b) {\n  return a + b;\n}\n');
  });

  it('falls back to a unique whitespace-trimmed match', async () => {
    const outcome = await applier.applyEdit(root, { path: 'src/a.js', search: ['return a - b;'], replace: ['  return a + b;'] });
    expect(outcome.applied).toBe(true);
    expect(readFileSync(join(root, 'src', 'a.js'), 'utf8')).toContain('return a + b;');
  });

  it('does not apply an ambiguous or missing SEARCH', async () => {
    writeFileSync(join(root, 'src', 'b.js'), 'x\nx\n');
    const outcomes = [
      await applier.applyEdit(root, { path: 'src/b.js', search: ['x'], replace: ['y'] }),
      await applier.applyEdit(root, { path: 'src/a.js', search: ['not there'], replace: ['y'] }),
    ];
    expect(outcomes.filter((outcome) => outcome.applied)).toHaveLength(0);
    expect(readFileSync(join(root, 'src', 'b.js'), 'utf8')).toBe('x\nx\n');
  });

  it('creates a new file for an empty SEARCH, but never overwrites one', async () => {
    const outcomes = [
      await applier.applyEdit(root, { path: 'docs/new.md', search: [], replace: ['# New'] }),
      await applier.applyEdit(root, { path: 'src/a.js', search: [], replace: ['clobbered'] }),
    ];
    expect(outcomes.filter((outcome) => outcome.applied)).toHaveLength(1);
    expect(readFileSync(join(root, 'docs', 'new.md'), 'utf8')).toBe('# New\n');
    expect(readFileSync(join(root, 'src', 'a.js'), 'utf8')).toContain('a - b');
  });

  it.each([
    ['/etc/passwd', 'absolute'],
    ['../outside.txt', 'parent-segment'],
    ['src/../../outside.txt', 'parent-segment'],
    ['.git/config', 'git-dir'],
    ['sub/.git/hooks/pre-commit', 'git-dir'],
  ])('refuses %s (%s) and writes nothing', async (path, reason) => {
    const attempt = applier.applyEdit(root, { path, search: [], replace: ['pwned'] });
    await expect(attempt).rejects.toThrow(EditPathRejectedError);
    await expect(attempt).rejects.toMatchObject({ reason });
    expect(readFileSync(join(root, 'src', 'a.js'), 'utf8')).toContain('a - b');
  });

  it.each(['.airlock.yml', './.airlock.yml', '.Airlock.YML', 'src/../.airlock.yml'])(
    'refuses an edit to the repository config %s (it names the test command) and writes nothing',
    async (path) => {
      const original = 'version: 1\ntest:\n  command: [npm, test]\n';
      writeFileSync(join(root, '.airlock.yml'), original);
      const attempt = applier.applyEdit(root, { path, search: ['  command: [npm, test]'], replace: ['  command: [sh, -c, "cat ~/.ssh/id_ed25519"]'] });
      await expect(attempt).rejects.toThrow(EditPathRejectedError);
      await expect(attempt).rejects.toMatchObject({ reason: path.includes('..') ? 'parent-segment' : 'repo-config' });
      expect(readFileSync(join(root, '.airlock.yml'), 'utf8')).toBe(original);
      expect(readFileSync(join(root, 'src', 'a.js'), 'utf8')).toContain('a - b');
    },
  );

  it('refuses to create a repository config where there was none', async () => {
    await expect(applier.applyEdit(root, { path: '.airlock.yml', search: [], replace: ['version: 1'] })).rejects.toMatchObject({ reason: 'repo-config' });
    expect(existsSync(join(root, '.airlock.yml'))).toBe(false);
  });

  it('still edits a file of the same name below the root (only the root one is read)', async () => {
    await expect(applier.applyEdit(root, { path: 'docs/.airlock.yml', search: [], replace: ['# an example'] })).resolves.toEqual({ applied: true, path: 'docs/.airlock.yml', match: 'created' });
  });

  it('refuses a path through a symlink that points outside the worktree', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'airlock-outside-'));
    symlinkSync(outside, join(root, 'link'));
    await expect(applier.applyEdit(root, { path: 'link/evil.txt', search: [], replace: ['x'] })).rejects.toMatchObject({ reason: 'outside-worktree' });
    expect(existsSync(join(outside, 'evil.txt'))).toBe(false);
  });
});

describe('EditBlockApplier.applyEdit: how each edit went, for the model to hear', () => {
  const applier = new EditBlockApplier();
  let root: string;
  const FILE = ['function total(lines) {', "  // sum the prices (in cents)", '  return lines.reduce((sum, l) => sum + l.price, 0);', '}', ''].join('\n');

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'airlock-apply-edit-'));
    mkdirSync(join(root, 'src'));
    writeFileSync(join(root, 'src/total.js'), FILE);
  });

  const edit = (search: string[], replace: string[], path = 'src/total.js') => applier.applyEdit(root, { path, search, replace });

  it('matches exactly first', async () => {
    await expect(edit(['  return lines.reduce((sum, l) => sum + l.price, 0);'], ['  return 0;'])).resolves.toEqual({ applied: true, path: 'src/total.js', match: 'exact' });
  });

  it('then ignoring indentation', async () => {
    await expect(edit(['return lines.reduce((sum, l) => sum + l.price, 0);'], ['  return 0;'])).resolves.toMatchObject({ applied: true, match: 'whitespace' });
  });

  it('then a clearly most similar stretch: a misremembered comment still edits the right lines', async () => {
    const outcome = await edit(["  // sums the prices (in cents)", '  return lines.reduce((sum, l) => sum + l.price, 0);'], ['  // in cents', '  return 0;']);
    expect(outcome).toMatchObject({ applied: true, match: 'fuzzy' });
    expect(readFileSync(join(root, 'src/total.js'), 'utf8')).toBe(['function total(lines) {', '  // in cents', '  return 0;', '}', ''].join('\n'));
  });

  it('says not-found when nothing is similar enough, and changes nothing', async () => {
    await expect(edit(['const unrelated = require("x");'], ['y'])).resolves.toEqual({ applied: false, path: 'src/total.js', problem: 'not-found' });
    expect(readFileSync(join(root, 'src/total.js'), 'utf8')).toBe(FILE);
  });

  it('says ambiguous when the SEARCH occurs twice', async () => {
    writeFileSync(join(root, 'src/twice.js'), 'x();\ny();\nx();\n');
    await expect(edit(['x();'], ['z();'], 'src/twice.js')).resolves.toMatchObject({ applied: false, problem: 'ambiguous' });
  });

  it('says no-such-file and file-exists for edits aimed at the wrong file', async () => {
    await expect(edit(['x'], ['y'], 'src/missing.js')).resolves.toMatchObject({ applied: false, problem: 'no-such-file' });
    await expect(edit([], ['new'], 'src/total.js')).resolves.toMatchObject({ applied: false, problem: 'file-exists' });
  });

  it('still refuses .git, .airlock.yml and paths out of the worktree by throwing', async () => {
    await expect(edit([], ['x'], '.git/config')).rejects.toBeInstanceOf(EditPathRejectedError);
    await expect(edit([], ['x'], '.airlock.yml')).rejects.toBeInstanceOf(EditPathRejectedError);
    await expect(edit([], ['x'], '../outside.js')).rejects.toBeInstanceOf(EditPathRejectedError);
  });
});
