/** Unit tests of the dashboard's logic that needs no browser (the browser tests are in e2e/src/browser). @type {import('jest').Config} */
module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'dashboard',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
};
