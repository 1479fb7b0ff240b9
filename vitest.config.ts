import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // PGlite instances are memory-hungry WebAssembly heaps; two files at once fit a 2-core machine.
    maxWorkers: 2,
    env: { TZ: 'UTC' },
  },
});
