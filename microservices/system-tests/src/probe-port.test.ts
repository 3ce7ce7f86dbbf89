import { randomUUID } from 'node:crypto';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { createCheckedClient, pollUntil } from '@microservices/service-kit/testing';
import { afterEach, describe, expect, it } from 'vitest';
import type { Readiness } from './support/fixtures.js';
import { waitForLog } from './support/logs.js';
import {
  freePort,
  LOOPBACK,
  type RunningService,
  serviceEntry,
  startService,
  stopAll,
} from './support/processes.js';
import { repoRoot } from './support/service-paths.js';
import { killSpawned, spawnNode } from './support/spawned.js';

afterEach(async () => {
  await killSpawned();
  await stopAll();
});

/** A checked client sending to `service`'s PROBE_PORT, its contract read from the main port. */
function probePortClient(service: RunningService) {
  const probes = `http://${LOOPBACK}:${service.probePort}`;
  return createCheckedClient((path, init) =>
    fetch(`${path === '/openapi.json' ? service.url : probes}${path}`, init),
  );
}

describe('PROBE_PORT: the health probes on a port of their own', () => {
  it('when user-service gets PROBE_PORT, then the probes answer there as on PORT, and an API path there is a 404 problem while PORT still serves it', async () => {
    const users = await startService('user-service', { PROBE_PORT: String(await freePort()) });
    const probes = probePortClient(users);
    expect((await probes.get('/health/live')).body).toMatchObject({ status: 'alive' });
    expect((await probes.get<Readiness>('/health/ready')).body).toMatchObject({ status: 'ready' });
    expect((await probes.get('/health')).status).toBe(200);

    const unknownUser = `/api/v1/users/${randomUUID()}`;
    const refused = await probes.get<{ type: string; detail: string }>(unknownUser);
    expect(refused.status).toBe(404);
    expect(refused.body.type).toBe('urn:problem-type:not-found');
    expect(refused.body.detail).toContain('PROBE_PORT');
    const metrics = await fetch(`http://${LOOPBACK}:${users.probePort}/metrics`);
    expect(metrics.status).toBe(404);
    await metrics.body?.cancel();

    // On PORT the same path reaches the API (the user is unknown there: a different 404).
    const served = await fetch(`${users.url}${unknownUser}`);
    expect(served.status).toBe(404);
    expect(((await served.json()) as { detail: string }).detail).not.toContain('PROBE_PORT');
  });

  it('when order-service gets SIGTERM, then readiness on PROBE_PORT turns 503 at once while liveness there stays 200 through the drain', async () => {
    const orders = await startService('order-service', {
      PROBE_PORT: String(await freePort()),
      USER_SERVICE_URL: `http://${LOOPBACK}:${await freePort()}`,
      SHUTDOWN_DELAY_MS: '1500',
      LOG_LEVEL: 'info',
    });
    const probes = probePortClient(orders);
    await probes.contract();
    orders.process.kill('SIGTERM');
    await waitForLog(
      orders,
      'the start of the shutdown',
      (line) => line.msg === 'shutdown started: readiness now 503',
    );
    const notReady = await pollUntil(
      'readiness on PROBE_PORT to answer 503',
      async () => {
        const res = await probes.get<Readiness>('/health/ready');
        return res.status === 503 ? res : undefined;
      },
      { timeoutMs: 1_000, intervalMs: 5 },
    );
    expect(notReady.body).toMatchObject({ status: 'not_ready', draining: true });
    expect((await probes.get('/health/live')).status).toBe(200);
    expect((await orders.exited).code).toBe(0);
  });

  it('when PROBE_PORT equals PORT, then the service exits with code 1 at once and says so', async () => {
    const port = String(await freePort());
    const proc = spawnNode(
      [serviceEntry('user-service')],
      { HOST: LOOPBACK, PORT: port, PROBE_PORT: port },
      repoRoot,
    );
    expect(await proc.exitWithin(5_000)).toEqual({ code: 1, signal: null });
    expect(proc.stdout().join('\n')).toContain('PROBE_PORT must differ from PORT');
  });

  it.each([
    { server: 'accepts and never answers', answer: (socket: Socket) => socket.setTimeout(10_000) },
    { server: 'closes every connection at once', answer: (socket: Socket) => socket.destroy() },
  ])(
    'when PROBE_PORT $server, then the container healthcheck exits 1 (with a reason), and 0 once the probe port answers',
    async ({ answer }) => {
      const held: Socket[] = [];
      const broken = createServer((socket) => {
        held.push(socket);
        answer(socket);
      });
      await new Promise<void>((resolve) => broken.listen(0, LOOPBACK, resolve));
      const healthcheck = join(dirname(serviceEntry('user-service')), 'healthcheck.js');
      try {
        const brokenPort = String((broken.address() as AddressInfo).port);
        const failed = spawnNode([healthcheck], { PORT: '1', PROBE_PORT: brokenPort }, repoRoot);
        // Not 13 (a fetch left pending when nothing else kept Node running).
        expect(await failed.exitWithin(5_000)).toEqual({ code: 1, signal: null });
        expect(failed.stderr().join('\n')).toMatch(/^healthcheck: ./);
      } finally {
        for (const socket of held) socket.destroy();
        broken.close();
      }
      const users = await startService('user-service', { PROBE_PORT: String(await freePort()) });
      const answered = spawnNode([healthcheck], { PORT: '1', PROBE_PORT: String(users.probePort) }, repoRoot);
      expect(await answered.exitWithin(5_000)).toEqual({ code: 0, signal: null });
    },
  );
});
