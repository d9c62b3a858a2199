import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The worker's software version, as sent in Enroll and Hello: the workspace package's
 * version, read at run time (a static import of a file outside the project would break
 * the Nx project boundary).
 */
export function workerVersion(): string {
  const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', '..', 'package.json'), 'utf8')) as { version?: unknown };
  if (typeof manifest.version !== 'string') throw new Error('package.json has no version');
  return manifest.version;
}
