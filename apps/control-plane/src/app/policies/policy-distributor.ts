import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataAccess, type CurrentPolicy } from '@airlock/data-access';
import { signPolicyBundle } from '@airlock/envelope';
import type { SignedPolicyBundle__Output } from '@airlock/protocol';
import { CLOCK, type Clock } from '../common/clock';
import { WorkerSessionRegistry, type WorkerSessionHandle } from '../dispatch/worker-session.registry';
import { SigningKeyService } from '../signing/signing-key.service';
import { bundleLayersJson, layersForWorker, workerPools } from './policy-bundle.layers';

/**
 * How long a bundle may wait before a worker applies it. A worker keeps a bundle it applied
 * past this; the window only bounds how long a captured, unapplied bundle stays usable.
 */
export const POLICY_BUNDLE_TTL_MS = 15 * 60_000;

/**
 * Signs and sends each worker the bundle of its tenant's current policy revision: the
 * layers that apply to it, addressed to it, signed with the control plane's current key.
 *
 * Sends go only to the streams this process holds (WorkerSessionRegistry). A publish
 * reaches every replica through FleetCommands.pushPolicy, and each runs `pushCurrent` for
 * its own streams (NatsFleetCommands carries the signal over NATS); a worker that missed it
 * gets the bundle when it next connects, as its Hello names an older revision.
 */
@Injectable()
export class PolicyDistributor {
  private readonly logger = new Logger(PolicyDistributor.name);

  constructor(
    private readonly data: DataAccess,
    private readonly sessions: WorkerSessionRegistry,
    private readonly signingKeys: SigningKeyService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /**
   * Sends the tenant's current bundle to each of its workers connected here that holds an
   * older revision (as far as this stream knows), and returns how many it was sent to.
   * Pushes racing each other never send an older revision after a newer one: each send is
   * checked against the revision the stream last got.
   */
  async pushCurrent(tenantId: string): Promise<number> {
    if (this.sessions.sessionsOfTenant(tenantId).length === 0) return 0;
    const current = await this.data.policies.current(tenantId);
    // Listed after the read: a stream registered since then reads the same revision or a newer one on connect.
    const sessions = this.sessions.sessionsOfTenant(tenantId);
    let sent = 0;
    for (const session of sessions) if (this.sendIfNewer(session, current)) sent += 1;
    this.logger.log({ event: 'policy_bundles_pushed', tenantId, revision: current.revision, sent, connected: sessions.length });
    return sent;
  }

  /** Right after Welcome: the current bundle, when the worker's Hello named an older revision. */
  async sendOnConnect(session: WorkerSessionHandle): Promise<boolean> {
    const current = await this.data.policies.current(session.tenantId);
    const sent = this.sendIfNewer(session, current);
    if (sent) this.logger.log({ event: 'policy_bundle_sent_on_connect', workerId: session.workerId, revision: current.revision });
    return sent;
  }

  /** The signed bundle of `current` for one worker, valid for POLICY_BUNDLE_TTL_MS from now. */
  bundleFor(session: Pick<WorkerSessionHandle, 'workerId' | 'tenantId' | 'labels' | 'pool'>, current: CurrentPolicy): SignedPolicyBundle__Output {
    const issuedAtMs = this.clock.now().getTime();
    return signPolicyBundle(
      {
        tenantId: session.tenantId,
        audience: session.workerId,
        revision: current.revision,
        issuedAtMs,
        expiresAtMs: issuedAtMs + POLICY_BUNDLE_TTL_MS,
        layersJson: bundleLayersJson(layersForWorker(current.layers, workerPools(session))),
      },
      this.signingKeys.currentSigner(),
    );
  }

  private sendIfNewer(session: WorkerSessionHandle, current: CurrentPolicy): boolean {
    // Revision 0: nothing was ever published, so there is no bundle to send.
    if (current.revision === 0 || current.revision <= session.policyRevision) return false;
    let bundle: SignedPolicyBundle__Output;
    try {
      bundle = this.bundleFor(session, current);
    } catch (error) {
      // Publishing checks the largest bundle fits, so this is a bug; the other workers still get theirs.
      this.logger.error({ event: 'policy_bundle_not_signed', workerId: session.workerId, revision: current.revision, error: (error as Error).name });
      return false;
    }
    if (!session.send({ policyBundle: bundle })) return false;
    session.policyRevision = current.revision;
    return true;
  }
}
