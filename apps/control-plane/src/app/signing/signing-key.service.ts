import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy, Optional } from '@nestjs/common';
import { DataAccess, signingKeyState, type AuditActor, type NewSigningKey, type SigningKeyRecord, type SigningKeyState, type SigningPublicKeyRecord } from '@airlock/data-access';
import { generateSigningKeyPair, type InstructionSigningKey, type SigningKeyPair } from '@airlock/envelope';
import { SealedSecretError, isSealedValue, type SecretSealer } from '@airlock/sealed-secrets';
import { CLOCK, type Clock } from '../common/clock';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { sealAtRest } from '../secrets/sealed-at-rest';
import { SecretsAtRestError } from '../secrets/secrets-at-rest.error';
import { SECRET_SEALER } from '../secrets/secret-sealer.provider';
import { SigningKeyAlreadyStagedError } from './signing-key-already-staged.error';
import { SigningKeyNotFoundError } from './signing-key-not-found.error';
import { SigningKeyNotStagedError } from './signing-key-not-staged.error';
import { NotPlatformTenantError } from './not-platform-tenant.error';

/** What a signing key's private key is sealed for: the key's own row and column, so a sealed value moved to another row does not open. */
export function signingKeyPurpose(keyId: string): string {
  return `control-plane/signing-key/${keyId}/private-key`;
}

/**
 * How often each replica reads which key is ACTIVE. An activation on one replica reaches every
 * other one within this (plus one database read): the bound docs/operations/key-rotation.md
 * promises. The replica that activates switches before it answers.
 */
export const SIGNING_KEY_REFRESH_INTERVAL_MS = 5_000;

/**
 * How long past the instruction TTL a retired key stays listed, i.e. must stay pinned on
 * workers: another replica may sign with it for up to SIGNING_KEY_REFRESH_INTERVAL_MS after
 * the activation, and a worker accepts an instruction up to its 30 s clock-skew allowance
 * past its expiry. One minute covers both with room to spare.
 */
export const SIGNING_KEY_GRACE_MARGIN_MS = 60_000;

/** A signing key as the API and enrollment show it: its state and, once retired, until when workers must keep it pinned. */
export interface SigningKeyView extends SigningPublicKeyRecord {
  readonly state: SigningKeyState;
  /** For a RETIRED key: the end of its grace period, after which workers may unpin it. Null otherwise. */
  readonly unpinAfter: Date | null;
}

/** What an activation did. */
export interface SigningKeyActivation {
  readonly activated: SigningKeyView;
  readonly retired: SigningKeyView | null;
  /** By then every replica that can read the database signs with the activated key. */
  readonly allReplicasSigningBy: Date;
}

/**
 * The control plane's instruction-signing keys: the one that signs instructions, policy
 * bundles and control frames (`currentSigner`), and their rotation (stage, activate).
 *
 * Which key signs is held in memory, because signing is on the dispatch path and must stay
 * synchronous and cheap; it is read again from the database every
 * SIGNING_KEY_REFRESH_INTERVAL_MS, so that an activation made through any replica reaches all
 * of them within that bound. Only the ACTIVE key is unsealed, once per stored value.
 */
