import {
  createTestDatabase,
  noPostgresVerdict,
  startTestPostgres,
  type TestPostgres,
} from '@microservices/service-kit/testing';
import { afterAll, beforeAll, beforeEach } from 'vitest';

export interface PostgresForFile {
  /** The file's throwaway server (throws when there is none: tests are skipped then). */
  server: () => TestPostgres;
  /** A fresh, empty database on it; returns its URL. */
  freshDatabase: (prefix: string) => Promise<string>;
}

/**
 * One throwaway PostgreSQL server for the calling test file, started before its tests and removed after.
 * Without PostgreSQL binaries (and no TEST_DATABASE_URL) every test of the file is skipped loudly, or
 * failed in CI, as the persistence system tests do. `only` limits the skipping to tests whose names match.
 */
export function usePostgresForFile(only: (testName: string) => boolean = () => true): PostgresForFile {
  let server: TestPostgres | null = null;
  beforeAll(async () => {
    server = await startTestPostgres();
    if (!server) {
      const message =
        'no PostgreSQL binaries and no TEST_DATABASE_URL: PostgreSQL resilience tests cannot run';
      if (noPostgresVerdict() === 'fail') throw new Error(message);
      console.warn(`\n!!! SKIPPING: ${message}\n`);
    }
  });
  afterAll(async () => server?.dispose());
  beforeEach((context) => {
    if (!server && only(context.task.name)) context.skip();
  });
  const serverOrThrow = () => {
    if (!server) throw new Error('no PostgreSQL server');
    return server;
  };
  return {
    server: serverOrThrow,
    freshDatabase: async (prefix) => (await createTestDatabase(serverOrThrow().url, prefix)).url,
  };
}
