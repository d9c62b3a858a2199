import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createThrowawayCertificates, createThrowawayClientCa, type ThrowawayCertificates, type ThrowawayClientCa } from '@airlock/local-stack';
import { localKekId } from '@airlock/sealed-secrets';
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
      grpc: { host: '127.0.0.1', port: 50051, keepalive: { timeMs: 30_000, timeoutMs: 10_000 }, maxHandshakes: 512 },
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

  it('serves /metrics on a listener of its own, 127.0.0.1:9464 unless told otherwise', () => {
    expect(loadAppConfig({}).metrics).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(loadAppConfig({ AIRLOCK_METRICS_HOST: '0.0.0.0', AIRLOCK_METRICS_PORT: '0' }).metrics).toEqual({ host: '0.0.0.0', port: 0 });
    for (const value of ['70000', 'prometheus', '-1']) {
      expect(problemsOf({ AIRLOCK_METRICS_PORT: value })).toEqual(['AIRLOCK_METRICS_PORT: expected a TCP port number (0 picks a free port)']);
    }
  });

  it('lets an operator detect an unresponsive worker connection sooner', () => {
    const config = loadAppConfig({ AIRLOCK_GRPC_KEEPALIVE_TIME: '2s', AIRLOCK_GRPC_KEEPALIVE_TIMEOUT: '1s' });
    expect(config.grpc.keepalive).toEqual({ timeMs: 2_000, timeoutMs: 1_000 });
    expect(problemsOf({ AIRLOCK_GRPC_KEEPALIVE_TIME: '10ms' })).toEqual([expect.stringMatching(/^AIRLOCK_GRPC_KEEPALIVE_TIME: expected a duration/)]);
  });

  it('bounds the worker handshakes in progress as told, within 1 to 100000', () => {
    expect(loadAppConfig({ AIRLOCK_GRPC_MAX_HANDSHAKES: '64' }).grpc.maxHandshakes).toBe(64);
    for (const value of ['0', '100001', '12.5', 'many']) {
      expect(problemsOf({ AIRLOCK_GRPC_MAX_HANDSHAKES: value })).toEqual(['AIRLOCK_GRPC_MAX_HANDSHAKES: expected an integer from 1 to 100000']);
    }
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

  it('supports workers from the first release unless told otherwise, and takes a semantic version as the oldest supported', () => {
    expect(loadAppConfig({}).workerVersions.minimum).toBe('0.1.0');
    expect(loadAppConfig({ AIRLOCK_WORKER_MIN_VERSION: '0.3.0-rc.1', AIRLOCK_WORKER_RECOMMENDED_VERSION: '0.3.0' }).workerVersions.minimum).toBe('0.3.0-rc.1');
    expect(problemsOf({ AIRLOCK_WORKER_MIN_VERSION: 'v0.3' })).toEqual([
      'AIRLOCK_WORKER_MIN_VERSION: expected a worker version like 0.1.0 (major.minor.patch, an optional -pre-release)',
    ]);
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
    expect(JSON.parse(JSON.stringify(tls))).toEqual({ certFile: certs.certFile, keyFile: certs.keyFile, clientCa: null });
  });

  describe('with a client CA (mutual TLS)', () => {
    let clientCa: ThrowawayClientCa;
    const withTls = (vars: Record<string, string>) => ({ AIRLOCK_GRPC_TLS_CERT_FILE: certs.certFile, AIRLOCK_GRPC_TLS_KEY_FILE: certs.keyFile, ...vars });

    beforeAll(async () => {
      clientCa = await createThrowawayClientCa(join(dir, 'client-ca'));
    });

    it('reads the CA and its key, requires certificates unless told to issue only, and never serialises the key', () => {
      const tls = loadAppConfig(withTls({ AIRLOCK_GRPC_CLIENT_CA_CERT_FILE: clientCa.certFile, AIRLOCK_GRPC_CLIENT_CA_KEY_FILE: clientCa.keyFile })).grpc.tls;
      expect(tls?.clientCa?.mode).toBe('require');
      expect(JSON.stringify(tls)).not.toContain('PRIVATE KEY');
      expect(JSON.parse(JSON.stringify(tls)).clientCa).toEqual({ certFile: clientCa.certFile, keyFile: clientCa.keyFile, mode: 'require' });
      const issuing = loadAppConfig(withTls({ AIRLOCK_GRPC_CLIENT_CA_CERT_FILE: clientCa.certFile, AIRLOCK_GRPC_CLIENT_CA_KEY_FILE: clientCa.keyFile, AIRLOCK_GRPC_CLIENT_CERTS: 'issue' }));
      expect(issuing.grpc.tls?.clientCa?.mode).toBe('issue');
    });

    it('refuses half a pair, a mode without a CA, a CA without TLS, a certificate that is no CA and a key of another certificate', () => {
      expect(problemsOf(withTls({ AIRLOCK_GRPC_CLIENT_CA_CERT_FILE: clientCa.certFile }))).toEqual([
        expect.stringMatching(/^AIRLOCK_GRPC_CLIENT_CA_KEY_FILE: expected a file path as well, since AIRLOCK_GRPC_CLIENT_CA_CERT_FILE is set/),
      ]);
      expect(problemsOf(withTls({ AIRLOCK_GRPC_CLIENT_CERTS: 'require' }))).toEqual([expect.stringMatching(/^AIRLOCK_GRPC_CLIENT_CERTS: has no effect without a client CA/)]);
      expect(problemsOf({ AIRLOCK_GRPC_CLIENT_CA_CERT_FILE: clientCa.certFile, AIRLOCK_GRPC_CLIENT_CA_KEY_FILE: clientCa.keyFile })).toEqual([
        expect.stringMatching(/^AIRLOCK_GRPC_CLIENT_CA_CERT_FILE: has no effect without TLS on the gateway/),
      ]);
      // The gateway's own certificate is not a CA; its key is not the client CA's.
      expect(problemsOf(withTls({ AIRLOCK_GRPC_CLIENT_CA_CERT_FILE: certs.certFile, AIRLOCK_GRPC_CLIENT_CA_KEY_FILE: certs.keyFile }))).toEqual([
        expect.stringMatching(/^AIRLOCK_GRPC_CLIENT_CA_CERT_FILE: expected a CA certificate \(basicConstraints CA:TRUE\)/),
      ]);
      expect(problemsOf(withTls({ AIRLOCK_GRPC_CLIENT_CA_CERT_FILE: clientCa.certFile, AIRLOCK_GRPC_CLIENT_CA_KEY_FILE: certs.keyFile }))).toEqual([
        expect.stringMatching(/^AIRLOCK_GRPC_CLIENT_CA_KEY_FILE: expected the private key of the certificate in AIRLOCK_GRPC_CLIENT_CA_CERT_FILE/),
      ]);
      expect(problemsOf(withTls({ AIRLOCK_GRPC_CLIENT_CA_CERT_FILE: clientCa.certFile, AIRLOCK_GRPC_CLIENT_CA_KEY_FILE: clientCa.keyFile, AIRLOCK_GRPC_CLIENT_CERTS: 'maybe' }))).toEqual([
        expect.stringMatching(/^AIRLOCK_GRPC_CLIENT_CERTS: expected issue or require/),
      ]);
    });
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

describe('loadAppConfig: dashboard sessions and the public URL', () => {
  it('defaults to 12-hour sessions that end after 30 idle minutes, and no explicit public URL', () => {
    const config = loadAppConfig({});
    expect(config.sessions).toEqual({ ttlMs: 12 * 3_600_000, idleTimeoutMs: 30 * 60_000 });
    expect(config.publicUrl).toBeUndefined();
  });

  it('reads the session durations as ms-style strings', () => {
    expect(loadAppConfig({ AIRLOCK_SESSION_TTL: '8h', AIRLOCK_SESSION_IDLE_TIMEOUT: '15m' }).sessions).toEqual({ ttlMs: 8 * 3_600_000, idleTimeoutMs: 15 * 60_000 });
    expect(problemsOf({ AIRLOCK_SESSION_TTL: '12' })).toEqual([expect.stringMatching(/^AIRLOCK_SESSION_TTL: expected a duration/)]);
    expect(problemsOf({ AIRLOCK_SESSION_IDLE_TIMEOUT: '1s' })).toEqual([expect.stringMatching(/^AIRLOCK_SESSION_IDLE_TIMEOUT: expected a duration/)]);
  });

  it('refuses an idle timeout longer than the session itself', () => {
    expect(problemsOf({ AIRLOCK_SESSION_TTL: '1h', AIRLOCK_SESSION_IDLE_TIMEOUT: '2h' })).toEqual([
      expect.stringMatching(/^AIRLOCK_SESSION_IDLE_TIMEOUT: expected a duration no longer than AIRLOCK_SESSION_TTL/),
    ]);
  });

  it('keeps the origin of the public URL, as browsers send it', () => {
    expect(loadAppConfig({ AIRLOCK_PUBLIC_URL: 'https://Airlock.Example.com/' }).publicUrl).toBe('https://airlock.example.com');
    expect(loadAppConfig({ AIRLOCK_PUBLIC_URL: 'https://airlock.example.com:443' }).publicUrl).toBe('https://airlock.example.com');
    expect(loadAppConfig({ AIRLOCK_PUBLIC_URL: 'http://10.0.0.5:8080' }).publicUrl).toBe('http://10.0.0.5:8080');
  });

  it.each(['airlock.example.com', 'ftp://airlock.example.com', 'https://airlock.example.com/dashboard', 'https://airlock.example.com/?x=1', 'https://a:b@airlock.example.com', 'https://airlock.example.com#top'])(
    'refuses %s as the public URL, naming what it expects',
    (value) => {
      expect(problemsOf({ AIRLOCK_PUBLIC_URL: value })).toEqual([expect.stringMatching(/^AIRLOCK_PUBLIC_URL: expected an absolute http:\/\/ or https:\/\/ URL without path, query or credentials/)]);
    },
  );
});

describe('loadAppConfig: single sign-on (OIDC)', () => {
  let dir: string;
  let secretFile: string;
  const CLIENT_SECRET = 'oidc-client-secret-never-echoed';

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'airlock-app-config-oidc-'));
    secretFile = join(dir, 'client-secret');
    writeFileSync(secretFile, `  ${CLIENT_SECRET}\n`);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const complete = () => ({
    AIRLOCK_PUBLIC_URL: 'https://airlock.example.com',
    AIRLOCK_OIDC_ISSUER: 'https://login.example.com/realms/acme',
    AIRLOCK_OIDC_CLIENT_ID: 'airlock',
    AIRLOCK_OIDC_CLIENT_SECRET_FILE: secretFile,
  });

  it('is off without the variables', () => {
    expect(loadAppConfig({}).oidc).toBeUndefined();
  });

  it('reads the client secret once, trimmed, defaults the rest, and never serialises the secret', () => {
    const oidc = loadAppConfig(complete()).oidc;
    expect(oidc).toMatchObject({
      issuer: 'https://login.example.com/realms/acme',
      insecureLoopbackIssuer: false,
      clientId: 'airlock',
      clientSecret: CLIENT_SECRET,
      clientSecretFile: secretFile,
      displayName: 'single sign-on',
      newUserRole: null,
      redirectUri: 'https://airlock.example.com/api/v1/auth/oidc/callback',
    });
    expect(JSON.stringify({ oidc })).not.toContain(CLIENT_SECRET);
    expect(JSON.parse(JSON.stringify(oidc))).toMatchObject({ clientId: 'airlock', clientSecretFile: secretFile });
  });

  it('takes a display name and the role of people created on their first sign-in', () => {
    const oidc = loadAppConfig({ ...complete(), AIRLOCK_OIDC_DISPLAY_NAME: ' Okta ', AIRLOCK_OIDC_NEW_USER_ROLE: 'VIEWER' }).oidc;
    expect(oidc).toMatchObject({ displayName: 'Okta', newUserRole: 'VIEWER' });
    expect(problemsOf({ ...complete(), AIRLOCK_OIDC_NEW_USER_ROLE: 'OWNER' })).toEqual([
      'AIRLOCK_OIDC_NEW_USER_ROLE: expected one of VIEWER, MANAGER, ADMIN, or unset so that only people an admin created can sign in',
    ]);
    expect(problemsOf({ ...complete(), AIRLOCK_OIDC_DISPLAY_NAME: 'Okta\nor not' })).toEqual([expect.stringMatching(/^AIRLOCK_OIDC_DISPLAY_NAME: expected 1\.\.60 characters on one line/)]);
  });

  it('is all or nothing, naming what is missing', () => {
    expect(problemsOf({ AIRLOCK_PUBLIC_URL: 'https://airlock.example.com', AIRLOCK_OIDC_ISSUER: 'https://login.example.com' })).toEqual([
      expect.stringMatching(/^AIRLOCK_OIDC_CLIENT_ID: expected a value as well, since AIRLOCK_OIDC_ISSUER is set/),
      expect.stringMatching(/^AIRLOCK_OIDC_CLIENT_SECRET_FILE: expected a value as well, since AIRLOCK_OIDC_ISSUER is set/),
    ]);
    expect(problemsOf({ AIRLOCK_PUBLIC_URL: 'https://airlock.example.com', AIRLOCK_OIDC_CLIENT_ID: 'airlock', AIRLOCK_OIDC_CLIENT_SECRET_FILE: secretFile })).toEqual([
      expect.stringMatching(/^AIRLOCK_OIDC_ISSUER: expected a value as well, since AIRLOCK_OIDC_CLIENT_ID and AIRLOCK_OIDC_CLIENT_SECRET_FILE are set/),
    ]);
    expect(problemsOf({ AIRLOCK_OIDC_NEW_USER_ROLE: 'VIEWER' })).toEqual([expect.stringMatching(/^AIRLOCK_OIDC_NEW_USER_ROLE: has no effect without single sign-on/)]);
  });

  it('needs the public URL, which the redirect URI is made of', () => {
    const { AIRLOCK_PUBLIC_URL: _unset, ...withoutPublicUrl } = complete();
    expect(problemsOf(withoutPublicUrl)).toEqual([expect.stringMatching(/^AIRLOCK_PUBLIC_URL: expected the URL browsers reach the control plane at, since single sign-on is set up/)]);
  });

  it('takes plain http only for an issuer on a loopback address', () => {
    for (const issuer of ['http://127.0.0.1:9000', 'http://localhost:9000/realms/lab', 'http://[::1]:9000']) {
      expect(loadAppConfig({ ...complete(), AIRLOCK_OIDC_ISSUER: issuer }).oidc).toMatchObject({ issuer, insecureLoopbackIssuer: true });
    }
    for (const issuer of ['http://login.example.com', 'http://10.0.0.5', 'login.example.com', 'https://login.example.com/?tenant=1', 'https://user:pw@login.example.com', 'https://login.example.com#x']) {
      expect(problemsOf({ ...complete(), AIRLOCK_OIDC_ISSUER: issuer })).toEqual([expect.stringMatching(/^AIRLOCK_OIDC_ISSUER: expected an absolute https:\/\/ URL without query, fragment or credentials/)]);
    }
  });

  it('refuses a client secret file that is missing, empty or not one line, without printing it', () => {
    const empty = join(dir, 'empty');
    writeFileSync(empty, '\n');
    const twoLines = join(dir, 'two-lines');
    writeFileSync(twoLines, `${CLIENT_SECRET}\nsecond line\n`);
    expect(problemsOf({ ...complete(), AIRLOCK_OIDC_CLIENT_SECRET_FILE: join(dir, 'missing') })).toEqual([
      expect.stringMatching(/^AIRLOCK_OIDC_CLIENT_SECRET_FILE: expected a readable file holding the client secret \(ENOENT/),
    ]);
    expect(problemsOf({ ...complete(), AIRLOCK_OIDC_CLIENT_SECRET_FILE: empty })).toEqual([expect.stringMatching(/^AIRLOCK_OIDC_CLIENT_SECRET_FILE: expected the client secret on one line/)]);
    const problems = problemsOf({ ...complete(), AIRLOCK_OIDC_CLIENT_SECRET_FILE: twoLines });
    expect(problems).toEqual([expect.stringMatching(/^AIRLOCK_OIDC_CLIENT_SECRET_FILE: expected the client secret on one line/)]);
    expect(problems.join()).not.toContain(CLIENT_SECRET);
  });

  it('refuses a client id with spaces', () => {
    expect(problemsOf({ ...complete(), AIRLOCK_OIDC_CLIENT_ID: 'air lock' })).toEqual([expect.stringMatching(/^AIRLOCK_OIDC_CLIENT_ID: expected the client id/)]);
  });
});

describe('loadAppConfig: the supported worker version window', () => {
  const window = (env: Record<string, string>, controlPlaneVersion = '0.4.2') => loadAppConfig(env, controlPlaneVersion).workerVersions;
  const problems = (env: Record<string, string>, controlPlaneVersion = '0.4.2'): readonly string[] => {
    try {
      loadAppConfig(env, controlPlaneVersion);
    } catch (error) {
      if (error instanceof InvalidConfigError) return error.problems;
      throw error;
    }
    throw new Error('expected the configuration to be rejected');
  };

  it("defaults to the first release up to the control plane's next major, recommending the control plane's own version, with no deprecation", () => {
    expect(window({})).toEqual({ minimum: '0.1.0', maximum: '1.0.0', recommended: '0.4.2', deprecation: null });
    expect(window({}, '2.3.0-rc.1')).toMatchObject({ maximum: '3.0.0', recommended: '2.3.0-rc.1' });
  });

  it("reads this repository's version as the control plane's when none is given", () => {
    const { version } = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', '..', '..', 'package.json'), 'utf8')) as { version: string };
    expect(loadAppConfig({}).workerVersions.recommended).toBe(version);
  });

  it('takes every bound and a deprecation until an instant', () => {
    expect(
      window({
        AIRLOCK_WORKER_MIN_VERSION: '0.2.0',
        AIRLOCK_WORKER_MAX_VERSION: '0.9.0',
        AIRLOCK_WORKER_RECOMMENDED_VERSION: '0.5.1',
        AIRLOCK_WORKER_DEPRECATED_BELOW: '0.4.0',
        AIRLOCK_WORKER_END_OF_SUPPORT: '2026-07-01',
      }),
    ).toEqual({ minimum: '0.2.0', maximum: '0.9.0', recommended: '0.5.1', deprecation: { below: '0.4.0', endOfSupport: new Date('2026-07-01T00:00:00Z') } });
    const at = (value: string) => window({ AIRLOCK_WORKER_DEPRECATED_BELOW: '0.3.0', AIRLOCK_WORKER_END_OF_SUPPORT: value }).deprecation?.endOfSupport.toISOString();
    expect(at('2026-07-01T12:30:00Z')).toBe('2026-07-01T12:30:00.000Z');
    expect(at('2026-07-01T12:30+02:00')).toBe('2026-07-01T10:30:00.000Z');
    expect(at('2028-02-29')).toBe('2028-02-29T00:00:00.000Z');
  });

  it('names each malformed variable and what it expects', () => {
    expect(problems({ AIRLOCK_WORKER_MAX_VERSION: '1.0.0-rc.1', AIRLOCK_WORKER_RECOMMENDED_VERSION: 'latest', AIRLOCK_WORKER_DEPRECATED_BELOW: 'v0.3', AIRLOCK_WORKER_END_OF_SUPPORT: 'next July' })).toEqual([
      expect.stringMatching(/^AIRLOCK_WORKER_MAX_VERSION: expected a release version like 1\.0\.0 \(major\.minor\.patch, no pre-release\)/),
      'AIRLOCK_WORKER_RECOMMENDED_VERSION: expected a worker version like 0.1.0 (major.minor.patch, an optional -pre-release)',
      'AIRLOCK_WORKER_DEPRECATED_BELOW: expected a worker version like 0.1.0 (major.minor.patch, an optional -pre-release)',
      expect.stringMatching(/^AIRLOCK_WORKER_END_OF_SUPPORT: expected an ISO 8601 date, 2026-07-01/),
    ]);
  });

  it.each(['2026-02-30', '2026-13-01', '2026-07-01T24:00:00Z', '2026-07-01T12:00:00', '2026-07-01 12:00Z', '01/07/2026'])('refuses %s as the end of support', (value) => {
    expect(problems({ AIRLOCK_WORKER_DEPRECATED_BELOW: '0.3.0', AIRLOCK_WORKER_END_OF_SUPPORT: value })).toEqual([expect.stringMatching(/^AIRLOCK_WORKER_END_OF_SUPPORT: expected an ISO 8601 date/)]);
  });

  it('refuses a maximum that leaves no version in the window', () => {
    expect(problems({ AIRLOCK_WORKER_MIN_VERSION: '0.5.0', AIRLOCK_WORKER_MAX_VERSION: '0.5.0', AIRLOCK_WORKER_RECOMMENDED_VERSION: '0.5.0' })).toEqual([
      expect.stringMatching(/^AIRLOCK_WORKER_MAX_VERSION: expected a version above AIRLOCK_WORKER_MIN_VERSION \(0\.5\.0\)/),
      expect.stringMatching(/^AIRLOCK_WORKER_RECOMMENDED_VERSION: expected a version the window accepts/),
    ]);
    expect(problems({ AIRLOCK_WORKER_MIN_VERSION: '1.0.0-rc.1', AIRLOCK_WORKER_RECOMMENDED_VERSION: '1.0.0-rc.1' })).toEqual([
      expect.stringMatching(/^AIRLOCK_WORKER_MAX_VERSION: expected a version above AIRLOCK_WORKER_MIN_VERSION \(1\.0\.0-rc\.1\).*1\.0\.0, unset, it is the major release after this control plane's version 0\.4\.2/),
      expect.stringMatching(/^AIRLOCK_WORKER_RECOMMENDED_VERSION: expected a version the window accepts/),
    ]);
  });

  it('wants the deprecation bound and its end of support together, the bound inside the window', () => {
    expect(problems({ AIRLOCK_WORKER_DEPRECATED_BELOW: '0.3.0' })).toEqual([expect.stringMatching(/^AIRLOCK_WORKER_END_OF_SUPPORT: expected a value as well, since AIRLOCK_WORKER_DEPRECATED_BELOW is set/)]);
    expect(problems({ AIRLOCK_WORKER_END_OF_SUPPORT: '2026-07-01' })).toEqual([expect.stringMatching(/^AIRLOCK_WORKER_DEPRECATED_BELOW: expected a value as well, since AIRLOCK_WORKER_END_OF_SUPPORT is set/)]);
    expect(problems({ AIRLOCK_WORKER_DEPRECATED_BELOW: '0.1.0', AIRLOCK_WORKER_END_OF_SUPPORT: '2026-07-01' })).toEqual([
      expect.stringMatching(/^AIRLOCK_WORKER_DEPRECATED_BELOW: expected a version above AIRLOCK_WORKER_MIN_VERSION \(0\.1\.0\)/),
    ]);
    expect(problems({ AIRLOCK_WORKER_DEPRECATED_BELOW: '1.0.0', AIRLOCK_WORKER_END_OF_SUPPORT: '2026-07-01' })).toEqual([
      expect.stringMatching(/^AIRLOCK_WORKER_DEPRECATED_BELOW: expected a version below AIRLOCK_WORKER_MAX_VERSION \(1\.0\.0\)/),
      expect.stringMatching(/^AIRLOCK_WORKER_RECOMMENDED_VERSION: expected a version the window accepts without deprecation, from AIRLOCK_WORKER_DEPRECATED_BELOW \(1\.0\.0\)/),
    ]);
  });

  it('wants a recommended version the window accepts without deprecation, saying when it is the default', () => {
    expect(problems({ AIRLOCK_WORKER_MIN_VERSION: '0.5.0' })).toEqual([
      "AIRLOCK_WORKER_RECOMMENDED_VERSION: expected a version the window accepts without deprecation, from AIRLOCK_WORKER_MIN_VERSION (0.5.0) and below AIRLOCK_WORKER_MAX_VERSION (1.0.0) (unset, it is this control plane's version, 0.4.2; set it)",
    ]);
    expect(problems({ AIRLOCK_WORKER_DEPRECATED_BELOW: '0.4.2-rc.1', AIRLOCK_WORKER_END_OF_SUPPORT: '2026-07-01', AIRLOCK_WORKER_RECOMMENDED_VERSION: '0.4.1' })).toEqual([
      'AIRLOCK_WORKER_RECOMMENDED_VERSION: expected a version the window accepts without deprecation, from AIRLOCK_WORKER_DEPRECATED_BELOW (0.4.2-rc.1) and below AIRLOCK_WORKER_MAX_VERSION (1.0.0) (0.4.1 is not)',
    ]);
    expect(problems({ AIRLOCK_WORKER_RECOMMENDED_VERSION: '1.0.0-rc.1' })).toEqual([expect.stringMatching(/^AIRLOCK_WORKER_RECOMMENDED_VERSION: expected a version the window accepts/)]);
    expect(window({ AIRLOCK_WORKER_MIN_VERSION: '0.5.0', AIRLOCK_WORKER_RECOMMENDED_VERSION: '0.5.0' }).recommended).toBe('0.5.0');
  });
});

describe('loadAppConfig: secrets at rest (KEK)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'airlock-kek-config-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const kekFile = (name: string, content: string | Buffer = randomBytes(32).toString('hex')): string => {
    writeFileSync(join(dir, name), content, { mode: 0o600 });
    return join(dir, name);
  };

  it('generates a KEK beside the embedded database, and stores unsealed with an external one, when none is configured', () => {
    expect(loadAppConfig({ AIRLOCK_DATA_DIR: dir }).secretsAtRest).toEqual({ kind: 'generated-kek', file: join(dir, 'kek') });
    expect(loadAppConfig({ DATABASE_URL: 'postgresql://u:p@db:5432/airlock' }).secretsAtRest).toEqual({ kind: 'unsealed' });
  });

  it('reads the active KEK and the previous ones, and shows their files and ids only', () => {
    const [active, previous] = [randomBytes(32), randomBytes(32)];
    const config = loadAppConfig({ AIRLOCK_KEK_FILE: kekFile('active', active.toString('hex')), AIRLOCK_KEK_PREVIOUS_FILES: `${kekFile('old', previous.toString('base64'))}` });

    expect(config.secretsAtRest.kind).toBe('kek-files');
    const shown = JSON.stringify(config);
    expect(shown).toContain(localKekId(active));
    expect(shown).toContain(localKekId(previous));
    expect(shown).not.toContain(active.toString('hex'));
    expect(shown).not.toContain(previous.toString('base64'));
  });

  it('names the variable and file of each bad KEK, never the content', () => {
    const short = randomBytes(16).toString('hex');
    const problems = problemsOf({ AIRLOCK_KEK_FILE: kekFile('short', short), AIRLOCK_KEK_PREVIOUS_FILES: `${kekFile('ok')},${join(dir, 'missing')}` });

    expect(problems).toEqual([
      expect.stringMatching(/^AIRLOCK_KEK_FILE \(.*short\): expected a key-encryption key of 32 random bytes/),
      expect.stringMatching(/^AIRLOCK_KEK_PREVIOUS_FILES: expected a readable key-encryption key file \(ENOENT: .*missing\)/),
    ]);
    expect(problems.join('\n')).not.toContain(short);
    expect(problemsOf({ AIRLOCK_KEK_PREVIOUS_FILES: kekFile('old') })).toEqual([expect.stringMatching(/^AIRLOCK_KEK_PREVIOUS_FILES: has no effect without AIRLOCK_KEK_FILE/)]);
  });

  it('takes the active KEK from AIRLOCK_KEK instead of a file, never echoing it, and not both', () => {
    const active = randomBytes(32);
    const config = loadAppConfig({ AIRLOCK_KEK: active.toString('hex') });
    expect(config.secretsAtRest).toMatchObject({ kind: 'kek-files', activeFile: null });
    expect(JSON.stringify(config)).toContain(localKekId(active));
    expect(JSON.stringify(config)).not.toContain(active.toString('hex'));

    const tooShort = randomBytes(16).toString('hex');
    const problems = problemsOf({ AIRLOCK_KEK: tooShort });
    expect(problems).toEqual([expect.stringMatching(/^AIRLOCK_KEK: expected a key-encryption key of 32 random bytes/)]);
    expect(problems.join('\n')).not.toContain(tooShort);
    expect(problemsOf({ AIRLOCK_KEK: active.toString('hex'), AIRLOCK_KEK_FILE: kekFile('both') })).toEqual([expect.stringMatching(/^AIRLOCK_KEK: expected either it or AIRLOCK_KEK_FILE, not both/)]);
  });
});
