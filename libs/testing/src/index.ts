export { startPostgresCluster, createDatabase, type PostgresCluster } from './postgres-cluster';
export { findFreePort, waitForTcpListener } from './loopback-port';
export { instructionHeader } from './instruction-header.fixture';
