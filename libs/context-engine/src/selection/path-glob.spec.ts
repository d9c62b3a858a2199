import { globToRegExp, PathFilter } from './path-glob';

describe('globToRegExp', () => {
  it.each([
    ['src/**', 'src/a/b.ts', true],
    ['src/**', 'lib/a.ts', false],
    ['**/*.snap', 'a/b/c.snap', true],
    ['**/*.snap', 'c.snap', true],
    ['*.md', 'docs/a.md', false],
    ['docs/?.md', 'docs/a.md', true],
    ['secrets/*', 'secrets/a/b', false],
    ['a.b', 'axb', false],
  ])('%s matches %s: %s', (glob, path, matches) => {
    expect(globToRegExp(glob).test(path)).toBe(matches);
  });
});

describe('PathFilter', () => {
  it('lets everything in without globs', () => {
    expect(new PathFilter([], []).selects('any/file.ts')).toBe(true);
  });

  it('needs one include to match and no exclude to match', () => {
    const filter = new PathFilter(['src/**'], ['**/*.snap']);
    expect(filter.selects('src/a.ts')).toBe(true);
    expect(filter.selects('src/a.snap')).toBe(false);
    expect(filter.selects('test/a.ts')).toBe(false);
  });
});
