/** One problem in the config file: where, and what was expected there. Never the value. */
export interface ConfigProblem {
  readonly path: string;
  readonly expected: string;
}

/** Raised at start when the worker's YAML config is unreadable or breaks its schema. */
export class WorkerConfigInvalidError extends Error {
  override readonly name = 'WorkerConfigInvalidError';
  readonly code = 'WORKER_CONFIG_INVALID';

  constructor(
    readonly file: string,
    readonly problems: readonly ConfigProblem[],
  ) {
    super(`worker config ${file} is invalid:\n${problems.map((p) => `  ${p.path || '(root)'}: ${p.expected}`).join('\n')}`);
  }
}
