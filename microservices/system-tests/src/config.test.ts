import { afterEach, describe, expect, it } from 'vitest';
import { freePort, LOOPBACK, type ServiceName, serviceEntry, stopAll } from './support/processes.js';
import { repoRoot } from './support/service-paths.js';
import { killSpawned, spawnNode } from './support/spawned.js';

/** "Fails fast": config is parsed before anything else starts, so a few seconds is plenty even under load. */
const EXIT_WITHIN_MS = 5_000;

afterEach(async () => {
  await killSpawned();
  await stopAll();
});

/** The variable names in the `  - NAME: problem` lines of the configuration error. */
const namedVariables = (stderr: readonly string[]) =>
  stderr.flatMap((line) => /^\s*- ([A-Z][A-Z0-9_]*):/.exec(line)?.[1] ?? []).sort();

async function startWithBadConfig(service: ServiceName, env: Record<string, string>) {
  const started = performance.now();
  // Spawned directly: startService waits for a liveness answer that a misconfigured service never gives.
  const proc = spawnNode([serviceEntry(service)], { HOST: LOOPBACK, ...env }, repoRoot);
  const exit = await proc.exitWithin(EXIT_WITHIN_MS);
  return { exit, ms: performance.now() - started, stderr: proc.stderr(), stdout: proc.stdout() };
}

describe('start-up with an invalid environment', () => {
  it('when user-service gets PORT=abc and LOG_LEVEL=loud, then it exits with code 1 at once and its message names both variables', async () => {
    const { exit, ms, stderr } = await startWithBadConfig('user-service', { PORT: 'abc', LOG_LEVEL: 'loud' });

    expect(exit).toEqual({ code: 1, signal: null });
    expect(ms).toBeLessThan(EXIT_WITHIN_MS);
    expect(stderr[0]).toMatch(/^user-service: Invalid configuration/);
    expect(namedVariables(stderr)).toEqual(['LOG_LEVEL', 'PORT']);
  });

  it('when order-service gets a non-http USER_SERVICE_URL, a negative USER_SERVICE_RETRIES and USER_CACHE_ENABLED=maybe, then it exits with code 1 at once and its message names all three', async () => {
    const { exit, ms, stderr } = await startWithBadConfig('order-service', {
      // A valid, free port: if the bad values were accepted, the service would listen here and never exit.
      PORT: String(await freePort()),
      USER_SERVICE_URL: 'ftp://x',
      USER_SERVICE_RETRIES: '-1',
      USER_CACHE_ENABLED: 'maybe',
    });

    expect(exit).toEqual({ code: 1, signal: null });
    expect(ms).toBeLessThan(EXIT_WITHIN_MS);
    expect(stderr[0]).toMatch(/^order-service: Invalid configuration/);
    expect(namedVariables(stderr)).toEqual([
      'USER_CACHE_ENABLED',
      'USER_SERVICE_RETRIES',
      'USER_SERVICE_URL',
    ]);
  });
});
