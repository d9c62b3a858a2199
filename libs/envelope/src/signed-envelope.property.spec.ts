import { randomUUID } from 'node:crypto';
import * as fc from 'fast-check';
import {
  FailureCode,
  WIRE_LIMITS,
  decodeInstructionPayload,
  decodePolicyBundlePayload,
  type InstructionPayload,
  type PolicyBundlePayload,
  type SignedInstruction__Output,
  type SignedPolicyBundle__Output,
} from '@airlock/protocol';
import { signBytes } from './ed25519-signature';
import { signInstruction } from './instruction-signer';
import { InstructionVerifier, type VerificationOutcome } from './instruction-verifier';
import { MemoryNonceStore } from './memory-nonce-store';
import { signPolicyBundle } from './policy-bundle-signer';
import { PolicyBundleVerifier, type PolicyBundleVerification } from './policy-bundle-verifier';
import { generateSigningKeyPair } from './signing-key-pair';

// Property tests of the two verifiers of control-plane-signed envelopes. A genuine envelope
// addressed to this worker is accepted; anything else (a flipped bit, another key, a cut or
// padded payload, random bytes, objects of the wrong shape) is refused with one of the
// verifier's own failure codes, and `verify` never throws.

const NOW_MS = 1_700_000_000_000;
const SKEW_MS = 30_000;
const WINDOW_MS = 3_600_000;

const trusted = generateSigningKeyPair();
const stranger = generateSigningKeyPair();
const workerId = randomUUID();
const tenantId = randomUUID();

const envelopeOptions = () => ({
  trustedKeys: new Map([[trusted.keyId, trusted.publicKey]]),
  workerId,
  tenantId,
  clock: () => NOW_MS,
  maxClockSkewMs: SKEW_MS,
  maxValidityWindowMs: WINDOW_MS,
});

/** A fresh verifier per run, so a nonce remembered in one run never decides another. */
const instructionVerifier = () => new InstructionVerifier({ ...envelopeOptions(), nonceStore: new MemoryNonceStore(() => NOW_MS) });
const bundleVerifier = () => new PolicyBundleVerifier(envelopeOptions());

const INSTRUCTION_CODES: ReadonlySet<string> = new Set(Object.values(FailureCode).filter((code) => code.startsWith('INSTRUCTION_')));
const BUNDLE_CODES: ReadonlySet<string> = new Set(Object.values(FailureCode).filter((code) => code.startsWith('POLICY_BUNDLE_') && code !== FailureCode.POLICY_BUNDLE_INVALID));

function expectInstructionRefused(outcome: VerificationOutcome, codes: ReadonlySet<string> = INSTRUCTION_CODES): void {
  expect(outcome.ok).toBe(false);
  if (!outcome.ok) expect(codes).toContain(outcome.failureCode);
}

function expectBundleRefused(outcome: PolicyBundleVerification, codes: ReadonlySet<string> = BUNDLE_CODES): void {
  expect(outcome.ok).toBe(false);
  if (!outcome.ok) expect(codes).toContain(outcome.failureCode);
}

// ─── Arbitraries ───

const uuid = fc.uuid({ version: [1, 2, 3, 4, 5] });
const repoAlias = fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,62}$/);
const gitRef = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_-]{0,20}(\/[A-Za-z0-9_][A-Za-z0-9_-]{0,20}){0,3}$/);
const ticketTitle = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 200 }).filter((title) => title.trim().length > 0 && !/[\r\n]/.test(title) && title.length <= 200);
const nonce = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((bytes) => Buffer.from(bytes));

/** A validity window the verifier accepts at NOW_MS: issued within the skew, expiring within the window. */
const validityWindow = fc
  .tuple(fc.integer({ min: -WINDOW_MS + 1, max: SKEW_MS }), fc.integer({ min: 1, max: WINDOW_MS }))
  .filter(([issuedOffset, length]) => NOW_MS + issuedOffset + length + SKEW_MS > NOW_MS)
  .map(([issuedOffset, length]) => ({ issuedAtMs: NOW_MS + issuedOffset, expiresAtMs: NOW_MS + issuedOffset + length }));

const task = fc.oneof(
  fc.record({
    fix: fc.record({
      repoAlias,
      baseRef: gitRef,
      ticket: fc.record({ title: ticketTitle, description: fc.string({ unit: 'grapheme', maxLength: 300 }) }),
      deliveryJobId: fc.oneof(fc.constant(''), uuid),
      deliveryGeneration: fc.integer({ min: 0, max: WIRE_LIMITS.maxDeliveryGeneration }),
      ticketRef: fc.constant(''),
    }),
  }),
  fc.record({ noop: fc.constant({}) }),
  fc.record({ review: fc.oneof(fc.record({ repoAlias, mergeRequest: fc.integer({ min: 1, max: WIRE_LIMITS.maxMergeRequestNumber }) }), fc.record({ repoAlias, branch: gitRef })) }),
  fc.record({ index: fc.record({ repoAlias, ref: gitRef }) }),
);

