/** Native-ESM jest: the IPFS packages are ESM-only (see ../shared/STACK-NOTES.md). */
const common = {
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true }] },
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
    // The Lit SDK's "require" export of its contract files is ESM (Node >= 20.19 requires ESM; jest's loader cannot).
    '^@lit-protocol/contracts/prod/(.*)\\.js$': '<rootDir>/node_modules/@lit-protocol/contracts/dist/prod/$1.cjs',
  },
  testEnvironment: 'node',
};

export default {
  projects: [
    {
      ...common,
      displayName: 'unit',
      // The architecture test reads files only: it needs no stack.
      testMatch: ['<rootDir>/{shared,functions,infra,contracts,gpu-workers,cli,scripts,stack,bench}/**/*.test.ts', '<rootDir>/test/architecture.test.ts'],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/architecture.test.ts'],
    },
  ],
  globalSetup: '<rootDir>/test/support/globalSetup.js',
  globalTeardown: '<rootDir>/test/support/globalTeardown.js',
  testTimeout: 60000,
  // The tests run in a child process that is replaced once its heap passes 1 GB after a test file. Run in band (the
  // default on 2 cores), one process held every test file's leftovers: `jest --logHeapUsage` saw its heap grow to
  // 2.7 GB of the 4.1 GB limit by the end, and a CI run that stopped making progress near the end (no failure, no
  // summary, 90 minutes) is what a heap at its limit looks like: back-to-back full GCs (session 9).
  workerIdleMemoryLimit: '1GB',
  // Hardhat's in-process EVM (EDR) keeps a native handle alive after its tests finish; without this jest
  // would wait for it forever. Every server our own tests start is closed in their afterAll.
  forceExit: true,
};
