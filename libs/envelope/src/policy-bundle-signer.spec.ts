import { randomUUID } from 'node:crypto';
import {
  FrameValidationError,
  decodePolicyBundlePayload,
  policyBundleSignedMessage,
  type PolicyBundlePayload,
} from '@airlock/protocol';
import { verifyBytes } from './ed25519-signature';
import { InvalidSigningKeyError } from './invalid-signing-key.error';
import { signPolicyBundle } from './policy-bundle-signer';
import { generateSigningKeyPair } from './signing-key-pair';

describe('signPolicyBundle', () => {
  const signer = generateSigningKeyPair();
  const payload: PolicyBundlePayload = {
    tenantId: randomUUID(),
    audience: randomUUID(),
    revision: 1,
    issuedAtMs: 1_700_000_000_000,
    expiresAtMs: 1_700_000_600_000,
    layersJson: '{"layers":[]}',
  };

  it('signs the context-prefixed payload bytes under the given key id', () => {
    const bundle = signPolicyBundle(payload, signer);
    expect(bundle.keyId).toBe(signer.keyId);
    expect(decodePolicyBundlePayload(bundle.payload)).toEqual(payload);
    expect(verifyBytes(signer.publicKey, policyBundleSignedMessage(bundle.payload), bundle.signature)).toBe(true);
    expect(verifyBytes(signer.publicKey, bundle.payload, bundle.signature)).toBe(false);
  });

  it('refuses a key id that is not the id of the private key', () => {
    expect(() => signPolicyBundle(payload, { keyId: generateSigningKeyPair().keyId, privateKeyPem: signer.privateKeyPem })).toThrow(
      InvalidSigningKeyError,
    );
  });

  it('refuses to sign a payload a worker would refuse as malformed', () => {
    expect(() => signPolicyBundle({ ...payload, revision: 0 }, signer)).toThrow(FrameValidationError);
    expect(() => signPolicyBundle({ ...payload, audience: 'worker-1' }, signer)).toThrow(FrameValidationError);
  });
});
