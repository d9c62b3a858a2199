import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createThrowawayCertificates, type ThrowawayCertificates } from '@airlock/local-stack';
import { startPostgresCluster, type PostgresCluster } from '@airlock/testing';
import { openDataAccess } from '../data-access';
import { parsePostgresUrl } from './postgres-connection';

jest.setTimeout(60_000);

/**
 * DATABASE_URL's sslmode and sslrootcert against a real PostgreSQL server that serves TLS with
 * a certificate of a throwaway CA: what the server itself reports (pg_stat_ssl) for each
 * mode, and the control plane's own path (migrations, then the Prisma client) over TLS.
 */
describe('DATABASE_URL sslmode, against a PostgreSQL server serving TLS', () => {
  let dir: string;
  let cluster: PostgresCluster;
  let certificates: ThrowawayCertificates;
  let otherCa: ThrowawayCertificates;
  const urlWith = (query: string): string => `${cluster.url}?${query}`;
  const rootCert = (file: string): string => `sslrootcert=${encodeURIComponent(file)}`;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'airlock-pg-tls-'));
    certificates = await createThrowawayCertificates(join(dir, 'server'), 'Airlock test database CA');
    otherCa = await createThrowawayCertificates(join(dir, 'other'), 'Some other CA');
    cluster = await startPostgresCluster({ tls: certificates });
  });

  afterAll(async () => {
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Connects as the URL says and asks the server whether this connection is encrypted. */
  async function serverSaysEncrypted(query: string): Promise<boolean> {
    const client = new pg.Client(parsePostgresUrl(urlWith(query)));
    await client.connect();
    try {
      const result = await client.query<{ ssl: boolean }>('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
      return result.rows[0]!.ssl;
    } finally {
      await client.end();
    }
  }

  it("encrypts with verify-full and the CA named by sslrootcert, and with verify-ca; plaintext only when the URL says disable", async () => {
    expect(await serverSaysEncrypted(`sslmode=verify-full&${rootCert(certificates.caFile)}`)).toBe(true);
    expect(await serverSaysEncrypted(`sslmode=verify-ca&${rootCert(certificates.caFile)}`)).toBe(true);
    expect(await serverSaysEncrypted('sslmode=no-verify')).toBe(true);
    expect(await serverSaysEncrypted('sslmode=disable')).toBe(false);
  });

  it('refuses the server when its certificate was signed by another CA than sslrootcert names, or by none the system trusts', async () => {
    await expect(serverSaysEncrypted(`sslmode=verify-full&${rootCert(otherCa.caFile)}`)).rejects.toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    await expect(serverSaysEncrypted(`sslmode=verify-ca&${rootCert(otherCa.caFile)}`)).rejects.toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    await expect(serverSaysEncrypted('sslmode=verify-full')).rejects.toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
  });

  it("runs the migrations and the Prisma client over TLS: every connection the control plane's data access opens is encrypted", async () => {
    const data = await openDataAccess({ kind: 'url', url: urlWith(`sslmode=verify-full&${rootCert(certificates.caFile)}`) });
    try {
      await data.ping();
      const observer = new pg.Client(parsePostgresUrl(urlWith('sslmode=disable')));
      await observer.connect();
      try {
        const { rows } = await observer.query<{ ssl: boolean }>(
          "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.backend_type = 'client backend' AND a.pid <> pg_backend_pid()",
        );
        expect(rows.length).toBeGreaterThan(0);
        expect(rows.every((row) => row.ssl)).toBe(true);
      } finally {
        await observer.end();
      }
    } finally {
      await data.close();
    }
  });
});
