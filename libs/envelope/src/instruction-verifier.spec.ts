import { randomBytes, randomUUID } from 'node:crypto';
import { FailureCode, encodeInstructionPayload, type InstructionPayload, type SignedInstruction__Output } from '@airlock/protocol';
import { signBytes } from './ed25519-signature';
import { InstructionVerifier, type InstructionVerifierOptions } from './instruction-verifier';
import { InvalidVerifierOptionsError } from './invalid-verifier-options.error';
import { signInstruction } from './instruction-signer';
import { MemoryNonceStore } from './memory-nonce-store';
import type { NonceStore } from './nonce-store';
import { generateSigningKeyPair } from './signing-key-pair';

const NOW_MS = 1_700_000_000_000;
const SKEW_MS = 30_000;
const WINDOW_MS = 3_600_000;

describe('InstructionVerifier', () => {
  const signer = generateSigningKeyPair();
  const workerId = randomUUID();
  const tenantId = randomUUID();
  const jobId = randomUUID();
  let nowMs: number;
  let nonceStore: MemoryNonceStore;
  let verifier: InstructionVerifier;

  const options = (overrides: Partial<InstructionVerifierOptions> = {}): InstructionVerifierOptions => ({
    trustedKeys: new Map([[signer.keyId, signer.publicKey]]),
    workerId,
    tenantId,
    clock: () => nowMs,
    maxClockSkewMs: SKEW_MS,
    maxValidityWindowMs: WINDOW_MS,
    nonceStore,
    ...overrides,
  });

  const payload = (overrides: Partial<InstructionPayload> = {}): InstructionPayload => ({
    jobId,
    attempt: 2,
    tenantId,
    audience: workerId,
    issuedAtMs: NOW_MS,
    expiresAtMs: NOW_MS + 60_000,
    nonce: randomBytes(16),
    policyRef: '',
    fix: { repoAlias: 'payments-api', baseRef: 'main', ticket: { title: 'Fix rounding', description: 'Off by one cent.' } },
    ...overrides,
  });

  const signed = (overrides: Partial<InstructionPayload> = {}): SignedInstruction__Output => signInstruction(payload(overrides), signer);
  const rejection = (failureCode: string) => ({ ok: false, failureCode, attempt: { jobId, attempt: 2 } });

  beforeEach(() => {
    nowMs = NOW_MS;
    nonceStore = new MemoryNonceStore(() => nowMs);
    verifier = new InstructionVerifier(options());
  });

  it('accepts a genuine instruction and returns its payload', () => {
    const instruction = signed({ noop: {}, fix: null });
    const outcome = verifier.verify(instruction);
    expect(outcome).toEqual({ ok: true, payload: expect.objectContaining({ jobId, attempt: 2, audience: workerId, task: 'noop' }) });
  });

  it('refuses a replay of an accepted instruction', () => {
    const instruction = signed();
    expect(verifier.verify(instruction).ok).toBe(true);
    expect(verifier.verify(instruction)).toEqual(rejection(FailureCode.INSTRUCTION_REPLAYED));
  });

  it('refuses a replay for as long as the instruction would verify, skew included', () => {
    const instruction = signed();
    expect(verifier.verify(instruction).ok).toBe(true);
    nowMs = NOW_MS + 60_000 + SKEW_MS - 1;
    expect(verifier.verify(instruction)).toEqual(rejection(FailureCode.INSTRUCTION_REPLAYED));
  });

  it('refuses bytes that are not a payload as MALFORMED, without an attempt', () => {
    const instruction = { payload: Buffer.from([0xff, 0xff, 0xff]), signature: Buffer.alloc(64), keyId: signer.keyId };
    expect(verifier.verify(instruction)).toEqual({ ok: false, failureCode: FailureCode.INSTRUCTION_MALFORMED });
  });

  it('refuses a malformed envelope around a decodable payload as MALFORMED, naming the attempt', () => {
    const instruction = signed();
    expect(verifier.verify({ ...instruction, signature: instruction.signature.subarray(0, 10) })).toEqual(
      rejection(FailureCode.INSTRUCTION_MALFORMED),
    );
    expect(verifier.verify({ ...instruction, keyId: 'signer' })).toEqual(rejection(FailureCode.INSTRUCTION_MALFORMED));
  });

  it('refuses a decodable but ill-formed payload as MALFORMED, even when correctly signed', () => {
    const bytes = encodeInstructionPayload(payload({ policyRef: 'not-a-uuid' }));
    const instruction = { payload: bytes, signature: signBytes(signer.privateKeyPem, bytes), keyId: signer.keyId };
    expect(verifier.verify(instruction)).toEqual(rejection(FailureCode.INSTRUCTION_MALFORMED));
  });

  it('omits the attempt when the payload does not name a well-formed job attempt', () => {
    const bytes = encodeInstructionPayload(payload({ jobId: 'job-1' }));
    const instruction = { payload: bytes, signature: signBytes(signer.privateKeyPem, bytes), keyId: signer.keyId };
    expect(verifier.verify(instruction)).toEqual({ ok: false, failureCode: FailureCode.INSTRUCTION_MALFORMED });
  });

  it('refuses a key id that is not pinned', () => {
    const stranger = generateSigningKeyPair();
    expect(verifier.verify(signInstruction(payload(), stranger))).toEqual(rejection(FailureCode.INSTRUCTION_UNKNOWN_KEY));
  });

  it('refuses a tampered payload byte', () => {
    const instruction = signed();
    const tampered = Buffer.from(instruction.payload);
    // The last bytes are the ticket description: changing one keeps the payload decodable.
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] ?? 0) ^ 0x01;
    expect(verifier.verify({ ...instruction, payload: tampered })).toEqual(rejection(FailureCode.INSTRUCTION_BAD_SIGNATURE));
  });

  it('refuses a tampered signature', () => {
    const instruction = signed();
    const tampered = Buffer.from(instruction.signature);
    tampered[5] = (tampered[5] ?? 0) ^ 0x80;
    expect(verifier.verify({ ...instruction, signature: tampered })).toEqual(rejection(FailureCode.INSTRUCTION_BAD_SIGNATURE));
  });

  it('refuses a signature made by another key under a pinned key id', () => {
    const bytes = encodeInstructionPayload(payload());
    const forged = { payload: bytes, signature: signBytes(generateSigningKeyPair().privateKeyPem, bytes), keyId: signer.keyId };
    expect(verifier.verify(forged)).toEqual(rejection(FailureCode.INSTRUCTION_BAD_SIGNATURE));
  });

  it('does not let a forged instruction burn the nonce of the genuine one', () => {
    const genuine = signed();
    const forged = { ...genuine, signature: signBytes(generateSigningKeyPair().privateKeyPem, genuine.payload) };
    expect(verifier.verify(forged)).toEqual(rejection(FailureCode.INSTRUCTION_BAD_SIGNATURE));
    expect(verifier.verify(genuine).ok).toBe(true);
  });

  it('remembers no nonce for an instruction refused for any reason before the replay check', () => {
    const remember = jest.fn<boolean, [string, number]>(() => true);
    const spyStore: NonceStore = { remember };
    const strict = new InstructionVerifier(options({ nonceStore: spyStore }));
    strict.verify(signed({ audience: randomUUID() }));
    strict.verify(signed({ tenantId: randomUUID() }));
    strict.verify(signed({ issuedAtMs: NOW_MS + 60_000, expiresAtMs: NOW_MS + 120_000 }));
    strict.verify(signed({ issuedAtMs: NOW_MS - 120_000, expiresAtMs: NOW_MS - 60_000 }));
    expect(remember).not.toHaveBeenCalled();
  });

  it('never asks the store to keep a nonce past now + validity window + twice the skew, which bounds the nonce file', () => {
    const kept: number[] = [];
    const recordingStore: NonceStore = { remember: (_nonce, expiresAtMs) => kept.push(expiresAtMs) > 0 };
    const bounded = new InstructionVerifier(options({ nonceStore: recordingStore }));
    const boundMs = NOW_MS + WINDOW_MS + 2 * SKEW_MS;
    let accepted = 0;
    // Every issue time the skew allows and beyond, with windows up to and past the maximum.
    for (const issuedOffsetMs of [-2 * WINDOW_MS, -WINDOW_MS, -SKEW_MS, 0, SKEW_MS - 1, SKEW_MS, SKEW_MS + 1]) {
      for (const windowMs of [1, 60_000, WINDOW_MS - 1, WINDOW_MS, WINDOW_MS + 1, 10 * WINDOW_MS]) {
        const issuedAtMs = NOW_MS + issuedOffsetMs;
        if (bounded.verify(signed({ issuedAtMs, expiresAtMs: issuedAtMs + windowMs })).ok) accepted += 1;
      }
    }
    expect(accepted).toBeGreaterThan(10);
    expect(kept).toHaveLength(accepted);
    expect(Math.max(...kept)).toBe(boundMs); // reached by the latest issue time with the longest window, and never passed
  });

  it('refuses an instruction for another worker', () => {
    expect(verifier.verify(signed({ audience: randomUUID() }))).toEqual(rejection(FailureCode.INSTRUCTION_WRONG_AUDIENCE));
  });

  it('refuses an instruction for another tenant', () => {
    expect(verifier.verify(signed({ tenantId: randomUUID() }))).toEqual(rejection(FailureCode.INSTRUCTION_WRONG_TENANT));
  });

  it('refuses an instruction issued in the future beyond the skew, and accepts one within it', () => {
    expect(verifier.verify(signed({ issuedAtMs: NOW_MS + SKEW_MS + 1, expiresAtMs: NOW_MS + 120_000 }))).toEqual(
      rejection(FailureCode.INSTRUCTION_NOT_YET_VALID),
    );
    expect(verifier.verify(signed({ issuedAtMs: NOW_MS + SKEW_MS, expiresAtMs: NOW_MS + 120_000 })).ok).toBe(true);
  });

  it('refuses an expired instruction once the skew has also passed', () => {
    const instruction = signed({ expiresAtMs: NOW_MS + 60_000 });
    nowMs = NOW_MS + 60_000 + SKEW_MS;
    expect(verifier.verify(instruction)).toEqual(rejection(FailureCode.INSTRUCTION_EXPIRED));
    nowMs -= 1;
    expect(verifier.verify(instruction).ok).toBe(true);
  });

  it('refuses a validity window longer than allowed as EXPIRED', () => {
    expect(verifier.verify(signed({ expiresAtMs: NOW_MS + WINDOW_MS + 1 }))).toEqual(rejection(FailureCode.INSTRUCTION_EXPIRED));
    expect(verifier.verify(signed({ expiresAtMs: NOW_MS + WINDOW_MS })).ok).toBe(true);
  });

  it('checks in the documented order: the key before the audience, the audience before the time', () => {
    const stranger = generateSigningKeyPair();
    expect(verifier.verify(signInstruction(payload({ audience: randomUUID() }), stranger))).toEqual(
      rejection(FailureCode.INSTRUCTION_UNKNOWN_KEY),
    );
    expect(verifier.verify(signed({ audience: randomUUID(), tenantId: randomUUID(), expiresAtMs: NOW_MS + WINDOW_MS * 2 }))).toEqual(
      rejection(FailureCode.INSTRUCTION_WRONG_AUDIENCE),
    );
  });

  it('fails at construction on options that could never verify correctly', () => {
    expect(() => new InstructionVerifier(options({ workerId: 'worker-1' }))).toThrow(InvalidVerifierOptionsError);
    expect(() => new InstructionVerifier(options({ maxClockSkewMs: -1 }))).toThrow(InvalidVerifierOptionsError);
    expect(() => new InstructionVerifier(options({ trustedKeys: new Map([['sk_0000000000000000', signer.publicKey]]) }))).toThrow(
      /the key's id is sk_/,
    );
    expect(() => new InstructionVerifier(options({ trustedKeys: new Map([[signer.keyId, Buffer.alloc(8)]]) }))).toThrow(
      InvalidVerifierOptionsError,
    );
  });
});
