/** @type {import('jest').Config} */
const preset = require('../../jest.preset.js');

// secretlint ships ES modules only. Node 20 loads them through require() (the worker does),
// but Jest's own module loader cannot before Node 24.9, so SWC compiles them to CommonJS here.
const esmOnly = ['@secretlint'];

module.exports = {
  ...preset,
  displayName: 'policy',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/src/**/*.integration-spec.ts'],
  transform: {
    ...preset.transform,
    [`/node_modules/(${esmOnly.join('|')})/.+\\.js$`]: ['@swc/jest', { module: { type: 'commonjs' } }],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${esmOnly.join('|')})/)`],
};
