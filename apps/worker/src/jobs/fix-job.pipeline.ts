/**
 * @deprecated Transitional, for `daemon/worker.daemon.ts` only, which another change is
 * splitting: import from `./pipeline/fix-job.pipeline` instead. Delete this file in the
 * same commit that moves the daemon's import.
 */
export { ABORT_REASON, type ProgressListener } from './pipeline/fix-job.pipeline';
