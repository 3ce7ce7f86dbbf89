import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['microservices/*/src/**/*.test.ts'],
          // The system tests match the glob above but need the build in their global setup.
          exclude: [...configDefaults.exclude, 'microservices/system-tests/**'],
          testTimeout: 10_000,
        },
      },
      {
        test: {
          name: 'system',
          include: ['microservices/system-tests/src/**/*.test.ts'],
          globalSetup: ['microservices/system-tests/src/support/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // Tests start real processes on real ports; running files one at a time keeps timings honest on 2 cores.
          fileParallelism: false,
        },
      },
    ],
  },
});
