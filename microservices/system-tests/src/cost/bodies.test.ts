import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningService, stopAll } from '../support/processes.js';
import { metricValue, type Sample, scrapeMetrics } from '../support/prometheus.js';
import {
  expectWithstood,
  MEMORY_LIMIT_MB,
  printCostTable,
  runCostCase,
  startCostService,
} from './support/cost-case.js';
import { closeAll, firstResponse, openSockets } from './support/raw-sockets.js';

// Request bodies held at once: uploads that send all but their last byte keep their bodies in the
// process until REQUEST_TIMEOUT_MS. The server admits large bodies only while MAX_REQUEST_BODY_BYTES_HELD
// has room, and answers the rest 503 before reading them.
const UPLOADS = 300;
const BODY_BYTES = 1_048_576;
/** MAX_REQUEST_BODY_BYTES_HELD as the services ship it. */
const BODY_BUDGET = 16_777_216;

let users: RunningService;
const runId = `${process.pid}-${Date.now()}`;

beforeAll(async () => {
  // Behind a proxy on 127.0.0.1, as in a cluster behind an ingress: X-Forwarded-For names the client.
  users = await startCostService('user-service', { TRUSTED_PROXIES: '127.0.0.1' });
});

afterAll(async () => {
  printCostTable();
  await stopAll();
});

const scrape = async (): Promise<Sample[]> => await scrapeMetrics(users);

describe('cost: request bodies held at once (user-service, chart heap flags)', () => {
  it('when 300 uploads each send all but the last byte of a 1 MiB body, then at most MAX_REQUEST_BODY_BYTES_HELD of bodies are held, the rest are 503 before being read, and RSS stays far below the memory limit', async () => {
    const before = await scrape();
    let peakHeld = 0;
    let refused = 0;
    const result = await runCostCase({
      service: users,
      attack: 'uploads held one byte short',
      rate: `${UPLOADS} POSTs of a declared 1 MiB body, all but the last byte sent, held 3 s`,
      legit: (i) =>
        i % 2 === 0
          ? { method: 'GET', path: '/api/v1/users?limit=10', expect: 200 }
          : {
              method: 'POST',
              path: '/api/v1/users',
              body: JSON.stringify({ name: 'Legit', email: `legit-${runId}-${i}@example.com` }),
              expect: 201,
            },
      run: async () => {
        const head = `POST /api/v1/users HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${BODY_BYTES}\r\n\r\n`;
        const almost = Buffer.concat([Buffer.from(head), Buffer.alloc(BODY_BYTES - 1, 0x20)]);
        const held = await openSockets(UPLOADS, users.port, () => almost, { batch: 20 });
        const until = performance.now() + 3_000;
        while (performance.now() < until) {
          peakHeld = Math.max(peakHeld, metricValue(await scrape(), 'http_request_body_bytes_held'));
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        refused = held.filter((h) => firstResponse(h.received()).status === 503).length;
        await closeAll(held);
        return `503 ×${refused} before reading; bodies held peaked at ${(peakHeld / 1_048_576).toFixed(1)} MiB`;
      },
    });
    expectWithstood(result, 99);
    // Every body over 16 KB is admitted only while it fits; without the bound 256 were read at once and
    // RSS went from 96 to 366 MB.
    expect(peakHeld).toBeLessThanOrEqual(BODY_BUDGET);
    expect(refused).toBeGreaterThanOrEqual(UPLOADS - BODY_BUDGET / BODY_BYTES);
    expect(result.row.rssPeakMb).toBeLessThan(MEMORY_LIMIT_MB * 0.75);
    const after = await scrape();
    const refusals = (s: Sample[]) =>
      metricValue(s, 'http_server_refusals_total', { reason: 'body_budget', status_code: '503' });
    expect(refusals(after) - refusals(before)).toBe(refused);
  }, 120_000);

  it('when 300 uploads send their headers and never their bodies, reconnecting after each 408, then they hold no in-flight slot and other requests keep being served', async () => {
    const before = await scrape();
    let peakInFlight = 0;
    const head =
      'POST /api/v1/users HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 16384\r\n\r\n';
    const result = await runCostCase({
      service: users,
      attack: 'uploads that never send their bodies',
      rate: '300 POSTs of a declared 16 KB body (always admitted), headers only, held 4 s',
      legit: (i) =>
        i % 2 === 0
          ? { method: 'GET', path: '/api/v1/users?limit=10', expect: 200 }
          : {
              method: 'POST',
              path: '/api/v1/users',
              body: JSON.stringify({ name: 'Legit', email: `legit-bodyless-${runId}-${i}@example.com` }),
              expect: 201,
            },
      run: async () => {
        const held = await openSockets(300, users.port, () => head, { batch: 50 });
        const until = performance.now() + 4_000;
        while (performance.now() < until) {
          peakInFlight = Math.max(
            peakInFlight,
            metricValue(await scrape(), 'http_server_requests_in_flight'),
          );
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        await closeAll(held);
        return `in flight peaked at ${peakInFlight} (MAX_INFLIGHT_REQUESTS 256)`;
      },
    });
    // Before, each held an in-flight slot until cut: 256 of them turned 98 % of other requests away.
    expectWithstood(result, 99);
    expect(peakInFlight).toBeLessThan(50);
    const shed = (s: Sample[]) => metricValue(s, 'http_requests_shed_total');
    expect(shed(await scrape()) - shed(before)).toBe(0);
  }, 120_000);

  it('when one client’s 16 uploads declare 1 MiB and send nothing, then it holds at most its quarter of MAX_REQUEST_BODY_BYTES_HELD, and other clients’ larger bodies are admitted beside it', async () => {
    const head = `POST /api/v1/users HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Forwarded-For: 203.0.113.66\r\nContent-Type: application/json\r\nContent-Length: ${BODY_BYTES}\r\n\r\n`;
    // A body over 16 KB (the size of an order of 100 items): user-service refuses it as invalid (400),
    // which shows it was admitted and read; a 503 would be the budget turning it away.
    const large = JSON.stringify({ name: 'n'.repeat(40_000), email: 'large@example.com' });
    let peakHeld = 0;
    let refused = 0;
    const result = await runCostCase({
      service: users,
      attack: "one client's uploads holding the body budget",
      rate: '16 POSTs of a declared 1 MiB body from one client, headers only, held 4 s, beside 40 KB bodies from another',
      legit: (i) =>
        i % 2 === 0
          ? { method: 'POST', path: '/api/v1/users', body: large, expect: 400 }
          : { method: 'GET', path: '/api/v1/users?limit=10', expect: 200 },
      run: async () => {
        const held = await openSockets(BODY_BUDGET / BODY_BYTES, users.port, () => head);
        const until = performance.now() + 4_000;
        while (performance.now() < until) {
          peakHeld = Math.max(peakHeld, metricValue(await scrape(), 'http_request_body_bytes_held'));
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        refused = held.filter((h) => firstResponse(h.received()).status === 503).length;
        await closeAll(held);
        return `503 ×${refused} of 16; bodies held peaked at ${(peakHeld / 1_048_576).toFixed(2)} MiB`;
      },
    });
    // Before, the 16 held all 16 MiB and every body over 16 KB was a 503 (0 of 195 large orders).
    expectWithstood(result, 99);
    expect(refused).toBe(12);
    expect(peakHeld).toBeLessThanOrEqual(BODY_BUDGET / 4 + 2 * 1_048_576);
  }, 120_000);
});
