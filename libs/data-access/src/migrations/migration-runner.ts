import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { buildInfo } from '@airlock/protocol';
import type { PostgresConnectionFields } from '../postgres/postgres-connection';

/**
 * The committed migrations: the one source of truth for the CLI and for start-up. A bundle
 * of the control plane carries a copy beside its main.js (scripts/build-apps.ts).
 */
export const MIGRATIONS_DIR = buildInfo().bundled ? path.join(__dirname, 'prisma', 'migrations') : path.resolve(__dirname, '..', '..', 'prisma', 'migrations');

// The advisory lock key Prisma's own `migrate deploy` takes, so the CLI and this runner
// (and several replicas starting at once) never apply migrations concurrently.
const PRISMA_MIGRATE_ADVISORY_LOCK = 72707369;

// The bookkeeping table exactly as Prisma creates it, so `prisma migrate status` agrees.
const CREATE_MIGRATIONS_TABLE = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id"                  VARCHAR(36) PRIMARY KEY NOT NULL,
  "checksum"            VARCHAR(64) NOT NULL,
  "finished_at"         TIMESTAMPTZ,
  "migration_name"      VARCHAR(255) NOT NULL,
  "logs"                TEXT,
  "rolled_back_at"      TIMESTAMPTZ,
  "started_at"          TIMESTAMPTZ NOT NULL DEFAULT now(),
  "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`;

/** A committed migration whose file no longer matches what was applied, or a failed one. */
export class MigrationStateError extends Error {
  override readonly name = 'MigrationStateError';
}

interface MigrationFile {
  readonly name: string;
  readonly sql: string;
  readonly checksum: string;
}

async function readMigrations(dir: string): Promise<MigrationFile[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  const migrations: MigrationFile[] = [];
  for (const name of names) {
    const file = path.join(dir, name, 'migration.sql');
    if (!existsSync(file)) continue;
    const content = await readFile(file);
    migrations.push({ name, sql: content.toString('utf8'), checksum: createHash('sha256').update(content).digest('hex') });
  }
  return migrations;
}

/**
 * Applies the committed migration folders that the database has not seen yet, in name
 * order, each in its own transaction, recording them in `_prisma_migrations` the way
 * `prisma migrate deploy` does. Returns the names it applied.
 */
export async function applyMigrations(fields: PostgresConnectionFields, dir: string = MIGRATIONS_DIR): Promise<string[]> {
  const migrations = await readMigrations(dir);
  const client = new pg.Client({ ...fields });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [PRISMA_MIGRATE_ADVISORY_LOCK]);
    await client.query(CREATE_MIGRATIONS_TABLE);
    const applied = await client.query<{ migration_name: string; checksum: string; finished_at: Date | null; rolled_back_at: Date | null }>(
      'SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations"',
    );
    const done = new Map<string, string>();
    for (const row of applied.rows) {
      if (row.rolled_back_at) continue;
      if (!row.finished_at) {
        throw new MigrationStateError(`migration ${row.migration_name} started but never finished; resolve it with prisma migrate resolve`);
      }
      done.set(row.migration_name, row.checksum);
    }
    const newlyApplied: string[] = [];
    for (const migration of migrations) {
      const appliedChecksum = done.get(migration.name);
      if (appliedChecksum !== undefined) {
        if (appliedChecksum !== migration.checksum) {
          throw new MigrationStateError(`migration ${migration.name} was changed after it was applied`);
        }
        continue;
      }
      await client.query('BEGIN');
      try {
        const startedAt = new Date();
        await client.query(migration.sql);
        await client.query(
          `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, started_at, applied_steps_count)
           VALUES ($1, $2, now(), $3, $4, 1)`,
          [randomUUID(), migration.checksum, migration.name, startedAt],
        );
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      }
      newlyApplied.push(migration.name);
    }
    return newlyApplied;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [PRISMA_MIGRATE_ADVISORY_LOCK]).catch(() => undefined);
    await client.end();
  }
}
