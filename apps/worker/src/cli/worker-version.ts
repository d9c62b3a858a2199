import { buildInfo } from '@airlock/protocol';

/**
 * The worker's software version, as sent in Enroll and Hello: stamped into a bundle at
 * build time, the workspace package's version when running from sources.
 */
export function workerVersion(): string {
  return buildInfo().version;
}
