import type { PolicyBundleFailureCode, PolicyBundleVerifier } from '@airlock/envelope';
import { FailureCode, PolicyAckStatus, type PolicyAck__Output, type SignedPolicyBundle__Output } from '@airlock/protocol';
import type { Logger } from '../logging/json-logger';
import { appliedBundleOf, parseLayersJson, type CentralPolicyStore } from './central-policy.store';
import { wireRulesOf, type WorkerPolicy } from './worker-policy';

/** Every way a bundle is refused: the verifier's codes, and layers that do not pass the policy schema. */
type PolicyBundleRefusalCode = PolicyBundleFailureCode | typeof FailureCode.POLICY_BUNDLE_INVALID;

/** Everything the handler is built from. */
export interface PolicyBundleHandlerDependencies {
  /** Trusts the same pinned keys as the instruction verifier. */
  readonly verifier: Pick<PolicyBundleVerifier, 'verify'>;
  readonly store: Pick<CentralPolicyStore, 'revision' | 'replace'>;
  readonly policy: Pick<WorkerPolicy, 'narrowedBy'>;
  readonly logger: Logger;
}

/**
 * What the worker does with a policy bundle the control plane pushes: verify it (key,
 * signature, audience, tenant, validity window, a revision above the one in force), parse
 * its layers, store it durably and put it in force, then answer with the PolicyAck to
 * send: APPLIED with the rules local policy keeps stricter, or REFUSED with the code, the
 * revision in force unchanged. Bundles are handled one at a time, in the order they
 * arrive; jobs already admitted keep the policy they were admitted under.
 */
export class PolicyBundleHandler {
  constructor(private readonly deps: PolicyBundleHandlerDependencies) {}

  /** The revision in force (0: none). */
  get revision(): number {
    return this.deps.store.revision;
  }

  /**
   * Applies or refuses one bundle. Returns the acknowledgement to send, or undefined when
   * the bundle could not be stored (a full disk): then nothing changed, nothing is
   * acknowledged, and the next Hello shows the control plane the revision still in force.
   */
  receive(bundle: SignedPolicyBundle__Output): PolicyAck__Output | undefined {
    const { verifier, store, policy, logger } = this.deps;
    const verified = verifier.verify(bundle, store.revision);
    if (!verified.ok) return this.refuse(verified.failureCode, verified.revision ?? 0);
    const { payload } = verified;
    const layers = parseLayersJson(payload.layersJson);
    if (!layers.ok) {
      // Paths and what was expected there, never the values: the bundle came from the control plane, but the log is local and kept.
      logger.warn('policy-bundle-invalid', { revision: payload.revision, errors: layers.errors.slice(0, 20) });
      return this.refuse(FailureCode.POLICY_BUNDLE_INVALID, payload.revision);
    }
    try {
      store.replace(bundle, appliedBundleOf(payload, bundle.keyId, layers.layers));
    } catch (error) {
      logger.error('policy-bundle-not-stored', { revision: payload.revision, inForce: store.revision, error: error as Error });
      return undefined;
    }
    const narrowed = policy.narrowedBy(layers.layers);
    logger.info('policy-bundle-applied', { revision: payload.revision, layers: layers.layers.layers.length, narrowed, expiresAt: new Date(payload.expiresAtMs).toISOString() });
    return { revision: payload.revision, status: PolicyAckStatus.POLICY_ACK_STATUS_APPLIED, failureCode: FailureCode.FAILURE_CODE_UNSPECIFIED, narrowed: wireRulesOf(narrowed) };
  }

  /** A policy bundle frame that failed validation before it could be read. */
  refuseMalformed(): PolicyAck__Output {
    return this.refuse(FailureCode.POLICY_BUNDLE_MALFORMED, 0);
  }

  private refuse(failureCode: PolicyBundleRefusalCode, revision: number): PolicyAck__Output {
    this.deps.logger.warn('policy-bundle-refused', { revision, failureCode, inForce: this.deps.store.revision });
    return { revision, status: PolicyAckStatus.POLICY_ACK_STATUS_REFUSED, failureCode, narrowed: [] };
  }
}
