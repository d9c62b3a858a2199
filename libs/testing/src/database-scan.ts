import { Client } from 'pg';

/**
 * Every row of every table in the database's public schema that holds the text
 * (case-insensitive), as "<table>: <row as JSON, first 200 characters>": each row is
 * rendered as JSON text (bytea as hex) and searched. The canary scans of the control
 * plane's database use it: what never crossed must be in no row.
 */
export async function findInDatabase(databaseUrl: string, needle: string): Promise<string[]> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const tables = await client.query<{ table_name: string }>("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'");
    const hits: string[] = [];
    let rowsScanned = 0;
    for (const { table_name: table } of tables.rows) {
      const rows = await client.query<{ row: string }>(`SELECT row_to_json(t)::text AS row FROM "${table}" t`);
      rowsScanned += rows.rowCount ?? 0;
      for (const { row } of rows.rows) if (row.toLowerCase().includes(needle.toLowerCase())) hits.push(`${table}: ${row.slice(0, 200)}`);
    }
    if (rowsScanned === 0) throw new Error('the database scan saw no rows at all; it would prove nothing');
    return hits;
  } finally {
    await client.end();
  }
}
