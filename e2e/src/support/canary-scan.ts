import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export { findInDatabase } from '@airlock/testing';

/** Returns the names of the log files in `logDir` (matching `prefix`) that contain the text. */
export function findInLogs(logDir: string, prefix: string, needle: string): string[] {
  const files = readdirSync(logDir).filter((name) => name.startsWith(prefix));
  if (files.length === 0) throw new Error(`no ${prefix}* log in ${logDir}; the scan would prove nothing`);
  return files.filter((name) => readFileSync(join(logDir, name), 'utf8').toLowerCase().includes(needle.toLowerCase()));
}
