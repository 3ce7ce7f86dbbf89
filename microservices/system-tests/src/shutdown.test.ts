import { createCheckedClient, httpClient, pollUntil, within } from '@microservices/service-kit/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { exampleOrder, type Order, type Readiness, type User } from './support/fixtures.js';
import { keepAliveSend } from './support/keep-alive.js';
import { jsonLogs, type LogRecord, logIndex, waitForLog } from './support/logs.js';
import { canConnect } from './support/net.js';
import { type RunningService, startService, stopAll } from './support/processes.js';
import { type StandIn, startSlowUserService } from './support/stand-in-servers.js';

const SHUTDOWN_STARTED = 'shutdown started: readiness now 503';
const SHUTDOWN_COMPLETE = 'shutdown complete';
/** Readiness must flip as soon as the signal lands; 100 ms leaves room for scheduling, not for a poll loop. */
const NOT_READY_WITHIN_MS = 100;
/** order-service's drain delay in the in-flight test: long enough to watch readiness flip before the listener closes. */
const SHUTDOWN_DELAY_MS = 400;

const standIns: StandIn[] = [];
afterEach(async () => {
  await Promise.all(standIns.splice(0).map((s) => s.close()));
  await stopAll();
});

const isMsg = (msg: string) => (line: LogRecord) => line.msg === msg;

/** A service's output, as the message of an assertion about how it exited. */
const outputOf = (service: RunningService) =>
  [
    `${service.name} stdout:`,
    ...service.logs().map((l) => (typeof l === 'string' ? l : JSON.stringify(l))),
    'stderr:',
    ...service.stderr(),
  ].join('\n');

