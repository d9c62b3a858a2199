import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  DataAccess,
  type AuditActor,
  type CurrentPolicy,
  type PolicyDecisionView,
  type PolicyDetail,
  type PolicyLayerRef,
  type PolicyRevisionView,
  type PolicySlot,
  type PolicySummary,
  type PolicyVersionDetail,
  type PublishedLayer,
  type WorkerPolicyState,
} from '@airlock/data-access';
import { CLOCK, type Clock } from '../common/clock';
import { FLEET_COMMANDS, type FleetCommands } from '../fleet/fleet-commands';
import type { PolicySlotDto } from './dto/publish-policy.dto';
import { PolicyBundleTooLargeError } from './policy-bundle-too-large.error';
import { bundleLayersJson, bundleLayersProblem, largestBundleLayers } from './policy-bundle.layers';
import { diffPolicyDocuments, type PolicyChange } from './policy-diff';
import { validatedPolicyDocument } from './policy-document.input';
import { PolicyLayerNotFoundError } from './policy-layer-not-found.error';
import { PolicyNameTakenError } from './policy-name-taken.error';
import { PolicyNotFoundError } from './policy-not-found.error';
import { PolicyRevisionNotFoundError } from './policy-revision-not-found.error';
import { PolicyVersionNotFoundError } from './policy-version-not-found.error';

/**
 * A publish or withdraw: the revision it made and how many connected workers this replica
 * sent its bundle to. With several replicas each pushes to the workers it holds; the others'
 * sends are not counted.
 */
export interface RevisionOutcome {
  readonly revision: number;
  readonly sentToConnectedWorkers: number;
}

/** Where each worker of the tenant stands against one revision. */
export interface Rollout {
  readonly revision: number;
  readonly workers: readonly (WorkerPolicyState & { readonly upToDate: boolean })[];
}

const SLOT_SCOPES = { tenant: 'TENANT', pool: 'POOL', repository: 'REPOSITORY' } as const;
const SLOT_MODES = { enforce: 'ENFORCE', shadow: 'SHADOW' } as const;

/**
 * Central policy for the admins of a tenant: policies and their immutable versions, what is
 * published where, the tenant's revisions and the workers' rollout. Every call is scoped to
 * the caller's tenant; every change is audited in its own transaction (libs/data-access)
 * and, once committed, pushed to the tenant's connected workers.
 */
@Injectable()
export class PoliciesService {
  private readonly logger = new Logger(PoliciesService.name);

