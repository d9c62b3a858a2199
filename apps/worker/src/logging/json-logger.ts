/** Severity of a local log line. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Structured fields attached to a log line. Values must be JSON-serialisable. */
export type LogFields = Readonly<Record<string, unknown>>;

/** Where the worker writes its local logs. Logs never leave the host. */
export interface Logger {
  log(level: LogLevel, event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

/**
 * Writes one JSON object per line: `{"time", "level", "event", ...fields}`. Tests and
 * operators parse stdout line by line, so a line is never split or prefixed.
 */
export class JsonLogger implements Logger {
  constructor(
    private readonly write: (line: string) => void = (line) => process.stdout.write(line),
    private readonly base: LogFields = {},
    private readonly now: () => number = Date.now,
  ) {}

  log(level: LogLevel, event: string, fields: LogFields = {}): void {
    const line = { time: new Date(this.now()).toISOString(), level, event, ...this.base, ...fields };
    this.write(`${JSON.stringify(line, jsonReplacer)}\n`);
  }

  info(event: string, fields?: LogFields): void {
    this.log('info', event, fields);
  }

  warn(event: string, fields?: LogFields): void {
    this.log('warn', event, fields);
  }

  error(event: string, fields?: LogFields): void {
    this.log('error', event, fields);
  }

  child(fields: LogFields): Logger {
    return new JsonLogger(this.write, { ...this.base, ...fields }, this.now);
  }
}

/** Renders errors and buffers readably instead of as `{}` or byte arrays. */
function jsonReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message };
  if (value && typeof value === 'object' && (value as { type?: unknown }).type === 'Buffer') {
    return Buffer.from((value as { data: number[] }).data).toString('hex');
  }
  return value;
}
