import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '@prisma/client';
import { parsePostgresUrl } from './postgres/postgres-connection';

/** The Prisma client type, for the repositories in this library only. */
export type DatabaseClient = PrismaClient;

/** A transaction handle passed to the repositories' helpers. */
export type DatabaseTransaction = Parameters<Parameters<PrismaClient['$transaction']>[0]>[0];

export interface DatabaseClientOptions {
  /**
   * Pool size. The embedded server runs one session, so it is used with a pool of one:
   * interactive transactions then queue in the pool instead of interleaving.
   */
  readonly maxConnections: number;
}

/** Connects Prisma to PostgreSQL through the pg driver adapter (no native engine). */
export function createDatabaseClient(url: string, options: DatabaseClientOptions): DatabaseClient {
  const adapter = new PrismaPg({ ...parsePostgresUrl(url), max: options.maxConnections });
  return new PrismaClient({
    adapter,
    // With a small pool, a transaction may wait for a connection; give it room.
    transactionOptions: { maxWait: 10_000, timeout: 15_000 },
  });
}
