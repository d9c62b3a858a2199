import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';

/**
 * Returns every place in the control plane's database where the text occurs: each row of
 * each table in the public schema is rendered as JSON text (bytea as hex) and searched.
 */
export async function findInDatabase(databaseUrl: string, needle: string): Promise<string[]> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const tables = await client.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
    );
    const hits: string[] = [];
    let rowsScanned = 0;
    for (const { table_name: table } of tables.rows) {
      const rows = await client.query<{ row: string }>(`SELECT row_to_json(t)::text AS row FROM "${table}" t`);
      rowsScanned += rows.rowCount ?? 0;
      for (const { row } of rows.rows) {
        if (row.toLowerCase().includes(needle.toLowerCase())) hits.push(`${table}: ${row.slice(0, 200)}`);
      }
    }
    if (rowsScanned === 0) throw new Error('the database scan saw no rows at all; it would prove nothing');
    return hits;
  } finally {
    await client.end();
  }
}

/** Returns the names of the log files in `logDir` (matching `prefix`) that contain the text. */
export function findInLogs(logDir: string, prefix: string, needle: string): string[] {
  const files = readdirSync(logDir).filter((name) => name.startsWith(prefix));
  if (files.length === 0) throw new Error(`no ${prefix}* log in ${logDir}; the scan would prove nothing`);
  return files.filter((name) => readFileSync(join(logDir, name), 'utf8').toLowerCase().includes(needle.toLowerCase()));
}
