/**
 * The process exit code for each way the daemon ends (cli/exit-codes.ts lists them with the
 * CLI's other codes; the README documents them):
 *
 * - `drained`: a drain finished — every job ended and reported — exit 0;
 * - `failed`: an unexpected error took the fatal path (jobs aborted), exit 1;
 * - `identityRefused`: the control plane kept refusing this worker's identity; restarting
 *   will not help, enrolling again will — exit 5, so a supervisor can tell it apart;
 * - `versionRefused`: the control plane refused this worker's version (outside the window it
 *   supports); restarting will not help, installing the version it named will — exit 6;
 * - `forced`: a second signal, or the drain deadline, aborted running jobs — exit 130.
 */
export const DAEMON_EXIT_CODES = { drained: 0, failed: 1, identityRefused: 5, versionRefused: 6, forced: 130 } as const;

/** How the daemon ended. */
export interface DaemonExit {
  readonly exitCode: number;
  /** Set when the daemon failed: what went wrong and, where it is known, what to do. */
  readonly failure?: string;
}