/** An instruction payload addressed to this worker and valid now. */
const genuinePayload: fc.Arbitrary<InstructionPayload> = fc
  .tuple(uuid, fc.integer({ min: 1, max: 1_000_000 }), validityWindow, nonce, fc.oneof(fc.constant(''), uuid), task)
  .map(([jobId, attempt, window, nonceBytes, policyRef, chosenTask]) => ({ jobId, attempt, tenantId, audience: workerId, ...window, nonce: nonceBytes, policyRef, ...chosenTask }));

const genuineInstruction = genuinePayload.map((payload) => signInstruction(payload, trusted));

/** A policy bundle payload addressed to this worker, valid now, its revision above 0. */
const genuineBundlePayload: fc.Arbitrary<PolicyBundlePayload> = fc
  .tuple(fc.integer({ min: 1, max: WIRE_LIMITS.maxPolicyRevision }), validityWindow, fc.oneof(fc.json({ maxDepth: 3 }), fc.string({ unit: 'grapheme', maxLength: 300 })))
  .map(([revision, window, layersJson]) => ({ tenantId, audience: workerId, revision, ...window, layersJson }));

const genuineBundle = genuineBundlePayload.map((payload) => signPolicyBundle(payload, trusted));

interface Envelope {
  readonly payload: Buffer;
  readonly signature: Buffer;
  readonly keyId: string;
}

/** The ways an envelope is damaged on its way, or forged: each must be refused. */
function damaged<T extends Envelope>(envelope: T, maxPayloadBytes: number): fc.Arbitrary<T> {
  const flip = (bytes: Buffer) =>
    fc.tuple(fc.nat({ max: bytes.length - 1 }), fc.integer({ min: 0, max: 7 })).map(([index, bit]) => {
      const copy = Buffer.from(bytes);
      copy[index] = copy[index]! ^ (1 << bit);
      return copy;
    });
  return fc.oneof(
    flip(envelope.payload).map((payload) => ({ ...envelope, payload })),
    flip(envelope.signature).map((signature) => ({ ...envelope, signature })),
    flip(Buffer.from(envelope.keyId)).map((keyId) => ({ ...envelope, keyId: keyId.toString('latin1') })),
    fc.nat({ max: envelope.payload.length - 1 }).map((cut) => ({ ...envelope, payload: envelope.payload.subarray(0, cut) })),
    fc.nat({ max: envelope.signature.length - 1 }).map((cut) => ({ ...envelope, signature: envelope.signature.subarray(0, cut) })),
    fc.uint8Array({ minLength: 1, maxLength: 32 }).map((tail) => ({ ...envelope, payload: Buffer.concat([envelope.payload, tail]) })),
    fc.constant({ ...envelope, payload: Buffer.concat([envelope.payload, Buffer.alloc(maxPayloadBytes + 1 - envelope.payload.length)]) }),
    fc.constant({ ...envelope, signature: Buffer.concat([envelope.signature, Buffer.from([0])]) }),
  );
}

/** Envelopes of every wrong shape: random bytes, wrong types, missing fields. */
const garbageEnvelope = fc.record({
  payload: fc.oneof(fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)), fc.anything()),
  signature: fc.oneof(fc.uint8Array({ minLength: 64, maxLength: 64 }).map((bytes) => Buffer.from(bytes)), fc.anything()),
  keyId: fc.oneof(fc.constant(trusted.keyId), fc.string(), fc.anything()),
});

// ─── Properties ───