@Injectable()
export class SigningKeyService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('SigningKeys');
  private signer: InstructionSigningKey | undefined;
  /** Private keys opened so far, by key id, with the stored value each was opened from: a rewrapped row is opened again. */
  private readonly opened = new Map<string, { readonly stored: string; readonly privateKeyPem: string }>();
  /** Refreshes run one after another, so one asked for after a change reads that change. */
  private refreshChain: Promise<void> = Promise.resolve();
  private refreshTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly data: DataAccess,
    @Inject(APP_CONFIG) private readonly config: Pick<AppConfig, 'instructionTtlMs' | 'platformTenantName'>,
    @Inject(CLOCK) private readonly clock: Clock,
    @Optional() @Inject(SECRET_SEALER) private readonly sealer: SecretSealer | null = null,
  ) {}

  /**
   * Makes sure a key is ACTIVE, generating the first one on the very first start, brings every
   * stored private key in line with the configured KEKs (docs/security.md#secrets-at-rest):
   * plain ones sealed, ones under a previous KEK rewrapped under the active one; then reads
   * the key to sign with.
   */
  async load(): Promise<void> {
    const candidate = generateSigningKeyPair();
    const stored = await this.storedForm(candidate);
    await this.data.signingKeys.ensureActive(() => stored);
    const rows = (await this.data.signingKeys.listStoredPrivateKeys()).map((key) => ({ id: key.keyId, stored: key.privateKeyPem }));
    const { report } = await sealAtRest(rows, this.sealer, signingKeyPurpose, (keyId, expected, next) => this.data.signingKeys.replaceStoredPrivateKey(keyId, expected, next));
    if (this.sealer) {
      this.logger.log({ event: 'signing_keys_sealed_at_rest', activeKekId: this.sealer.activeKekId, keys: rows.length, ...report });
    } else {
      this.logger.warn({ event: 'signing_keys_unsealed_at_rest', keys: rows.length, note: 'set AIRLOCK_KEK_FILE to seal them (docs/security.md#secrets-at-rest)' });
    }
    await this.refresh();
  }

  onApplicationBootstrap(): void {
    // Nest may call this once for the HTTP app and once for the gateway microservice it shares its modules with.
    if (this.refreshTimer === undefined) this.scheduleRefresh();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.refreshTimer);
    await this.refreshChain.catch(() => undefined);
  }

  /** Refuses a caller of any tenant but the one that operates the control plane (AIRLOCK_PLATFORM_TENANT). */
  private async requirePlatformTenant(tenantId: string, action: string): Promise<void> {
    const platform = await this.data.tenants.findByName(this.config.platformTenantName);
    if (platform?.id !== tenantId) throw new NotPlatformTenantError(action);
  }

  /** The key that signs new instructions, policy bundles and control frames: the ACTIVE one, as last read. */
  currentSigner(): InstructionSigningKey {
    if (!this.signer) throw new Error('signing keys are not loaded yet');
    return this.signer;
  }

  /**
   * The keys worker operators pin (`controlPlane.trustedSigningKeys`), oldest first: the ACTIVE
   * key, a STAGED one, and RETIRED ones still in their grace period (the instruction TTL plus
   * SIGNING_KEY_GRACE_MARGIN_MS), since instructions they signed may still be on their way.
   */
  async list(): Promise<SigningKeyView[]> {
    const now = this.clock.now();
    const keys = await this.data.signingKeys.listPublic(new Date(now.getTime() - this.gracePeriodMs()));
    return keys.map((key) => this.view(key));
  }

  /**
   * Generates the NEXT key and stores it STAGED, sealed exactly as the first key is: listed for
   * operators to pin, signing nothing yet.
   *
   * @throws NotPlatformTenantError unless `tenantId` is the platform tenant's.
   * @throws SigningKeyAlreadyStagedError when a key is staged already.
   */
  async stage(tenantId: string, actor: AuditActor): Promise<SigningKeyView> {
    await this.requirePlatformTenant(tenantId, 'staging a signing key');
    const candidate = generateSigningKeyPair();
    const outcome = await this.data.signingKeys.stage(await this.storedForm(candidate), { tenantId, actor, now: this.clock.now() });
    if (outcome.kind === 'ALREADY_STAGED') throw new SigningKeyAlreadyStagedError(outcome.stagedKeyId);
    this.logger.log({ event: 'signing_key_staged', keyId: outcome.key.keyId, tenantId, actorKind: actor.kind, actorId: actor.id });
    return this.view(outcome.key);
  }

  /**
   * Makes the STAGED key `keyId` the one that signs and retires the one that did. This replica
   * switches before it answers, the others within SIGNING_KEY_REFRESH_INTERVAL_MS.
   *
   * @throws NotPlatformTenantError unless `tenantId` is the platform tenant's.
   * @throws SigningKeyNotFoundError when there is no such key.
   * @throws SigningKeyNotStagedError when the key is ACTIVE or RETIRED.
   */
  async activate(keyId: string, tenantId: string, actor: AuditActor): Promise<SigningKeyActivation> {
    await this.requirePlatformTenant(tenantId, 'activating a signing key');
    const now = this.clock.now();
    const outcome = await this.data.signingKeys.activate(keyId, { tenantId, actor, now });
    if (outcome.kind === 'NOT_FOUND') throw new SigningKeyNotFoundError(keyId);
    if (outcome.kind === 'NOT_STAGED') throw new SigningKeyNotStagedError(keyId, outcome.state);
    this.logger.log({ event: 'signing_key_activated', keyId, retiredKeyId: outcome.retired?.keyId ?? null, tenantId, actorKind: actor.kind, actorId: actor.id });
    // Committed whatever happens here: a failed read is logged and tried again on the next tick.
    await this.refresh().catch(() => undefined);
    return {
      activated: this.view(outcome.activated),
      retired: outcome.retired && this.view(outcome.retired),
      allReplicasSigningBy: new Date(now.getTime() + SIGNING_KEY_REFRESH_INTERVAL_MS),
    };
  }

  /**
   * Deletes the STAGED key `keyId`, which signed nothing: a key staged by mistake, or one
   * whose private half may have leaked before it was activated. Stage another to go on.
   *
   * @throws NotPlatformTenantError unless `tenantId` is the platform tenant's.
   * @throws SigningKeyNotFoundError when there is no such key.
   * @throws SigningKeyNotStagedError when the key is ACTIVE or RETIRED.
   */
  async discard(keyId: string, tenantId: string, actor: AuditActor): Promise<SigningKeyView> {
    await this.requirePlatformTenant(tenantId, 'discarding a signing key');
    const outcome = await this.data.signingKeys.discard(keyId, { tenantId, actor, now: this.clock.now() });
    if (outcome.kind === 'NOT_FOUND') throw new SigningKeyNotFoundError(keyId);
    if (outcome.kind === 'NOT_STAGED') throw new SigningKeyNotStagedError(keyId, outcome.state, 'discarded');
    this.logger.log({ event: 'signing_key_discarded', keyId, tenantId, actorKind: actor.kind, actorId: actor.id });
    return this.view(outcome.key);
  }

  /** Reads which key is ACTIVE and signs with it from then on; one read at a time, in the order asked. */
  refresh(): Promise<void> {
    const next = this.refreshChain.catch(() => undefined).then(() => this.readSigner());
    this.refreshChain = next;
    return next;
  }

  private async readSigner(): Promise<void> {
    try {
      const active = await this.data.signingKeys.findActive();
      if (!active) throw new Error('no ACTIVE signing key is stored');
      const privateKeyPem = await this.open(active);
      const previous = this.signer?.keyId;
      this.signer = { keyId: active.keyId, privateKeyPem };
      if (previous !== undefined && previous !== active.keyId) this.logger.log({ event: 'signing_key_switched', from: previous, to: active.keyId });
    } catch (error) {
      // The key in use stays: until an activation reaches this replica, workers still trust it.
      this.logger.error({ event: 'signing_keys_refresh_failed', signingWith: this.signer?.keyId ?? null, error: (error as Error).name, message: error instanceof SecretsAtRestError ? error.message : undefined });
      throw error;
    }
  }

  private scheduleRefresh(): void {
    if (this.stopped) return;
    this.refreshTimer = setTimeout(() => {
      this.refresh()
        .catch(() => undefined)
        .finally(() => this.scheduleRefresh());
    }, SIGNING_KEY_REFRESH_INTERVAL_MS);
    this.refreshTimer.unref();
  }

  /** The private key of a stored row, unsealed once per stored value. */
  private async open(key: SigningKeyRecord): Promise<string> {
    const cached = this.opened.get(key.keyId);
    if (cached?.stored === key.privateKeyPem) return cached.privateKeyPem;
    let privateKeyPem: string;
    if (!isSealedValue(key.privateKeyPem)) {
      privateKeyPem = key.privateKeyPem;
    } else if (!this.sealer) {
      throw new SecretsAtRestError(`${signingKeyPurpose(key.keyId)} is sealed, but no KEK is configured: set AIRLOCK_KEK_FILE`);
    } else {
      try {
        privateKeyPem = await this.sealer.unsealText(signingKeyPurpose(key.keyId), key.privateKeyPem);
      } catch (error) {
        // Which row, then what is wrong with it (an unknown KEK, an altered value): never the value.
        if (error instanceof SealedSecretError) throw new SecretsAtRestError(`${signingKeyPurpose(key.keyId)}: ${error.message}`);
        throw error;
      }
    }
    this.opened.set(key.keyId, { stored: key.privateKeyPem, privateKeyPem });
    return privateKeyPem;
  }

  /** A new key pair as it is stored: sealed under the active KEK when there is one, as every key is. */
  private async storedForm(key: SigningKeyPair): Promise<NewSigningKey> {
    const privateKeyPem = this.sealer ? await this.sealer.seal(signingKeyPurpose(key.keyId), key.privateKeyPem) : key.privateKeyPem;
    return { keyId: key.keyId, publicKey: key.publicKey, privateKeyPem };
  }

  private gracePeriodMs(): number {
    return this.config.instructionTtlMs + SIGNING_KEY_GRACE_MARGIN_MS;
  }

  private view(key: SigningPublicKeyRecord): SigningKeyView {
    const state = signingKeyState(key);
    return { ...key, state, unpinAfter: key.retiredAt && new Date(key.retiredAt.getTime() + this.gracePeriodMs()) };
  }
}
