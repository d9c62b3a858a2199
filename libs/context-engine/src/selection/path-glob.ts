/**
 * Compiles a path glob as `.airlock.yml` writes them (`**` any depth, `*` within one path
 * segment, `?` one character) to a regular expression over forward-slash paths. The same
 * dialect as the worker's context filters, so one config means the same files here.
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

/** Include (any, or none given) and exclude (none) filters over worktree-relative paths. */
export class PathFilter {
  private readonly include: readonly RegExp[];
  private readonly exclude: readonly RegExp[];

  constructor(include: readonly string[], exclude: readonly string[]) {
    this.include = include.map(globToRegExp);
    this.exclude = exclude.map(globToRegExp);
  }

  /** Whether the caller's globs let this path in. */
  selects(path: string): boolean {
    return (this.include.length === 0 || this.include.some((re) => re.test(path))) && !this.exclude.some((re) => re.test(path));
  }
}
