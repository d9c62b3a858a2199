import { createHash, generateKeyPairSync } from 'node:crypto';
import { InvalidSigningKeyError } from './invalid-signing-key.error';
import { generateSigningKeyPair, rawPublicKeyFromPem, signingKeyIdOf } from './signing-key-pair';

describe('signing key pairs', () => {
  it('generates a raw 32-byte public key, a PKCS#8 PEM and an id derived from the key', () => {
    const pair = generateSigningKeyPair();
    expect(pair.publicKey).toHaveLength(32);
    expect(pair.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(pair.keyId).toBe(`sk_${createHash('sha256').update(pair.publicKey).digest('hex').slice(0, 16)}`);
    expect(pair.keyId).toMatch(/^sk_[0-9a-f]{16}$/);
    expect(signingKeyIdOf(pair.publicKey)).toBe(pair.keyId);
  });

  it('reads the raw public key from a private PEM and from a public PEM', () => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const fromPrivate = rawPublicKeyFromPem(privateKey.export({ format: 'pem', type: 'pkcs8' }).toString());
    const fromPublic = rawPublicKeyFromPem(publicKey.export({ format: 'pem', type: 'spki' }).toString());
    expect(fromPrivate).toHaveLength(32);
    expect(fromPublic).toEqual(fromPrivate);
  });

  it('refuses PEM that is not an Ed25519 key', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    expect(() => rawPublicKeyFromPem(rsa)).toThrow(InvalidSigningKeyError);
    expect(() => rawPublicKeyFromPem('not a key')).toThrow(InvalidSigningKeyError);
  });

  it('refuses a public key of the wrong length', () => {
    expect(() => signingKeyIdOf(Buffer.alloc(31))).toThrow(InvalidSigningKeyError);
  });
});
