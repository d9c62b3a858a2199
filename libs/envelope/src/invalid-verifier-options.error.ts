/**
 * Raised by the `InstructionVerifier` constructor when its options could never verify an
 * instruction correctly, so a misconfigured worker fails at boot rather than rejecting
 * every instruction later.
 */
export class InvalidVerifierOptionsError extends Error {
  override readonly name = 'InvalidVerifierOptionsError';
  readonly code = 'INVALID_VERIFIER_OPTIONS';
}
