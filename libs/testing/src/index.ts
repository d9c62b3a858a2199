export { startPostgresCluster, createDatabase, type PostgresCluster } from './postgres-cluster';
export { findFreePort, waitForTcpListener } from './loopback-port';
export { startNatsServer, type NatsServer } from './nats-server';
export { instructionHeader } from './instruction-header.fixture';
export { CAN_MOUNT_TMPFS, mountSmallTmpfs, fillUntilFull, type SmallTmpfs } from './tmpfs';
export { startTestIdentityProvider, signInAtIdentityProvider, type TestIdentityProvider, type TestOidcAccount, type TestOidcClient } from './oidc/identity-provider';
export { findInDatabase } from './database-scan';
export { parsePrometheusText, sampleValue, type PrometheusSample } from './prometheus-text';
