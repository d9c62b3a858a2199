import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createThrowawayCertificates, type ThrowawayCertificates } from '@airlock/local-stack';
import { loadAppConfig } from './app-config';
import { InvalidConfigError } from './invalid-config.error';

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadAppConfig(env);
  } catch (error) {
    if (error instanceof InvalidConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected the configuration to be rejected');
}

describe('loadAppConfig', () => {
  it('applies the documented defaults to an empty environment', () => {
    const config = loadAppConfig({});
    expect(config).toMatchObject({
      databaseUrl: undefined,
      http: { host: '127.0.0.1', port: 8080 },
      grpc: { host: '127.0.0.1', port: 50051, keepalive: { timeMs: 30_000, timeoutMs: 10_000 } },
      leaseTtlMs: 30_000,
      heartbeatIntervalMs: 5_000,
      instructionTtlMs: 600_000,
      maxAttempts: 3,
      logLevel: 'log',
    });
    expect(config.dataDir.endsWith('.airlock/control-plane')).toBe(true);
  });

  it('parses durations and free ports', () => {
    const config = loadAppConfig({ AIRLOCK_LEASE_TTL: '2s', AIRLOCK_HEARTBEAT_INTERVAL: '250ms', AIRLOCK_HTTP_PORT: '0' });
    expect(config.leaseTtlMs).toBe(2_000);
    expect(config.heartbeatIntervalMs).toBe(250);
    expect(config.http.port).toBe(0);
  });

  it('lets an operator detect an unresponsive worker connection sooner', () => {
    const config = loadAppConfig({ AIRLOCK_GRPC_KEEPALIVE_TIME: '2s', AIRLOCK_GRPC_KEEPALIVE_TIMEOUT: '1s' });
    expect(config.grpc.keepalive).toEqual({ timeMs: 2_000, timeoutMs: 1_000 });
    expect(problemsOf({ AIRLOCK_GRPC_KEEPALIVE_TIME: '10ms' })).toEqual([expect.stringMatching(/^AIRLOCK_GRPC_KEEPALIVE_TIME: expected a duration/)]);
  });

  it('names every bad variable and what it expects', () => {
    const problems = problemsOf({ AIRLOCK_LEASE_TTL: 'soon', AIRLOCK_HTTP_PORT: 'http', LOG_LEVEL: 'loud', AIRLOCK_MAX_ATTEMPTS: '0' });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^AIRLOCK_LEASE_TTL: expected a duration/),
        expect.stringMatching(/^AIRLOCK_HTTP_PORT: expected a TCP port/),
        expect.stringMatching(/^LOG_LEVEL: expected one of fatal, error/),
        expect.stringMatching(/^AIRLOCK_MAX_ATTEMPTS: expected an integer from 1 to 20/),
      ]),
    );
  });

  it('never echoes the database URL it rejects', () => {
    const problems = problemsOf({ DATABASE_URL: 'mysql://admin:hunter2@db/x' });
    expect(problems).toEqual([expect.stringMatching(/^DATABASE_URL: expected a postgresql:\/\//)]);
    expect(problems.join()).not.toContain('hunter2');
  });

  it('rejects a heartbeat interval that is not shorter than the lease', () => {
    expect(problemsOf({ AIRLOCK_LEASE_TTL: '1s', AIRLOCK_HEARTBEAT_INTERVAL: '1s' })).toEqual([
      expect.stringMatching(/^AIRLOCK_HEARTBEAT_INTERVAL: expected a duration shorter than AIRLOCK_LEASE_TTL/),
    ]);
  });
});

describe('loadAppConfig: worker gateway TLS', () => {
  let dir: string;
  let certs: ThrowawayCertificates;
  let otherCerts: ThrowawayCertificates;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'airlock-app-config-tls-'));
    certs = await createThrowawayCertificates(join(dir, 'a'));
    otherCerts = await createThrowawayCertificates(join(dir, 'b'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is off without the variables', () => {
    expect(loadAppConfig({}).grpc.tls).toBeUndefined();
  });

  it('reads the certificate chain and key, and never serialises the key', () => {
    const tls = loadAppConfig({ AIRLOCK_GRPC_TLS_CERT_FILE: certs.certFile, AIRLOCK_GRPC_TLS_KEY_FILE: certs.keyFile }).grpc.tls;
    expect(tls?.certChainPem.toString()).toBe(readFileSync(certs.certFile, 'utf8'));
    expect(tls?.privateKeyPem.toString()).toBe(readFileSync(certs.keyFile, 'utf8'));
    expect(JSON.stringify(tls)).not.toContain('PRIVATE KEY');
    expect(JSON.parse(JSON.stringify(tls))).toEqual({ certFile: certs.certFile, keyFile: certs.keyFile });
  });

  it('wants both variables or neither', () => {
    expect(problemsOf({ AIRLOCK_GRPC_TLS_CERT_FILE: certs.certFile })).toEqual([
      expect.stringMatching(/^AIRLOCK_GRPC_TLS_KEY_FILE: expected a file path as well, since AIRLOCK_GRPC_TLS_CERT_FILE is set/),
    ]);
    expect(problemsOf({ AIRLOCK_GRPC_TLS_KEY_FILE: certs.keyFile })).toEqual([
      expect.stringMatching(/^AIRLOCK_GRPC_TLS_CERT_FILE: expected a file path as well, since AIRLOCK_GRPC_TLS_KEY_FILE is set/),
    ]);
  });

  it('names each unreadable file', () => {
    expect(problemsOf({ AIRLOCK_GRPC_TLS_CERT_FILE: join(dir, 'missing.pem'), AIRLOCK_GRPC_TLS_KEY_FILE: join(dir, 'missing.key') })).toEqual([
      expect.stringMatching(/^AIRLOCK_GRPC_TLS_CERT_FILE: expected a readable PEM file \(ENOENT/),
      expect.stringMatching(/^AIRLOCK_GRPC_TLS_KEY_FILE: expected a readable PEM file \(ENOENT/),
    ]);
  });

  it('refuses files that are not PEM, without printing their content', () => {
    const notPem = join(dir, 'not-pem.txt');
    writeFileSync(notPem, 'secret-material-never-echoed\n');
    const problems = problemsOf({ AIRLOCK_GRPC_TLS_CERT_FILE: notPem, AIRLOCK_GRPC_TLS_KEY_FILE: notPem });
    expect(problems).toEqual([
      expect.stringMatching(/^AIRLOCK_GRPC_TLS_CERT_FILE: expected a PEM certificate chain/),
      expect.stringMatching(/^AIRLOCK_GRPC_TLS_KEY_FILE: expected an unencrypted PEM private key/),
    ]);
    expect(problems.join()).not.toContain('secret-material-never-echoed');
  });

  it('refuses a key swapped with the certificate, without printing the key', () => {
    const problems = problemsOf({ AIRLOCK_GRPC_TLS_CERT_FILE: certs.keyFile, AIRLOCK_GRPC_TLS_KEY_FILE: certs.certFile });
    expect(problems).toEqual([
      expect.stringMatching(/^AIRLOCK_GRPC_TLS_CERT_FILE: expected a PEM certificate chain/),
      expect.stringMatching(/^AIRLOCK_GRPC_TLS_KEY_FILE: expected an unencrypted PEM private key/),
    ]);
    const keyBody = readFileSync(certs.keyFile, 'utf8').split('\n')[1] ?? '';
    expect(keyBody.length).toBeGreaterThan(10);
    expect(problems.join()).not.toContain(keyBody);
  });

  it('refuses a key that does not belong to the certificate', () => {
    expect(problemsOf({ AIRLOCK_GRPC_TLS_CERT_FILE: certs.certFile, AIRLOCK_GRPC_TLS_KEY_FILE: otherCerts.keyFile })).toEqual([
      expect.stringMatching(/^AIRLOCK_GRPC_TLS_KEY_FILE: expected the private key of the certificate in AIRLOCK_GRPC_TLS_CERT_FILE/),
    ]);
  });
});
