import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { useLoopbackServers } from '../../testing/loopback-servers.js';
import { pollUntil } from '../../testing/poll.js';

const { start, open } = useLoopbackServers();

/** Sends `request` on a new raw connection to `port`; resolves with everything the server sent back. */
async function exchange(port: number, request: string): Promise<string> {
  const client = open(port);
  client.socket.write(request);
  await client.closed;
  return client.text();
}

const get = (path: string) => `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`;

/** An app whose `/busy` holds the event loop for 20 ms; records the order requests were served in. */
function busyApp() {
  const served: string[] = [];
  const app = new Hono();
  app.get('/busy', (c) => {
    const until = performance.now() + 20;
    while (performance.now() < until) {
      // a handler that computes for 20 ms: every turn of the loop that serves one is that long
    }
    served.push('busy');
    return c.text('done');
  });
  app.get('/health/live', (c) => {
    served.push('probe');
    return c.json({ status: 'alive' });
  });
  app.get('/health/ready', (c) => c.json({ status: 'ready' }));
  app.get('/api/v1/users', (c) => c.json([]));
  return { app, served };
}

describe('startHttpServer with a probe port (PROBE_PORT)', () => {
  it('when probePort is set, then the probes are answered on it as on the main port, and anything else on it is a 404 problem', async () => {
    const { app } = busyApp();
    const { port, probePort } = await start(app.fetch, { probePort: 0 });
    expect(probePort).toBeGreaterThan(0);
    expect(probePort).not.toBe(port);
    const probePortAt = probePort as number;
    expect(await exchange(probePortAt, get('/health/live'))).toMatch(/^HTTP\/1\.1 200 .*"status":"alive"/s);
    expect(await exchange(probePortAt, get('/health/ready'))).toMatch(/^HTTP\/1\.1 200 .*"status":"ready"/s);
    const refused = await exchange(probePortAt, get('/api/v1/users'));
    expect(refused).toMatch(/^HTTP\/1\.1 404 /);
    expect(refused).toContain('application/problem+json');
    expect(refused).toContain('"type":"urn:problem-type:not-found"');
    expect(refused).toContain('PROBE_PORT');
    // The main port still serves everything.
    expect(await exchange(port, get('/api/v1/users'))).toMatch(/^HTTP\/1\.1 200 /);
    expect(await exchange(port, get('/health/live'))).toMatch(/^HTTP\/1\.1 200 /);
  });

  it('when probePort is not set, then no probe port is opened', async () => {
    const { app } = busyApp();
    const started = await start(app.fetch);
    expect(started.probePort).toBeUndefined();
    await started.closeProbes();
  });

  // libuv accepts one connection per listening socket per turn of the event loop: twenty connections
  // waiting to be accepted while every turn computes for 20 ms are twenty turns.
  it.each([
    { on: 'PROBE_PORT', probeFirstWithin: 3 },
    { on: 'the main port', probeFirstWithin: undefined },
  ])(
    'when twenty new connections wait to be accepted while the event loop is busy, then a probe sent after them on $on is served in its turn',
    async ({ on, probeFirstWithin }) => {
      const { app, served } = busyApp();
      const { port, probePort } = await start(app.fetch, { probePort: 0 });
      const busy = Array.from({ length: 20 }, () => exchange(port, get('/busy')));
      const probe = exchange(on === 'PROBE_PORT' ? (probePort as number) : port, get('/health/live'));
      await Promise.all([...busy, probe]);
      await pollUntil('all served', () => served.length === 21 || undefined);
      const turn = served.indexOf('probe');
      if (probeFirstWithin === undefined) {
        // Behind most of them on the main port: what the probe port is for. Should a Node upgrade accept
        // every waiting connection at once, this fails and the probe port can be reconsidered.
        expect(turn).toBeGreaterThanOrEqual(10);
      } else {
        expect(turn).toBeLessThan(probeFirstWithin);
      }
    },
  );

  it('when 32 idle sockets hold the probe port, then a new probe is still answered: the oldest holder gives way', async () => {
    const { app } = busyApp();
    const { probePort } = await start(app.fetch, { probePort: 0 });
    const holders = Array.from({ length: 32 }, () => open(probePort as number));
    await Promise.all(holders.map(({ socket }) => new Promise((resolve) => socket.once('connect', resolve))));
    expect(await exchange(probePort as number, get('/health/live'))).toMatch(/^HTTP\/1\.1 200 /);
    await pollUntil('the oldest holder closed', () => holders[0]?.socket.destroyed || undefined);
  });

  it('when a client asks the probe port to keep its connection alive, then the answer closes it anyway', async () => {
    const { app } = busyApp();
    const { probePort } = await start(app.fetch, { probePort: 0 });
    const client = open(probePort as number);
    client.socket.write('GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n');
    await client.closed;
    expect(client.text()).toMatch(/^HTTP\/1\.1 200 /);
    expect(client.text()).toMatch(/\r\nConnection: close\r\n/i);
  });

  it("when keep-alive clients fill MAX_CONNECTIONS on the main port, then probes on the probe port are answered, take no client's place, and no newcomer takes theirs", async () => {
    const { app } = busyApp();
    const { port, probePort } = await start(app.fetch, { probePort: 0, limits: { maxConnections: 2 } });
    // A probe connection opened and not yet asking: the idlest connection there is.
    const waitingProbe = open(probePort as number);
    await new Promise((resolve) => waitingProbe.socket.once('connect', resolve));
    const keepAlive = [open(port), open(port)];
    for (const client of keepAlive) client.socket.write('GET /api/v1/users HTTP/1.1\r\nHost: x\r\n\r\n');
    await pollUntil(
      'both served',
      () => keepAlive.every((c) => c.text().includes('\r\n\r\n[]')) || undefined,
    );

    // A probe at the cap evicts none of the clients.
    expect(await exchange(probePort as number, get('/health/live'))).toMatch(/^HTTP\/1\.1 200 /);
    expect(keepAlive.map((c) => c.socket.destroyed)).toEqual([false, false]);

    // A client's newcomer at the cap evicts a client's idle keep-alive connection, never the probe's.
    const newcomer = open(port);
    newcomer.socket.write(get('/api/v1/users'));
    await newcomer.closed;
    expect(newcomer.text()).toMatch(/^HTTP\/1\.1 200 /);
    await pollUntil(
      'one keep-alive client evicted',
      () => keepAlive.some((c) => c.socket.destroyed) || undefined,
    );
    expect(waitingProbe.socket.destroyed).toBe(false);
    waitingProbe.socket.write(get('/health/live'));
    await waitingProbe.closed;
    expect(waitingProbe.text()).toMatch(/^HTTP\/1\.1 200 /);
  });
});
