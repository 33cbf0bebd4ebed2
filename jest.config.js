/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
        module: { type: 'es6' },
        sourceMaps: 'inline'
      }
    ]
  },
  transformIgnorePatterns: ['/node_modules/'],
  clearMocks: true,
  // Jest's default is one worker on a 2-core machine; the e2e files mostly wait on child processes and
  // local servers, so two run side by side in about 60% of the time.
  maxWorkers: 2,
  testTimeout: 30000
}
