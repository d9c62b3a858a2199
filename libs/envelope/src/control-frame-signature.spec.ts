import { randomBytes, randomUUID } from 'node:crypto';
import { workerGatewayServiceDefinition, type ControlFrame, type ControlFrame__Output } from '@airlock/protocol';
import { ControlFrameVerifier, signControlFrame } from './control-frame-signature';
import { signInstruction } from './instruction-signer';
import { generateSigningKeyPair } from './signing-key-pair';

describe('control frame signatures', () => {
  const pinned = generateSigningKeyPair();
  const stranger = generateSigningKeyPair();
  const verifier = new ControlFrameVerifier(new Map([[pinned.keyId, pinned.publicKey]]));
  const binding = { workerId: randomUUID(), streamNonce: randomBytes(32) };
  const attempt = { jobId: randomUUID(), attempt: 2 };
  const frames: Record<string, ControlFrame> = {
    cancel: { cancel: { attempt } },
    resultAck: { resultAck: { attempt, disposition: 'RESULT_DISPOSITION_RECORDED' } },
    drain: { drain: {} },
    leaseRenewal: { leaseRenewal: { heartbeatSeq: 7, renewed: [attempt, { jobId: randomUUID(), attempt: 1 }] } },
  };
  const connect = workerGatewayServiceDefinition()['Connect']!;
  /** The frame as the worker gets it: encoded by the control plane's stream, decoded with defaults. */
  const overTheWire = (frame: ControlFrame): ControlFrame__Output => connect.responseDeserialize(connect.responseSerialize(frame)) as ControlFrame__Output;

  it.each(Object.keys(frames))('a signed %s verifies on the stream it was signed for, after the wire', (kind) => {
    expect(verifier.refusalOf(overTheWire(signControlFrame(frames[kind]!, pinned, binding)), binding)).toBeNull();
  });

  it.each(Object.keys(frames))('an unsigned %s is MISSING, one by a key not pinned UNKNOWN_KEY', (kind) => {
    expect(verifier.refusalOf(overTheWire(frames[kind]!), binding)).toBe('MISSING');
    expect(verifier.refusalOf(overTheWire(signControlFrame(frames[kind]!, stranger, binding)), binding)).toBe('UNKNOWN_KEY');
  });

  it.each(Object.keys(frames))('a signed %s does not verify for another worker or another stream', (kind) => {
    const signed = overTheWire(signControlFrame(frames[kind]!, pinned, binding));
    expect(verifier.refusalOf(signed, { ...binding, workerId: randomUUID() })).toBe('BAD_SIGNATURE');
    expect(verifier.refusalOf(signed, { ...binding, streamNonce: randomBytes(32) })).toBe('BAD_SIGNATURE');
  });

  it('does not verify once a field it covers is changed', () => {
    const cancel = overTheWire(signControlFrame(frames.cancel!, pinned, binding));
    expect(verifier.refusalOf({ ...cancel, cancel: { ...cancel.cancel!, attempt: { ...attempt, attempt: 3 } } }, binding)).toBe('BAD_SIGNATURE');
    const ack = overTheWire(signControlFrame(frames.resultAck!, pinned, binding));
    expect(verifier.refusalOf({ ...ack, resultAck: { ...ack.resultAck!, disposition: 'RESULT_DISPOSITION_DUPLICATE' } }, binding)).toBe('BAD_SIGNATURE');
    const renewal = overTheWire(signControlFrame(frames.leaseRenewal!, pinned, binding));
    expect(verifier.refusalOf({ ...renewal, leaseRenewal: { ...renewal.leaseRenewal!, renewed: renewal.leaseRenewal!.renewed.slice(0, 1) } }, binding)).toBe('BAD_SIGNATURE');
  });

  it("never takes one kind's signature for another's, nor an instruction's signature", () => {
    const drain = overTheWire(signControlFrame(frames.drain!, pinned, binding));
    const signature = drain.drain!.signature;
    expect(verifier.refusalOf(overTheWire({ cancel: { attempt, signature } }), binding)).toBe('BAD_SIGNATURE');
    const instruction = signInstruction(
      { jobId: attempt.jobId, attempt: 2, audience: binding.workerId, tenantId: randomUUID(), issuedAtMs: Date.now(), expiresAtMs: Date.now() + 60_000, nonce: randomBytes(16), noop: {} },
      pinned,
    );
    expect(verifier.refusalOf(overTheWire({ drain: { signature: { keyId: pinned.keyId, signature: instruction.signature } } }), binding)).toBe('BAD_SIGNATURE');
  });

  it('asks nothing of the frames that need no signature', () => {
    expect(ControlFrameVerifier.signs(overTheWire({ welcome: { heartbeatIntervalMs: 1000, leaseTtlMs: 5000 } }))).toBe(false);
    expect(verifier.refusalOf(overTheWire({ challenge: { nonce: randomBytes(32) } }), binding)).toBeNull();
    expect(ControlFrameVerifier.signs(overTheWire(frames.drain!))).toBe(true);
  });
});
