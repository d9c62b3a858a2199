/** What part a file plays in a repository, as far as its path tells. */
export type FileRole = 'source' | 'test' | 'declaration' | 'manifest' | 'documentation';

/**
 * How much a file's score counts for its role. A ticket names behaviour; the file to
 * change is almost always source. Tests that exercise it (a regression test repeats the
 * ticket's words), type declarations that restate its API, package manifests that carry the
 * package's name, and prose that describes it
 * all match the ticket as well or better on words alone, and pushed the file to change out
 * of the top five in the replay suite (`npm run bench:agent`, recall@5). They still rank,
 * below the source that matches as well.
 */
export const ROLE_WEIGHT: Readonly<Record<FileRole, number>> = {
  source: 1,
  test: 0.6,
  declaration: 0.5,
  manifest: 0.5,
  documentation: 0.35,
};

const TEST_PATH = /(^|\/)(tests?|__tests__|spec|specs)\/|(^|\/)test_[^/]*\.py$|_test\.(py|go)$|\.(test|spec)\.[cm]?[jt]sx?$|(^|\/)conftest\.py$|(^|\/)src\/test\//;
const DECLARATION_PATH = /\.d\.[cm]?ts$/;
const MANIFEST_PATH = /(^|\/)(package\.json|pyproject\.toml|setup\.cfg|setup\.py|Cargo\.toml|go\.mod|pom\.xml|build\.gradle(\.kts)?|composer\.json|Gemfile)$/;
const DOCUMENTATION_PATH = /\.(md|markdown|mdx|rst|txt|adoc)$|(^|\/)(readme|license|licence|changelog|changes|history|authors|contributing|notice)(\.[^/]*)?$/i;

/** The role a path suggests; source unless it looks like a test, a type declaration, a package manifest or prose. */
export function roleOf(path: string): FileRole {
  if (DOCUMENTATION_PATH.test(path)) return 'documentation';
  if (DECLARATION_PATH.test(path)) return 'declaration';
  if (MANIFEST_PATH.test(path)) return 'manifest';
  if (TEST_PATH.test(path)) return 'test';
  return 'source';
}
