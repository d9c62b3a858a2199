import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WORKER_LABEL_PATTERN } from '../config/worker-config.schema';

/** Who this worker is, as issued by the control plane at enrollment. */
export interface WorkerIdentity {
  readonly workerId: string;
  readonly tenantId: string;
  /**
   * The pool the enrollment token named (null: none). It counts among the worker's pools
   * like a label of its config, and changes only when the worker enrolls anew.
   */
  readonly pool: string | null;
  readonly privateKeyPem: string;
}

/** The key and certificate the worker presents to a gateway that uses mutual TLS, both PEM. */
export interface ClientCertificate {
  readonly keyPem: Buffer;
  readonly certPem: Buffer;
}

/** Raised when `run` or `doctor` finds no enrolled identity in the state directory. */
export class WorkerNotEnrolledError extends Error {
  override readonly name = 'WorkerNotEnrolledError';
  readonly code = 'WORKER_NOT_ENROLLED';
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The worker's secrets and identity on disk: `worker-key.pem` (Ed25519 private key),
 * `identity.json` and `mac.key` (the HMAC key for change/delivery MACs), all mode 0600 in
 * the state directory. Nothing here ever goes upstream except the public key at enrollment.
 */
export class WorkerIdentityStore {
  constructor(private readonly stateDir: string) {}

  get keyFile(): string {
    return join(this.stateDir, 'worker-key.pem');
  }

  get identityFile(): string {
    return join(this.stateDir, 'identity.json');
  }

  get macKeyFile(): string {
    return join(this.stateDir, 'mac.key');
  }

  isEnrolled(): boolean {
    return existsSync(this.identityFile);
  }

  /**
   * Writes a new private key beside the current one before enrollment (so a crash after
   * `Enroll` never loses it); `saveIdentity` promotes it. A failed re-enrollment thus
   * leaves the previous key and identity consistent.
   */
  savePendingPrivateKey(privateKeyPem: string): void {
    mkdirSync(this.stateDir, { recursive: true, mode: 0o700 });
    writeFileSync(`${this.keyFile}.pending`, privateKeyPem, { mode: 0o600 });
  }

  /** Promotes the pending key, records the issued ids and the enrolled pool, and creates a fresh 32-byte MAC key. */
  saveIdentity(workerId: string, tenantId: string, pool: string | null): void {
    renameSync(`${this.keyFile}.pending`, this.keyFile);
    writeFileSync(this.identityFile, `${JSON.stringify({ workerId, tenantId, pool }, null, 2)}\n`, { mode: 0o600 });
    writeFileSync(this.macKeyFile, randomBytes(32), { mode: 0o600 });
  }

  /** Loads the identity or throws WorkerNotEnrolledError naming what is missing. */
  load(): WorkerIdentity {
    if (!existsSync(this.identityFile) || !existsSync(this.keyFile)) {
      throw new WorkerNotEnrolledError(`not enrolled: ${this.identityFile} or ${this.keyFile} is missing (run \`enroll\` first)`);
    }
    const parsed = JSON.parse(readFileSync(this.identityFile, 'utf8')) as { workerId?: unknown; tenantId?: unknown; pool?: unknown };
    if (typeof parsed.workerId !== 'string' || !UUID.test(parsed.workerId) || typeof parsed.tenantId !== 'string' || !UUID.test(parsed.tenantId)) {
      throw new WorkerNotEnrolledError(`${this.identityFile}: expected {"workerId": UUID, "tenantId": UUID}`);
    }
    // Identity files written before enrollment carried a pool have none: no enrolled pool.
    const pool = parsed.pool ?? null;
    if (pool !== null && (typeof pool !== 'string' || !WORKER_LABEL_PATTERN.test(pool))) {
      throw new WorkerNotEnrolledError(`${this.identityFile}: pool: expected null or a pool label matching ${WORKER_LABEL_PATTERN.source}`);
    }
    return { workerId: parsed.workerId, tenantId: parsed.tenantId, pool, privateKeyPem: readFileSync(this.keyFile, 'utf8') };
  }

  get tlsKeyFile(): string {
    return join(this.stateDir, 'tls-key.pem');
  }

  get tlsCertFile(): string {
    return join(this.stateDir, 'tls-cert.pem');
  }

  /**
   * Keeps the client certificate the control plane issued at enrollment with its key (0600),
   * or, when it issued none, removes one a previous enrollment left: it names another worker id.
   */
  saveClientCertificate(keyPem: string, certPem: string): void {
    if (certPem === '') {
      rmSync(this.tlsKeyFile, { force: true });
      rmSync(this.tlsCertFile, { force: true });
      return;
    }
    writeFileSync(this.tlsKeyFile, keyPem, { mode: 0o600 });
    writeFileSync(this.tlsCertFile, certPem, { mode: 0o600 });
  }

  /** The client certificate and its key, when enrollment brought one (mutual TLS); undefined otherwise. */
  loadClientCertificate(): ClientCertificate | undefined {
    if (!existsSync(this.tlsCertFile) || !existsSync(this.tlsKeyFile)) return undefined;
    return { keyPem: readFileSync(this.tlsKeyFile), certPem: readFileSync(this.tlsCertFile) };
  }

  /** The HMAC key; throws if missing (it is created at enrollment). */
  loadMacKey(): Buffer {
    const key = readFileSync(this.macKeyFile);
    if (key.length !== 32) throw new WorkerNotEnrolledError(`${this.macKeyFile}: expected 32 bytes`);
    return key;
  }
}
