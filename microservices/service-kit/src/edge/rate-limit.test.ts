import { createRoute, z } from '@hono/zod-openapi';
import { describe, expect, it } from 'vitest';
import { createServiceApp } from '../app/create-service-app.js';
import { silentLogger } from '../base/logger.js';
import { createMetricsRegistry } from '../base/metrics-registry.js';
import { FakeClock } from '../testing/fake-clock.js';
import { quotaKey, TrustedProxies } from './client-address.js';
import { replyJson } from './reply.js';

const ok = createRoute({
  method: 'get',
  path: '/api/thing',
  responses: { 200: { description: 'ok', content: { 'application/json': { schema: z.object({}) } } } },
});

/** A kit app with the limit on (2 per second, burst 3), a clock the test moves, and peers it picks. */
function build(trustedProxies: string[] = []) {
  const clock = new FakeClock();
  const registry = createMetricsRegistry({ defaultMetrics: false });
  const app = createServiceApp(
    {
      info: { service: 'kit-test', version: '1', commit: 'c' },
      logger: silentLogger(),
      registry,
      clock,
      rateLimit: { ratePerSecond: 2, burst: 3, maxClients: 100, trustedProxies },
    },
    { title: 't', description: 't', checks: [] },
  );
  app.openapi(ok, (c) => replyJson(c, {}, 200));
  const from = (address: string, headers: Record<string, string> = {}, path = '/api/thing') =>
    app.request(path, { headers }, { incoming: { socket: { remoteAddress: address } } });
  return { clock, registry, from };
}

describe('rate limit: a token bucket per client', () => {
  it('when a client sends more than its burst at once, then the rest are 429 with Retry-After and RateLimit headers', async () => {
    const { from, registry } = build();
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await from('192.0.2.10')).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    const refused = await from('192.0.2.10');
    expect(refused.headers.get('content-type')).toBe('application/problem+json');
    expect(((await refused.json()) as { type: string }).type).toBe('urn:problem-type:rate-limited');
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.headers.get('ratelimit-policy')).toBe('"default";q=3;w=2');
    expect(refused.headers.get('ratelimit')).toBe('"default";r=0;t=1');
    expect(await registry.getSingleMetricAsString('http_requests_rate_limited_total')).toContain(
      'http_requests_rate_limited_total 3',
    );
  });

  it('when time passes, then tokens come back at the configured rate, never above the burst', async () => {
    const { from, clock } = build();
    for (let i = 0; i < 3; i++) await from('192.0.2.11');
    expect((await from('192.0.2.11')).status).toBe(429);
    clock.advance(500);
    expect((await from('192.0.2.11')).status).toBe(200);
    expect((await from('192.0.2.11')).status).toBe(429);
    clock.advance(60_000);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await from('192.0.2.11')).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
  });

  it('when one client is limited, then another is not', async () => {
    const { from } = build();
    for (let i = 0; i < 4; i++) await from('192.0.2.12');
    expect((await from('192.0.2.12')).status).toBe(429);
    expect((await from('192.0.2.13')).status).toBe(200);
  });

  it('when answers are allowed, then they say what is left of the quota', async () => {
    const { from } = build();
    const res = await from('192.0.2.14');
    expect(res.headers.get('ratelimit-policy')).toBe('"default";q=3;w=2');
    expect(res.headers.get('ratelimit')).toBe('"default";r=2;t=1');
  });

  it('when probes and metrics are called past the limit, then they are never limited', async () => {
    const { from } = build();
    for (let i = 0; i < 5; i++) await from('192.0.2.15');
    for (const path of ['/health/live', '/health/ready', '/metrics', '/openapi.json']) {
      expect((await from('192.0.2.15', {}, path)).status, path).toBe(200);
    }
  });

  it('when a client forges X-Forwarded-For without a trusted proxy, then it is still counted by its address', async () => {
    const { from } = build();
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++)
      statuses.push((await from('192.0.2.16', { 'X-Forwarded-For': `198.51.100.${i}` })).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
  });

  it('when requests come through a trusted proxy, then each forwarded client has its own bucket', async () => {
    const { from } = build(['203.0.113.0/24']);
    for (let i = 0; i < 3; i++) await from('203.0.113.5', { 'X-Forwarded-For': '198.51.100.1' });
    expect((await from('203.0.113.5', { 'X-Forwarded-For': '198.51.100.1' })).status).toBe(429);
    expect((await from('203.0.113.5', { 'X-Forwarded-For': '198.51.100.2' })).status).toBe(200);
  });
});

describe('quotaKey: IPv6 clients are counted by their /64', () => {
  it.each([
    ['192.0.2.1', '192.0.2.1'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['2001:db8:0:0:ffff::9', '2001:db8:0:0::/64'],
    ['2001:0db8:0001:0002:0003:0004:0005:0006', '2001:db8:1:2::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::', 'fe80:0:0:0::/64'],
  ])('%s → %s', (address, key) => {
    expect(quotaKey(address)).toBe(key);
  });

  it('when one client rotates through IPv6 addresses of its /64, then they share one bucket', async () => {
    const { from } = build(['203.0.113.0/24']);
    const statuses: number[] = [];
    for (let i = 1; i <= 5; i++) {
      statuses.push((await from('203.0.113.5', { 'X-Forwarded-For': `2001:db8::${i.toString(16)}` })).status);
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect((await from('203.0.113.5', { 'X-Forwarded-For': '2001:db8:1::1' })).status).toBe(200);
  });
});

describe('TrustedProxies.clientOf', () => {
  const proxies = new TrustedProxies(['203.0.113.0/24', '2001:db8::/32']);

  it.each([
    ['an untrusted peer (its X-Forwarded-For ignored)', '192.0.2.1', '198.51.100.7', '192.0.2.1'],
    ['a trusted peer', '203.0.113.1', '198.51.100.7', '198.51.100.7'],
    ['a chain of trusted proxies', '203.0.113.1', '198.51.100.7, 203.0.113.9', '198.51.100.7'],
    [
      'an entry the client invented left of the real one',
      '203.0.113.1',
      '1.1.1.1, 198.51.100.7',
      '198.51.100.7',
    ],
    ['a malformed hop', '203.0.113.1', 'junk, 203.0.113.8', '203.0.113.8'],
    ['an IPv4-mapped IPv6 peer', '::ffff:203.0.113.1', '198.51.100.7', '198.51.100.7'],
    ['an IPv6 proxy', '2001:db8::5', '198.51.100.8', '198.51.100.8'],
    ['no header', '203.0.113.1', undefined, '203.0.113.1'],
  ])('with %s, the client is as expected', (_, peer, forwarded, client) => {
    expect(proxies.clientOf(peer, forwarded)).toBe(client);
  });

  it('when no proxy is trusted, then the header never matters', () => {
    expect(new TrustedProxies([]).clientOf('203.0.113.1', '198.51.100.7')).toBe('203.0.113.1');
  });
});
