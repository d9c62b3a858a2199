/**
 * Compiles a path glob (`**` any depth, `*` within a segment, `?` one character) to a
 * regular expression over forward-slash paths. Enough for `.airlock.yml` context filters.
 */
export function globToRegExp(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i += 1) {
    const char = glob[i] as string;
    if (char === '*' && glob[i + 1] === '*') {
      const slash = glob[i + 2] === '/';
      source += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/** Whether a path passes include (any, or none given) and exclude (none) filters. */
export function pathSelected(path: string, include: readonly RegExp[], exclude: readonly RegExp[]): boolean {
  return (include.length === 0 || include.some((re) => re.test(path))) && !exclude.some((re) => re.test(path));
}
