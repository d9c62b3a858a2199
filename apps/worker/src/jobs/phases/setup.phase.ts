import { join } from 'node:path';
import { FailureCode, Phase } from '@airlock/protocol';
import type { JobContext } from '../pipeline/job-context';
import type { JobPhase } from '../pipeline/phase';
import type { DependencyCache } from '../setup/dependency-cache';
import type { SetupRunner } from '../setup/setup.runner';

/**
 * SETUP: installs the repository's dependencies before anything runs its tests. The setup
 * is the worker catalog's (`repositories[].setup`) when it has one, else `.airlock.yml`'s;
 * with neither the phase has nothing to do. With `cacheKey` and `cachePaths` the
 * dependency cache is asked first: a hit restores the cached result into the worktree and
 * no command runs; a miss runs the commands (SetupRunner: in the sandbox, network only to
 * the mirrors) and stores what they produced. Output goes to
 * `<stateDir>/job-logs/<jobKey>.setup.log` only.
 *
 * Fails SETUP_FAILED, SETUP_TIMED_OUT, or SANDBOX_CPU_LIMIT / _MEMORY_LIMIT / _PROCESS_LIMIT /
 * _DISK_LIMIT for a command that ran past `sandbox.limits`; a broken cache never fails the
 * job (setup runs instead), and anything else is the worker's fault (INTERNAL).
 */
export class SetupPhase implements JobPhase {
  readonly name = Phase.PHASE_SETUP;
  // Reached only when the worker itself breaks (no egress socket, no sandbox): not the repository's setup.
  readonly defaultFailure = FailureCode.INTERNAL;

  constructor(
    private readonly setups: Pick<SetupRunner, 'run'>,
    private readonly cache: Pick<DependencyCache, 'keyFor' | 'restore' | 'store'>,
    private readonly config: { readonly stateDir: string },
  ) {}

  async run(ctx: JobContext): Promise<void> {
    const setup = ctx.request.repo.setup ?? ctx.need('repoConfig').setup;
    if (setup === undefined) return;
    const { worktree } = ctx.need('workspace');
    const { signal } = ctx;
    let key: string | undefined;
    if (setup.cacheKey.length > 0 && setup.cachePaths.length > 0) {
      try {
        key = await this.cache.keyFor(ctx.request.repo.alias, setup, worktree);
      } catch (error) {
        ctx.logger.warn('setup-cache-unusable', { error: error instanceof Error ? error : String(error) });
      }
    } else {
      ctx.logger.info('setup-cache', { result: 'off', reason: 'setup names no cacheKey or no cachePaths' });
    }
    if (key !== undefined && (await this.cache.restore(key, worktree, setup.cachePaths, ctx.logger, signal))) return;
    await this.setups.run({ setup, worktree, logFile: join(this.config.stateDir, 'job-logs', `${ctx.jobKey}.setup.log`), signal, logger: ctx.logger });
    if (key !== undefined) await this.cache.store(key, worktree, setup.cachePaths, ctx.logger, signal);
  }
}
