/**
 * The e2e suite: every piece runs as a real process (control plane, worker, inference
 * server, git daemon) against a real PostgreSQL cluster started by the global setup.
 * @type {import('jest').Config}
 */
module.exports = {
  ...require('../jest.preset.js'),
  displayName: 'e2e',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.e2e-spec.ts'],
  globalSetup: '<rootDir>/src/support/global-setup.js',
  globalTeardown: '<rootDir>/src/support/global-teardown.js',
  testTimeout: 180_000,
  maxWorkers: 1,
};
