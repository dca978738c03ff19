/** jest: TypeScript through ts-jest; inversify's ESM-only packages are transformed to CommonJS. */
const tsJest = ['ts-jest', { tsconfig: '<rootDir>/tsconfig.jest.json', diagnostics: false }];
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test', '<rootDir>/vendor'],
  testMatch: ['**/*.test.ts'],
  setupFiles: ['reflect-metadata', '<rootDir>/test/helpers/daemon-env.ts'],
  transform: { '^.+\\.ts$': tsJest, '^.+\\.m?js$': tsJest },
  transformIgnorePatterns: ['/node_modules/(?!(?:inversify|@inversifyjs)/)'],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'cjs', 'json'],
  testTimeout: 60000,
};