describe('InstructionVerifier: properties', () => {
  it('accepts every genuine instruction, with the payload that was signed, and refuses it replayed', () => {
    fc.assert(
      fc.property(genuineInstruction, (instruction) => {
        const verifier = instructionVerifier();
        expect(verifier.verify(instruction)).toEqual({ ok: true, payload: decodeInstructionPayload(instruction.payload) });
        expect(verifier.verify(instruction)).toMatchObject({ ok: false, failureCode: FailureCode.INSTRUCTION_REPLAYED });
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a genuine instruction with a bit flipped, cut, padded or oversized, with an instruction code', () => {
    const tampered = genuineInstruction.chain((instruction) => damaged(instruction, WIRE_LIMITS.maxInstructionPayloadBytes));
    fc.assert(
      fc.property(tampered, (instruction) => {
        expectInstructionRefused(instructionVerifier().verify(instruction));
      }),
      { numRuns: 500 },
    );
  });

  it('refuses a flipped signature bit as BAD_SIGNATURE: the payload itself is unchanged and well-formed', () => {
    const flipped = fc.tuple(genuineInstruction, fc.nat({ max: 63 }), fc.integer({ min: 0, max: 7 })).map(([instruction, index, bit]) => {
      const signature = Buffer.from(instruction.signature);
      signature[index] = signature[index]! ^ (1 << bit);
      return { ...instruction, signature };
    });
    fc.assert(
      fc.property(flipped, (instruction) => {
        expectInstructionRefused(instructionVerifier().verify(instruction), new Set([FailureCode.INSTRUCTION_BAD_SIGNATURE]));
      }),
      { numRuns: 300 },
    );
  });

  it('refuses an instruction signed by a key the worker does not pin, under either key id', () => {
    const forged = fc.tuple(genuinePayload, fc.boolean()).map(([payload, claimTrustedKey]) => {
      const signed = signInstruction(payload, stranger);
      return claimTrustedKey ? { ...signed, keyId: trusted.keyId } : signed;
    });
    fc.assert(
      fc.property(forged, (instruction) => {
        const expected = instruction.keyId === trusted.keyId ? FailureCode.INSTRUCTION_BAD_SIGNATURE : FailureCode.INSTRUCTION_UNKNOWN_KEY;
        expectInstructionRefused(instructionVerifier().verify(instruction), new Set([expected]));
      }),
      { numRuns: 200 },
    );
  });

  it('refuses random and ill-typed envelopes with an instruction code, never throwing', () => {
    fc.assert(
      fc.property(garbageEnvelope, (envelope) => {
        expectInstructionRefused(instructionVerifier().verify(envelope as unknown as SignedInstruction__Output));
      }),
      { numRuns: 500 },
    );
  });

  it('refuses random payload bytes signed by the trusted key unless they decode to a payload addressed to this worker', () => {
    const signedNoise = fc.uint8Array({ maxLength: 200 }).map((bytes) => {
      const payload = Buffer.from(bytes);
      return { payload, signature: signBytes(trusted.privateKeyPem, payload), keyId: trusted.keyId };
    });
    fc.assert(
      fc.property(signedNoise, (instruction) => {
        // Random bytes never name this worker's UUIDs, so the best they can reach is WRONG_AUDIENCE.
        expectInstructionRefused(instructionVerifier().verify(instruction), new Set([FailureCode.INSTRUCTION_MALFORMED, FailureCode.INSTRUCTION_WRONG_AUDIENCE]));
      }),
      { numRuns: 300 },
    );
  });
});

describe('PolicyBundleVerifier: properties', () => {
  it('accepts every genuine bundle above the revision in force, and refuses it as STALE at or below', () => {
    fc.assert(
      fc.property(genuineBundle, (bundle) => {
        const verifier = bundleVerifier();
        const { revision } = decodePolicyBundlePayload(bundle.payload);
        expect(verifier.verify(bundle, revision - 1)).toEqual({ ok: true, payload: decodePolicyBundlePayload(bundle.payload) });
        expect(verifier.verifyApplied(bundle)).toEqual({ ok: true, payload: decodePolicyBundlePayload(bundle.payload) });
        expect(verifier.verify(bundle, revision)).toEqual({ ok: false, failureCode: FailureCode.POLICY_BUNDLE_STALE, revision });
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a genuine bundle with a bit flipped, cut, padded or oversized, with a policy bundle code', () => {
    const tampered = genuineBundle.chain((bundle) => damaged(bundle, WIRE_LIMITS.maxPolicyBundlePayloadBytes));
    fc.assert(
      fc.property(tampered, (bundle) => {
        const verifier = bundleVerifier();
        expectBundleRefused(verifier.verify(bundle, 0));
        expectBundleRefused(verifier.verifyApplied(bundle));
      }),
      { numRuns: 500 },
    );
  });

  it('refuses a bundle signed over its bare payload, as an instruction would be: the signatures never cross', () => {
    const crossSigned = genuineBundle.map((bundle) => ({ ...bundle, signature: signBytes(trusted.privateKeyPem, bundle.payload) }));
    fc.assert(
      fc.property(crossSigned, (bundle) => {
        expectBundleRefused(bundleVerifier().verify(bundle, 0), new Set([FailureCode.POLICY_BUNDLE_BAD_SIGNATURE]));
      }),
      { numRuns: 200 },
    );
  });

  it('refuses a bundle signed by a key the worker does not pin', () => {
    const forged = genuineBundlePayload.map((payload) => ({ ...signPolicyBundle(payload, stranger), keyId: trusted.keyId }));
    fc.assert(
      fc.property(forged, (bundle) => {
        expectBundleRefused(bundleVerifier().verify(bundle, 0), new Set([FailureCode.POLICY_BUNDLE_BAD_SIGNATURE]));
      }),
      { numRuns: 200 },
    );
  });

  it('refuses random and ill-typed bundles with a policy bundle code, never throwing', () => {
    fc.assert(
      fc.property(garbageEnvelope, fc.nat(), (envelope, appliedRevision) => {
        const verifier = bundleVerifier();
        expectBundleRefused(verifier.verify(envelope as unknown as SignedPolicyBundle__Output, appliedRevision));
        expectBundleRefused(verifier.verifyApplied(envelope as unknown as SignedPolicyBundle__Output));
      }),
      { numRuns: 500 },
    );
  });
});
