import { isDeepStrictEqual } from 'node:util';
import type { EffectivePolicy } from '@airlock/policy';
import type { WorkerFrame__Output } from '@airlock/protocol';
import type { ForgeConfig, RepositoryConfig } from '../../config/worker-config.loader';
import { sleep, type DaemonClock } from '../../daemon/daemon.clock';
import type { Logger } from '../../logging/json-logger';
import type { ClosableForgeClient } from '../forge/forge-client';
import { computeOutcome, outcomeAtLevel, revertSearchOf, type WatchLimits } from './delivery-outcome';
import type { DeliveryWatch, DeliveryWatchStore } from './delivery-watch.store';
import type { RevertFinder } from './revert-finder';

/** `delivery.watch` of the config, in milliseconds. */
export interface DeliveryWatchOptions extends WatchLimits {
  /** How often every watch that has not ended is polled. */
  readonly intervalMs: number;
}

/** The daemon's stream, as the watcher sends on it: through the outbound gate, only while welcomed. */
export interface OutcomeChannel {
  readonly connected: boolean;
  /** False when the frame was not sent (refused, not recorded in the egress audit log, or no stream). */
  send(frame: WorkerFrame__Output): boolean;
}

export interface DeliveryWatcherDependencies {
  readonly store: DeliveryWatchStore;
  /** The catalog: a watch's alias is looked up here at each cycle, for its clone URL and forge. */
  readonly repositories: readonly RepositoryConfig[];
  /** A fresh client per repository and cycle: its retry budget is that cycle's, and it reads the token anew. */
  readonly forgeClientFor: (forge: ForgeConfig) => ClosableForgeClient;
  readonly reverts: Pick<RevertFinder, 'reverted'>;
  /** The metadata level in force for a repository now: local policy, lowered by the central bundle. */
  readonly metadataFor: (repoAlias: string) => EffectivePolicy['metadata'];
  readonly options: DeliveryWatchOptions;
  /** Wall-clock time (compared with the forge's timestamps) and the timer between cycles. */
  readonly clock: DaemonClock;
  readonly logger: Logger;
}

/**
 * Watches what became of each delivered merge request and tells the control plane, in
 * counts and states only (DeliveryOutcome). Every `intervalMs` it polls each watch that has
 * not ended: the forge for the request's activity, the worker's mirror for a revert after
 * a merge; it keeps the outcome locally and sends it, at the metadata level in force, when
 * connected and when it differs from the one last sent. A forge or git failure skips that
 * watch for the cycle, logged here only. A final outcome, once sent, ends the watch.
 *
 * The stream has no acknowledgement for these frames, so after each Welcome the latest
 * outcome of every watch whose last send may not have arrived goes again, and any outcome
 * computed while disconnected goes then too: the control plane upserts by delivery job.
 */
export class DeliveryWatcher {
  private channel: OutcomeChannel | undefined;

  constructor(private readonly deps: DeliveryWatcherDependencies) {}

  /** Polls every interval until `signal` fires, sending on `channel`. */
  async run(channel: OutcomeChannel, signal: AbortSignal): Promise<void> {
    this.attach(channel);
    while (!signal.aborted) {
      try {
        await this.pollOnce(signal);
      } catch (error) {
        // The watch folder could not be read or written (a full disk): the next cycle tries again.
        this.deps.logger.warn('delivery-watch-cycle-failed', { error: error as Error });
      }
      await sleep(this.deps.clock, this.deps.options.intervalMs, signal);
    }
  }

  /** Sends on `channel` from now on: what `run` starts with, and what a caller that drives the cycles itself (`pollOnce`) calls. */
  attach(channel: OutcomeChannel): void {
    this.channel = channel;
  }

  /** One cycle: prunes what ended long ago, then polls each watch that has not ended, repository by repository. */
  async pollOnce(signal: AbortSignal): Promise<void> {
    const open: DeliveryWatch[] = [];
    for (const watch of this.deps.store.all()) {
      if (!watch.final) open.push(watch);
      else if (watch.sentAt !== null && this.deps.clock.now() >= watch.sentAt + this.deps.options.maxAgeMs) this.deps.store.remove(watch.deliveryJobId);
    }
    const byRepository = new Map<string, DeliveryWatch[]>();
    for (const watch of open) byRepository.set(watch.repoAlias, [...(byRepository.get(watch.repoAlias) ?? []), watch]);
    for (const [alias, watches] of byRepository) {
      if (signal.aborted) return;
      await this.pollRepository(alias, watches, signal);
    }
  }

  /** After a Welcome: sends what may not have arrived, and what changed while disconnected. */
  welcomed(): void {
    try {
      for (const watch of this.deps.store.all()) this.offer(watch.deliveryJobId, 'welcome');
    } catch (error) {
      // A watch file that cannot be read or written now is tried again at the next cycle; the stream is not the watcher's to fail.
      this.deps.logger.warn('delivery-watch-resend-failed', { error: error as Error });
    }
  }

