import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { blobObjectId, WorktreeReader } from './worktree-reader';

describe('WorktreeReader', () => {
  let base: string;
  let worktree: string;
  let reader: WorktreeReader;

  beforeAll(async () => {
    base = mkdtempSync(join(tmpdir(), 'worktree-reader-'));
    worktree = join(base, 'worktree');
    mkdirSync(join(worktree, 'src'), { recursive: true });
    mkdirSync(join(base, 'outside'));
    writeFileSync(join(base, 'outside', 'secret.ts'), 'export const key = "outside";\n');
    writeFileSync(join(worktree, 'src', 'cart.ts'), 'export class Cart {}\n');
    writeFileSync(join(worktree, 'src', 'big.ts'), 'x'.repeat(101));
    symlinkSync(join(base, 'outside', 'secret.ts'), join(worktree, 'src', 'link.ts'));
    symlinkSync(join(base, 'outside'), join(worktree, 'linked-dir'));
    symlinkSync('cart.ts', join(worktree, 'src', 'inside-link.ts'));
    reader = await WorktreeReader.open(worktree);
  });

  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('reads a regular file inside the worktree', async () => {
    expect(await reader.read('src/cart.ts', 100)).toEqual({ kind: 'read', bytes: Buffer.from('export class Cart {}\n') });
  });

  it('does not follow a link, even one pointing inside', async () => {
    expect(await reader.read('src/link.ts', 100)).toEqual({ kind: 'skipped', reason: 'symlink' });
    expect(await reader.read('src/inside-link.ts', 100)).toEqual({ kind: 'skipped', reason: 'symlink' });
  });

  it('does not read below a directory that is a link out of the worktree', async () => {
    expect(await reader.read('linked-dir/secret.ts', 100)).toEqual({ kind: 'skipped', reason: 'outside-worktree' });
  });

  it('refuses names that climb out or are absolute', async () => {
    for (const path of ['../outside/secret.ts', 'src/../../outside/secret.ts', join(base, 'outside', 'secret.ts'), 'src//cart.ts', './src/cart.ts']) {
      expect(await reader.read(path, 100)).toEqual({ kind: 'skipped', reason: 'outside-worktree' });
    }
  });

  it('skips files over the bound, directories and missing files', async () => {
    expect(await reader.read('src/big.ts', 100)).toEqual({ kind: 'skipped', reason: 'too-large' });
    expect(await reader.read('src', 100)).toEqual({ kind: 'skipped', reason: 'unreadable' });
    expect(await reader.read('src/missing.ts', 100)).toEqual({ kind: 'skipped', reason: 'unreadable' });
  });
});

describe('blobObjectId', () => {
  it("equals git's blob ids, SHA-1 and SHA-256", () => {
    // `printf 'hello\n' | git hash-object --stdin` and `git hash-object --object-format=sha256`
    expect(blobObjectId(Buffer.from('hello\n'), 'x'.repeat(40))).toBe('ce013625030ba8dba906f756967f9e9ca394464a');
    expect(blobObjectId(Buffer.from('hello\n'), 'x'.repeat(64))).toBe('2cf8d83d9ee29543b34a87727421fdecb7e3f3a183d337639025de576db9ebb4');
  });
});
