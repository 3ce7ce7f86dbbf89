import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RawResponse, sendRaw } from '../resilience/support/raw-http.js';
import { type RunningService, stopAll } from '../support/processes.js';
import { metricValue, scrapeMetrics } from '../support/prometheus.js';
import { expectWithstood, printCostTable, runCostCase, startCostService } from './support/cost-case.js';
import type { LegitRequest } from './support/http-loops.js';

// Requests Node's parser accepts and this server refuses (issue 13, "stricter HTTP where Node is lenient"),
// each sent as a flood beside legitimate traffic, against both services as the chart runs them.
const FLOOD = 300;
const CONCURRENCY = 20;
const LEGIT_MIN_PCT = 99;

let users: RunningService;
let orders: RunningService;

beforeAll(async () => {
  [users, orders] = await Promise.all([startCostService('user-service'), startCostService('order-service')]);
});

afterAll(async () => {
  printCostTable();
  await stopAll();
});

const legit = (): LegitRequest => ({ method: 'GET', path: '/api/v1/users?limit=5', expect: 200 });
const legitOrders = (): LegitRequest => ({ method: 'GET', path: '/api/v1/orders?limit=5', expect: 200 });

/** Sends `request` FLOOD times, CONCURRENCY at a time, each on its own connection; every answer. */
async function flood(port: number, request: string): Promise<RawResponse[]> {
  const answers: RawResponse[] = [];
  for (let i = 0; i < FLOOD; i += CONCURRENCY) {
    answers.push(...(await Promise.all(Array.from({ length: CONCURRENCY }, () => sendRaw(port, request)))));
  }
  return answers;
}

const problemType = (res: RawResponse) => (JSON.parse(res.body) as { type: string }).type;

interface StrictCase {
  attack: string;
  request: string;
  status: number;
  type: string;
  /** Extra checks on one answer. */
  check?: (res: RawResponse) => void;
}

const cases: StrictCase[] = [
  {
    attack: 'duplicate Host',
    request: 'GET /api/v1/users HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\n\r\n',
    status: 400,
    type: 'duplicate-host',
  },
  {
    attack: 'no Host on HTTP/1.1',
    request: 'GET /api/v1/users HTTP/1.1\r\nConnection: close\r\n\r\n',
    status: 400,
    type: 'missing-host',
  },
  {
    attack: 'Transfer-Encoding on HTTP/1.0',
    request:
      'POST /api/v1/users HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n',
    status: 400,
    type: 'transfer-encoding-http10',
    check: (res) => expect(res.headers.connection).toBe('close'),
  },
  {
    attack: '150 header fields',
    request: `GET /api/v1/users HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${Array.from({ length: 150 }, (_, i) => `X-H${i}: v`).join('\r\n')}\r\n\r\n`,
    status: 431,
    type: 'headers-too-large',
  },
  {
    attack: 'encoded dot segments',
    request:
      'GET /api/v1/users/%2e%2e/%2E%2e/metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n',
    status: 400,
    type: 'invalid-path',
  },
  {
    attack: 'plain dot segments',
    request: 'GET /api/v1/users/../../metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n',
    status: 400,
    type: 'invalid-path',
  },
  {
    attack: 'wrong method on a known path',
    request: 'DELETE /api/v1/users HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n',
    status: 405,
    type: 'method-not-allowed',
    check: (res) => expect(res.headers.allow).toBe('GET, HEAD, POST'),
  },
];

describe('cost: strict HTTP floods (user-service, chart heap flags)', () => {
  it.each(cases)(
    'when $attack is sent 300 times, then each is answered $status $type and the service stays healthy',
    async (c) => {
      const result = await runCostCase({
        service: users,
        attack: c.attack,
        rate: `${FLOOD} requests, ${CONCURRENCY} connections at a time`,
        legit,
        minDurationMs: 500,
        run: async () => {
          const answers = await flood(users.port, c.request);
          const statuses = new Set(answers.map((a) => a.status));
          expect([...statuses]).toEqual([c.status]);
          expect(new Set(answers.map(problemType))).toEqual(new Set([`urn:problem-type:${c.type}`]));
          expect(answers.every((a) => a.headers['content-type'] === 'application/problem+json')).toBe(true);
          c.check?.(answers[0] as RawResponse);
          return `${c.status} ${c.type} ×${answers.length}`;
        },
      });
      expectWithstood(result, LEGIT_MIN_PCT);
    },
  );
});

describe('cost: strict HTTP on order-service', () => {
  it('when a wrong method and encoded dot segments are sent, then 405 with Allow and 400 invalid-path, counted by the server', async () => {
    const result = await runCostCase({
      service: orders,
      attack: 'wrong method + dot segments (order-service)',
      rate: `${FLOOD} + ${FLOOD} requests, ${CONCURRENCY} at a time`,
      legit: legitOrders,
      minDurationMs: 500,
      run: async () => {
        const wrong = await flood(
          orders.port,
          'PUT /api/v1/orders HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n',
        );
        expect(new Set(wrong.map((a) => a.status))).toEqual(new Set([405]));
        expect(wrong[0]?.headers.allow).toBe('GET, HEAD, POST');
        const dots = await flood(
          orders.port,
          'GET /api/v1/orders/%2e%2e/user/x HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n',
        );
        expect(new Set(dots.map((a) => a.status))).toEqual(new Set([400]));
        return `405 ×${wrong.length}, 400 invalid-path ×${dots.length}`;
      },
    });
    expectWithstood(result, LEGIT_MIN_PCT);
    const metrics = await scrapeMetrics(orders);
    expect(metricValue(metrics, 'http_server_refusals_total', { reason: 'dot_segment' })).toBe(FLOOD);
  });
});
