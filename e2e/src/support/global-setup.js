// Starts one real PostgreSQL cluster for the whole e2e run; each test file makes its own
// database in it. Jest loads globalSetup without its moduleNameMapper, so the @airlock/testing
// alias is resolved here by hand from tsconfig.base.json (Jest still compiles the source).
const path = require('node:path');
const { compilerOptions } = require('../../../tsconfig.base.json');

const testingLib = path.join(__dirname, '..', '..', '..', compilerOptions.paths['@airlock/testing'][0]);

module.exports = async function startPostgresForE2e() {
  const { startPostgresCluster } = require(testingLib);
  const cluster = await startPostgresCluster();
  process.env.AIRLOCK_E2E_POSTGRES_URL = cluster.url;
  globalThis.airlockE2ePostgres = cluster;
};
