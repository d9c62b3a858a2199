import type { JobPipelines } from './job.runner';

/**
 * Pipelines built on the first job that needs one: their modules (the context engine's
 * tree-sitter, the edit parser, setup, delivery, trackers) are loaded then, not when the
 * daemon starts, so an idle worker does not hold them. `load` runs once; a load that fails
 * fails that job and is tried again for the next.
 */
export function lazyJobPipelines(load: () => Promise<JobPipelines>): JobPipelines {
  let loading: Promise<JobPipelines> | undefined;
  const pipelines = (): Promise<JobPipelines> => {
    loading ??= load().catch((error: unknown) => {
      loading = undefined;
      throw error;
    });
    return loading;
  };
  return {
    fix: { run: async (job) => (await pipelines()).fix.run(job) },
    review: { run: async (job) => (await pipelines()).review.run(job) },
    index: { run: async (job) => (await pipelines()).index.run(job) },
  };
}
