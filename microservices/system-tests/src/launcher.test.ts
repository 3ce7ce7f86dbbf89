import { join } from 'node:path';
import { type CheckedClient, httpClient, pollUntil } from '@microservices/service-kit/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { exampleOrder, exampleUser, type Order, type Readiness, type User } from './support/fixtures.js';
import { canConnect } from './support/net.js';
import { twoFreePorts } from './support/pair.js';
import { LOOPBACK, stopAll } from './support/processes.js';
import { repoRoot } from './support/service-paths.js';
import { childPids, killSpawned, spawnNode } from './support/spawned.js';

const LAUNCHER = join(repoRoot, 'microservices', 'scripts', 'run-pair.mjs');
const EXIT_WITHIN_MS = 10_000;

afterEach(async () => {
  await killSpawned();
  await stopAll();
});

/**
 * A contract-checked client for a service the test did not start itself, once its readiness answers 200.
 * A fresh client per try: the checked client caches its first /openapi.json fetch, failure included.
 */
function readyClient(port: number): Promise<CheckedClient> {
  return pollUntil(
    `readiness on port ${port}`,
    async () => {
      const api = httpClient(`http://${LOOPBACK}:${port}`);
      const res = await api.get<Readiness>('/health/ready');
      return res.status === 200 ? api : undefined;
    },
    { timeoutMs: 15_000, intervalMs: 100 },
  );
}

describe('the `npm start` launcher (scripts/run-pair.mjs)', () => {
  it('when started on two free ports, then both services serve a user and its order, and on SIGINT it exits 0 within 10 s with both ports closed', async () => {
    const [userPort, orderPort] = await twoFreePorts();
    const launcher = spawnNode(
      [LAUNCHER],
      {
        USER_SERVICE_PORT: String(userPort),
        ORDER_SERVICE_PORT: String(orderPort),
        HOST: LOOPBACK,
        LOG_LEVEL: 'info',
      },
      repoRoot,
    );

    const userApi = await readyClient(userPort);
    const orderApi = await readyClient(orderPort);
    const launcherPid = launcher.child.pid;
    expect(launcherPid).toBeDefined();
    expect(childPids(launcherPid ?? 0)).toHaveLength(2);

    const user = await userApi.post<User>('/api/v1/users', exampleUser);
    expect(user.status).toBe(201);
    const order = await orderApi.post<Order>('/api/v1/orders', exampleOrder(user.body.id));
    expect(order.status).toBe(201);
    expect(order.body).toMatchObject({ user_id: user.body.id, status: 'pending', total_amount: 999.99 });

    const signalled = performance.now();
    launcher.child.kill('SIGINT');
    const exit = await launcher.exitWithin(EXIT_WITHIN_MS);

    expect(exit).toEqual({ code: 0, signal: null });
    expect(performance.now() - signalled).toBeLessThan(EXIT_WITHIN_MS);
    expect(await canConnect(userPort)).toBe(false);
    expect(await canConnect(orderPort)).toBe(false);
    expect(launcher.stderr().join('\n')).toContain('SIGINT received: stopping both services');
    // Both services drained and said so on the launcher's stdout (JSON lines, untagged when not a TTY).
    const completions = launcher
      .stdout()
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.msg === 'shutdown complete');
    expect(completions.map((l) => [l.service, l.drained]).sort()).toEqual([
      ['order-service', true],
      ['user-service', true],
    ]);
  });
});