  private async pollRepository(alias: string, watches: readonly DeliveryWatch[], signal: AbortSignal): Promise<void> {
    const repo = this.deps.repositories.find((candidate) => candidate.alias === alias);
    const polled = watches.filter((watch) => watch.latest?.final !== true);
    // A watch whose final outcome was computed but not yet sent needs no forge, only a stream.
    for (const watch of watches) if (watch.latest?.final === true) this.offer(watch.deliveryJobId, 'poll');
    if (polled.length === 0) return;
    if (repo?.forge === undefined) {
      this.deps.logger.warn('delivery-watch-skipped', { repoAlias: alias, reason: repo === undefined ? 'repository no longer in the catalog' : 'repository has no forge' });
      for (const watch of polled) this.giveUpIfTooOld(watch);
      return;
    }
    const client = this.deps.forgeClientFor(repo.forge);
    try {
      let botUser: string;
      try {
        botUser = await client.currentUser(signal);
      } catch (error) {
        this.deps.logger.warn('delivery-watch-skipped', { repoAlias: alias, reason: 'forge user unknown', error: error as Error });
        for (const watch of polled) this.giveUpIfTooOld(watch);
        return;
      }
      for (const watch of polled) {
        if (signal.aborted) return;
        await this.poll(repo, client, botUser, watch, signal);
      }
    } finally {
      await client.close().catch((error: unknown) => this.deps.logger.warn('forge-client-close-failed', { error: error as Error }));
    }
  }

  /** Computes one watch's outcome now and offers it; a failure skips it for this cycle. */
  private async poll(repo: RepositoryConfig, client: ClosableForgeClient, botUser: string, watch: DeliveryWatch, signal: AbortSignal): Promise<void> {
    const { options, clock } = this.deps;
    try {
      const activity = await client.activity(watch.number, signal);
      const search = revertSearchOf(activity, options);
      const reverted = search === undefined ? false : await this.deps.reverts.reverted(repo, search, signal);
      const latest = computeOutcome({ activity, botUser, reverted, now: clock.now(), registeredAt: watch.registeredAt, limits: options });
      this.deps.store.update(watch.deliveryJobId, (current) => ({ ...current, latest }));
      this.offer(watch.deliveryJobId, 'poll');
    } catch (error) {
      if (signal.aborted) return;
      // Local only: the forge's or git's words may name the host, the project or the request.
      this.deps.logger.warn('delivery-watch-poll-failed', { deliveryJobId: watch.deliveryJobId, repoAlias: repo.alias, error: error as Error });
      this.giveUpIfTooOld(watch);
    }
  }

  /**
   * Sends the watch's latest outcome at the level in force, if it differs from the one last
   * sent or (after a Welcome) the last send may not have arrived. A send the gate did not
   * take changes nothing: the next cycle or Welcome tries again.
   */
  private offer(deliveryJobId: string, moment: 'poll' | 'welcome'): void {
    const watch = this.deps.store.get(deliveryJobId);
    if (watch === undefined || watch.latest === null || (watch.final && !(moment === 'welcome' && watch.resend))) return;
    const outcome = outcomeAtLevel(deliveryJobId, watch.latest, this.deps.metadataFor(watch.repoAlias));
    const changed = !isDeepStrictEqual(outcome, watch.sent);
    if (!changed && !(moment === 'welcome' && watch.resend)) return;
    if (this.channel?.connected !== true) return;
    if (!this.channel.send({ frame: 'deliveryOutcome', deliveryOutcome: outcome })) return;
    // A send right after a Welcome is as sure as the stream can make it; any other goes once more after the next one.
    this.deps.store.put({ ...watch, sent: outcome, sentAt: this.deps.clock.now(), resend: moment === 'poll', final: outcome.final });
    this.deps.logger.info('delivery-outcome-sent', { deliveryJobId, state: outcome.state, final: outcome.final, metadataLevel: outcome.metadataLevel });
  }

  /**
   * A watch the forge has not answered for past the longest it could last (its age limit,
   * then a revert window) is given up: ended here, with nothing more sent.
   */
  private giveUpIfTooOld(watch: DeliveryWatch): void {
    const { maxAgeMs, revertWindowMs } = this.deps.options;
    if (this.deps.clock.now() < watch.registeredAt + maxAgeMs + revertWindowMs) return;
    this.deps.store.update(watch.deliveryJobId, (current) => ({ ...current, final: true, sentAt: current.sentAt ?? this.deps.clock.now() }));
    this.deps.logger.warn('delivery-watch-given-up', { deliveryJobId: watch.deliveryJobId, repoAlias: watch.repoAlias });
  }
}
