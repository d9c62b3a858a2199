/** @type {import('jest').Config} */
// Checks of the deployment files (Helm charts, Terraform modules, systemd units, alert
// rules) with the real tools that can run here.
module.exports = {
  ...require('../jest.preset.js'),
  displayName: 'infra',
  rootDir: __dirname,
  testMatch: ['<rootDir>/**/*.spec.ts'],
};
