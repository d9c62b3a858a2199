import { randomBytes } from 'node:crypto';
import { instructionHeader } from '@airlock/testing';
import { FrameValidationError, decodeInstructionPayload, type InstructionPayload } from '@airlock/protocol';
import { verifyBytes } from './ed25519-signature';
import { signInstruction } from './instruction-signer';
import { InvalidSigningKeyError } from './invalid-signing-key.error';
import { generateSigningKeyPair } from './signing-key-pair';

describe('signInstruction', () => {
  const signer = generateSigningKeyPair();
  const payload: InstructionPayload = {
    ...instructionHeader(),
    noop: {},
  };

  it('signs the exact encoded payload bytes under the given key id', () => {
    const instruction = signInstruction(payload, signer);
    expect(instruction.keyId).toBe(signer.keyId);
    expect(verifyBytes(signer.publicKey, instruction.payload, instruction.signature)).toBe(true);
    expect(decodeInstructionPayload(instruction.payload)).toMatchObject({ jobId: payload.jobId, task: 'noop' });
  });

  it('refuses a key id that is not the id of the private key', () => {
    expect(() => signInstruction(payload, { keyId: generateSigningKeyPair().keyId, privateKeyPem: signer.privateKeyPem })).toThrow(
      InvalidSigningKeyError,
    );
  });

  it('refuses to sign a payload a worker would refuse as malformed', () => {
    expect(() => signInstruction({ ...payload, nonce: randomBytes(8) }, signer)).toThrow(FrameValidationError);
  });
});
