/** Process exit codes of the worker CLI; documented in the README. */
export const EXIT_CODES = {
  ok: 0,
  /** A check failed (doctor, audit verify) or the daemon failed at run time. */
  failed: 1,
  /** The config file is missing or invalid. */
  configInvalid: 2,
  /** Enrollment state is wrong: not enrolled (run, doctor) or already enrolled (enroll without --force). */
  enrollmentState: 3,
  /** The control plane refused or could not be reached (enroll). */
  controlPlane: 4,
  /** A second signal forced the daemon to stop. */
  forced: 130,
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
