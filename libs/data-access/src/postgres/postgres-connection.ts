import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import pg from 'pg';

/** PostgreSQL type OIDs that @prisma/adapter-pg cannot map (prisma/orm#27403). */
const SYSTEM_TEXT_TYPE_OIDS: ReadonlySet<number> = new Set([18 /* "char" */, 19 /* name */]);
const TEXT_OID = 25;

/** Separate connection fields: the adapter mishandles shadow databases given a URL. */
export interface PostgresConnectionFields {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
  /**
   * TLS to the server as the URL's `sslmode` asks (see parsePostgresUrl): false for none.
   * Absent when the URL names no `sslmode`: pg then follows PGSSLMODE, else uses none.
   */
  readonly ssl?: false | ConnectionOptions;
}

/** The query parameters a DATABASE_URL may carry; any other is refused rather than ignored. */
const URL_PARAMETERS = ['sslmode', 'sslrootcert'] as const;

/**
 * `sslmode` as libpq defines it, for pg. `prefer` and `allow` fall back to plaintext when TLS
 * fails, which pg cannot do and which an attacker in the path can force, so they are refused;
 * so is `require` with no `sslrootcert`, which encrypts without checking whose certificate it
 * is — `no-verify` (pg's name) says that on purpose.
 */
function tlsOptions(mode: string, rootCertPath: string | undefined): false | ConnectionOptions {
  // `sslrootcert=system` (libpq 16): the system's CAs, which is what Node checks against with no `ca`.
  const ca = rootCertPath === undefined || rootCertPath === 'system' ? undefined : readRootCertificates(rootCertPath);
  const withCa = ca === undefined ? {} : { ca };
  switch (mode) {
    case 'disable':
      return false;
    case 'verify-full':
      return { ...withCa };
    case 'verify-ca':
      // The chain is checked; the name in the certificate is not.
      return { ...withCa, checkServerIdentity: () => undefined };
    case 'require':
      // libpq: with a root certificate, require is verify-ca.
      if (rootCertPath === undefined) {
        throw new Error(
          'DATABASE_URL: sslmode=require does not check the server certificate; use verify-full (with sslrootcert=<CA file> unless a system CA signs it), or no-verify to accept any certificate on purpose',
        );
      }
      return { ...withCa, checkServerIdentity: () => undefined };
    case 'no-verify':
      return { rejectUnauthorized: false };
    case 'prefer':
    case 'allow':
      throw new Error(`DATABASE_URL: sslmode=${mode} falls back to an unencrypted connection; use verify-full, verify-ca, no-verify or disable`);
    default:
      throw new Error('DATABASE_URL: expected sslmode to be disable, no-verify, require, verify-ca or verify-full');
  }
}

function readRootCertificates(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`DATABASE_URL: sslrootcert ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/**
 * Splits a `postgresql://` URL into the fields pg and the Prisma adapter expect, with the TLS
 * its `sslmode` and `sslrootcert` parameters ask for. Errors never echo the URL (it holds the
 * password).
 */
export function parsePostgresUrl(url: string): PostgresConnectionFields {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error('DATABASE_URL: expected a postgresql://user:password@host:port/database URL');
  }
  if (parsed.protocol !== 'postgresql:' && parsed.protocol !== 'postgres:') {
    throw new Error('DATABASE_URL: expected the postgresql:// scheme');
  }
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (!database) throw new Error('DATABASE_URL: expected a database name in the path');
  const unknown = [...new Set(parsed.searchParams.keys())].filter((name) => !(URL_PARAMETERS as readonly string[]).includes(name));
  if (unknown.length > 0) throw new Error(`DATABASE_URL: unsupported parameter ${unknown.join(', ')}; the URL may carry ${URL_PARAMETERS.join(' and ')}`);
  const mode = parsed.searchParams.get('sslmode');
  const rootCert = parsed.searchParams.get('sslrootcert') ?? undefined;
  if (mode === null && rootCert !== undefined) throw new Error('DATABASE_URL: sslrootcert needs an sslmode (verify-full, verify-ca or require)');
  return {
    host: parsed.hostname,
    port: parsed.port ? Number(parsed.port) : 5432,
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
    database,
    ...(mode === null ? {} : { ssl: tlsOptions(mode, rootCert) }),
  };
}

/** Builds a `postgresql://` URL from its fields (used for the embedded server and tests). */
export function formatPostgresUrl(fields: PostgresConnectionFields): string {
  const credentials = `${encodeURIComponent(fields.user)}:${encodeURIComponent(fields.password)}`;
  return `postgresql://${credentials}@${fields.host}:${fields.port}/${encodeURIComponent(fields.database)}`;
}

type QueryResultLike = { fields?: { dataTypeID: number }[] };

function reportSystemTypesAsText(result: unknown): void {
  for (const part of Array.isArray(result) ? result : [result]) {
    for (const field of (part as QueryResultLike | undefined)?.fields ?? []) {
      if (SYSTEM_TEXT_TYPE_OIDS.has(field.dataTypeID)) field.dataTypeID = TEXT_OID;
    }
  }
}

/**
 * A pg client that reports `name` and `"char"` columns as `text`. Prisma's schema engine
 * reads catalog tables with such columns through the driver adapter, which rejects them;
 * their values already arrive as strings, so only the reported type changes.
 */
export class SystemTypesAsTextClient extends pg.Client {
  override query(...args: unknown[]): never {
    const last = args[args.length - 1];
    if (typeof last === 'function') {
      const callback = last as (error: Error | null, result: unknown) => void;
      args[args.length - 1] = (error: Error | null, result: unknown) => {
        if (!error) reportSystemTypesAsText(result);
        callback(error, result);
      };
    }
    const returned: unknown = (super.query as (...queryArgs: unknown[]) => unknown)(...args);
    if (returned instanceof Promise) {
      return returned.then((result: unknown) => {
        reportSystemTypesAsText(result);
        return result;
      }) as never;
    }
    return returned as never;
  }
}
