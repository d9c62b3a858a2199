import { DAEMON_EXIT_CODES, type DaemonExit } from '../daemon/daemon.exit';

/** Process exit codes of the worker CLI; documented in the README. */
export const EXIT_CODES = {
  ok: 0,
  /** A check failed (doctor, audit verify) or the daemon failed at run time (an unexpected error: the fatal path). */
  failed: DAEMON_EXIT_CODES.failed,
  /** The config file is missing or invalid. */
  configInvalid: 2,
  /** Enrollment state is wrong: not enrolled (run, doctor) or already enrolled (enroll without --force). */
  enrollmentState: 3,
  /** The control plane refused or could not be reached (enroll). */
  controlPlane: 4,
  /**
   * The control plane kept refusing the worker's identity (UNAUTHENTICATED or
   * PERMISSION_DENIED on consecutive connections): unknown or revoked. Enroll it again;
   * restarting alone will not help, so supervisors should not restart on this code.
   */
  identityRefused: DAEMON_EXIT_CODES.identityRefused,
  /**
   * The control plane refused the worker's version: older (or newer) than the window it
   * supports. Install the version it named (logged, and printed on stderr); restarting alone
   * will not help, so supervisors should not restart on this code.
   */
  versionRefused: DAEMON_EXIT_CODES.versionRefused,
  /** A second signal, or the drain deadline, forced the daemon to stop. */
  forced: DAEMON_EXIT_CODES.forced,
} as const;

/** An error that ends a command with a specific exit code and a message for the operator. */
export class CliExitError extends Error {
  override readonly name = 'CliExitError';

  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The exit code of a daemon that ended; a daemon that failed becomes a CliExitError, so that
 * what happened (and what to do) is printed on stderr for the operator.
 */
export function daemonExitCode(exit: DaemonExit): number {
  if (exit.failure !== undefined) throw new CliExitError(exit.exitCode, exit.failure);
  return exit.exitCode;
}
