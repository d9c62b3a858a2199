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

  it('stops and starts the server on the same port, keeping its data', async () => {
    const cluster = await startPostgresCluster();
    try {
      const url = await createDatabase(cluster.url, 'survives_restart');
      const currentDatabase = async () => {
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        try {
          return (await client.query<{ db: string }>('SELECT current_database() AS db')).rows[0]?.db;
        } finally {
          await client.end();
        }
      };
      await cluster.stopServer();
      await expect(currentDatabase()).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      await cluster.startServer();
      expect(await currentDatabase()).toBe('survives_restart');
    } finally {
      await cluster.stop();
    }
  });
});
