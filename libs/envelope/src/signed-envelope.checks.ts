import { ID_PATTERNS } from '@airlock/protocol';
import type { KeyObject } from 'node:crypto';
import { verifyWithKey } from './ed25519-signature';
import { InvalidVerifierOptionsError } from './invalid-verifier-options.error';
import { publicKeyFromRaw, signingKeyIdOf } from './signing-key-pair';

/** What a verifier of control-plane-signed envelopes needs; all of it comes from the worker's local state. */
export interface SignedEnvelopeOptions {
  /** keyId → raw 32-byte public key, pinned in the worker's local config. */
  trustedKeys: ReadonlyMap<string, Buffer>;
  /** The worker's own id (UUID); envelopes must name it as their audience. */
  workerId: string;
  /** The worker's tenant (UUID). */
  tenantId: string;
  /** Current Unix milliseconds. */
  clock: () => number;
  /** Tolerated difference between the control plane's clock and the worker's, e.g. 30 000. */
  maxClockSkewMs: number;
  /** Longest `expiresAtMs − issuedAtMs` accepted, e.g. 3 600 000. */
  maxValidityWindowMs: number;
}

/** The fields of a signed payload the envelope checks read, once its signature has verified. */
export interface EnvelopeClaims {
  readonly audience: string;
  readonly tenantId: string;
  readonly issuedAtMs: number;
  readonly expiresAtMs: number;
}

/**
 * The checks every control-plane-signed envelope shares, by the suffix of their failure
 * code: each verifier prefixes it (INSTRUCTION_…, POLICY_BUNDLE_…).
 */
export type EnvelopeFailure = 'UNKNOWN_KEY' | 'BAD_SIGNATURE' | 'WRONG_AUDIENCE' | 'WRONG_TENANT' | 'NOT_YET_VALID' | 'EXPIRED';

/**
 * Key, signature, addressee and validity window checks of a signed envelope, shared by
 * the instruction and policy bundle verifiers so both judge them the same way.
 */
export class SignedEnvelopeChecks {
  private readonly trustedKeys: ReadonlyMap<string, KeyObject>;

  /** @throws InvalidVerifierOptionsError when the options could never verify correctly. */
  constructor(private readonly options: SignedEnvelopeOptions) {
    const { workerId, tenantId, maxClockSkewMs, maxValidityWindowMs } = options;
    requireOption(ID_PATTERNS.uuid.test(workerId), 'workerId: expected a UUID');
    requireOption(ID_PATTERNS.uuid.test(tenantId), 'tenantId: expected a UUID');
    requireOption(Number.isSafeInteger(maxClockSkewMs) && maxClockSkewMs >= 0, 'maxClockSkewMs: expected a non-negative integer');
    requireOption(Number.isSafeInteger(maxValidityWindowMs) && maxValidityWindowMs > 0, 'maxValidityWindowMs: expected a positive integer');
    this.trustedKeys = importTrustedKeys(options.trustedKeys);
  }

  /** UNKNOWN_KEY unless `keyId` is pinned, BAD_SIGNATURE unless its key signed `signedMessage`. */
  signature(keyId: string, signedMessage: Buffer, signature: Buffer): EnvelopeFailure | undefined {
    const key = this.trustedKeys.get(keyId);
    if (key === undefined) return 'UNKNOWN_KEY';
    return verifyWithKey(key, signedMessage, signature) ? undefined : 'BAD_SIGNATURE';
  }

  /** WRONG_AUDIENCE or WRONG_TENANT when the (authenticated) claims name another worker or tenant. */
  addressee(claims: EnvelopeClaims): EnvelopeFailure | undefined {
    if (claims.audience !== this.options.workerId) return 'WRONG_AUDIENCE';
    if (claims.tenantId !== this.options.tenantId) return 'WRONG_TENANT';
    return undefined;
  }

  /**
   * NOT_YET_VALID when issued beyond the clock skew in the future; EXPIRED once the expiry
   * plus the skew has passed, or when the validity window is longer than allowed.
   */
  validity(claims: EnvelopeClaims): EnvelopeFailure | undefined {
    const nowMs = this.options.clock();
    if (claims.issuedAtMs - this.options.maxClockSkewMs > nowMs) return 'NOT_YET_VALID';
    if (nowMs >= this.acceptedUntilMs(claims) || claims.expiresAtMs - claims.issuedAtMs > this.options.maxValidityWindowMs) {
      return 'EXPIRED';
    }
    return undefined;
  }

  /** The first instant at which `validity` calls the envelope EXPIRED, skew included. */
  acceptedUntilMs(claims: EnvelopeClaims): number {
    return claims.expiresAtMs + this.options.maxClockSkewMs;
  }
}

function requireOption(condition: boolean, problem: string): void {
  if (!condition) throw new InvalidVerifierOptionsError(problem);
}

/** Imports pinned keys (keyId → raw Ed25519 public key), refusing a pin whose id is not its key's. */
export function importTrustedKeys(trustedKeys: ReadonlyMap<string, Buffer>): ReadonlyMap<string, KeyObject> {
  const imported = new Map<string, KeyObject>();
  for (const [keyId, rawPublicKey] of trustedKeys) {
    let derivedKeyId: string;
    let publicKey: KeyObject;
    try {
      derivedKeyId = signingKeyIdOf(rawPublicKey);
      publicKey = publicKeyFromRaw(rawPublicKey);
    } catch {
      throw new InvalidVerifierOptionsError(`trustedKeys[${keyId}]: expected a raw 32-byte Ed25519 public key`);
    }
    // A pin whose id is not derived from its key is a configuration mistake; caught here
    // it is one clear error at boot instead of every envelope failing as UNKNOWN_KEY.
    requireOption(keyId === derivedKeyId, `trustedKeys[${keyId}]: the key's id is ${derivedKeyId}`);
    imported.set(keyId, publicKey);
  }
  return imported;
}

/**
 * Runs `read` on input that came off the network and may not even have the shape its type
 * promises: any exception means the input is malformed.
 */
export function readQuietly<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}
