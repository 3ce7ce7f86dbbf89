import { Server as NetServer } from 'node:net';
import { createRoute, z } from '@hono/zod-openapi';
import { Hono } from 'hono';
import { describe, expect, it, vi } from 'vitest';
import { createServiceApp } from '../../app/create-service-app.js';
import { createMetricsRegistry } from '../../base/metrics-registry.js';
import { markSharedBody } from '../../edge/unsent-answers.js';
import { captureLogger } from '../../testing/capture-logger.js';
import { FakeClock } from '../../testing/fake-clock.js';
import { useLoopbackServers } from '../../testing/loopback-servers.js';
import { pollUntil } from '../../testing/poll.js';

const { start, open } = useLoopbackServers();

const gauge = (text: string) => Number(/^http_unsent_response_bytes (\d+)/m.exec(text)?.[1]);

const statuses = (text: string) => [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));

/** An app whose `/hold` answers only when released, counting how many it holds at once. */
function holdingApp() {
  let holding = 0;
  let most = 0;
  const waiters: Array<() => void> = [];
  const app = new Hono();
  app.get('/hold', async (c) => {
    holding += 1;
    most = Math.max(most, holding);
    await new Promise<void>((resolve) => waiters.push(resolve));
    holding -= 1;
    return c.text('held');
  });
  app.get('/health/live', (c) => c.text('alive'));
  app.get('/metrics', (c) => c.text('metrics'));
  return {
    app,
    holding: () => holding,
    most: () => most,
    releaseAll: () => {
      for (const w of waiters.splice(0)) w();
    },
  };
}

