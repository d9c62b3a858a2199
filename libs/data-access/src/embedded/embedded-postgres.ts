import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { formatPostgresUrl } from '../postgres/postgres-connection';

/** An in-process PostgreSQL served on a local port, for the single-process default. */
export interface EmbeddedPostgres {
  /** A normal `postgresql://` URL pointing at the embedded server. */
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * Starts PGlite with its data in `dataDir` (kept across restarts) and serves it over the
 * PostgreSQL wire protocol on a free 127.0.0.1 port, so the rest of the control plane uses
 * exactly the code paths it uses against a real server. PGlite runs one session: queries
 * from several connections are serialised, so callers should use a pool of one.
 */
export async function startEmbeddedPostgres(dataDir: string): Promise<EmbeddedPostgres> {
  await mkdir(dataDir, { recursive: true });
  const db = await PGlite.create(dataDir);
  // Several connections are allowed (migrations and the client pool use separate ones);
  // the server keeps each transaction on the connection that opened it.
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 8 });
  await server.start();
  const port = Number(server.getServerConn().split(':').pop());
  return {
    url: formatPostgresUrl({ host: '127.0.0.1', port, user: 'postgres', password: 'postgres', database: 'postgres' }),
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
