import { randomBytes, randomUUID } from 'node:crypto';
import { helloChallengeMessage } from '@airlock/protocol';
import { verifyBytes } from './ed25519-signature';
import { helloSignature, verifyHelloSignature } from './hello-signature';
import { generateSigningKeyPair } from './signing-key-pair';

describe('hello signature', () => {
  const workerKey = generateSigningKeyPair();
  const workerId = randomUUID();
  const nonce = randomBytes(32);

  it('round-trips over the protocol challenge message', () => {
    const signature = helloSignature(workerKey.privateKeyPem, workerId, nonce);
    expect(verifyHelloSignature(workerKey.publicKey, workerId, nonce, signature)).toBe(true);
    expect(verifyBytes(workerKey.publicKey, helloChallengeMessage(workerId, nonce), signature)).toBe(true);
  });

  it('fails for another worker id, another nonce or another key', () => {
    const signature = helloSignature(workerKey.privateKeyPem, workerId, nonce);
    expect(verifyHelloSignature(workerKey.publicKey, randomUUID(), nonce, signature)).toBe(false);
    expect(verifyHelloSignature(workerKey.publicKey, workerId, randomBytes(32), signature)).toBe(false);
    expect(verifyHelloSignature(generateSigningKeyPair().publicKey, workerId, nonce, signature)).toBe(false);
  });

  it('returns false for garbage instead of throwing', () => {
    expect(verifyHelloSignature(Buffer.alloc(0), workerId, nonce, Buffer.alloc(64))).toBe(false);
    expect(verifyHelloSignature(workerKey.publicKey, workerId, 42 as unknown as Uint8Array, Buffer.alloc(64))).toBe(false);
  });
});
