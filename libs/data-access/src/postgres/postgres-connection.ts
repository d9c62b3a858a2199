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
}

/** Splits a `postgresql://` URL into the fields pg and the Prisma adapter expect. */
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
  return {
    host: parsed.hostname,
    port: parsed.port ? Number(parsed.port) : 5432,
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
    database,
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
