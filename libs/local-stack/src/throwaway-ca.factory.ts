import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** PEM files of a throwaway private CA and of a server certificate it issued. */
export interface ThrowawayCertificates {
  /** The CA certificate: what a worker pins as `controlPlane.tls.caFile`. */
  readonly caFile: string;
  /** The server certificate (SAN IP:127.0.0.1, DNS:localhost), for AIRLOCK_GRPC_TLS_CERT_FILE. */
  readonly certFile: string;
  /** Its private key (mode 0600), for AIRLOCK_GRPC_TLS_KEY_FILE. */
  readonly keyFile: string;
}

// Long enough for a demo left running over a weekend, short enough to be worthless after.
const VALIDITY_DAYS = '7';
const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/**
 * Creates, with the `openssl` CLI (argv, no shell), a throwaway CA and a server certificate
 * for 127.0.0.1 / localhost into `dir`, for tests and the demo. The CA's private key is
 * deleted once the server certificate is signed, so nothing else can ever be issued by it.
 */
export async function createThrowawayCertificates(dir: string, name = 'Airlock throwaway CA'): Promise<ThrowawayCertificates> {
  mkdirSync(dir, { recursive: true });
  const caFile = join(dir, 'ca.pem');
  const caKeyFile = join(dir, 'ca.key');
  const certFile = join(dir, 'server.pem');
  const keyFile = join(dir, 'server.key');
  const csrFile = join(dir, 'server.csr');
  const extFile = join(dir, 'server.ext');
  try {
    await openssl([
      'req', '-x509', ...EC_KEY, '-keyout', caKeyFile, '-out', caFile, '-days', VALIDITY_DAYS, '-subj', `/CN=${name}`,
      '-addext', 'basicConstraints=critical,CA:TRUE,pathlen:0', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    await openssl(['req', '-new', ...EC_KEY, '-keyout', keyFile, '-out', csrFile, '-subj', '/CN=localhost']);
    writeFileSync(
      extFile,
      'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n',
    );
    await openssl([
      'x509', '-req', '-in', csrFile, '-CA', caFile, '-CAkey', caKeyFile, '-set_serial', `0x${randomBytes(16).toString('hex')}`,
      '-days', VALIDITY_DAYS, '-sha256', '-extfile', extFile, '-out', certFile,
    ]);
    chmodSync(keyFile, 0o600);
  } finally {
    for (const file of [caKeyFile, csrFile, extFile]) rmSync(file, { force: true });
  }
  return { caFile, certFile, keyFile };
}

/** PEM files of a throwaway client CA: the gateway's AIRLOCK_GRPC_CLIENT_CA_CERT_FILE and _KEY_FILE. */
export interface ThrowawayClientCa {
  readonly certFile: string;
  /** Its P-256 private key (mode 0600): the gateway issues workers' client certificates with it. */
  readonly keyFile: string;
}

/**
 * Creates, with the `openssl` CLI, a throwaway CA for mutual TLS on the gateway (P-256, CA:TRUE),
 * for tests and the demo. Unlike the server CA its key is kept: the control plane signs each
 * enrolling worker's client certificate with it.
 */
export async function createThrowawayClientCa(dir: string, name = 'Airlock throwaway worker client CA'): Promise<ThrowawayClientCa> {
  mkdirSync(dir, { recursive: true });
  const certFile = join(dir, 'client-ca.pem');
  const keyFile = join(dir, 'client-ca.key');
  await openssl([
    'req', '-x509', ...EC_KEY, '-keyout', keyFile, '-out', certFile, '-days', VALIDITY_DAYS, '-subj', `/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE,pathlen:0', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  chmodSync(keyFile, 0o600);
  return { certFile, keyFile };
}

async function openssl(args: readonly string[]): Promise<void> {
  try {
    await run('openssl', args, { timeout: 30_000 });
  } catch (error) {
    const { code, stderr } = error as NodeJS.ErrnoException & { stderr?: string };
    if (code === 'ENOENT') throw new Error('openssl is not installed (scripts/ensure-system-packages.sh installs it)');
    throw new Error(`openssl ${args[0] ?? ''} failed: ${String(stderr ?? '').trim().slice(0, 500)}`);
  }
}
