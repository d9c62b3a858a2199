const preset = require('../../jest.preset.js');

// openid-client and what it is built on (oauth4webapi, jose) ship ES modules only. The control
// plane loads them with require(), which Node 20.19+ supports, but Jest's own module loader
// cannot, so SWC compiles them to CommonJS here, like the preset does for its ES-only packages.
const esmOnly = ['openid-client', 'oauth4webapi', 'jose'];

/** @type {import('jest').Config} */
module.exports = {
  ...preset,
  displayName: 'control-plane',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/src/**/*.integration-spec.ts'],
  transform: {
    ...preset.transform,
    [`/node_modules/(${esmOnly.join('|')})/.+\\.js$`]: ['@swc/jest', { module: { type: 'commonjs' } }],
  },
  transformIgnorePatterns: preset.transformIgnorePatterns.map((pattern) => pattern.replace('(?!(', `(?!(${esmOnly.join('|')}|`)),
};
