import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatPostgresUrl, parsePostgresUrl } from './postgres-connection';

describe('parsePostgresUrl', () => {
  it('splits a URL into separate fields and back', () => {
    const fields = parsePostgresUrl('postgresql://air%40lock:p%2Fw@127.0.0.1:6543/control_plane');
    expect(fields).toEqual({ host: '127.0.0.1', port: 6543, user: 'air@lock', password: 'p/w', database: 'control_plane' });
    expect(parsePostgresUrl(formatPostgresUrl(fields))).toEqual(fields);
  });

  it('rejects other schemes and a missing database without echoing the URL', () => {
    expect(() => parsePostgresUrl('mysql://u:secret@h/db')).toThrow('DATABASE_URL: expected the postgresql:// scheme');
    expect(() => parsePostgresUrl('postgresql://u:secret@h/')).toThrow('DATABASE_URL: expected a database name in the path');
  });

  it('leaves TLS to pg (PGSSLMODE, else none) when the URL names no sslmode', () => {
    expect(parsePostgresUrl('postgresql://u:p@h/db')).not.toHaveProperty('ssl');
  });

  describe('sslmode and sslrootcert', () => {
    let dir: string;
    let caFile: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'airlock-pg-url-'));
      caFile = join(dir, 'ca.pem');
      writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\nnot checked here\n-----END CERTIFICATE-----\n');
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const ssl = (query: string) => parsePostgresUrl(`postgresql://u:secret@db.internal:5432/airlock?${query}`).ssl;

    it('maps each mode to what pg does for it', () => {
      expect(ssl('sslmode=disable')).toBe(false);
      expect(ssl('sslmode=verify-full')).toEqual({});
      expect(ssl(`sslmode=verify-full&sslrootcert=${encodeURIComponent(caFile)}`)).toEqual({ ca: expect.stringContaining('not checked here') });
      expect(ssl('sslmode=verify-full&sslrootcert=system')).toEqual({});
      expect(ssl('sslmode=no-verify')).toEqual({ rejectUnauthorized: false });
    });

    it('checks the chain but not the name for verify-ca, and for require with a root certificate (as libpq does)', () => {
      for (const mode of ['verify-ca', 'require']) {
        const options = ssl(`sslmode=${mode}&sslrootcert=${encodeURIComponent(caFile)}`);
        expect(options).toEqual({ ca: expect.stringContaining('not checked here'), checkServerIdentity: expect.any(Function) });
        expect(options && options.checkServerIdentity?.('elsewhere.example', {} as never)).toBeUndefined();
      }
    });

    it('refuses modes that could end unencrypted or unchecked without saying so, naming what to use', () => {
      expect(() => ssl('sslmode=prefer')).toThrow('DATABASE_URL: sslmode=prefer falls back to an unencrypted connection; use verify-full, verify-ca, no-verify or disable');
      expect(() => ssl('sslmode=allow')).toThrow('sslmode=allow falls back to an unencrypted connection');
      expect(() => ssl('sslmode=require')).toThrow('DATABASE_URL: sslmode=require does not check the server certificate; use verify-full');
      expect(() => ssl('sslmode=VERIFY-FULL')).toThrow('DATABASE_URL: expected sslmode to be disable, no-verify, require, verify-ca or verify-full');
    });

    it('refuses an unreadable root certificate, a root certificate with no mode, and any other parameter, without echoing the password', () => {
      const errors = [
        () => ssl(`sslmode=verify-full&sslrootcert=${encodeURIComponent(join(dir, 'missing.pem'))}`),
        () => ssl(`sslrootcert=${encodeURIComponent(caFile)}`),
        () => ssl('sslmode=verify-full&schema=public&connection_limit=5'),
      ].map((attempt) => {
        try {
          attempt();
          return 'no error';
        } catch (error) {
          return (error as Error).message;
        }
      });
      expect(errors).toEqual([
        `DATABASE_URL: sslrootcert ${join(dir, 'missing.pem')} cannot be read (ENOENT)`,
        'DATABASE_URL: sslrootcert needs an sslmode (verify-full, verify-ca or require)',
        'DATABASE_URL: unsupported parameter schema, connection_limit; the URL may carry sslmode and sslrootcert',
      ]);
      expect(errors.join('\n')).not.toContain('secret');
    });
  });
});
