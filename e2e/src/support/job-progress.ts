import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ControlPlaneApiClient, JobView } from '@airlock/local-stack';

/** Polls until the control plane has recorded that the job's current attempt entered `phase`. */
export async function waitForPhaseStarted(api: ControlPlaneApiClient, jobId: string, phase: string, timeoutMs = 60_000): Promise<JobView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await api.job(jobId);
    if (job.events.some((e) => e.type === 'PHASE_STARTED' && e.phase === phase && e.attempt === job.currentAttempt)) return job;
    if (Date.now() > deadline) throw new Error(`job ${jobId} never reached ${phase}: ${job.status}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Polls `check` every 100 ms until it returns true; throws `what` after `timeoutMs`. */
export async function eventually(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Process ids of the live processes on this host whose command line holds `marker` as an argument. */
export function processesWithArgument(marker: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(join('/proc', entry, 'cmdline'), 'utf8').split('\0');
      if (argv.includes(marker)) pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

/** The worker id a worker's state directory holds after `enroll`. */
export function workerIdIn(stateDir: string): string {
  return (JSON.parse(readFileSync(join(stateDir, 'identity.json'), 'utf8')) as { workerId: string }).workerId;
}