describe('startHttpServer: bounded work per connection', () => {
  it('when 20 requests are pipelined in one write, then at most MAX_PIPELINED_REQUESTS reach the app at once and all are answered in order', async () => {
    const hold = holdingApp();
    const { port } = await start(hold.app.fetch, { limits: { maxPipelinedRequests: 2 } });
    const client = open(port);
    client.socket.write('GET /hold HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(20));
    await pollUntil('two requests in the app', () => hold.holding() === 2 || undefined);
    // Released in rounds: each round lets the next two in.
    await pollUntil(
      'twenty answers',
      () => {
        hold.releaseAll();
        return statuses(client.text()).length === 20 || undefined;
      },
      { timeoutMs: 5_000, intervalMs: 5 },
    );
    expect(hold.most()).toBe(2);
    expect(statuses(client.text())).toEqual(Array.from({ length: 20 }, () => 200));
  });

  it('when connections together hold MAX_WAITING_REQUESTS parsed requests, then the one with the most waiting is cut and the total stays bounded', async () => {
    const hold = holdingApp();
    const { port, registry, admission } = await start(hold.app.fetch, {
      limits: { maxPipelinedRequests: 1, maxConnections: 100 },
    });
    // 20 connections × 120 waiting = 2,400, over the 2,048 bound; every one is under the per-connection 128.
    const clients = Array.from({ length: 20 }, () => open(port));
    for (const c of clients) c.socket.write('GET /hold HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(121));
    await pollUntil(
      'waiting_overflow cuts',
      async () =>
        (await registry.metrics()).includes('http_connections_cut_total{reason="waiting_overflow"}') ||
        undefined,
    );
    await pollUntil('every request parsed or cut', () => hold.holding() === 20 || undefined);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(admission.waitingRequests).toBeLessThanOrEqual(2_048);
    expect(admission.waitingRequests).toBeGreaterThan(1_800);
    const cut = Number(
      /http_connections_cut_total\{reason="waiting_overflow"\} (\d+)/.exec(await registry.metrics())?.[1],
    );
    expect(cut).toBeGreaterThanOrEqual(3);
    expect(cut).toBeLessThanOrEqual(4);
    hold.releaseAll();
  });

  it('when more than 128 requests are pipelined and waiting, then the connection is cut and counted', async () => {
    const hold = holdingApp();
    const { port, registry } = await start(hold.app.fetch, { limits: { maxPipelinedRequests: 1 } });
    const client = open(port);
    client.socket.write('GET /hold HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(200));
    await client.closed;
    expect(hold.most()).toBe(1);
    expect(await registry.metrics()).toContain('http_connections_cut_total{reason="pipeline_overflow"} 1');
    hold.releaseAll();
  });
});

describe('startHttpServer: process-wide budget of unsent answer bytes', () => {
  /** Larger than loopback's socket buffers take from a client that does not read (~4 MB send, ~128 KB receive). */
  const BIG = 'x'.repeat(8 * 1_048_576);

  /** `/big` answers BIG, `/hold` answers when released, `/small` at once; each counts its requests. */
  function bigApp() {
    const seen = { big: 0, hold: 0, small: 0 };
    const waiters: Array<() => void> = [];
    const app = new Hono();
    app.get('/big', (c) => {
      seen.big += 1;
      return c.text(BIG);
    });
    app.get('/hold', async (c) => {
      seen.hold += 1;
      await new Promise<void>((resolve) => waiters.push(resolve));
      return c.text('held');
    });
    app.get('/small', (c) => {
      seen.small += 1;
      return c.text('small');
    });
    const releaseAll = () => {
      for (const w of waiters.splice(0)) w();
    };
    return { app, seen, releaseAll };
  }

  it('when clients that do not read hold MAX_UNSENT_RESPONSE_BYTES, then a connection with a request in flight gets no further one until it has nothing held, and every answer arrives once they read', async () => {
    const big = bigApp();
    const { port, registry } = await start(big.app.fetch, {
      limits: { maxUnsentResponseBytes: 1_048_576, maxPipelinedRequests: 4 },
    });
    const slow = open(port);
    slow.socket.pause();
    slow.socket.write('GET /big HTTP/1.1\r\nHost: x\r\n\r\n');
    await pollUntil(
      'the answer held unsent',
      async () => gauge(await registry.metrics()) >= 1_048_576 || undefined,
    );

    // Without the budget, /small would reach the app at once: maxPipelinedRequests allows four.
    const busy = open(port);
    busy.socket.write('GET /hold HTTP/1.1\r\nHost: x\r\n\r\nGET /small HTTP/1.1\r\nHost: x\r\n\r\n');
    await pollUntil('the held request in the app', () => big.seen.hold === 1 || undefined);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(big.seen.small).toBe(0);
    expect(await registry.metrics()).toContain('http_unsent_budget_waits_total 1');

    // A client with nothing held is still served, one request at a time, while the budget is spent.
    const other = await fetch(`http://127.0.0.1:${port}/small`);
    expect(await other.text()).toBe('small');
    expect(big.seen.small).toBe(1);

    // Once its held request is answered, the busy connection has nothing held and is fed its next one.
    big.releaseAll();
    await pollUntil('both busy answers', () => statuses(busy.text()).length === 2 || undefined);
    expect(statuses(busy.text())).toEqual([200, 200]);

    slow.socket.resume();
    await pollUntil('the big answer', () => slow.text().length >= BIG.length || undefined, {
      timeoutMs: 10_000,
      intervalMs: 20,
    });
    await pollUntil('nothing held', async () => gauge(await registry.metrics()) === 0 || undefined);
  });

  it('when a connection waits because the budget is spent, then it is fed as soon as the held bytes drain', async () => {
    const big = bigApp();
    const { port } = await start(big.app.fetch, {
      limits: { maxUnsentResponseBytes: 1_048_576, maxPipelinedRequests: 4 },
    });
    const slow = open(port);
    slow.socket.pause();
    slow.socket.write('GET /big HTTP/1.1\r\nHost: x\r\n\r\n');
    const busy = open(port);
    await pollUntil('the big answer built', () => big.seen.big === 1 || undefined);
    busy.socket.write('GET /hold HTTP/1.1\r\nHost: x\r\n\r\nGET /small HTTP/1.1\r\nHost: x\r\n\r\n');
    await pollUntil('the held request in the app', () => big.seen.hold === 1 || undefined);
    // The slow client reads: the budget frees while /hold is still in flight, and /small goes in.
    slow.socket.resume();
    await pollUntil('the waiting request fed', () => big.seen.small === 1 || undefined, {
      timeoutMs: 10_000,
    });
    big.releaseAll();
    await pollUntil('both busy answers', () => statuses(busy.text()).length === 2 || undefined);
  });

  it('when answers are ended but not yet read, then they no longer count against MAX_INFLIGHT_REQUESTS', async () => {
    const big = bigApp();
    const { port, registry } = await start(big.app.fetch, {
      limits: { maxInflightRequests: 2, maxUnsentResponseBytes: 64 * 1_048_576 },
    });
    const readers = [open(port), open(port)];
    for (const r of readers) {
      r.socket.pause();
      r.socket.write('GET /big HTTP/1.1\r\nHost: x\r\n\r\n');
    }
    await pollUntil(
      'both answers held unsent',
      async () => gauge(await registry.metrics()) >= 2 * BIG.length || undefined,
    );
    expect(await registry.metrics()).toContain('http_server_requests_in_flight 0');
    const other = await fetch(`http://127.0.0.1:${port}/small`);
    expect(other.status).toBe(200);
  });

  it('when POST bodies have arrived and been read, then none of them is kept for the minimum-rate check until the next sweep', async () => {
    const app = new Hono();
    app.post('/echo', async (c) => c.text(await c.req.text()));
    const { port, admission } = await start(app.fetch);
    const client = open(port);
    const body = '{"name":"x"}';
    for (let i = 0; i < 20; i++) {
      client.socket.write(
        `POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      );
    }
    await pollUntil('20 answers', async () => statuses(client.text()).length === 20 || undefined);
    expect(statuses(client.text())).toEqual(Array(20).fill(200));
    // Kept until the sweep, every POST's request and response outlived the young generation at load.
    expect(admission.watchedBodies).toBe(0);
  });

  it('when a shared static body is sent to clients that do not read, then it is not charged to the budget', async () => {
    const shared = new Uint8Array(Buffer.from(BIG));
    markSharedBody(shared);
    const own = new Uint8Array(Buffer.from(BIG));
    const app = new Hono();
    app.get('/shared', (c) => c.body(shared, 200, { 'Content-Type': 'text/plain' }));
    app.get('/own', (c) => c.body(own, 200, { 'Content-Type': 'text/plain' }));
    const { port, registry } = await start(app.fetch, { limits: { maxUnsentResponseBytes: 1_048_576 } });
    const reader = open(port);
    reader.socket.pause();
    reader.socket.write('GET /shared HTTP/1.1\r\nHost: x\r\n\r\n');
    const control = open(port);
    control.socket.pause();
    control.socket.write('GET /own HTTP/1.1\r\nHost: x\r\n\r\n');
    // The unshared one is charged in full; the shared one adds nothing.
    await pollUntil(
      'the unshared answer charged',
      async () => gauge(await registry.metrics()) > 0 || undefined,
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(gauge(await registry.metrics())).toBe(BIG.length);
  });

  it('when a client that does not read goes away, then the bytes its answers held are freed', async () => {
    const big = bigApp();
    const { port, registry } = await start(big.app.fetch, { limits: { maxUnsentResponseBytes: 1_048_576 } });
    const slow = open(port);
    slow.socket.pause();
    slow.socket.write('GET /big HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(2));
    await pollUntil('an answer held unsent', async () => gauge(await registry.metrics()) > 0 || undefined);
    slow.socket.destroy();
    await pollUntil('nothing held', async () => gauge(await registry.metrics()) === 0 || undefined);
    expect(big.seen.big).toBe(1);
  });
});

describe('startHttpServer: process-wide budget of request body bytes', () => {
  /** An upload from `client`, as a trusted proxy on 127.0.0.1 names it. */
  const upload = (length: number, sent: string, client = '198.51.100.1') =>
    `POST /upload HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: ${client}\r\nContent-Type: text/plain\r\nContent-Length: ${length}\r\n\r\n${sent}`;
  const limits = (maxRequestBodyBytesHeld: number) => ({
    limits: { maxRequestBodyBytesHeld, trustedProxies: ['127.0.0.1'] },
  });
  const heldGauge = (text: string) => Number(/^http_request_body_bytes_held (\d+)/m.exec(text)?.[1]);

  it('when uploads that never finish hold MAX_REQUEST_BODY_BYTES_HELD, then a further large body is a 503 problem before it is read, small ones still reach the app, and room returns once a body is answered', async () => {
    const app = new Hono();
    app.post('/upload', async (c) => c.text(String((await c.req.text()).length)));
    const { port, registry } = await start(app.fetch, limits(100_000));
    const stuck = [open(port), open(port)];
    stuck[0]?.socket.write(upload(40_000, 'x'.repeat(39_999), '198.51.100.1'));
    stuck[1]?.socket.write(upload(40_000, 'x'.repeat(39_999), '198.51.100.2'));
    await pollUntil(
      'two bodies held',
      async () => heldGauge(await registry.metrics()) === 80_000 || undefined,
    );

    const refused = open(port);
    refused.socket.write(upload(40_000, 'x'.repeat(100), '198.51.100.3'));
    await refused.closed;
    expect(statuses(refused.text())).toEqual([503]);
    expect(refused.text()).toContain('urn:problem-type:overloaded');
    expect(refused.text()).toMatch(/\r\nretry-after: 1\r\n/i);
    expect(refused.text()).toMatch(/\r\nconnection: close\r\n/i);
    expect(await registry.metrics()).toContain(
      'http_server_refusals_total{reason="body_budget",status_code="503"} 1',
    );

    // A small body is admitted beside them: an attacker holding the budget cannot refuse ordinary writes.
    const small = await fetch(`http://127.0.0.1:${port}/upload`, { method: 'POST', body: 'y'.repeat(1_000) });
    expect(await small.text()).toBe('1000');

    // Once one upload ends and is answered, its bytes are freed and a large body fits again.
    stuck[0]?.socket.write('x');
    await pollUntil(
      'the first upload answered',
      () => statuses(stuck[0]?.text() ?? '').length === 1 || undefined,
    );
    await pollUntil(
      'its bytes freed',
      async () => heldGauge(await registry.metrics()) === 40_000 || undefined,
    );
    const next = await fetch(`http://127.0.0.1:${port}/upload`, { method: 'POST', body: 'z'.repeat(40_000) });
    expect(await next.text()).toBe('40000');
    stuck[1]?.socket.write('x');
    await pollUntil(
      'the second upload answered',
      () => statuses(stuck[1]?.text() ?? '').length === 1 || undefined,
    );
  });

  it('when the budget is smaller than one body, then that body is still admitted while nothing else is held', async () => {
    const app = new Hono();
    app.post('/upload', async (c) => c.text(String((await c.req.text()).length)));
    const { port } = await start(app.fetch, limits(20_000));
    const res = await fetch(`http://127.0.0.1:${port}/upload`, { method: 'POST', body: 'z'.repeat(40_000) });
    expect(await res.text()).toBe('40000');
  });

  it('when one client holds its quarter of the budget, then its next large body is a 503 while another client’s is admitted', async () => {
    const app = new Hono();
    app.post('/upload', async (c) => c.text(String((await c.req.text()).length)));
    const { port } = await start(app.fetch, limits(160_000));
    const first = open(port);
    first.socket.write(upload(30_000, 'x'.repeat(100), '203.0.113.9'));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const second = open(port);
    second.socket.write(upload(30_000, 'x'.repeat(100), '203.0.113.9'));
    await second.closed;
    expect(statuses(second.text())).toEqual([503]);
    const other = await fetch(`http://127.0.0.1:${port}/upload`, {
      method: 'POST',
      body: 'z'.repeat(30_000),
      headers: { 'X-Forwarded-For': '198.51.100.7' },
    });
    expect(await other.text()).toBe('30000');
    first.socket.write('x'.repeat(29_900));
    await pollUntil('the first upload answered', () => statuses(first.text()).length === 1 || undefined);
  });
});

describe('startHttpServer: the connection cap', () => {
  it('when every connection holds an answer its client never reads, then a newcomer (a probe) takes the place of the one stalled longest', async () => {
    const BIG = 'x'.repeat(8 * 1_048_576);
    const app = new Hono();
    app.get('/big', (c) => c.text(BIG));
    app.get('/health/live', (c) => c.text('alive'));
    const { port, registry, admission } = await start(app.fetch, {
      limits: { maxConnections: 3, maxUnsentResponseBytes: 64 * 1_048_576 },
    });
    const readers = [open(port), open(port), open(port)];
    const ask = (r: ReturnType<typeof open>) => {
      r.socket.pause();
      r.socket.write('GET /big HTTP/1.1\r\nHost: x\r\n\r\n');
    };
    ask(readers[0] as ReturnType<typeof open>);
    await pollUntil(
      'the first answer held',
      async () => gauge(await registry.metrics()) >= BIG.length || undefined,
    );
    // The first has been seen stalled by a check before the others asked.
    admission.sweep();
    ask(readers[1] as ReturnType<typeof open>);
    ask(readers[2] as ReturnType<typeof open>);
    await pollUntil(
      'three answers held unsent',
      async () => gauge(await registry.metrics()) >= 3 * BIG.length || undefined,
    );

    const probe = await fetch(`http://127.0.0.1:${port}/health/live`);
    expect(probe.status).toBe(200);
    const text = await registry.metrics();
    expect(text).toContain('http_connections_cut_total{reason="evicted_stalled_at_cap"} 1');
    expect(text).toContain('http_connections_dropped_total 0');
    // The one stalled longest went, and only it: the others' answers arrive whole once they read.
    for (const r of readers) r.socket.resume();
    await readers[0]?.closed;
    expect(readers[0]?.text().length).toBeLessThan(BIG.length);
    await pollUntil(
      'the other two answers',
      () => readers.slice(1).every((r) => r.text().length > BIG.length) || undefined,
      { timeoutMs: 10_000, intervalMs: 20 },
    );
  });

  it('when silent connections churn at the cap, then they are evicted before a client’s idle keep-alive connection', async () => {
    const app = new Hono();
    app.get('/small', (c) => c.text('small'));
    const { port, registry } = await start(app.fetch, { limits: { maxConnections: 3 } });
    const client = open(port);
    client.socket.write('GET /small HTTP/1.1\r\nHost: x\r\n\r\n');
    await pollUntil('the first answer', () => statuses(client.text()).length === 1 || undefined);
    // Silent connections, opened after the client's: the client's keep-alive connection is the oldest idle.
    for (let i = 0; i < 6; i++) {
      open(port);
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    await pollUntil(
      'four evictions',
      async () =>
        (await registry.metrics()).includes('http_connections_cut_total{reason="evicted_at_cap"} 4') ||
        undefined,
    );
    client.socket.write('GET /small HTTP/1.1\r\nHost: x\r\n\r\n');
    await pollUntil(
      'the second answer on the same connection',
      () => statuses(client.text()).length === 2 || undefined,
    );
    expect(client.socket.destroyed).toBe(false);
  });

  it('when every connection has a request in the app, then a newcomer is closed and counted, and none is evicted', async () => {
    const hold = holdingApp();
    const { port, registry } = await start(hold.app.fetch, { limits: { maxConnections: 2 } });
    const held = [open(port), open(port)];
    for (const h of held) h.socket.write('GET /hold HTTP/1.1\r\nHost: x\r\n\r\n');
    await pollUntil('two requests in the app', () => hold.holding() === 2 || undefined);
    const newcomer = open(port);
    await newcomer.closed;
    const text = await registry.metrics();
    expect(text).toContain('http_connections_dropped_total 1');
    expect(text).not.toContain('reason="evicted');
    hold.releaseAll();
    await pollUntil('both answers', () => held.every((h) => statuses(h.text()).length === 1) || undefined);
  });
});

describe('startHttpServer: process-wide in-flight limit', () => {
  it('when MAX_INFLIGHT_REQUESTS are in the app, then the next API request gets a 503 problem with Retry-After, while probes and /metrics are answered', async () => {
    const hold = holdingApp();
    const { port, registry } = await start(hold.app.fetch, { limits: { maxInflightRequests: 2 } });
    const held = [open(port), open(port)];
    for (const h of held) h.socket.write('GET /hold HTTP/1.1\r\nHost: x\r\n\r\n');
    await pollUntil('two requests in the app', () => hold.holding() === 2 || undefined);

    const shed = await fetch(`http://127.0.0.1:${port}/hold`);
    expect(shed.status).toBe(503);
    expect(shed.headers.get('retry-after')).toBe('1');
    expect(shed.headers.get('content-type')).toBe('application/problem+json');
    expect(await shed.json()).toMatchObject({
      type: 'urn:problem-type:overloaded',
      status: 503,
      instance: '/hold',
    });
    for (const exempt of ['/health/live', '/metrics']) {
      expect((await fetch(`http://127.0.0.1:${port}${exempt}`)).status).toBe(200);
    }
    const text = await registry.metrics();
    expect(text).toContain('http_requests_shed_total 1');
    expect(text).toContain('http_server_requests_in_flight 2');
    hold.releaseAll();
    await pollUntil(
      'the held answers',
      () => held.every((h) => statuses(h.text()).length === 1) || undefined,
    );
    // Once they are answered, the slots are free again.
    const next = fetch(`http://127.0.0.1:${port}/hold`);
    await pollUntil('the next request in the app', () => hold.holding() === 1 || undefined);
    hold.releaseAll();
    expect((await next).status).toBe(200);
  });
});

describe('startHttpServer: requests whose bodies have not arrived', () => {
  const bodyless = (length: number, client = '198.51.100.1') =>
    `POST /upload HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: ${client}\r\nContent-Type: text/plain\r\nContent-Length: ${length}\r\n\r\n`;
  const uploadApp = () => {
    const app = new Hono();
    app.post('/upload', async (c) => c.text(String((await c.req.text()).length)));
    app.get('/small', (c) => c.text('small'));
    app.get('/health/live', (c) => c.text('alive'));
    // Uploads the test leaves unfinished fail their body read when it ends; no noise about it.
    app.onError((_, c) => c.text('aborted', 500));
    return app;
  };

  it('when uploads that never send their bodies outnumber MAX_INFLIGHT_REQUESTS, then they hold no slot and other requests are served', async () => {
    const { port, registry } = await start(uploadApp().fetch, { limits: { maxInflightRequests: 2 } });
    const holders = [open(port), open(port), open(port)];
    for (const h of holders) h.socket.write(bodyless(100));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await registry.metrics()).toContain('http_server_requests_in_flight 0');
    const res = await fetch(`http://127.0.0.1:${port}/small`);
    expect(res.status).toBe(200);
    // Once a body arrives, its request takes a slot like any other and is answered.
    holders[0]?.socket.write('x'.repeat(100));
    await pollUntil(
      'the completed upload answered',
      () => statuses(holders[0]?.text() ?? '').length === 1 || undefined,
    );
    expect(holders[0]?.text()).toMatch(/\r\n\r\n100$/);
    for (const h of holders.slice(1)) h.socket.write('x'.repeat(100));
    await pollUntil('all answered', () => holders.every((h) => statuses(h.text()).length === 1) || undefined);
    expect(await registry.metrics()).toContain('http_server_requests_in_flight 0');
  });

  it('when small bodies arrive complete with their headers, then their requests take slots and past MAX_INFLIGHT_REQUESTS are shed', async () => {
    const app = new Hono();
    const waiters: Array<() => void> = [];
    app.post('/hold', async (c) => {
      await c.req.text();
      await new Promise<void>((resolve) => waiters.push(resolve));
      return c.text('held');
    });
    const { port, registry } = await start(app.fetch, { limits: { maxInflightRequests: 2 } });
    const clients = [open(port), open(port), open(port)];
    for (const c of clients) {
      c.socket.write(
        'POST /hold HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello',
      );
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    await pollUntil('one shed', () => clients.some((c) => statuses(c.text()).includes(503)) || undefined);
    expect(await registry.metrics()).toContain('http_server_requests_in_flight 2');
    expect(await registry.metrics()).toContain('http_requests_shed_total 1');
    for (const w of waiters.splice(0)) w();
    await pollUntil(
      'the held answered',
      () => clients.filter((c) => statuses(c.text()).includes(200)).length === 2 || undefined,
    );
  });

  it('when every connection holds an upload that sends nothing, then a newcomer (a probe) takes the place of the oldest', async () => {
    const { port, registry } = await start(uploadApp().fetch, { limits: { maxConnections: 3 } });
    const holders = [open(port), open(port), open(port)];
    for (const h of holders) {
      h.socket.write(bodyless(100));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    const probe = await fetch(`http://127.0.0.1:${port}/health/live`);
    expect(probe.status).toBe(200);
    expect(await registry.metrics()).toContain(
      'http_connections_cut_total{reason="evicted_stalled_at_cap"} 1',
    );
    await holders[0]?.closed;
    expect(holders.slice(1).every((h) => !h.socket.destroyed)).toBe(true);
  });

  it('when a client is over its own share, then its body is a 503 and no other client’s stalled upload is cut for it', async () => {
    const { port, registry } = await start(uploadApp().fetch, {
      limits: { maxRequestBodyBytesHeld: 160_000, trustedProxies: ['127.0.0.1'] },
    });
    const other = open(port);
    other.socket.write(bodyless(30_000, '203.0.113.1'));
    const greedy = open(port);
    greedy.socket.write(bodyless(35_000, '203.0.113.2'));
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    const over = open(port);
    over.socket.write(bodyless(30_000, '203.0.113.2'));
    await over.closed;
    expect(statuses(over.text())).toEqual([503]);
    expect(await registry.metrics()).not.toContain('reason="body_stalled"');
    expect(other.socket.destroyed).toBe(false);
    other.socket.write('x'.repeat(30_000));
    await pollUntil('the other upload answered', () => statuses(other.text()).length === 1 || undefined);
    greedy.socket.write('x'.repeat(35_000));
    await pollUntil('the greedy upload answered', () => statuses(greedy.text()).length === 1 || undefined);
  });

  it('when stalled uploads hold MAX_REQUEST_BODY_BYTES_HELD, then a new large body takes the room of the one stalled longest, which gets a 408', async () => {
    const { port, registry } = await start(uploadApp().fetch, {
      limits: { maxRequestBodyBytesHeld: 100_000, trustedProxies: ['127.0.0.1'] },
    });
    const stalled = [open(port), open(port)];
    stalled[0]?.socket.write(bodyless(45_000, '203.0.113.1') + 'x'.repeat(100));
    await new Promise((resolve) => setTimeout(resolve, 20));
    stalled[1]?.socket.write(bodyless(45_000, '203.0.113.2') + 'x'.repeat(100));
    // A body stalls once nothing of it has arrived for two 1 s check intervals.
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    const res = await fetch(`http://127.0.0.1:${port}/upload`, { method: 'POST', body: 'z'.repeat(45_000) });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('45000');
    expect(await registry.metrics()).toContain('http_connections_cut_total{reason="body_stalled"} 1');
    await stalled[0]?.closed;
    expect(statuses(stalled[0]?.text() ?? '')).toEqual([408]);
    expect(stalled[0]?.text()).toContain('urn:problem-type:request-timeout');
    expect(stalled[1]?.socket.destroyed).toBe(false);
    stalled[1]?.socket.write('x'.repeat(44_900));
    await pollUntil(
      'the other upload answered',
      () => statuses(stalled[1]?.text() ?? '').length === 1 || undefined,
    );
  });
});

describe('startHttpServer: timeouts fire when documented', () => {
  it('when headers never complete, then a 408 problem arrives within HEADERS_TIMEOUT_MS plus the 1 s check interval', async () => {
    const { port } = await start(new Hono().fetch, { limits: { headersTimeoutMs: 1_000 } });
    const client = open(port);
    client.socket.write('GET / HTTP/1.1\r\nHost: x\r\n');
    const after = await client.closed;
    expect(statuses(client.text())).toEqual([408]);
    expect(client.text()).toContain('urn:problem-type:request-timeout');
    expect(after).toBeGreaterThanOrEqual(950);
    expect(after).toBeLessThan(1_000 + 1_000 + 500);
  });

  it('when a keep-alive connection is idle longer than HEADERS_TIMEOUT_MS, then it is not cut: headers are timed from a request’s first byte, so headersTimeout need not exceed keepAliveTimeout', async () => {
    const app = new Hono().get('/', (c) => c.text('ok'));
    const { port } = await start(app.fetch, {
      keepAliveTimeoutMs: 5_000,
      limits: { headersTimeoutMs: 1_000 },
    });
    const client = open(port);
    client.socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await pollUntil('the first answer', () => statuses(client.text()).length === 1 || undefined);
    // Idle for more than twice the headers timeout (plus its check interval): time passing is the point.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    client.socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await pollUntil('the second answer', () => statuses(client.text()).length === 2 || undefined);
    expect(statuses(client.text())).toEqual([200, 200]);
  });
});

const echoRoute = createRoute({
  method: 'post',
  path: '/api/echo',
  request: {
    body: { content: { 'application/json': { schema: z.object({ name: z.string() }) } }, required: true },
  },
  responses: {
    200: { description: 'echo', content: { 'application/json': { schema: z.object({ name: z.string() }) } } },
  },
});

function serviceApp() {
  const log = captureLogger('info');
  const registry = createMetricsRegistry({ defaultMetrics: false });
  const app = createServiceApp(
    {
      info: { service: 'kit-test', version: '1.0.0', commit: 'abc' },
      logger: log.logger,
      registry,
      clock: new FakeClock('2026-12-02T10:00:00.000Z'),
    },
    { title: 'kit-test', description: 'test', checks: [] },
  );
  app.openapi(echoRoute, (c) => c.json(c.req.valid('json'), 200));
  app.get('/api/things/:id', (c) => c.notFound());
  return { app, log, registry };
}

describe('startHttpServer with a service app: what a dropped upload is', () => {
  it('when a client sends half a body and goes away, then it is logged at info as "client closed request" and counted 499, not 500', async () => {
    const { app, log, registry } = serviceApp();
    const { port, admission } = await start(app.fetch);
    const client = open(port);
    client.socket.write(
      'POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"name": "ab',
    );
    // A small body is received before the app sees its request; one dropped halfway still reaches it.
    await pollUntil('the request admitted', () => (admission.watchedBodies === 1 ? true : undefined));
    client.socket.resetAndDestroy();
    const line = await pollUntil('the access line', () =>
      log.lines().find((l) => l.msg === 'client closed request'),
    );
    expect(line).toMatchObject({ level: 'info', status: 499, route: '/api/echo' });
    expect(log.lines().filter((l) => l.level === 'error')).toEqual([]);
    const metrics = await registry.metrics();
    expect(metrics).toContain('http_requests_total{method="POST",route="/api/echo",status_code="499"} 1');
    expect(metrics).not.toMatch(/status_code="5\d\d"/);
  });

  it('when a path is called with a method its routes do not have, then 405 with Allow from the registered routes', async () => {
    const { app } = serviceApp();
    const res = await app.request('/api/echo', { method: 'GET' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    expect(await res.json()).toMatchObject({ type: 'urn:problem-type:method-not-allowed', status: 405 });
    expect((await app.request('/api/nothing-here', { method: 'GET' })).status).toBe(404);
    // A route that matched and answers "not found" itself stays a 404, not a 405 for its own method.
    expect((await app.request('/api/things/42', { method: 'GET' })).status).toBe(404);
  });
});

describe('startHttpServer on a host without IPv6', () => {
  /** Makes listening on `::` fail the way a kernel with IPv6 turned off does; other hosts listen normally. */
  function withoutIpv6(code: string) {
    const original = NetServer.prototype.listen;
    const hosts: unknown[] = [];
    const spy = vi.spyOn(NetServer.prototype, 'listen').mockImplementation(function (
      this: NetServer,
      ...args: unknown[]
    ) {
      hosts.push(args[1]);
      if (args[1] === '::') {
        const err = Object.assign(new Error(`listen ${code}: address family not supported :::0`), {
          code,
          syscall: 'listen',
        });
        process.nextTick(() => this.emit('error', err));
        return this;
      }
      return (original as (...a: unknown[]) => NetServer).apply(this, args);
    });
    return { hosts, restore: () => spy.mockRestore() };
  }

  it.each(['EAFNOSUPPORT', 'EADDRNOTAVAIL'])(
    'when listening on :: fails with %s, then it listens on 0.0.0.0 and logs one warning',
    async (code) => {
      const log = captureLogger('info');
      const ipv6 = withoutIpv6(code);
      try {
        const { port } = await start(() => new Response('ok'), { host: '::', logger: log.logger });
        expect(ipv6.hosts).toEqual(['::', '0.0.0.0']);
        const res = await fetch(`http://127.0.0.1:${port}/`);
        expect(await res.text()).toBe('ok');
      } finally {
        ipv6.restore();
      }
      const warnings = log.lines().filter((l) => l.level === 'warn');
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatchObject({ host: '::', code, fallback_host: '0.0.0.0' });
      expect(String(warnings[0]?.msg)).toMatch(/cannot listen on :: .*listening on 0\.0\.0\.0, IPv4 only/);
    },
  );

  it('when another host fails, or :: fails otherwise (EADDRINUSE), then start-up still fails', async () => {
    const ipv6 = withoutIpv6('EAFNOSUPPORT');
    try {
      await expect(start(() => new Response('ok'), { host: '127.0.0.2.invalid' })).rejects.toThrow();
    } finally {
      ipv6.restore();
    }
    const busy = await start(() => new Response('ok'), { host: '::' });
    await expect(start(() => new Response('ok'), { host: '::', port: busy.port })).rejects.toMatchObject({
      code: 'EADDRINUSE',
    });
  });
});
