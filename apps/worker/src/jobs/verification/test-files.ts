import { PathFilter } from '@airlock/context-engine';

/**
 * Where tests live when `.airlock.yml` does not say (`test.paths`): the usual test
 * directories and file names of JavaScript/TypeScript, Python, Go, Java/Kotlin and Rust.
 */
export const DEFAULT_TEST_PATHS: readonly string[] = [
  '**/test/**',
  '**/tests/**',
  '**/__tests__/**',
  '**/spec/**',
  '**/*.test.*',
  '**/*.spec.*',
  '**/test_*.py',
  '**/*_test.py',
  '**/conftest.py',
  '**/*_test.go',
  '**/src/test/**',
  '**/*Test.java',
  '**/*Tests.java',
  '**/*Test.kt',
];

/** Tells the repository's test files from the rest, so a reproducing test can be told from the fix. */
export class TestFileClassifier {
  private readonly filter: PathFilter;

  constructor(paths: readonly string[] | undefined) {
    this.filter = new PathFilter(paths ?? DEFAULT_TEST_PATHS, []);
  }

  isTest(path: string): boolean {
    return this.filter.selects(path);
  }
}
