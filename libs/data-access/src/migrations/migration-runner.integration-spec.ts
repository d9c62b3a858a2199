import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createDatabase, startPostgresCluster, type PostgresCluster } from '@airlock/testing';
import { parsePostgresUrl, type PostgresConnectionFields } from '../postgres/postgres-connection';
import { applyMigrations, MIGRATIONS_DIR } from './migration-runner';

/*
 * What an upgrade does to the schema (docs/operations/upgrade.md): replicas apply the
 * committed migrations at start, possibly several at once, possibly on a database one or
 * more releases behind.
 */

jest.setTimeout(120_000);

// The key `prisma migrate deploy` locks; the runner must take the same one.
const PRISMA_MIGRATE_ADVISORY_LOCK = 72707369;

let cluster: PostgresCluster;
let scratch: string;
let databaseCounter = 0;

beforeAll(async () => {
  cluster = await startPostgresCluster();
  scratch = await mkdtemp(path.join(tmpdir(), 'airlock-migrations-'));
});

afterAll(async () => {
  await cluster?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

async function emptyDatabase(): Promise<PostgresConnectionFields> {
  databaseCounter += 1;
  return parsePostgresUrl(await createDatabase(cluster.url, `migrations_${databaseCounter}`));
}

async function committedMigrations(): Promise<string[]> {
  return (await readdir(MIGRATIONS_DIR, { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort();
}

/** A folder holding the committed migrations but the newest `behind`: the schema of an earlier release. */
async function migrationsOfEarlierRelease(behind: number): Promise<string> {
  const dir = await mkdtemp(path.join(scratch, `behind-${behind}-`));
  for (const name of (await committedMigrations()).slice(0, -behind)) await cp(path.join(MIGRATIONS_DIR, name), path.join(dir, name), { recursive: true });
  return dir;
}

async function recorded(fields: PostgresConnectionFields): Promise<{ migration_name: string; finished_at: Date | null }[]> {
  const client = new pg.Client({ ...fields });
  await client.connect();
  try {
    return (await client.query<{ migration_name: string; finished_at: Date | null }>('SELECT migration_name, finished_at FROM "_prisma_migrations" ORDER BY migration_name, started_at')).rows;
  } finally {
    await client.end();
  }
}

describe('the migration runner', () => {
  it('applies every migration exactly once when four runners start together on an empty database', async () => {
    const fields = await emptyDatabase();
    const all = await committedMigrations();

    const appliedByEach = await Promise.all(Array.from({ length: 4 }, () => applyMigrations(fields)));

    // One runner applied everything; the others waited for it and found nothing left to do.
    expect(appliedByEach.flat().sort()).toEqual(all);
    expect(appliedByEach.filter((applied) => applied.length > 0)).toEqual([all]);
    expect((await recorded(fields)).map((row) => row.migration_name)).toEqual(all);
  });

  it("waits while another holder has Prisma's migrate lock (prisma migrate deploy), then applies", async () => {
    const fields = await emptyDatabase();
    const holder = new pg.Client({ ...fields });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1)', [PRISMA_MIGRATE_ADVISORY_LOCK]);
      let finished = false;
      const run = applyMigrations(fields).then((applied) => {
        finished = true;
        return applied;
      });
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(finished).toBe(false);
      const tables = await holder.query("SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'");
      expect(tables.rows[0]).toEqual({ n: 0 });

      await holder.query('SELECT pg_advisory_unlock($1)', [PRISMA_MIGRATE_ADVISORY_LOCK]);
      expect(await run).toEqual(await committedMigrations());
    } finally {
      await holder.end();
    }
  });

  it('upgrades a database of an earlier release in place: applies only the newer migrations, once, even with two runners', async () => {
    const behind = 3;
    const fields = await emptyDatabase();
    const all = await committedMigrations();
    const earlier = await applyMigrations(fields, await migrationsOfEarlierRelease(behind));
    expect(earlier).toEqual(all.slice(0, -behind));

    const [first, second] = await Promise.all([applyMigrations(fields), applyMigrations(fields)]);

    expect([...first, ...second].sort()).toEqual(all.slice(-behind));
    const rows = await recorded(fields);
    expect(rows.map((row) => row.migration_name)).toEqual(all);
    expect(rows.every((row) => row.finished_at !== null)).toBe(true);
  });

  it("lets an earlier release's runner start on a newer database without a word: nothing stops a code rollback", async () => {
    const fields = await emptyDatabase();
    await applyMigrations(fields);

    // Migrations are forward only: the earlier release neither undoes the newer ones nor refuses them.
    expect(await applyMigrations(fields, await migrationsOfEarlierRelease(1))).toEqual([]);
    expect((await recorded(fields)).map((row) => row.migration_name)).toEqual(await committedMigrations());
  });
});
