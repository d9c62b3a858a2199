export { startPostgresCluster, createDatabase, findFreePort, type PostgresCluster } from './postgres-cluster';
