import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningService, stopAll } from '../support/processes.js';
import { metricValue, scrapeMetrics } from '../support/prometheus.js';
import { expectWithstood, printCostTable, runCostCase, startCostService } from './support/cost-case.js';

// The process-wide in-flight limit: API requests made slow on purpose (fault injection, 1 s each) pile up
// in the app; past MAX_INFLIGHT_REQUESTS the server sheds with 503 + Retry-After, and the probes and the
// metrics scrape are still answered.
const MAX_INFLIGHT = 32;
const ATTACKERS = 200;

let users: RunningService;

beforeAll(async () => {
  users = await startCostService('user-service', {
    MAX_INFLIGHT_REQUESTS: String(MAX_INFLIGHT),
    FAULTS_ENABLED: 'true',
    FAULT_MODE: 'slow',
    FAULT_DELAY_MS: '1000',
  });
});

afterAll(async () => {
  printCostTable();
  await stopAll();
});

describe('cost: process-wide in-flight limit (user-service, chart heap flags)', () => {
  it('when 200 slow API requests arrive at once, then 32 are in flight, the rest get 503 overloaded with Retry-After, and /metrics and probes are answered throughout', async () => {
    const statuses: number[] = [];
    const retryAfter = new Set<string | null>();
    const result = await runCostCase({
      service: users,
      attack: 'concurrent slow requests past MAX_INFLIGHT_REQUESTS',
      rate: `${ATTACKERS} concurrent GETs held 1 s each (fault delay), MAX_INFLIGHT_REQUESTS=${MAX_INFLIGHT}`,
      // The metrics scrape is exempt from shedding, like the probes: it must always succeed.
      legit: () => ({ method: 'GET', path: '/metrics', expect: 200 }),
      run: async () => {
        await Promise.all(
          Array.from({ length: ATTACKERS }, async () => {
            const res = await fetch(`${users.url}/api/v1/users?limit=1`);
            statuses.push(res.status);
            if (res.status === 503) {
              retryAfter.add(res.headers.get('retry-after'));
              const problem = (await res.json()) as { type: string };
              expect(problem.type).toBe('urn:problem-type:overloaded');
            } else await res.body?.cancel();
          }),
        );
        const shed = statuses.filter((s) => s === 503).length;
        return `503 ×${shed}, 200 ×${statuses.filter((s) => s === 200).length}`;
      },
    });
    expectWithstood(result, 99);
    const ok = statuses.filter((s) => s === 200).length;
    // The metrics scrape beside it holds a slot now and then; it is exempt from shedding, not from counting.
    expect(ok).toBeGreaterThanOrEqual(MAX_INFLIGHT - 2);
    expect(ok).toBeLessThan(ATTACKERS / 2);
    expect(statuses.filter((s) => s !== 200 && s !== 503)).toEqual([]);
    expect(ok + statuses.filter((s) => s === 503).length).toBe(ATTACKERS);
    expect([...retryAfter]).toEqual(['1']);
    const metrics = await scrapeMetrics(users);
    expect(metricValue(metrics, 'http_requests_shed_total')).toBe(ATTACKERS - ok);
    expect(metricValue(metrics, 'http_server_requests_in_flight')).toBeLessThanOrEqual(1);
  });

  it('when 200 slow POSTs with small bodies arrive at once, then they are shed like any other request past MAX_INFLIGHT_REQUESTS, once their bodies are in', async () => {
    const statuses: number[] = [];
    let peakInFlight = 0;
    const result = await runCostCase({
      service: users,
      attack: 'concurrent slow POSTs past MAX_INFLIGHT_REQUESTS',
      rate: `${ATTACKERS} concurrent POSTs (small bodies) held 1 s each (fault delay), MAX_INFLIGHT_REQUESTS=${MAX_INFLIGHT}`,
      legit: () => ({ method: 'GET', path: '/metrics', expect: 200 }),
      run: async () => {
        const watch = setInterval(async () => {
          const value = metricValue(await scrapeMetrics(users), 'http_server_requests_in_flight');
          peakInFlight = Math.max(peakInFlight, value);
        }, 100);
        try {
          await Promise.all(
            Array.from({ length: ATTACKERS }, async (_, i) => {
              const res = await fetch(`${users.url}/api/v1/users`, {
                method: 'POST',
                headers: { 'Content-Type': 'application/json' },
                body: JSON.stringify({
                  name: 'Slow',
                  email: `slow-${process.pid}-${Date.now()}-${i}@example.com`,
                }),
              });
              statuses.push(res.status);
              await res.body?.cancel();
            }),
          );
        } finally {
          clearInterval(watch);
        }
        return `503 ×${statuses.filter((s) => s === 503).length}, 201 ×${statuses.filter((s) => s === 201).length}, in flight peaked at ${peakInFlight}`;
      },
    });
    expectWithstood(result, 99);
    // Before, a request with a body skipped the bound: all 200 were in the app at once.
    expect(peakInFlight).toBeLessThanOrEqual(MAX_INFLIGHT + 1);
    expect(statuses.filter((s) => s === 503).length).toBeGreaterThan(ATTACKERS / 2);
  });
});
