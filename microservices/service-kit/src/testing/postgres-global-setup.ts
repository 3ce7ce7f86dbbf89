import type { TestProject } from 'vitest/node';
import { noPostgresVerdict, startTestPostgres } from './postgres-server.js';

/**
 * Vitest global setup: one PostgreSQL server for the whole run (TEST_DATABASE_URL, or a throwaway
 * cluster from the machine's binaries). Without binaries the suites skip with a loud warning, except in
 * CI (CI=true), where a skipped database suite would hide a missing install step: there it fails.
 */
export default async function setup(project: TestProject) {
  const server = await startTestPostgres();
  if (!server) {
    const message =
      'No PostgreSQL server binaries (pg_ctl/initdb) found on PATH or under /usr/lib/postgresql, and ' +
      'TEST_DATABASE_URL is not set: install them (apt-get install -y postgresql) or set TEST_DATABASE_URL.';
    if (noPostgresVerdict() === 'fail') throw new Error(message);
    console.warn(`\n!!! SKIPPING POSTGRESQL TESTS !!!\n${message}\n`);
    project.provide('pgAdminUrl', null);
    return;
  }
  project.provide('pgAdminUrl', server.url);
  return () => server.dispose();
}
