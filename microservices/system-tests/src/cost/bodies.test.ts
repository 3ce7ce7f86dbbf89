import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningService, stopAll } from '../support/processes.js';
import { metricValue, parseMetrics, type Sample } from '../support/prometheus.js';
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
  users = await startCostService('user-service');
});

afterAll(async () => {
  printCostTable();
  await stopAll();
});

const scrape = async (): Promise<Sample[]> =>
  parseMetrics(await (await fetch(`${users.url}/metrics`)).text());

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
});
