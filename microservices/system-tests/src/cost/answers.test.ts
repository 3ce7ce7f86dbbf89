import { Agent, request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usePostgresForFile } from '../resilience/support/test-postgres.js';
import { LOOPBACK, type RunningService, stopAll } from '../support/processes.js';
import { metricValue, scrapeMetrics } from '../support/prometheus.js';
import { expectWithstood, printCostTable, runCostCase, startCostService } from './support/cost-case.js';
import { runTinyWindowReaders } from './support/tiny-window-readers.js';

// Issue 13's findings about what answers, stores and error bodies cost, and about what a caller's bad
// input may do to everyone else: each attack runs against the built services as the chart runs them
// (its heap flags, its defaults), with legitimate traffic and the liveness probe beside it.
const LEGIT_MIN_PCT = 99;
const MAX_RESPONSE_BYTES = 1_048_576;
/** MAX_UNSENT_RESPONSE_BYTES as the services ship it. */
const UNSENT_BUDGET = 16_777_216;
const runId = `${process.pid}-${Date.now()}`;
const postgres = usePostgresForFile();

interface Answer {
  status: number;
  bytes: number;
  text: string;
  link: string | undefined;
}

/** One request over `agent`; resolves with the status, size and Link header, never rejects on a status. */
function send(port: number, agent: Agent, method: string, path: string, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = body === undefined ? {} : { 'Content-Type': 'application/json' };
    const req = request({ host: LOOPBACK, port, path, method, agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const all = Buffer.concat(chunks);
        const link = typeof res.headers.link === 'string' ? res.headers.link : undefined;
        resolve({ status: res.statusCode ?? 0, bytes: all.length, text: all.toString('utf8'), link });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The largest order the API accepts, in plain ASCII: about 71 KB of JSON. */
const largestOrder = (userId: string) =>
  JSON.stringify({
    user_id: userId,
    items: Array.from({ length: 100 }, (_, i) => ({
      product_id: `p${i}-`.padEnd(128, 'x'),
      product_name: 'n'.repeat(500),
      quantity: 10_000,
      price: 1_000_000,
    })),
    shipping_address: 'a'.repeat(1000),
  });

/** The largest order the API accepts in characters JSON escapes six-fold: about 390 KB on the wire. */
const largestEscapedOrder = (userId: string) => {
  const control = '\u0001';
  return JSON.stringify({
    user_id: userId,
    items: Array.from({ length: 100 }, (_, i) => ({
      product_id: `p${i}-`.padEnd(128, control),
      product_name: control.repeat(500),
      quantity: 10_000,
      price: 1_000_000,
    })),
    shipping_address: control.repeat(1000),
  });
};

/** POSTs `count` bodies, `concurrency` at a time; returns the statuses. */
async function postMany(port: number, path: string, count: number, body: (i: number) => string) {
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  const statuses: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      statuses.push((await send(port, agent, 'POST', path, body(i))).status);
    }
  };
  try {
    await Promise.all(Array.from({ length: 4 }, worker));
  } finally {
    agent.destroy();
  }
  return statuses;
}

const tally = (statuses: readonly number[]) => {
  const counts = new Map<number, number>();
  for (const s of statuses) counts.set(s, (counts.get(s) ?? 0) + 1);
  return [...counts].map(([s, n]) => `${s} ×${n}`).join(', ');
};

async function createUser(service: RunningService, i: number): Promise<string> {
  const agent = new Agent({ keepAlive: false });
  const res = await send(
    service.port,
    agent,
    'POST',
    '/api/v1/users',
    JSON.stringify({ name: `Customer ${i}`, email: `cost-${runId}-${i}@example.com` }),
  );
  if (res.status !== 201) throw new Error(`user create answered ${res.status}: ${res.text}`);
  return (JSON.parse(res.text) as { id: string }).id;
}

afterAll(async () => {
  printCostTable();
  await stopAll();
});

/** What keep-alive clients listing orders saw: every status and answer size, Links to a next page, refusals by type. */
interface Listings {
  statuses: number[];
  sizes: number[];
  withLink: number;
  refusals: Map<string, number>;
}

const noListings = (): Listings => ({ statuses: [], sizes: [], withLink: 0, refusals: new Map() });

/** `clients` keep-alive clients (one connection each) GET `path` `times` each, one after another; `seen` records it all. */
async function listConcurrently(port: number, clients: number, times: number, path: string, seen: Listings) {
  await Promise.all(
    Array.from({ length: clients }, async () => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      try {
        for (let i = 0; i < times; i++) {
          const res = await send(port, agent, 'GET', path);
          seen.statuses.push(res.status);
          seen.sizes.push(res.bytes);
          if (res.link?.includes('rel="next"')) seen.withLink++;
          if (res.status !== 200) {
            const type = String((JSON.parse(res.text) as { type?: unknown }).type);
            seen.refusals.set(type, (seen.refusals.get(type) ?? 0) + 1);
          }
        }
      } finally {
        agent.destroy();
      }
    }),
  );
}

