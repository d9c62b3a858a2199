import { readFileSync } from 'node:fs';
import { rewriteDurably } from '@airlock/durable-file';
import type { PolicyBundleVerifier } from '@airlock/envelope';
import { parseBundleLayers, type BundleLayers, type PolicyFieldError } from '@airlock/policy';
import type { PolicyBundlePayload__Output, SignedPolicyBundle__Output } from '@airlock/protocol';
import { PolicyBundleFileInvalidError } from './policy-bundle-file-invalid.error';

/** The file under stateDir that holds the signed bundle in force, exactly as it was received. */
export const POLICY_BUNDLE_FILE = 'policy-bundle.json';

/** The central policy bundle in force: what was signed, with its layers parsed. */
export interface AppliedPolicyBundle {
  readonly revision: number;
  readonly issuedAtMs: number;
  readonly expiresAtMs: number;
  /** The control-plane key that signed it. */
  readonly keyId: string;
  readonly layers: BundleLayers;
}

/** The signed bundle as stored: its bytes in base64, so that the signature can be checked again on every start. */
interface StoredBundle {
  readonly payload: string;
  readonly signature: string;
  readonly keyId: string;
}

/** The layers' JSON parsed against libs/policy's bundle schema, or the paths of what is wrong (never the values). */
export function parseLayersJson(layersJson: string): { ok: true; layers: BundleLayers } | { ok: false; errors: PolicyFieldError[] } {
  let input: unknown;
  try {
    input = JSON.parse(layersJson);
  } catch {
    return { ok: false, errors: [{ path: '', expected: 'JSON' }] };
  }
  const parsed = parseBundleLayers(input);
  return parsed.ok ? { ok: true, layers: parsed.value } : parsed;
}

/** The applied form of a verified payload whose layers parsed. */
export function appliedBundleOf(payload: PolicyBundlePayload__Output, keyId: string, layers: BundleLayers): AppliedPolicyBundle {
  return { revision: payload.revision, issuedAtMs: payload.issuedAtMs, expiresAtMs: payload.expiresAtMs, keyId, layers };
}

/**
 * The central policy bundle in force on this worker, kept across restarts. A new bundle
 * replaces the old one on disk first — atomically, fsync'd (`rewriteDurably`) — and only
 * then in memory: a crash before the rename leaves the old bundle in force, one after it
 * the new one; nothing in between. Writes happen on the daemon's one event loop, one at
 * a time, which serialises the fixed temporary name `rewriteDurably` uses.
 */
export class CentralPolicyStore {
  private constructor(
    private readonly filePath: string,
    private applied: AppliedPolicyBundle | undefined,
  ) {}

  /**
   * Reads the bundle in force, if any, and checks it again with the pinned keys: its key,
   * signature and addressee, not its expiry (an applied bundle stays in force until a newer
   * one replaces it, so a worker restarting offline keeps it).
   *
   * @throws PolicyBundleFileInvalidError when the file cannot be read back or no longer
   *   verifies: the worker must not start on a weaker policy without the operator knowing.
   */
  static open(filePath: string, verifier: Pick<PolicyBundleVerifier, 'verifyApplied'>): CentralPolicyStore {
    let text: string;
    try {
      text = readFileSync(filePath, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new CentralPolicyStore(filePath, undefined);
      throw new PolicyBundleFileInvalidError(filePath, `it cannot be read (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`);
    }
    const bundle = readStoredBundle(text);
    if (bundle === undefined) throw new PolicyBundleFileInvalidError(filePath, 'it is not a stored signed bundle ({payload, signature, keyId})');
    const verified = verifier.verifyApplied(bundle);
    if (!verified.ok) throw new PolicyBundleFileInvalidError(filePath, `it fails verification with the pinned keys (${verified.failureCode})`);
    const layers = parseLayersJson(verified.payload.layersJson);
    if (!layers.ok) throw new PolicyBundleFileInvalidError(filePath, `its layers do not pass the policy schema (${layers.errors.map((e) => e.path || '(root)').join(', ')})`);
    return new CentralPolicyStore(filePath, appliedBundleOf(verified.payload, bundle.keyId, layers.layers));
  }

  /** The bundle in force, or undefined when local policy alone applies. */
  get current(): AppliedPolicyBundle | undefined {
    return this.applied;
  }

  /** The revision in force (0: none), as Hello.policy_revision reports it. */
  get revision(): number {
    return this.applied?.revision ?? 0;
  }

  /**
   * Makes `bundle` (verified, its layers parsed into `applied`) the one in force: written
   * durably, then swapped in.
   *
   * @throws the file system's error when it cannot be written; the bundle in force stays.
   */
  replace(bundle: SignedPolicyBundle__Output, applied: AppliedPolicyBundle): void {
    const stored: StoredBundle = { payload: bundle.payload.toString('base64'), signature: bundle.signature.toString('base64'), keyId: bundle.keyId };
    rewriteDurably(this.filePath, Buffer.from(`${JSON.stringify(stored)}\n`, 'utf8'));
    this.applied = applied;
  }
}

function readStoredBundle(text: string): SignedPolicyBundle__Output | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { payload, signature, keyId } = value as Partial<Record<keyof StoredBundle, unknown>>;
  const base64 = /^[A-Za-z0-9+/]*={0,2}$/;
  if (typeof payload !== 'string' || typeof signature !== 'string' || typeof keyId !== 'string' || !base64.test(payload) || !base64.test(signature)) return undefined;
  return { payload: Buffer.from(payload, 'base64'), signature: Buffer.from(signature, 'base64'), keyId };
}
