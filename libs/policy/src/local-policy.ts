/** The kinds of task a worker can be allowed to run. */
/** What an instruction may ask a worker to do (InstructionPayload.task). */
export type TaskKind = 'fix' | 'noop' | 'review' | 'index';

/**
 * Which branches a fix on one repository may start from. The base ref decides which
 * `.airlock.yml` (hence which test command) the worker runs, so it is local policy, never
 * the control plane's choice.
 */
export interface BaseRefRule {
  /**
   * Branch names (without `refs/heads/`) or simple globs in which `*` matches any run of
   * characters other than `/` (`release/*` matches `release/1.2`, not `release/1.2/rc`).
   */
  readonly allowed: ReadonlyArray<string>;
  /**
   * Prefixes a base ref may never start with, compared case-insensitively: the worker's
   * own output branches (`branchPrefix`), whose content a model wrote, are never a base.
   */
  readonly forbiddenPrefixes: ReadonlyArray<string>;
}
