// Configuration for the Prisma CLI (`npm run db:generate`, `npm run db:migrate`).
// Prisma 6 runs its schema engine as Wasm through a driver adapter here, so nothing native
// is downloaded: an install must never fetch anything but npm packages.
import path from 'node:path';
import { defineConfig } from 'prisma/config';
import { MigrationAwarePgAdapterFactory } from './src/postgres/migration-aware-adapter';
import { parsePostgresUrl } from './src/postgres/postgres-connection';

// Pointing the native engine paths at any existing file stops the CLI from downloading
// engines it will not use (the JS engine and the query compiler are Wasm).
process.env['PRISMA_SCHEMA_ENGINE_BINARY'] ??= process.execPath;
process.env['PRISMA_QUERY_ENGINE_LIBRARY'] ??= process.execPath;

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: path.join(__dirname, 'prisma', 'schema.prisma'),
  migrations: { path: path.join(__dirname, 'prisma', 'migrations') },
  async adapter() {
    const url = process.env['DATABASE_URL'];
    if (!url) throw new Error('DATABASE_URL: required for prisma migrate (postgresql://user:password@host:port/database)');
    return new MigrationAwarePgAdapterFactory(parsePostgresUrl(url));
  },
});
