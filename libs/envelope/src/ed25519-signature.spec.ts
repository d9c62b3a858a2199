import { signBytes, verifyBytes } from './ed25519-signature';
import { InvalidSigningKeyError } from './invalid-signing-key.error';
import { generateSigningKeyPair } from './signing-key-pair';

describe('Ed25519 signatures', () => {
  const pair = generateSigningKeyPair();
  const message = Buffer.from('airlock');

  it('signs with 64 bytes that verify under the public key', () => {
    const signature = signBytes(pair.privateKeyPem, message);
    expect(signature).toHaveLength(64);
    expect(verifyBytes(pair.publicKey, message, signature)).toBe(true);
  });

  it('fails verification for another message, key or signature', () => {
    const signature = signBytes(pair.privateKeyPem, message);
    expect(verifyBytes(pair.publicKey, Buffer.from('airlocK'), signature)).toBe(false);
    expect(verifyBytes(generateSigningKeyPair().publicKey, message, signature)).toBe(false);
    const flipped = Buffer.from(signature);
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    expect(verifyBytes(pair.publicKey, message, flipped)).toBe(false);
  });

  it('returns false instead of throwing on malformed input', () => {
    const signature = signBytes(pair.privateKeyPem, message);
    expect(verifyBytes(Buffer.alloc(3), message, signature)).toBe(false);
    expect(verifyBytes(pair.publicKey, message, signature.subarray(0, 63))).toBe(false);
    expect(verifyBytes(pair.publicKey, message, Buffer.alloc(0))).toBe(false);
    expect(verifyBytes('key' as unknown as Buffer, message, signature)).toBe(false);
    expect(verifyBytes(pair.publicKey, 'message' as unknown as Buffer, signature)).toBe(false);
  });

  it('refuses to sign with something that is not an Ed25519 private key', () => {
    expect(() => signBytes('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n', message)).toThrow(InvalidSigningKeyError);
  });
});
