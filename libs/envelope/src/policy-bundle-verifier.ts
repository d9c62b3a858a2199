import {
  FailureCode,
  decodePolicyBundlePayload,
  policyBundleSignedMessage,
  validateControlFrame,
  validatePolicyBundlePayload,
  validateWorkerFrame,
  type PolicyBundlePayload__Output,
  type SignedPolicyBundle__Output,
} from '@airlock/protocol';
import { SignedEnvelopeChecks, readQuietly, type SignedEnvelopeOptions } from './signed-envelope.checks';

/** What a `PolicyBundleVerifier` needs: the same local state as an `InstructionVerifier`, without nonces. */
export type PolicyBundleVerifierOptions = SignedEnvelopeOptions;

/** The failure codes `PolicyBundleVerifier.verify` can give (a subset of `FailureCode`). */
export type PolicyBundleFailureCode = (typeof FailureCode)[
  | 'POLICY_BUNDLE_MALFORMED'
  | 'POLICY_BUNDLE_UNKNOWN_KEY'
  | 'POLICY_BUNDLE_BAD_SIGNATURE'
  | 'POLICY_BUNDLE_WRONG_AUDIENCE'
  | 'POLICY_BUNDLE_WRONG_TENANT'
  | 'POLICY_BUNDLE_NOT_YET_VALID'
  | 'POLICY_BUNDLE_EXPIRED'
  | 'POLICY_BUNDLE_STALE'];

/**
 * The verdict on one bundle. On failure, `revision` is the revision the payload names when
 * it decoded to one a `PolicyAck` may carry (unauthenticated unless the signature checked
 * out: it only labels the refusal).
 */
export type PolicyBundleVerification =
  | { ok: true; payload: PolicyBundlePayload__Output }
  | { ok: false; failureCode: PolicyBundleFailureCode; revision?: number };

/**
 * Verifies signed policy bundles on the worker, in the order of docs/worker-protocol.md:
 * MALFORMED, UNKNOWN_KEY, BAD_SIGNATURE, WRONG_AUDIENCE, WRONG_TENANT, NOT_YET_VALID,
 * EXPIRED, STALE. The layers' JSON is parsed by the worker afterwards (`@airlock/policy`).
 */
export class PolicyBundleVerifier {
  private readonly checks: SignedEnvelopeChecks;

  /** @throws InvalidVerifierOptionsError when the options could never verify correctly. */
  constructor(options: PolicyBundleVerifierOptions) {
    this.checks = new SignedEnvelopeChecks(options);
  }

  /**
   * Checks a bundle the control plane pushed. `appliedRevision` is the revision in force
   * (0 for none): a bundle at or below it is a replay or an older version, STALE.
   */
  verify(bundle: SignedPolicyBundle__Output, appliedRevision: number): PolicyBundleVerification {
    return this.run(bundle, (payload) => {
      const failure = this.checks.validity(payload);
      if (failure !== undefined) return FailureCode[`POLICY_BUNDLE_${failure}`];
      return payload.revision <= appliedRevision ? FailureCode.POLICY_BUNDLE_STALE : undefined;
    });
  }

  /**
   * Checks a bundle this worker applied earlier and read back from its own disk: its key,
   * signature and addressee, but not its validity window. An applied bundle stays in force
   * past its expiry until a newer one replaces it, so a worker restarting offline keeps it
   * rather than falling back to a weaker policy.
   */
  verifyApplied(bundle: SignedPolicyBundle__Output): PolicyBundleVerification {
    return this.run(bundle, () => undefined);
  }

  private run(
    bundle: SignedPolicyBundle__Output,
    laterChecks: (payload: PolicyBundlePayload__Output) => PolicyBundleFailureCode | undefined,
  ): PolicyBundleVerification {
    const payload = Buffer.isBuffer(bundle.payload) ? readQuietly(() => decodePolicyBundlePayload(bundle.payload)) : undefined;
    const revision = payload === undefined ? undefined : reportableRevision(payload.revision);
    const reject = (failureCode: PolicyBundleFailureCode): PolicyBundleVerification =>
      revision === undefined ? { ok: false, failureCode } : { ok: false, failureCode, revision };

    if (payload === undefined || !isWellFormed(bundle, payload)) return reject(FailureCode.POLICY_BUNDLE_MALFORMED);
    // The payload is authenticated once the signature check passes.
    const failure = this.checks.signature(bundle.keyId, policyBundleSignedMessage(bundle.payload), bundle.signature) ?? this.checks.addressee(payload);
    if (failure !== undefined) return reject(FailureCode[`POLICY_BUNDLE_${failure}`]);
    const later = laterChecks(payload);
    return later === undefined ? { ok: true, payload } : reject(later);
  }
}

// The revision is reported only if the worker's outbound gate will let the refusal through.
function reportableRevision(revision: number): number | undefined {
  return readQuietly(() => {
    validateWorkerFrame({
      frame: 'policyAck',
      policyAck: { revision, status: 'POLICY_ACK_STATUS_REFUSED', failureCode: FailureCode.POLICY_BUNDLE_MALFORMED, narrowed: [] },
    });
    return revision;
  });
}

function isWellFormed(bundle: SignedPolicyBundle__Output, payload: PolicyBundlePayload__Output): boolean {
  return readQuietly(() => {
    validateControlFrame({ frame: 'policyBundle', policyBundle: bundle });
    validatePolicyBundlePayload(payload);
    return true;
  }) ?? false;
}
