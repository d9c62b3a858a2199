/**
 * Raised by the `InstructionVerifier` and `PolicyBundleVerifier` constructors when their
 * options could never verify correctly, so a misconfigured worker fails at boot rather than
 * rejecting every instruction or bundle later.
 */
export class InvalidVerifierOptionsError extends Error {
  override readonly name = 'InvalidVerifierOptionsError';
  readonly code = 'INVALID_VERIFIER_OPTIONS';
}
