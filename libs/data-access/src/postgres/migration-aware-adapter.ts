import { randomUUID } from 'node:crypto';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { SystemTypesAsTextClient, type PostgresConnectionFields } from './postgres-connection';

type PrismaPgAdapter = Awaited<ReturnType<PrismaPg['connect']>>;

function poolConfig(fields: PostgresConnectionFields, database: string, max: number): pg.PoolConfig {
  // allowExitOnIdle: idle pooled connections must not keep a finished CLI process alive.
  return { ...fields, database, max, allowExitOnIdle: true, Client: SystemTypesAsTextClient };
}

async function runAdminStatement(fields: PostgresConnectionFields, sql: string): Promise<void> {
  const client = new pg.Client({ ...fields });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * The driver-adapter factory for Prisma's JS schema engine (`prisma migrate …`) and client.
 * It exists to work around two adapter-pg issues: system catalog types (see
 * SystemTypesAsTextClient) and the shadow database, which the stock adapter drops while its
 * own pool still holds connections to it; here it is dropped after the pool closes.
 */
export class MigrationAwarePgAdapterFactory {
  readonly provider = 'postgres';
  readonly adapterName = '@prisma/adapter-pg';
  private readonly main: PrismaPg;

  constructor(
    private readonly fields: PostgresConnectionFields,
    maxConnections = 10,
  ) {
    this.main = new PrismaPg(poolConfig(fields, fields.database, maxConnections));
  }

  connect(): Promise<PrismaPgAdapter> {
    return this.main.connect();
  }

  async connectToShadowDb(): Promise<PrismaPgAdapter> {
    const shadowDatabase = `prisma_migrate_shadow_db_${randomUUID().replace(/-/g, '')}`;
    await runAdminStatement(this.fields, `CREATE DATABASE "${shadowDatabase}"`);
    const adapter = await new PrismaPg(poolConfig(this.fields, shadowDatabase, 2)).connect();
    const closePool = adapter.dispose.bind(adapter);
    adapter.dispose = async () => {
      await closePool();
      await runAdminStatement(this.fields, `DROP DATABASE IF EXISTS "${shadowDatabase}" WITH (FORCE)`);
    };
    return adapter;
  }
}
