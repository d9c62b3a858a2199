import { JsonLogger, type Logger } from '../logging/json-logger';

/** The real JSON logger, writing into memory instead of stdout, so that tests can read the events. */
export class CapturedLog {
  readonly lines: Array<Record<string, unknown>> = [];
  readonly logger: Logger;

  constructor(now: () => number = Date.now) {
    this.logger = new JsonLogger((line) => this.lines.push(JSON.parse(line) as Record<string, unknown>), {}, now);
  }

  /** Every line logged as `event`, in order. */
  events(event: string): Array<Record<string, unknown>> {
    return this.lines.filter((line) => line['event'] === event);
  }
}
