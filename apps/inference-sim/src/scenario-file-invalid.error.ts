/** A scenario file that cannot be used: unparsable, failing the schema, or reusing a name. */
export class ScenarioFileInvalidError extends Error {
  override readonly name = 'ScenarioFileInvalidError';
  /** Stable code for callers that branch on the failure rather than the message. */
  readonly code = 'SCENARIO_FILE_INVALID';

  constructor(
    readonly file: string,
    /** Path of the offending field (`response.tool_calls[0].name`); null when the file itself is unreadable. */
    readonly field: string | null,
    readonly reason: string,
  ) {
    super(
      field === null
        ? `Scenario file "${file}" is invalid: ${reason}`
        : `Scenario file "${file}" is invalid at "${field}": ${reason}`,
    );
  }
}
