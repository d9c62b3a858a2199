import { X509Certificate, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { generateSigningKeyPair } from '@airlock/envelope';
import { ID_PATTERNS, type EnrollResponse__Output } from '@airlock/protocol';
import { stringify } from 'yaml';
import { loadWorkerConfig } from '../config/worker-config.loader';
import { WORKER_LABEL_PATTERN } from '../config/worker-config.schema';
import { createWorkerGatewayClient } from '../gateway/worker-gateway.client-factory';
import { WorkerIdentityStore } from '../identity/worker-identity.store';
import { POLICY_BUNDLE_FILE } from '../policy/central-policy.store';
import { CliExitError, EXIT_CODES } from './exit-codes';
import { workerVersion } from './worker-version';

const ENROLL_DEADLINE_MS = 15_000;

/** Options of `enroll`. */
export interface EnrollOptions {
  readonly config: string;
  /** The token itself, or (exactly one of the two) a file holding it. */
  readonly token?: string | undefined;
  readonly tokenFile?: string | undefined;
  readonly force?: boolean | undefined;
}

/** A token file holds one short line; anything longer is not a token file. */
const MAX_TOKEN_FILE_BYTES = 1024;

/**
 * Generates the worker's Ed25519 key locally, exchanges the one-time token and the public
 * key for an identity (with the pool the token named, if any), stores it, and prints the
 * control plane's signing keys as YAML for the operator to pin. The worker does not trust
 * those keys until they are pinned.
 */
export async function enrollCommand(options: EnrollOptions, print: (text: string) => void, warn: (text: string) => void): Promise<number> {
  const config = loadWorkerConfig(options.config);
  const store = new WorkerIdentityStore(config.stateDir);
  if (store.isEnrolled() && !options.force) {
    throw new CliExitError(EXIT_CODES.enrollmentState, `already enrolled (${store.identityFile} exists); pass --force to enroll again with a new key`);
  }
  const token = enrollmentTokenOf(options);
  const keyPair = generateSigningKeyPair();
  store.savePendingPrivateKey(keyPair.privateKeyPem);
  // For mutual TLS: a control plane with a client CA certifies this key; others ignore it.
  const tlsKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const client = createWorkerGatewayClient(config.controlPlane);
  let response: EnrollResponse__Output;
  try {
    response = await new Promise<EnrollResponse__Output>((resolve, reject) => {
      client.Enroll(
        { enrollmentToken: token, workerPublicKey: keyPair.publicKey, workerVersion: workerVersion(), tlsPublicKey: tlsKey.publicKey.export({ format: 'der', type: 'spki' }) },
        { deadline: Date.now() + ENROLL_DEADLINE_MS },
        (error, value) => (error || !value ? reject(error ?? new Error('empty response')) : resolve(value)),
      );
    });
  } catch (error) {
    const { code: status, details } = error as grpc.ServiceError;
    // FAILED_PRECONDITION and INVALID_ARGUMENT say what to change; the message is the control plane's, about this request.
    const why = status === grpc.status.FAILED_PRECONDITION || status === grpc.status.INVALID_ARGUMENT ? `: ${details}` : '';
    throw new CliExitError(EXIT_CODES.controlPlane, `enrollment failed: ${status === undefined ? 'no answer' : grpc.status[status]}${why}`);
  } finally {
    client.close();
  }
  if (!ID_PATTERNS.uuid.test(response.workerId) || !ID_PATTERNS.uuid.test(response.tenantId)) {
    throw new CliExitError(EXIT_CODES.controlPlane, 'enrollment answer malformed: expected UUID worker and tenant ids');
  }
  // The pool crosses into Hello.labels and selects pool layers: held to the shape a config
  // label has, and refused before anything is stored, so the previous identity stays whole.
  if (response.pool !== '' && !WORKER_LABEL_PATTERN.test(response.pool)) {
    throw new CliExitError(EXIT_CODES.controlPlane, `enrollment answer malformed: pool: expected empty or a pool label matching ${WORKER_LABEL_PATTERN.source}`);
  }
  const pool = response.pool === '' ? null : response.pool;
  if (response.clientCertificatePem !== '' && !certifies(response.clientCertificatePem, tlsKey.privateKey, response.workerId)) {
    throw new CliExitError(EXIT_CODES.controlPlane, 'enrollment answer malformed: clientCertificatePem: expected a certificate of this worker for the TLS key it sent');
  }
  store.saveIdentity(response.workerId, response.tenantId, pool);
  store.saveClientCertificate(tlsKey.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), response.clientCertificatePem);
  // A central policy bundle is addressed to one worker: the one stored for the previous
  // identity would stop `run` (wrong audience). The new identity gets its own at connect.
  const storedBundle = join(config.stateDir, POLICY_BUNDLE_FILE);
  const hadBundle = existsSync(storedBundle);
  rmSync(storedBundle, { force: true });
  const keys = response.signingKeys
    .filter((key) => ID_PATTERNS.signingKeyId.test(key.keyId) && key.publicKey.length === 32)
    .map((key) => ({ keyId: key.keyId, publicKey: key.publicKey.toString('base64') }));
  print(`# Enrolled as worker ${response.workerId} (tenant ${response.tenantId}).\n`);
  if (pool !== null) print(`# Enrolled into pool ${pool}: its pool policy layers apply here as if \`labels\` listed it.\n`);
  if (response.clientCertificatePem !== '') print(`# Client certificate for mutual TLS stored in ${store.tlsCertFile}.\n`);
  if (hadBundle) print(`# Removed the central policy bundle of the previous identity (${storedBundle}); the control plane sends this worker its own when it connects.\n`);
  print(`# Paste under controlPlane: in ${config.configFile} after checking the key ids with your control-plane admin:\n`);
  print(stringify({ trustedSigningKeys: keys }));
  const pinned = new Set(config.controlPlane.trustedSigningKeys.map((key) => key.keyId));
  if (!keys.some((key) => pinned.has(key.keyId))) {
    warn('warning: none of these signing keys is pinned in controlPlane.trustedSigningKeys yet; the worker will refuse every instruction until one is.\n');
  }
  return EXIT_CODES.ok;
}

