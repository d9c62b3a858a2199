import { randomBytes, randomUUID } from 'node:crypto';
import {
  FailureCode,
  encodeInstructionPayload,
  encodePolicyBundlePayload,
  policyBundleSignedMessage,
  type PolicyBundlePayload,
  type SignedPolicyBundle__Output,
} from '@airlock/protocol';
import { signBytes } from './ed25519-signature';
import { signInstruction } from './instruction-signer';
import { InstructionVerifier } from './instruction-verifier';
import { InvalidVerifierOptionsError } from './invalid-verifier-options.error';
import { MemoryNonceStore } from './memory-nonce-store';
import { signPolicyBundle } from './policy-bundle-signer';
import { PolicyBundleVerifier, type PolicyBundleVerifierOptions } from './policy-bundle-verifier';
import { generateSigningKeyPair } from './signing-key-pair';

const NOW_MS = 1_700_000_000_000;
const SKEW_MS = 30_000;
const WINDOW_MS = 7 * 24 * 3_600_000;

describe('PolicyBundleVerifier', () => {
  const signer = generateSigningKeyPair();
  const workerId = randomUUID();
  const tenantId = randomUUID();
  let nowMs: number;
  let verifier: PolicyBundleVerifier;

  const options = (overrides: Partial<PolicyBundleVerifierOptions> = {}): PolicyBundleVerifierOptions => ({
    trustedKeys: new Map([[signer.keyId, signer.publicKey]]),
    workerId,
    tenantId,
    clock: () => nowMs,
    maxClockSkewMs: SKEW_MS,
    maxValidityWindowMs: WINDOW_MS,
    ...overrides,
  });

  const payload = (overrides: Partial<PolicyBundlePayload> = {}): PolicyBundlePayload => ({
    tenantId,
    audience: workerId,
    revision: 5,
    issuedAtMs: NOW_MS,
    expiresAtMs: NOW_MS + 3_600_000,
    layersJson: '{"layers":[]}',
    ...overrides,
  });

  const signed = (overrides: Partial<PolicyBundlePayload> = {}): SignedPolicyBundle__Output => signPolicyBundle(payload(overrides), signer);
  const refusal = (failureCode: string, revision = 5) => ({ ok: false, failureCode, revision });

  beforeEach(() => {
    nowMs = NOW_MS;
    verifier = new PolicyBundleVerifier(options());
  });

  it('accepts a genuine bundle newer than the one in force and returns its payload', () => {
    expect(verifier.verify(signed(), 4)).toEqual({ ok: true, payload: { ...payload(), layersJson: '{"layers":[]}' } });
    expect(verifier.verify(signed({ revision: 1 }), 0).ok).toBe(true);
  });

  it('refuses the revision in force (a replay) and an older one as STALE', () => {
    const bundle = signed();
    expect(verifier.verify(bundle, 4).ok).toBe(true);
    expect(verifier.verify(bundle, 5)).toEqual(refusal(FailureCode.POLICY_BUNDLE_STALE));
    expect(verifier.verify(bundle, 9)).toEqual(refusal(FailureCode.POLICY_BUNDLE_STALE));
  });

  it('refuses bytes that are not a payload as MALFORMED, without a revision', () => {
    const bundle = { payload: Buffer.from([0xff, 0xff, 0xff]), signature: Buffer.alloc(64), keyId: signer.keyId };
    expect(verifier.verify(bundle, 0)).toEqual({ ok: false, failureCode: FailureCode.POLICY_BUNDLE_MALFORMED });
  });

  it('refuses a malformed envelope around a decodable payload as MALFORMED, naming the revision', () => {
    const bundle = signed();
    expect(verifier.verify({ ...bundle, signature: bundle.signature.subarray(0, 10) }, 0)).toEqual(refusal(FailureCode.POLICY_BUNDLE_MALFORMED));
    expect(verifier.verify({ ...bundle, keyId: 'signer' }, 0)).toEqual(refusal(FailureCode.POLICY_BUNDLE_MALFORMED));
  });

  it('refuses a decodable but ill-formed payload as MALFORMED, even when correctly signed', () => {
    const bytes = encodePolicyBundlePayload(payload({ audience: 'worker-1' }));
    const bundle = { payload: bytes, signature: signBytes(signer.privateKeyPem, policyBundleSignedMessage(bytes)), keyId: signer.keyId };
    expect(verifier.verify(bundle, 0)).toEqual(refusal(FailureCode.POLICY_BUNDLE_MALFORMED));
  });

  it('omits a revision no acknowledgement could carry', () => {
    const bytes = encodePolicyBundlePayload(payload({ revision: 2 ** 31 }));
    const bundle = { payload: bytes, signature: signBytes(signer.privateKeyPem, policyBundleSignedMessage(bytes)), keyId: signer.keyId };
    expect(verifier.verify(bundle, 0)).toEqual({ ok: false, failureCode: FailureCode.POLICY_BUNDLE_MALFORMED });
  });

  it('refuses a key id that is not pinned', () => {
    expect(verifier.verify(signPolicyBundle(payload(), generateSigningKeyPair()), 0)).toEqual(refusal(FailureCode.POLICY_BUNDLE_UNKNOWN_KEY));
  });

  it('refuses a tampered payload byte', () => {
    const bundle = signed({ layersJson: '{"layers":[ ]}' });
    const tampered = Buffer.from(bundle.payload);
    // The last bytes are the layers' JSON: changing one keeps the payload decodable.
    tampered[tampered.length - 2] = (tampered[tampered.length - 2] ?? 0) ^ 0x01;
    expect(verifier.verify({ ...bundle, payload: tampered }, 0)).toEqual(refusal(FailureCode.POLICY_BUNDLE_BAD_SIGNATURE));
  });

  it('refuses a tampered signature, and one made by another key under a pinned key id', () => {
    const bundle = signed();
    const tampered = Buffer.from(bundle.signature);
    tampered[5] = (tampered[5] ?? 0) ^ 0x80;
    expect(verifier.verify({ ...bundle, signature: tampered }, 0)).toEqual(refusal(FailureCode.POLICY_BUNDLE_BAD_SIGNATURE));
    const forged = signBytes(generateSigningKeyPair().privateKeyPem, policyBundleSignedMessage(bundle.payload));
    expect(verifier.verify({ ...bundle, signature: forged }, 0)).toEqual(refusal(FailureCode.POLICY_BUNDLE_BAD_SIGNATURE));
  });

  describe('domain separation', () => {
    it('refuses a signature over the bare payload bytes, as instructions are signed', () => {
      const bytes = encodePolicyBundlePayload(payload());
      const bundle = { payload: bytes, signature: signBytes(signer.privateKeyPem, bytes), keyId: signer.keyId };
      expect(verifier.verify(bundle, 0)).toEqual(refusal(FailureCode.POLICY_BUNDLE_BAD_SIGNATURE));
    });

    it('never lets a bundle signature pass as an instruction signature', () => {
      const instructions = new InstructionVerifier({ ...options(), maxValidityWindowMs: 3_600_000, nonceStore: new MemoryNonceStore(() => nowMs) });
      const instruction = signInstruction({ jobId: randomUUID(), attempt: 1, tenantId, audience: workerId, issuedAtMs: NOW_MS, expiresAtMs: NOW_MS + 60_000, nonce: randomBytes(16), policyRef: '', noop: {} }, signer);
      // The same key signs the instruction's bytes the way it signs a bundle.
      const bundleStyle = signBytes(signer.privateKeyPem, policyBundleSignedMessage(instruction.payload));
      expect(instructions.verify({ ...instruction, signature: bundleStyle })).toMatchObject({ ok: false, failureCode: FailureCode.INSTRUCTION_BAD_SIGNATURE });
      // A genuine bundle's envelope, offered as an instruction with its signed bytes as the payload.
      const bundle = signed();
      expect(instructions.verify({ payload: policyBundleSignedMessage(bundle.payload), signature: bundle.signature, keyId: bundle.keyId }).ok).toBe(false);
      expect(instructions.verify(instruction).ok).toBe(true);
    });

    it('never lets an instruction signature pass as a bundle signature', () => {
      const instructionBytes = encodeInstructionPayload({ jobId: randomUUID(), attempt: 1, tenantId, audience: workerId, issuedAtMs: NOW_MS, expiresAtMs: NOW_MS + 60_000, nonce: randomBytes(16), policyRef: '', noop: {} });
      const instruction = { payload: instructionBytes, signature: signBytes(signer.privateKeyPem, instructionBytes), keyId: signer.keyId };
      expect(verifier.verify(instruction, 0).ok).toBe(false);
      const bundleBytes = encodePolicyBundlePayload(payload());
      expect(verifier.verify({ payload: bundleBytes, signature: signBytes(signer.privateKeyPem, bundleBytes), keyId: signer.keyId }, 0)).toEqual(
        refusal(FailureCode.POLICY_BUNDLE_BAD_SIGNATURE),
      );
    });
  });

  it('refuses a bundle for another worker', () => {
    expect(verifier.verify(signed({ audience: randomUUID() }), 0)).toEqual(refusal(FailureCode.POLICY_BUNDLE_WRONG_AUDIENCE));
  });

  it('refuses a bundle for another tenant', () => {
    expect(verifier.verify(signed({ tenantId: randomUUID() }), 0)).toEqual(refusal(FailureCode.POLICY_BUNDLE_WRONG_TENANT));
  });

  it('refuses a bundle issued in the future beyond the skew, and accepts one within it', () => {
    expect(verifier.verify(signed({ issuedAtMs: NOW_MS + SKEW_MS + 1 }), 0)).toEqual(refusal(FailureCode.POLICY_BUNDLE_NOT_YET_VALID));
    expect(verifier.verify(signed({ issuedAtMs: NOW_MS + SKEW_MS }), 0).ok).toBe(true);
  });

  it('refuses an expired bundle once the skew has also passed, and a validity window longer than allowed', () => {
    const bundle = signed({ expiresAtMs: NOW_MS + 60_000 });
    nowMs = NOW_MS + 60_000 + SKEW_MS;
    expect(verifier.verify(bundle, 0)).toEqual(refusal(FailureCode.POLICY_BUNDLE_EXPIRED));
    nowMs -= 1;
    expect(verifier.verify(bundle, 0).ok).toBe(true);
    nowMs = NOW_MS;
    expect(verifier.verify(signed({ expiresAtMs: NOW_MS + WINDOW_MS + 1 }), 0)).toEqual(refusal(FailureCode.POLICY_BUNDLE_EXPIRED));
  });

  it('checks in the documented order: key, addressee, time, then revision', () => {
    expect(verifier.verify(signPolicyBundle(payload({ audience: randomUUID() }), generateSigningKeyPair()), 0)).toEqual(refusal(FailureCode.POLICY_BUNDLE_UNKNOWN_KEY));
    expect(verifier.verify(signed({ audience: randomUUID(), tenantId: randomUUID(), expiresAtMs: NOW_MS + WINDOW_MS * 2 }), 0)).toEqual(
      refusal(FailureCode.POLICY_BUNDLE_WRONG_AUDIENCE),
    );
    expect(verifier.verify(signed({ issuedAtMs: NOW_MS + 2 * SKEW_MS }), 9)).toEqual(refusal(FailureCode.POLICY_BUNDLE_NOT_YET_VALID));
  });

  it('keeps an applied bundle in force past its expiry, but not one that fails its signature or names another worker', () => {
    const bundle = signed({ expiresAtMs: NOW_MS + 60_000 });
    nowMs = NOW_MS + 30 * 24 * 3_600_000;
    expect(verifier.verify(bundle, 0)).toEqual(refusal(FailureCode.POLICY_BUNDLE_EXPIRED));
    expect(verifier.verifyApplied(bundle)).toEqual({ ok: true, payload: expect.objectContaining({ revision: 5 }) });
    const tampered = Buffer.from(bundle.signature);
    tampered[0] = (tampered[0] ?? 0) ^ 0x01;
    expect(verifier.verifyApplied({ ...bundle, signature: tampered })).toEqual(refusal(FailureCode.POLICY_BUNDLE_BAD_SIGNATURE));
    expect(new PolicyBundleVerifier(options({ workerId: randomUUID() })).verifyApplied(bundle)).toEqual(refusal(FailureCode.POLICY_BUNDLE_WRONG_AUDIENCE));
  });

  it('fails at construction on options that could never verify correctly', () => {
    expect(() => new PolicyBundleVerifier(options({ tenantId: 'tenant' }))).toThrow(InvalidVerifierOptionsError);
    expect(() => new PolicyBundleVerifier(options({ maxValidityWindowMs: 0 }))).toThrow(InvalidVerifierOptionsError);
    expect(() => new PolicyBundleVerifier(options({ trustedKeys: new Map([['sk_0000000000000000', signer.publicKey]]) }))).toThrow(/the key's id is sk_/);
  });
});
