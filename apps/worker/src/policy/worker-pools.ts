/**
 * The pools a worker belongs to: the labels of its config, then the pool its enrollment
 * token named when they do not list it already. Pool layers of a central bundle apply by
 * these, and Hello.labels carries them, so the control plane and the worker agree on them.
 * The config holds at most one label fewer than Hello allows (MAX_WORKER_LABELS), so the
 * enrolled pool always fits.
 */
export function workerPools(configLabels: readonly string[], enrolledPool: string | null): string[] {
  return enrolledPool === null || configLabels.includes(enrolledPool) ? [...configLabels] : [...configLabels, enrolledPool];
}