/** Whether a PEM certificate is for this private key and names this worker (CN). */
function certifies(certPem: string, privateKey: KeyObject, workerId: string): boolean {
  try {
    const certificate = new X509Certificate(certPem);
    return certificate.checkPrivateKey(privateKey) && certificate.subject.split('\n').includes(`CN=${workerId}`);
  } catch {
    return false;
  }
}

/** The token from --token or --token-file (exactly one), checked for its shape; errors never quote it. */
function enrollmentTokenOf(options: EnrollOptions): string {
  if ((options.token === undefined) === (options.tokenFile === undefined)) {
    throw new CliExitError(EXIT_CODES.configInvalid, '--token-file: expected exactly one of --token-file or --token');
  }
  const [option, token] = options.tokenFile === undefined ? ['--token', options.token ?? ''] : ['--token-file', readTokenFile(options.tokenFile)];
  if (!ID_PATTERNS.enrollmentToken.test(token)) {
    throw new CliExitError(EXIT_CODES.configInvalid, `${option}: expected an enrollment token (aet_ followed by 43 base64url characters)`);
  }
  return token;
}

function readTokenFile(file: string): string {
  let content: Buffer;
  try {
    content = readFileSync(file);
  } catch (error) {
    throw new CliExitError(EXIT_CODES.configInvalid, `--token-file: expected a readable file (${(error as NodeJS.ErrnoException).code ?? 'unreadable'}: ${file})`);
  }
  if (content.length > MAX_TOKEN_FILE_BYTES) throw new CliExitError(EXIT_CODES.configInvalid, `--token-file: expected one enrollment token, not ${content.length} bytes (${file})`);
  return content.toString('utf8').trim();
}