  constructor(
    private readonly data: DataAccess,
    @Inject(FLEET_COMMANDS) private readonly fleet: FleetCommands,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async create(tenantId: string, actor: AuditActor, name: string, document: Record<string, unknown>): Promise<PolicyDetail> {
    const outcome = await this.data.policies.create({ tenantId, name, document: validatedPolicyDocument(document), actor, now: this.clock.now() });
    if (outcome.kind === 'NAME_TAKEN') throw new PolicyNameTakenError();
    this.logger.log({ event: 'policy_created', tenantId, policyId: outcome.policy.id, actorKind: actor.kind, actorId: actor.id });
    return outcome.policy;
  }

  async addVersion(tenantId: string, actor: AuditActor, policyId: string, document: Record<string, unknown>, comment: string | undefined): Promise<PolicyVersionDetail> {
    const outcome = await this.data.policies.addVersion({
      tenantId,
      policyId,
      document: validatedPolicyDocument(document),
      comment: comment ?? null,
      actor,
      now: this.clock.now(),
    });
    if (outcome.kind === 'POLICY_NOT_FOUND') throw new PolicyNotFoundError(policyId);
    this.logger.log({ event: 'policy_version_created', tenantId, policyId, version: outcome.version.number, actorKind: actor.kind, actorId: actor.id });
    return outcome.version;
  }

  list(tenantId: string): Promise<PolicySummary[]> {
    return this.data.policies.list(tenantId);
  }

  async get(tenantId: string, policyId: string): Promise<PolicyDetail> {
    const policy = await this.data.policies.find(tenantId, policyId);
    if (!policy) throw new PolicyNotFoundError(policyId);
    return policy;
  }

  async getVersion(tenantId: string, policyId: string, number: number): Promise<PolicyVersionDetail> {
    const version = await this.data.policies.findVersion(tenantId, policyId, number);
    if (!version) throw await this.versionNotFound(tenantId, policyId, number);
    return version;
  }

  /** What changed from version `from` to version `to` (either may be the older). */
  async diff(tenantId: string, policyId: string, from: number, to: number): Promise<PolicyChange[]> {
    const [before, after] = await Promise.all([this.getVersion(tenantId, policyId, from), this.getVersion(tenantId, policyId, to)]);
    return diffPolicyDocuments(before.document, after.document);
  }

  /**
   * Puts a version in force at a slot as the tenant's next revision, refusing (422, nothing
   * changed) when the largest bundle a worker could then receive would not fit on the wire;
   * then sends the new bundle to the tenant's connected workers.
   */
  async publish(tenantId: string, actor: AuditActor, policyId: string, version: number, slotRequest: PolicySlotDto): Promise<RevisionOutcome & { layer: PublishedLayer }> {
    const outcome = await this.data.policies.publish({
      tenantId,
      policyId,
      version,
      slot: slotOf(slotRequest),
      actor,
      now: this.clock.now(),
      check: assertEveryBundleFits,
    });
    if (outcome.kind === 'VERSION_NOT_FOUND') throw await this.versionNotFound(tenantId, policyId, version);
    this.logger.log({ event: 'policy_published', tenantId, policyId, version, revision: outcome.revision, actorKind: actor.kind, actorId: actor.id });
    return { revision: outcome.revision, layer: outcome.layer, sentToConnectedWorkers: await this.push(tenantId) };
  }

  /** Takes the layer at a slot out of force as the tenant's next revision, and sends the new bundle. */
  async withdraw(tenantId: string, actor: AuditActor, slotRequest: PolicySlotDto): Promise<RevisionOutcome & { withdrawn: PolicyLayerRef }> {
    const slot = slotOf(slotRequest);
    const outcome = await this.data.policies.withdraw({ tenantId, slot, actor, now: this.clock.now() });
    if (outcome.kind === 'LAYER_NOT_FOUND') throw new PolicyLayerNotFoundError(`${slotRequest.scope}${slot.key ? ` ${slot.key}` : ''} (${slotRequest.mode})`);
    this.logger.log({ event: 'policy_withdrawn', tenantId, revision: outcome.revision, actorKind: actor.kind, actorId: actor.id });
    return { revision: outcome.revision, withdrawn: outcome.withdrawn, sentToConnectedWorkers: await this.push(tenantId) };
  }

  current(tenantId: string): Promise<CurrentPolicy> {
    return this.data.policies.current(tenantId);
  }

  async revision(tenantId: string, revision: number): Promise<PolicyRevisionView> {
    const found = await this.data.policies.findRevision(tenantId, revision);
    if (!found) throw new PolicyRevisionNotFoundError(revision, await this.data.policies.currentRevision(tenantId));
    return found;
  }

  /** Every worker of the tenant against `revision` (the current one when absent). */
  async rollout(tenantId: string, revision: number | undefined): Promise<Rollout> {
    const current = await this.data.policies.currentRevision(tenantId);
    if (revision !== undefined && revision > current) throw new PolicyRevisionNotFoundError(revision, current);
    const target = revision ?? current;
    const workers = await this.data.workers.listPolicyStates(tenantId);
    return { revision: target, workers: workers.map((worker) => ({ ...worker, upToDate: worker.appliedRevision >= target })) };
  }

  decisions(tenantId: string, filter: { jobId?: string; rule?: string; limit: number }): Promise<PolicyDecisionView[]> {
    return this.data.policies.listDecisions(tenantId, filter);
  }

  /**
   * Has every replica push the new bundle to the tenant's workers it holds. The change is
   * committed whatever happens here: a worker that misses the push gets the bundle when it
   * next connects, so a failure is logged, not answered as an error.
   */
  private async push(tenantId: string): Promise<number> {
    try {
      return await this.fleet.pushPolicy(tenantId);
    } catch (error) {
      this.logger.error({ event: 'policy_push_failed', tenantId, error: (error as Error).name });
      return 0;
    }
  }

  private async versionNotFound(tenantId: string, policyId: string, number: number): Promise<Error> {
    return (await this.data.policies.find(tenantId, policyId)) ? new PolicyVersionNotFoundError(policyId, number) : new PolicyNotFoundError(policyId);
  }
}

function slotOf(request: PolicySlotDto): PolicySlot {
  return { scope: SLOT_SCOPES[request.scope], key: request.scope === 'tenant' ? '' : (request.key ?? ''), mode: SLOT_MODES[request.mode] };
}

/** Refuses a publish after which some worker's bundle would be too large for the wire. */
function assertEveryBundleFits(layers: readonly PublishedLayer[]): void {
  const problem = bundleLayersProblem(bundleLayersJson(largestBundleLayers(layers)));
  if (problem) throw new PolicyBundleTooLargeError(problem);
}
