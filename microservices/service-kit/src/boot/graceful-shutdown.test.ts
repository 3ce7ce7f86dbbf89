import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Lifecycle } from '../base/lifecycle.js';
import { silentLogger } from '../base/logger.js';
import { captureLogger } from '../testing/capture-logger.js';
import { createGracefulShutdown, type GracefulShutdownOptions } from './graceful-shutdown.js';

function deferred() {
  let resolve: () => void = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const servers: Server[] = [];

/**
 * A real server on 127.0.0.1 with `/slow`, which answers only once the test releases it, and
 * `/fast`. `events` records when the slow response went out so ordering against resource closing
 * can be asserted without sleeping.
 */
async function startServer() {
  const events: string[] = [];
  const slowArrived = deferred();
  const releaseSlow = deferred();
  const server = createServer((req, res) => {
    if (req.url !== '/slow') {
      res.end('fast');
      return;
    }
    slowArrived.resolve();
    void releaseSlow.promise.then(() => {
      events.push('slow response sent');
      res.end('slow done');
    });
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const get = (path: string) =>
    fetch(`${url}${path}`).then(async (res) => ({ status: res.status, text: await res.text() }));
  return { server, events, slowArrived, releaseSlow, get };
}

type TestServer = Awaited<ReturnType<typeof startServer>>;

/** Resources that record the order in which they were closed into the server's event list. */
const recordingResources = (events: string[], ...names: string[]) =>
  names.map((name) => ({
    name,
    close: async () => {
      events.push(`closed ${name}`);
    },
  }));

function shutdownFor(s: TestServer, options: Partial<GracefulShutdownOptions> = {}) {
  const lifecycle = options.lifecycle ?? new Lifecycle();
  const shutdown = createGracefulShutdown({
    server: s.server,
    lifecycle,
    logger: silentLogger(),
    delayMs: 0,
    timeoutMs: 5_000,
    resources: [],
    ...options,
  });
  return { shutdown, lifecycle };
}

/**
 * Starts a `/slow` request and resolves once the server is handling it. The response promise is
 * wrapped so awaiting this does not also wait for the response; a failed request resolves to its Error.
 */
async function slowRequestInFlight(s: TestServer) {
  const response = s.get('/slow').catch((err: unknown) => err as Error);
  await s.slowArrived.promise;
  return { response };
}

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    if (server.listening) await new Promise((resolve) => server.close(resolve));
  }
});

describe('createGracefulShutdown', () => {
  it('when shutdown() is called, then lifecycle.draining is true at once, before any delay has passed', async () => {
    const s = await startServer();
    const { shutdown, lifecycle } = shutdownFor(s, { delayMs: 50 });
    const done = shutdown('SIGTERM');
    expect(lifecycle.draining).toBe(true);
    expect(s.server.listening).toBe(true);
    await done;
  });

  it('when the delay is running, then new requests are still served', async () => {
    const s = await startServer();
    const { shutdown } = shutdownFor(s, { delayMs: 150 });
    const done = shutdown('SIGTERM');
    expect(await s.get('/fast')).toEqual({ status: 200, text: 'fast' });
    expect(await done).toBe(true);
  });

  it('when the delay is over, then the server stops listening', async () => {
    const s = await startServer();
    const { shutdown } = shutdownFor(s);
    await shutdown('SIGTERM');
    expect(s.server.listening).toBe(false);
  });

  it('when a slow request is in flight, then it still completes after the listener has closed', async () => {
    const s = await startServer();
    const { response } = await slowRequestInFlight(s);
    const { shutdown } = shutdownFor(s);
    const done = shutdown('SIGTERM');
    expect(s.server.listening).toBe(false);
    s.releaseSlow.resolve();
    expect(await response).toEqual({ status: 200, text: 'slow done' });
    await done;
  });

  it('when the in-flight request finishes in time, then shutdown resolves true', async () => {
    const s = await startServer();
    const { response } = await slowRequestInFlight(s);
    const { shutdown } = shutdownFor(s);
    const done = shutdown('SIGTERM');
    s.releaseSlow.resolve();
    await response;
    expect(await done).toBe(true);
  });

  it('when there are resources, then they are closed in order, only after in-flight requests finished', async () => {
    const s = await startServer();
    const { response } = await slowRequestInFlight(s);
    const { shutdown } = shutdownFor(s, { resources: recordingResources(s.events, 'dispatcher', 'store') });
    const done = shutdown('SIGTERM');
    s.releaseSlow.resolve();
    await response;
    await done;
    expect(s.events).toEqual(['slow response sent', 'closed dispatcher', 'closed store']);
  });

  it('when a resource fails to close, then the rest are still closed and the failure is logged', async () => {
    const s = await startServer();
    const { logger, lines } = captureLogger();
    const failing = {
      name: 'flaky',
      close: async () => {
        throw new Error('already closed');
      },
    };
    const { shutdown } = shutdownFor(s, {
      logger,
      resources: [failing, ...recordingResources(s.events, 'store')],
    });
    expect(await shutdown('SIGTERM')).toBe(true);
    expect(s.events).toEqual(['closed store']);
    expect(lines()).toContainEqual(expect.objectContaining({ level: 'warn', resource: 'flaky' }));
  });

  it('when shutdown() is called twice, then both calls share one run and resources close once', async () => {
    const s = await startServer();
    const { shutdown } = shutdownFor(s, { resources: recordingResources(s.events, 'store') });
    const first = shutdown('SIGTERM');
    const second = shutdown('SIGINT');
    expect(second).toBe(first);
    await first;
    expect(s.events).toEqual(['closed store']);
  });

  it('when a keep-alive connection sits idle, then shutdown does not wait for it to time out', async () => {
    const s = await startServer();
    s.server.keepAliveTimeout = 60_000;
    await s.get('/fast');
    const { shutdown } = shutdownFor(s, { timeoutMs: 10_000 });
    const started = performance.now();
    expect(await shutdown('SIGTERM')).toBe(true);
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('when the in-flight request outlives timeoutMs, then shutdown resolves false', async () => {
    const s = await startServer();
    const { response } = await slowRequestInFlight(s);
    const { shutdown } = shutdownFor(s, { timeoutMs: 50 });
    expect(await shutdown('SIGTERM')).toBe(false);
    await response;
  });

  it('when the in-flight request outlives timeoutMs, then its connection is force-closed', async () => {
    const s = await startServer();
    const { response } = await slowRequestInFlight(s);
    const { shutdown } = shutdownFor(s, { timeoutMs: 50 });
    await shutdown('SIGTERM');
    expect(await response).toBeInstanceOf(Error);
  });

  it('when the in-flight request outlives timeoutMs, then resources are still closed and a warning is logged', async () => {
    const s = await startServer();
    const { logger, lines } = captureLogger();
    const { response } = await slowRequestInFlight(s);
    const { shutdown } = shutdownFor(s, {
      logger,
      timeoutMs: 50,
      resources: recordingResources(s.events, 'store'),
    });
    await shutdown('SIGTERM');
    await response;
    expect(s.events).toEqual(['closed store']);
    expect(lines()).toContainEqual(expect.objectContaining({ level: 'warn', timeout_ms: 50 }));
  });
});
