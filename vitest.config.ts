import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['microservices/*/src/**/*.test.ts'],
          // The system tests match the glob above but need the build in their global setup; *.db.test.ts need PostgreSQL.
          exclude: [
            ...configDefaults.exclude,
            'microservices/system-tests/**',
            // Container tests need a Docker engine and run with `npm run test:containers` only.
            'microservices/container-tests/**',
            // Deployment artefact tests have their own project (`deploy`), with its own timeouts.
            'microservices/deploy-tests/**',
            '**/*.db.test.ts',
          ],
          testTimeout: 10_000,
        },
      },
      {
        test: {
          // In-process tests against a real PostgreSQL (the repository contract suites run on both stores).
          name: 'db',
          include: ['microservices/*/src/**/*.db.test.ts'],
          globalSetup: ['microservices/service-kit/src/testing/postgres-global-setup.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'system',
          include: ['microservices/system-tests/src/**/*.test.ts'],
          exclude: [
            ...configDefaults.exclude,
            'microservices/system-tests/src/resilience/**',
            'microservices/system-tests/src/cost/**',
          ],
          globalSetup: ['microservices/system-tests/src/support/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // Tests start real processes on real ports; running files one at a time keeps timings honest on 2 cores.
          fileParallelism: false,
        },
      },
      {
        test: {
          // The reliability and security proof (issue 7): outages, faults, drain under load, fuzzing, hostile
          // input, against the built services on real ports. `npm run test:resilience` runs it alone.
          name: 'resilience',
          // The cost group (issue 13: attacks that cost the sender little) runs with it: same built services.
          include: [
            'microservices/system-tests/src/resilience/**/*.test.ts',
            'microservices/system-tests/src/cost/**/*.test.ts',
          ],
          globalSetup: ['microservices/system-tests/src/support/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          // Deployment artefacts: Helm charts, k8s/ and Argo CD manifests, GitHub workflows, compose, Dockerfiles (static).
          name: 'deploy',
          include: ['microservices/deploy-tests/src/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 300_000,
        },
      },
      {
        test: {
          // Real image builds and runs with a private Docker engine: `npm run test:containers`, not part of `npm test`.
          name: 'containers',
          include: ['microservices/container-tests/src/**/*.test.ts'],
          testTimeout: 900_000,
          hookTimeout: 1_800_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
