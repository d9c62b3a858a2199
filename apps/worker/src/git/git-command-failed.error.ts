/** Raised when a git invocation exits non-zero, times out or is aborted. Kept local: stderr may name hosts or paths. */
export class GitCommandFailedError extends Error {
  override readonly name = 'GitCommandFailedError';
  readonly code = 'GIT_COMMAND_FAILED';

  constructor(
    readonly subcommand: string,
    readonly exitCode: number | null,
    readonly stderrTail: string,
    readonly reason: 'exit' | 'timeout' | 'aborted' | 'spawn',
  ) {
    super(`git ${subcommand} failed (${reason}${exitCode === null ? '' : ` ${exitCode}`})`);
  }
}
