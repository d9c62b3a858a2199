export { generateSigningKeyPair, signingKeyIdOf, rawPublicKeyFromPem, type SigningKeyPair } from './signing-key-pair';
export { signBytes, verifyBytes } from './ed25519-signature';
export { signInstruction, type InstructionSigningKey } from './instruction-signer';
export { signPolicyBundle } from './policy-bundle-signer';
export { signControlFrame, ControlFrameVerifier, type ControlFrameRefusal } from './control-frame-signature';
export {
  PolicyBundleVerifier,
  type PolicyBundleVerifierOptions,
  type PolicyBundleVerification,
  type PolicyBundleFailureCode,
} from './policy-bundle-verifier';
export type { SignedEnvelopeOptions } from './signed-envelope.checks';
export { helloSignature, verifyHelloSignature } from './hello-signature';
export { DEFAULT_MAX_NONCE_ENTRIES, type NonceStore, type NonceStoreOptions } from './nonce-store';
export { MemoryNonceStore } from './memory-nonce-store';
export { FileNonceStore, type FileNonceStoreOptions } from './file-nonce-store';
export {
  InstructionVerifier,
  type InstructionVerifierOptions,
  type VerificationOutcome,
  type VerificationFailureCode,
} from './instruction-verifier';
export { InvalidSigningKeyError } from './invalid-signing-key.error';
export { InvalidVerifierOptionsError } from './invalid-verifier-options.error';
export { NonceStoreCorruptError } from './nonce-store-corrupt.error';
