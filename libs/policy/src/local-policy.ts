/** The kinds of task a worker can be allowed to run. */
export type TaskKind = 'fix' | 'noop';

/**
 * The worker's local policy, set by the customer in the worker's own config. It has the
 * last word: the control plane cannot widen it, only learn its digest.
 */
export interface LocalPolicy {
  /** Task kinds this worker runs; anything else is refused with TASK_FORBIDDEN_BY_POLICY. */
  allowedTaskKinds: ReadonlyArray<TaskKind>;
  /** Aliases of the repositories in the worker's local catalog. */
  repoAliases: ReadonlyArray<string>;
  /** Hosts, besides loopback and private addresses, the worker may send inference requests to. */
  inferenceHosts: ReadonlyArray<string>;
}