describe('cost: list answers of large orders (order-service, chart heap flags)', () => {
  let users: RunningService;
  let orders: RunningService;
  let userId: string;
  let oneOrder: string;

  beforeAll(async () => {
    const ordersDb = await postgres.freshDatabase('cost_orders');
    users = await startCostService('user-service');
    orders = await startCostService('order-service', {
      DATABASE_URL: ordersDb,
      USER_SERVICE_URL: `http://${LOOPBACK}:${users.port}`,
    });
    userId = await createUser(users, 0);
    // 300 largest orders: one unbounded `?limit=1000` would be a 21 MB answer, and it stays in PostgreSQL,
    // so every later listing would build it again.
    const statuses = await postMany(orders.port, '/api/v1/orders', 300, () => largestOrder(userId));
    expect(tally(statuses)).toBe('201 ×300');
    const first = await send(orders.port, new Agent(), 'GET', '/api/v1/orders?limit=1');
    oneOrder = (JSON.parse(first.text) as Array<{ id: string }>)[0]?.id as string;
  }, 180_000);

  it('when 20 clients list ?limit=1000 over and over, then every answer stays under MAX_RESPONSE_BYTES, says where to resume, every refusal is a counted 503 overloaded, and the pod lives', async () => {
    const before = await scrapeMetrics(orders);
    const seen = noListings();
    const { statuses, sizes, refusals } = seen;
    const result = await runCostCase({
      service: orders,
      attack: 'list of large orders, ?limit=1000 (PostgreSQL)',
      rate: '20 clients × 10 listings each, 300 orders of 71 KB stored',
      // Other requests keep their turn while lists are bounded to MAX_CONCURRENT_LISTS at once.
      legit: () => ({ method: 'GET', path: `/api/v1/orders/${oneOrder}`, expect: 200 }),
      run: async () => {
        await listConcurrently(orders.port, 20, 10, '/api/v1/orders?limit=1000', seen);
        return `${tally(statuses)} (${[...refusals].map(([t, n]) => `${t} ×${n}`).join(', ')}); largest answer ${Math.max(...sizes)} B, Link on ${seen.withLink}`;
      },
    });
    // Pages wait their turn within three quarters of the unsent-answer budget; the rest is kept for single
    // resources, so a GET of one large order beside 20 listings is served (a tenth were 503 when pages
    // could fill the whole budget).
    expectWithstood(result, 95);
    // Shedding (503 overloaded, Retry-After) is an honest answer under load; anything else is not.
    const dbLines = orders
      .logs()
      .filter((l) => typeof l === 'object' && /database|pool/i.test(String(l.msg)));
    expect(
      [...refusals.keys()].filter((t) => t !== 'urn:problem-type:overloaded'),
      JSON.stringify(dbLines.slice(0, 5)),
    ).toEqual([]);
    expect(statuses.filter((s) => s !== 200 && s !== 503)).toEqual([]);
    const after = await scrapeMetrics(orders);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(100);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(MAX_RESPONSE_BYTES);
    expect(seen.withLink).toBe(statuses.filter((s) => s === 200).length);
    // Each 503 is one of the counted sheds: list slots, the unsent-answer budget, in-flight, a busy pool.
    const shed = (name: string) => metricValue(after, name) - metricValue(before, name);
    expect(
      shed('http_list_requests_shed_total') +
        shed('http_list_requests_unsent_shed_total') +
        shed('http_requests_shed_total') +
        metricValue(after, 'db_query_duration_seconds_count', { outcome: 'busy' }) -
        metricValue(before, 'db_query_duration_seconds_count', { outcome: 'busy' }),
    ).toBe(statuses.filter((s) => s === 503).length);
  });

  it('when the pages are followed by their Link headers, then all 300 orders come back once each', async () => {
    const agent = new Agent({ keepAlive: true });
    const seen = new Set<string>();
    let path: string | undefined = '/api/v1/orders?limit=1000';
    let pages = 0;
    try {
      while (path !== undefined && pages < 100) {
        const res = await send(orders.port, agent, 'GET', path);
        expect(res.status).toBe(200);
        for (const order of JSON.parse(res.text) as Array<{ id: string }>) seen.add(order.id);
        path = /^<([^>]+)>; rel="next"$/.exec(res.link ?? '')?.[1];
        pages++;
      }
    } finally {
      agent.destroy();
    }
    expect(seen.size).toBe(300);
    expect(pages).toBeGreaterThan(1);
  });

  it("when 40 clients list a customer's largest escaped orders a hundred at a time, then the pages stay bounded, every refusal is a 503 overloaded, probes stay under their timeout, and reads beside them are served", async () => {
    // Each order is ~390 KB of JSON escapes: two make a page at MAX_RESPONSE_BYTES, and every page is
    // parsed from PostgreSQL and serialised again. A session-6 attacker timed the probes out this way.
    const customer = await createUser(users, 3);
    const posted = await postMany(orders.port, '/api/v1/orders', 12, () => largestEscapedOrder(customer));
    expect(tally(posted)).toBe('201 ×12');
    const seen = noListings();
    const { statuses, sizes, refusals } = seen;
    const result = await runCostCase({
      service: orders,
      attack: 'listing escaped largest orders, ?limit=100&skip=1 (PostgreSQL)',
      rate: '40 clients × 5 listings each, 12 orders of 390 KB for one customer',
      legit: () => ({ method: 'GET', path: `/api/v1/orders/${oneOrder}`, expect: 200 }),
      run: async () => {
        await listConcurrently(
          orders.port,
          40,
          5,
          `/api/v1/orders?user_id=${customer}&limit=100&skip=1`,
          seen,
        );
        return `${tally(statuses)}; largest answer ${Math.max(...sizes)} B`;
      },
    });
    expectWithstood(result, 95);
    expect([...refusals.keys()].filter((t) => t !== 'urn:problem-type:overloaded')).toEqual([]);
    expect(statuses.filter((s) => s !== 200 && s !== 503)).toEqual([]);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(0);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(MAX_RESPONSE_BYTES);
  });

  it('when 200 clients with a tiny receive window each ask once for the largest order and never read, then the answers held stay within MAX_UNSENT_RESPONSE_BYTES, the rest are 503 overloaded, and the pod lives', async () => {
    const created = await send(
      orders.port,
      new Agent(),
      'POST',
      '/api/v1/orders',
      largestEscapedOrder(userId),
    );
    expect(created.status).toBe(201);
    const id = (JSON.parse(created.text) as { id: string }).id;
    // Legitimate traffic reads an ordinary order: large answers are what the budget refuses while spent.
    const small = await send(
      orders.port,
      new Agent(),
      'POST',
      '/api/v1/orders',
      JSON.stringify({
        user_id: userId,
        items: [{ product_id: 'p1', product_name: 'Pen', quantity: 1, price: 2 }],
        shipping_address: '1 Road',
      }),
    );
    const smallId = (JSON.parse(small.text) as { id: string }).id;
    let peakUnsent = 0;
    let readers = '';
    const writer = await createUser(users, 2);
    let writeWhileSpent: number | undefined;
    const result = await runCostCase({
      service: orders,
      attack: 'one largest order, never read',
      rate: '200 connections × 1 `GET` of a 390 KB order, 2 KB receive window, held 4 s',
      legit: () => ({ method: 'GET', path: `/api/v1/orders/${smallId}`, expect: 200 }),
      run: async () => {
        const attack = runTinyWindowReaders(orders.port, 200, 4, `/api/v1/orders/${id}`);
        const until = performance.now() + 4_000;
        while (performance.now() < until) {
          const samples = await scrapeMetrics(orders);
          const unsent = metricValue(samples, 'http_unsent_response_bytes');
          peakUnsent = Math.max(peakUnsent, unsent);
          if (unsent >= UNSENT_BUDGET && writeWhileSpent === undefined) {
            // A large write while the budget is spent is refused before it is saved, never after.
            writeWhileSpent = (
              await send(orders.port, new Agent(), 'POST', '/api/v1/orders', largestOrder(writer))
            ).status;
          }
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        readers = await attack;
        return `${readers}; unsent answers peaked at ${(peakUnsent / 1_048_576).toFixed(1)} MiB`;
      },
    });
    expectWithstood(result, LEGIT_MIN_PCT);
    const { opened, statuses } = JSON.parse(readers) as { opened: number; statuses: Record<string, number> };
    expect(opened).toBe(200);
    // 200 × 390 KB would be 78 MB held: what is held stays within the budget (plus one answer), and the
    // answers it had no room for are refused.
    expect(peakUnsent).toBeLessThanOrEqual(UNSENT_BUDGET + 1_048_576);
    expect(statuses['503'] ?? 0).toBeGreaterThan(0);
    expect(writeWhileSpent).toBe(503);
    const written = await send(orders.port, new Agent(), 'GET', `/api/v1/orders/user/${writer}`);
    expect(JSON.parse(written.text)).toEqual([]);
  });
});

describe('cost: a POST flood on the in-memory store (order-service, the chart’s derived cap)', () => {
  let users: RunningService;
  let orders: RunningService;
  let userId: string;

  beforeAll(async () => {
    users = await startCostService('user-service');
    // The chart derives MEMORY_STORE_MAX_BYTES from the heap flag: a quarter of 128 MiB.
    orders = await startCostService('order-service', {
      USER_SERVICE_URL: `http://${LOOPBACK}:${users.port}`,
      MEMORY_STORE_MAX_BYTES: String(32 * 1_048_576),
    });
    userId = await createUser(users, 1);
  });

  it('when 600 largest orders are posted, then the store fills to its cap, the rest are 507 store-full, reads keep working, and the pod lives', async () => {
    let statuses: number[] = [];
    const result = await runCostCase({
      service: orders,
      attack: 'POST flood of largest orders (memory store)',
      rate: '600 POSTs of 71 KB, 4 at a time',
      legit: (i) =>
        i % 2 === 0
          ? { method: 'GET', path: '/api/v1/orders?limit=5', expect: 200 }
          : { method: 'GET', path: '/health/ready', expect: 200 },
      run: async () => {
        statuses = await postMany(orders.port, '/api/v1/orders', 600, () => largestOrder(userId));
        return tally(statuses);
      },
    });
    expectWithstood(result, LEGIT_MIN_PCT);
    expect(statuses.filter((s) => s !== 201 && s !== 507)).toEqual([]);
    expect(statuses.filter((s) => s === 507).length).toBeGreaterThan(0);
    const metrics = await scrapeMetrics(orders);
    expect(metricValue(metrics, 'memory_store_bytes')).toBeLessThanOrEqual(32 * 1_048_576);
    expect(metricValue(metrics, 'memory_store_refused_writes_total')).toBe(
      statuses.filter((s) => s === 507).length,
    );
  });
});

describe('cost: error bodies and caller mistakes (both services)', () => {
  let users: RunningService;
  let orders: RunningService;
  const customers: string[] = [];

  beforeAll(async () => {
    users = await startCostService('user-service');
    // No known-users cache: every legitimate order needs user-service's answer, so an open breaker shows.
    orders = await startCostService('order-service', {
      USER_SERVICE_URL: `http://${LOOPBACK}:${users.port}`,
      USER_CACHE_ENABLED: 'false',
    });
    for (let i = 0; i < 50; i++) customers.push(await createUser(users, 100 + i));
  });

  it('when 8 senders post bodies of 80,000 unknown keys, then each gets a small 400 before parsing (or, past its client’s share of the body budget, a 503 before reading) and the event loop stays free', async () => {
    const body = `{${Array.from({ length: 80_000 }, (_, i) => `"k${i}":1`).join(',')}}`;
    const sizes: number[] = [];
    const statuses: number[] = [];
    const result = await runCostCase({
      service: users,
      attack: '80,000 unknown keys per body',
      rate: `8 senders × 10 bodies of ${Math.round(body.length / 1024)} KB`,
      legit: (i) => ({
        method: 'POST',
        path: '/api/v1/users',
        body: JSON.stringify({ name: 'Legit', email: `legit-keys-${runId}-${i}@example.com` }),
        expect: 201,
      }),
      run: async () => {
        await Promise.all(
          Array.from({ length: 8 }, async () => {
            const agent = new Agent({ keepAlive: true, maxSockets: 1 });
            try {
              for (let i = 0; i < 10; i++) {
                const res = await send(users.port, agent, 'POST', '/api/v1/users', body);
                statuses.push(res.status);
                sizes.push(res.bytes);
                // One client's 849 KB bodies fill its quarter of MAX_REQUEST_BODY_BYTES_HELD at five.
                expect(res.text).toContain(res.status === 503 ? 'overloaded' : 'json-too-many-entries');
              }
            } finally {
              agent.destroy();
            }
          }),
        );
        return `${tally(statuses)}; largest answer ${Math.max(...sizes)} B`;
      },
    });
    expectWithstood(result, LEGIT_MIN_PCT);
    expect(statuses.every((s) => s === 400 || s === 503)).toBe(true);
    expect(statuses.filter((s) => s === 400).length).toBeGreaterThanOrEqual(40);
    expect(Math.max(...sizes)).toBeLessThan(1_000);
  });

  it('when orders with ids that are not well-formed Unicode arrive at 10/s, then each is a 400 and orders for new customers keep being verified and accepted', async () => {
    const statuses: number[] = [];
    const poison = `{"user_id": "\\ud800", "items": [{"product_id": "p", "product_name": "n", "quantity": 1, "price": 1}], "shipping_address": "x"}`;
    const result = await runCostCase({
      service: orders,
      attack: 'user_id with a lone surrogate (breaker poisoning)',
      rate: '10 orders/s for 3 s',
      legit: (i) => ({
        method: 'POST',
        path: '/api/v1/orders',
        body: JSON.stringify({
          user_id: customers[i % customers.length],
          items: [{ product_id: 'p', product_name: 'n', quantity: 1, price: 1 }],
          shipping_address: 'x',
        }),
        expect: 201,
      }),
      run: async () => {
        const agent = new Agent({ keepAlive: true, maxSockets: 1 });
        try {
          for (let i = 0; i < 30; i++) {
            statuses.push((await send(orders.port, agent, 'POST', '/api/v1/orders', poison)).status);
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
        } finally {
          agent.destroy();
        }
        return tally(statuses);
      },
    });
    expectWithstood(result, LEGIT_MIN_PCT);
    expect(statuses.every((s) => s === 400)).toBe(true);
    const metrics = await scrapeMetrics(orders);
    expect(metricValue(metrics, 'user_service_circuit_state')).toBe(0);
    expect(metricValue(metrics, 'user_service_requests_total', { outcome: 'circuit_open' })).toBe(0);
  });
});

describe('cost: one client past its rate limit (user-service, the chart’s limit)', () => {
  let users: RunningService;

  beforeAll(async () => {
    // As behind an ingress: the test's loopback peer is the trusted proxy, and the attacker is one forwarded
    // client; the legitimate loop sends no X-Forwarded-For, so it is the proxy's own (separate) bucket.
    users = await startCostService('user-service', {
      RATE_LIMIT_ENABLED: 'true',
      RATE_LIMIT_RPS: '100',
      RATE_LIMIT_BURST: '200',
      TRUSTED_PROXIES: `${LOOPBACK}/32`,
    });
  });

  it('when one client sends 2,000 requests as fast as it can, then it is held to its quota with 429 + Retry-After + RateLimit, and others are not', async () => {
    const statuses: number[] = [];
    let retryAfter: string | undefined;
    let rateLimit: string | undefined;
    const result = await runCostCase({
      service: users,
      attack: 'one client flooding past its rate limit',
      rate: '2,000 GETs, 8 connections, no pause',
      legit: () => ({ method: 'GET', path: '/api/v1/users?limit=1', expect: 200 }),
      run: async () => {
        await Promise.all(
          Array.from({ length: 8 }, async () => {
            for (let i = 0; i < 250; i++) {
              const res = await fetch(`${users.url}/api/v1/users?limit=1`, {
                headers: { 'X-Forwarded-For': '198.51.100.66' },
              });
              statuses.push(res.status);
              if (res.status === 429) {
                retryAfter = res.headers.get('retry-after') ?? undefined;
                rateLimit = res.headers.get('ratelimit') ?? undefined;
              }
              await res.body?.cancel();
            }
          }),
        );
        return tally(statuses);
      },
    });
    expectWithstood(result, LEGIT_MIN_PCT);
    const allowed = statuses.filter((s) => s === 200).length;
    // The burst, plus what 100/s refills while the flood lasts.
    expect(allowed).toBeGreaterThanOrEqual(200);
    expect(allowed).toBeLessThan(1_000);
    expect(statuses.filter((s) => s !== 200 && s !== 429)).toEqual([]);
    expect(retryAfter).toBe('1');
    expect(rateLimit).toMatch(/^"default";r=0;t=\d+$/);
    const metrics = await scrapeMetrics(users);
    expect(metricValue(metrics, 'http_requests_rate_limited_total')).toBe(2_000 - allowed);
  });
});
