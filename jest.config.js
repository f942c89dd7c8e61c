/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  testTimeout: 30000,
  globalSetup: '<rootDir>/test/helpers/fauxqs-setup.mjs',
  globalTeardown: '<rootDir>/test/helpers/fauxqs-teardown.mjs',
};
