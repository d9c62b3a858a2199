/** The `--scenarios` directory does not exist or cannot be listed. */
export class ScenariosDirUnreadableError extends Error {
  override readonly name = 'ScenariosDirUnreadableError';
  /** Stable code for callers that branch on the failure rather than the message. */
  readonly code = 'SCENARIOS_DIR_UNREADABLE';

  constructor(
    readonly dir: string,
    reason: string,
  ) {
    super(`Scenarios directory "${dir}" cannot be read: ${reason}`);
  }
}
