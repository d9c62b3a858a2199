/** Raised when a git invocation exits non-zero, times out, is aborted or prints more than we read. Kept local: stderr may name hosts or paths. */
export class GitCommandFailedError extends Error {
  override readonly name = 'GitCommandFailedError';
  readonly code = 'GIT_COMMAND_FAILED';

  constructor(
    readonly subcommand: string,
    readonly exitCode: number | null,
    readonly stderrTail: string,
    readonly reason: 'exit' | 'timeout' | 'aborted' | 'spawn' | 'output-too-large',
  ) {
    super(`git ${subcommand} failed (${reason}${exitCode === null ? '' : ` ${exitCode}`})`);
  }
}
