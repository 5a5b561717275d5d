import { defineConfig } from 'vitest/config';

// Tests import the TypeScript sources directly; the native addon is built once by `npm install`
// (tests never rebuild it).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
