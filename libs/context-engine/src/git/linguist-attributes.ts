import { GitListingFailedError } from '../errors/git-listing-failed.error';
import type { GitCommandRunner } from './git-command-runner';
import { runGit, type TreeEntry } from './tree-listing';

/** What a repository's `.gitattributes` can say about a path, in the engine's skip vocabulary. */
export type LinguistMark = 'generated' | 'vendored';

/**
 * GitHub's attributes for code nobody should edit by hand (`linguist-generated`) and code
 * that is someone else's (`linguist-vendored`): the repository's own word on what the name
 * rules cannot know, such as a checked-in client generated without a marker or a library
 * copied into `lib/`.
 */
const ATTRIBUTES: ReadonlyMap<string, LinguistMark> = new Map([
  ['linguist-generated', 'generated'],
  ['linguist-vendored', 'vendored'],
]);
/** Paths per `git check-attr` call: keeps the argv far below the kernel's limit (ARG_MAX). */
const PATHS_PER_CALL = 1_000;

/**
 * The files of the tree that the repository's `.gitattributes` marks `linguist-generated`
 * or `linguist-vendored` (set, or `=true`; `-linguist-…` and `=false` mark nothing). The
 * attributes are read from the worktree's index (`--cached`), i.e. as committed, so a file
 * the job has since written cannot change them. No call at all when the tree holds no
 * `.gitattributes`, as in most repositories.
 *
 * @throws GitListingFailedError (`check-attr`), IndexBuildAbortedError.
 */
export async function linguistMarks(
  git: GitCommandRunner,
  worktree: string,
  tree: readonly TreeEntry[],
  signal: AbortSignal | undefined,
  timeoutMs: number,
): Promise<ReadonlyMap<string, LinguistMark>> {
  const marks = new Map<string, LinguistMark>();
  if (!tree.some((entry) => entry.path === '.gitattributes' || entry.path.endsWith('/.gitattributes'))) return marks;
  const files = tree.filter((entry) => entry.kind === 'blob').map((entry) => entry.path);
  for (let start = 0; start < files.length; start += PATHS_PER_CALL) {
    const batch = files.slice(start, start + PATHS_PER_CALL);
    const stdout = await runGit(git, 'check-attr', ['check-attr', '--cached', '-z', ...ATTRIBUTES.keys(), '--', ...batch], worktree, signal, timeoutMs);
    // -z: `<path> NUL <attribute> NUL <value> NUL`, one triple per path and attribute.
    const fields = stdout.split('\0');
    if (fields[fields.length - 1] === '') fields.pop();
    if (fields.length % 3 !== 0) throw new GitListingFailedError('check-attr', 'unexpected output');
    for (let index = 0; index < fields.length; index += 3) {
      const [path, attribute, value] = fields.slice(index, index + 3) as [string, string, string];
      const mark = ATTRIBUTES.get(attribute);
      if (mark === undefined) throw new GitListingFailedError('check-attr', 'unexpected attribute in output');
      // Marked both ways: generated wins, so the file tree still lists it (vendored files are only counted).
      if ((value === 'set' || value === 'true') && marks.get(path) !== 'generated') marks.set(path, mark);
    }
  }
  return marks;
}
