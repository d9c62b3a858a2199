export { startPostgresCluster, createDatabase, findFreePort, type PostgresCluster } from './postgres-cluster';
export { instructionHeader } from './instruction-header.fixture';