describe('graceful shutdown on SIGTERM', () => {
  it('when order-service gets SIGTERM with an order in flight, then readiness turns 503 at once, new connections are refused once the listener closes, the order still completes with 201, and it exits 0 after a drained shutdown', async () => {
    const upstream = await startSlowUserService(1_000);
    standIns.push(upstream);
    const orders = await startService('order-service', {
      USER_SERVICE_URL: upstream.url,
      SHUTDOWN_DELAY_MS: String(SHUTDOWN_DELAY_MS),
      SHUTDOWN_TIMEOUT_MS: '5000',
      USER_SERVICE_TIMEOUT_MS: '3000',
      USER_SERVICE_DEADLINE_MS: '4000',
      LOG_LEVEL: 'info',
    });
    const api = httpClient(orders.url);
    await api.contract();

    const inFlight = api.post<Order>('/api/v1/orders', exampleOrder('slow-user'));
    let settled = false;
    void inFlight.then(
      () => {
        settled = true;
      },
      () => {
        settled = true;
      },
    );
    expect(await within('the upstream user lookup', 3_000, upstream.firstLookup)).toBe(
      '/api/v1/users/slow-user',
    );

    const signalledAt = Date.now();
    const signalled = performance.now();
    orders.process.kill('SIGTERM');
    const notReady = await pollUntil(
      'readiness to answer 503',
      async () => {
        const res = await api.get<Readiness>('/health/ready');
        return res.status === 503 ? res : undefined;
      },
      { timeoutMs: 2_000, intervalMs: 5 },
    );
    const seenAfterMs = performance.now() - signalled;

    expect(notReady.body).toMatchObject({ status: 'not_ready', draining: true });
    // Readiness flips in the signal handler itself, logged in the same tick. Timed by the service's own
    // clock (the same wall clock as ours), so a busy test process polling it cannot blur the measurement.
    const drainStarted = await waitForLog(orders, 'the start of the shutdown', isMsg(SHUTDOWN_STARTED));
    expect(Date.parse(String(drainStarted.time)) - signalledAt).toBeLessThan(NOT_READY_WITHIN_MS);
    // A prober saw it while the listener was still open, and every readiness answer since the flip was 503.
    expect(seenAfterMs).toBeLessThan(SHUTDOWN_DELAY_MS);
    await waitForLog(orders, 'a 503 readiness probe', (l) => l.route === '/health/ready' && l.status === 503);
    const logs = orders.logs();
    const flipped = logIndex(logs, isMsg(SHUTDOWN_STARTED));
    const probesAfterFlip = jsonLogs(logs.slice(flipped)).filter((l) => l.route === '/health/ready');
    expect(probesAfterFlip.length).toBeGreaterThan(0);
    expect(probesAfterFlip.every((l) => l.status === 503)).toBe(true);

    // After SHUTDOWN_DELAY_MS the listener closes while the order is still waiting on the slow upstream.
    await pollUntil(
      'the listener to close',
      async () => ((await canConnect(orders.port)) ? undefined : true),
      { timeoutMs: 3_000, intervalMs: 20 },
    );
    expect(settled).toBe(false);
    expect(orders.process.exitCode).toBeNull();

    const placed = await inFlight;
    expect(placed.status).toBe(201);
    expect(placed.body).toMatchObject({ user_id: 'slow-user', status: 'pending' });
    expect(await within('order-service to exit', 10_000, orders.exited), outputOf(orders)).toEqual({
      code: 0,
      signal: null,
    });

    const finalLogs = orders.logs();
    const started = logIndex(finalLogs, isMsg(SHUTDOWN_STARTED));
    const served = logIndex(finalLogs, (l) => l.route === '/api/v1/orders' && l.status === 201);
    const complete = logIndex(finalLogs, isMsg(SHUTDOWN_COMPLETE));
    expect(started).toBeGreaterThanOrEqual(0);
    expect(served).toBeGreaterThan(started);
    expect(complete).toBeGreaterThan(served);
    expect(finalLogs[complete]).toMatchObject({ drained: true });
  });

  it('when user-service gets SIGTERM, then it exits 0 within SHUTDOWN_DELAY_MS + SHUTDOWN_TIMEOUT_MS and new connections are refused afterwards', async () => {
    const delayMs = 300;
    const timeoutMs = 2_000;
    const users = await startService('user-service', {
      SHUTDOWN_DELAY_MS: String(delayMs),
      SHUTDOWN_TIMEOUT_MS: String(timeoutMs),
      LOG_LEVEL: 'info',
    });
    const api = httpClient(users.url);
    expect((await api.get<Readiness>('/health/ready')).status).toBe(200);

    const signalled = performance.now();
    users.process.kill('SIGTERM');
    const exit = await within('user-service to exit', delayMs + timeoutMs + 1_000, users.exited);
    const exitedAfterMs = performance.now() - signalled;

    expect(exit, outputOf(users)).toEqual({ code: 0, signal: null });
    // It kept serving for the delay (timers may fire a hair early relative to our clock), and no longer than the budget.
    expect(exitedAfterMs).toBeGreaterThanOrEqual(delayMs - 10);
    expect(exitedAfterMs).toBeLessThan(delayMs + timeoutMs);
    expect(await canConnect(users.port)).toBe(false);
    const logs = users.logs();
    expect(logIndex(logs, isMsg(SHUTDOWN_STARTED))).toBeLessThan(logIndex(logs, isMsg(SHUTDOWN_COMPLETE)));
    expect(logs[logIndex(logs, isMsg(SHUTDOWN_COMPLETE))]).toMatchObject({ drained: true });
  });

  it('when a keep-alive client sends a request during the shutdown delay, then it is still served on the same connection and told to close it', async () => {
    const users = await startService('user-service', {
      SHUTDOWN_DELAY_MS: '600',
      SHUTDOWN_TIMEOUT_MS: '2000',
      LOG_LEVEL: 'info',
    });
    const keepAlive = keepAliveSend(users.url);
    const api = createCheckedClient(keepAlive.send);
    try {
      expect((await api.get<User[]>('/api/v1/users')).status).toBe(200);

      users.process.kill('SIGTERM');
      await waitForLog(users, 'the start of the shutdown', isMsg(SHUTDOWN_STARTED));
      const during = await api.get<User[]>('/api/v1/users');
      const ready = await api.get<Readiness>('/health/ready');

      expect(during.status).toBe(200);
      expect(during.body).toEqual([]);
      expect(during.headers.get('connection')).toBe('close');
      expect(ready.status).toBe(503);
      expect(ready.body.status).toBe('not_ready');
      // openapi.json opened the connection and the first request rode on it; the request during the delay
      // was still served on it, with `Connection: close`, so the next request opened a new connection
      // (while the listener is still open) instead of racing the drain on the old one.
      expect(keepAlive.reusedSocket()).toEqual([false, true, true, false]);
      expect(await within('user-service to exit', 5_000, users.exited), outputOf(users)).toEqual({
        code: 0,
        signal: null,
      });
      const logs = users.logs();
      const complete = logIndex(logs, isMsg(SHUTDOWN_COMPLETE));
      const servedDuringDelay = logs.filter(
        (l, i) =>
          typeof l === 'object' &&
          l.msg === 'request completed' &&
          i > logIndex(logs, isMsg(SHUTDOWN_STARTED)) &&
          i < complete,
      );
      expect(servedDuringDelay).toHaveLength(2);
      expect(logs[complete]).toMatchObject({ drained: true });
    } finally {
      keepAlive.close();
    }
  });
});
