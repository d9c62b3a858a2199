// @peculiar/x509 resolves its services through tsyringe, which needs the Reflect metadata
// polyfill; Nest loads it too, so importing it here only makes this module stand alone.
import 'reflect-metadata';
import { X509Certificate, createPrivateKey, createPublicKey, randomBytes, webcrypto, type KeyObject } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import * as x509 from '@peculiar/x509';
import type { ClientCaConfig, ClientCertificateMode } from '../config/app-config';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const P256 = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** How long a worker's client certificate is valid: a little over a year, the CA/Browser Forum's ceiling for TLS certificates. */
export const CLIENT_CERTIFICATE_VALIDITY_DAYS = 397;
/** Clocks of worker hosts run a little behind: a certificate is valid from a few minutes before it was issued. */
const BACKDATE_MS = 5 * 60_000;
/** Largest TLS public key an EnrollRequest may carry: a P-256 SubjectPublicKeyInfo is 91 bytes. */
export const MAX_TLS_PUBLIC_KEY_BYTES = 512;

/** The URI a worker's certificate names it by (subjectAltName), beside CN = worker id. */
export function workerCertificateUri(workerId: string): string {
  return `urn:airlock:worker:${workerId}`;
}

/** A TLS public key in an EnrollRequest that is not DER SubjectPublicKeyInfo of a P-256 key. */
export class TlsPublicKeyInvalidError extends Error {
  override readonly name = 'TlsPublicKeyInvalidError';
}

/**
 * The gateway's client CA (mutual TLS): issues each enrolling worker a certificate for the
 * P-256 key it generated (CN = worker id, O = tenant id, URI SAN urn:airlock:worker:<id>,
 * clientAuth only), and tells which worker a certificate presented on a Connect names. The
 * TLS layer has already checked that certificate chains to this CA (grpc-js reports a peer
 * certificate only when the handshake authorized it); the check here is repeated anyway.
 */
export class ClientCertificateAuthority {
  private constructor(
    readonly mode: ClientCertificateMode,
    readonly caCertificatePem: Buffer,
    private readonly caCertificate: X509Certificate,
    private readonly issuerName: string,
    private readonly signingKey: webcrypto.CryptoKey,
  ) {}

  static async load(config: ClientCaConfig): Promise<ClientCertificateAuthority> {
    const privateKey = createPrivateKey(config.keyPem);
    const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' });
    const signingKey = await webcrypto.subtle.importKey('pkcs8', pkcs8, P256, false, ['sign']);
    const caCertificate = new X509Certificate(config.certPem);
    const issuerName = new x509.X509Certificate(config.certPem.toString('utf8')).subject;
    return new ClientCertificateAuthority(config.mode, config.certPem, caCertificate, issuerName, signingKey);
  }

  /**
   * Checks a worker's TLS key before anything is recorded for it.
   *
   * @throws TlsPublicKeyInvalidError when the key is not DER SubjectPublicKeyInfo of a P-256 key.
   */
  async checkKey(tlsPublicKeyDer: Buffer): Promise<void> {
    await importWorkerKey(tlsPublicKeyDer);
  }

  /**
   * A client certificate (PEM) for the worker's TLS key.
   *
   * @throws TlsPublicKeyInvalidError when the key is not DER SubjectPublicKeyInfo of a P-256 key.
   */
  async issue(workerId: string, tenantId: string, tlsPublicKeyDer: Buffer, now: Date): Promise<string> {
    const publicKey = await importWorkerKey(tlsPublicKeyDer);
    const certificate = await x509.X509CertificateGenerator.create({
      // 16 random bytes, the top bit clear so the DER integer stays positive.
      serialNumber: Buffer.from([randomBytes(1)[0]! & 0x7f, ...randomBytes(15)]).toString('hex'),
      issuer: this.issuerName,
      subject: `CN=${workerId}, O=${tenantId}`,
      notBefore: new Date(now.getTime() - BACKDATE_MS),
      notAfter: new Date(now.getTime() + CLIENT_CERTIFICATE_VALIDITY_DAYS * 86_400_000),
      signingAlgorithm: P256,
      publicKey,
      signingKey: this.signingKey,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth], false),
        new x509.SubjectAlternativeNameExtension([{ type: 'url', value: workerCertificateUri(workerId) }], false),
      ],
    });
    return certificate.toString('pem');
  }

  /**
   * The worker id a certificate presented on a Connect names, or why it names none: issued by
   * another CA, outside its validity, or without the worker's name in both CN and URI SAN.
   */
  workerOf(peer: PeerCertificate, now: Date): { readonly workerId: string } | { readonly problem: string } {
    let certificate: X509Certificate;
    try {
      certificate = new X509Certificate(peer.raw);
    } catch {
      return { problem: 'the client certificate does not parse' };
    }
    if (!certificate.checkIssued(this.caCertificate) || !certificate.verify(this.caCertificate.publicKey)) return { problem: 'the client certificate was not issued by the gateway client CA' };
    if (now < new Date(certificate.validFrom) || now > new Date(certificate.validTo)) return { problem: 'the client certificate is outside its validity' };
    const workerId = /(?:^|\n)CN=([0-9a-f-]{36})(?:\n|$)/.exec(certificate.subject)?.[1];
    if (workerId === undefined || !(certificate.subjectAltName ?? '').split(', ').includes(`URI:${workerCertificateUri(workerId)}`)) {
      return { problem: 'the client certificate names no worker' };
    }
    return { workerId };
  }
}

async function importWorkerKey(der: Buffer): Promise<webcrypto.CryptoKey> {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: der, format: 'der', type: 'spki' });
  } catch {
    throw new TlsPublicKeyInvalidError('tlsPublicKey: expected DER SubjectPublicKeyInfo');
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new TlsPublicKeyInvalidError('tlsPublicKey: expected a P-256 (prime256v1) public key');
  }
  return webcrypto.subtle.importKey('spki', der, P256, true, ['verify']);
}
