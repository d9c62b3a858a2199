import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GitRunner } from '../../git/git-runner';
import { createBareRepo, git } from '../../testing/git-fixture.mock';
import { LexicalContextSelector, tokenize } from './lexical-context.selector';

describe('LexicalContextSelector', () => {
  const repo = createBareRepo({
    'src/invoice-total.ts': 'export function computeInvoiceTotal(lines: Line[]) {\n  return lines.reduce((sum, line) => sum + line.price, 0); // ignores quantity\n}\n',
    'src/user-profile.ts': 'export function renderUserProfile(user: User) {\n  return `<h1>${user.name}</h1>`;\n}\n',
    'src/logger.ts': 'export const log = (message: string) => console.log(message);\n',
    'test/billing.spec.ts': "import { computeInvoiceTotal } from '../src/invoice-total';\nit('sums', () => expect(computeInvoiceTotal([])).toBe(0));\n",
    'assets/logo.png': '\u0000PNG binary',
  });
  const worktree = join(mkdtempSync(join(tmpdir(), 'airlock-ctx-')), 'wt');
  git(tmpdir(), 'clone', '--quiet', repo, worktree);
  const selector = new LexicalContextSelector(new GitRunner({ path: process.env['PATH'] ?? '/usr/bin:/bin', lang: 'C.UTF-8' }));
  const request = (title: string, description: string, maxFiles = 8) => ({
    worktree,
    ticket: { title, description },
    maxFiles,
    maxBytes: 200 * 1024,
    include: [],
    exclude: [],
    signal: new AbortController().signal,
  });

  it('splits identifiers into terms', () => {
    expect(tokenize('computeInvoiceTotal user_profile')).toEqual(expect.arrayContaining(['computeinvoicetotal', 'compute', 'invoice', 'total', 'user_profile', 'user', 'profile']));
  });

  it('ranks the obviously relevant file first and brings its test along', async () => {
    const files = await selector.select(request('Invoice total ignores quantity', 'computeInvoiceTotal must multiply price by quantity.', 2));
    expect(files.map((f) => f.path)).toEqual(['src/invoice-total.ts', 'test/billing.spec.ts']);
  });

  it('skips binaries and returns nothing when no term matches', async () => {
    const files = await selector.select(request('zebra quokka', 'wombat'));
    expect(files).toHaveLength(0);
  });

  it('never reads a tracked symlink, so files outside the worktree stay out of the prompt', async () => {
    const outside = join(mkdtempSync(join(tmpdir(), 'airlock-ctx-outside-')), 'worker-key.pem');
    writeFileSync(outside, 'computeInvoiceTotal PRIVATE KEY material\n');
    const linked = join(mkdtempSync(join(tmpdir(), 'airlock-ctx-link-')), 'wt');
    git(tmpdir(), 'clone', '--quiet', repo, linked);
    symlinkSync(outside, join(linked, 'src', 'invoice-key.ts'));
    git(linked, 'add', 'src/invoice-key.ts');
    const files = await selector.select({ ...request('Invoice total key', 'computeInvoiceTotal'), worktree: linked });
    expect(files.map((f) => f.path)).toContain('src/invoice-total.ts');
    expect(files.map((f) => f.path)).not.toContain('src/invoice-key.ts');
    expect(files.some((f) => f.content.includes('PRIVATE KEY'))).toBe(false);
  });

  it('honours the include/exclude globs of .airlock.yml', async () => {
    const files = await selector.select({ ...request('Invoice total', 'computeInvoiceTotal'), exclude: ['test/**'] });
    expect(files.map((f) => f.path)).toEqual(['src/invoice-total.ts']);
  });
});
