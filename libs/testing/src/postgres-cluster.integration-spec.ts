import pg from 'pg';
import { createDatabase, startPostgresCluster } from './postgres-cluster';

jest.setTimeout(60_000);

describe('startPostgresCluster', () => {
  it('starts a real server on a free port and creates isolated databases', async () => {
    const cluster = await startPostgresCluster();
    try {
      const url = await createDatabase(cluster.url, 'isolated_one');
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      const { rows } = await client.query<{ db: string }>('SELECT current_database() AS db');
      await client.end();
      expect(rows[0]?.db).toBe('isolated_one');
      await expect(createDatabase(cluster.url, 'Bad-Name')).rejects.toThrow(/database name must match/);
    } finally {
      await cluster.stop();
    }
  });
});
