import { createRoute, z } from '@hono/zod-openapi';
import { describe, expect, it } from 'vitest';
import { createServiceApp } from '../../app/create-service-app.js';
import { silentLogger } from '../../base/logger.js';
import { createMetricsRegistry } from '../../base/metrics-registry.js';
import { parseEnv } from '../../boot/env.js';
import { inProcessClient } from '../../testing/checked-client.js';
import { configErrorOf } from '../../testing/config-error.js';
import { FakeClock } from '../../testing/fake-clock.js';
import { faultEnvShape, faultSettingsFromEnv, ignoredFaultVariables } from './fault-env.js';
import { DEFAULT_FAULT_SETTINGS, type FaultSettings } from './fault-settings.js';

const pingRoute = createRoute({
  method: 'get',
  path: '/api/ping',
  responses: {
    200: {
      description: 'pong',
      content: { 'application/json': { schema: z.object({ pong: z.boolean() }) } },
    },
    500: { description: 'fault', content: { 'application/problem+json': { schema: z.object({}).loose() } } },
    503: {
      description: 'fault',
      headers: { 'Retry-After': { schema: { type: 'integer' } } },
      content: { 'application/problem+json': { schema: z.object({}).loose() } },
    },
  },
});

/** A service app with one API route, fault injection as given, and scripted randomness. */
function build(faults: FaultSettings | undefined, random: number[] = []) {
  const registry = createMetricsRegistry({ defaultMetrics: false });
  const draws = [...random];
  const app = createServiceApp(
    {
      info: { service: 'kit-test', version: '1.0.0', commit: 'abc' },
      logger: silentLogger(),
      registry,
      clock: new FakeClock(),
      bodyLimitBytes: 1_024,
      faults,
      random: () => {
        const next = draws.shift();
        if (next === undefined) throw new Error('the test scripted too few random draws');
        return next;
      },
    },
    { title: 'kit-test', description: 'test', checks: [] },
  );
  app.openapi(pingRoute, (c) => c.json({ pong: true }, 200));
  const metric = async (name: string, labels = '') => {
    const line = (await registry.metrics()).split('\n').find((l) => l.startsWith(`${name}${labels} `));
    return line === undefined ? undefined : Number(line.split(' ').at(-1));
  };
  return { app, client: inProcessClient(app), metric };
}

const settings = (overrides: Partial<FaultSettings>): FaultSettings => ({
  ...DEFAULT_FAULT_SETTINGS,
  ...overrides,
});

describe('fault injection switched off (the default)', () => {
  it('when FAULTS_ENABLED is unset, then there is no admin route, nothing in the document, and the gauge says 0', async () => {
    const { client, metric } = build(undefined);
    expect((await client.get('/admin/faults')).status).toBe(404);
    expect((await client.put('/admin/faults', { mode: 'down' })).status).toBe(404);
    expect((await client.get('/api/ping')).status).toBe(200);
    const document = (await client.get<{ paths: Record<string, unknown> }>('/openapi.json')).body;
    expect(Object.keys(document.paths)).not.toContain('/admin/faults');
    expect(await metric('fault_injection_enabled')).toBe(0);
  });
});

describe('fault modes', () => {
  it('when the mode is normal, then API routes answer as usual', async () => {
    const { client, metric } = build(settings({ mode: 'normal' }));
    const res = await client.get('/api/ping');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-fault-injected')).toBeNull();
    expect(await metric('fault_injection_enabled')).toBe(1);
    expect(await metric('fault_injection_mode', '{mode="normal"}')).toBe(1);
  });

  it('when the mode is down, then API routes answer 503 + Retry-After, marked as injected, while probes, /metrics and /docs answer truthfully', async () => {
    const { client, metric } = build(settings({ mode: 'down' }));
    const res = await client.get<{ type: string; detail: string }>('/api/ping');
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(res.headers.get('x-fault-injected')).toBe('down');
    expect(res.body.type).toBe('urn:problem-type:fault-injected');
    for (const path of [
      '/health',
      '/health/live',
      '/health/ready',
      '/metrics',
      '/docs',
      '/openapi.json',
      '/',
    ]) {
      expect((await client.get(path)).status, path).toBe(200);
    }
    expect(await metric('faults_injected_total', '{fault="down"}')).toBe(1);
  });

  it('when the mode is error at rate 0.5, then draws below the rate fail with 500 or 503 and the rest pass', async () => {
    // Per request: one draw against the rate, and for a failure one more choosing 500 (< 0.5) or 503.
    const { client, metric } = build(
      settings({ mode: 'error', errorRate: 0.5 }),
      [0.1, 0.2, 0.3, 0.9, 0.7, 0.49, 0.5],
    );
    const statuses = [];
    for (let i = 0; i < 3; i += 1) statuses.push((await client.get('/api/ping')).status);
    expect(statuses).toEqual([500, 503, 200]);
    const last = await client.get('/api/ping');
    expect(last.status).toBe(503);
    expect(await metric('faults_injected_total', '{fault="error_500"}')).toBe(1);
    expect(await metric('faults_injected_total', '{fault="error_503"}')).toBe(2);
  });

  it('when the mode is error at rate 1, then every API request fails; at rate 0 none does', async () => {
    const always = build(settings({ mode: 'error', errorRate: 1 }), [0.999, 0.1, 0, 0.9]);
    expect((await always.client.get('/api/ping')).status).toBe(500);
    expect((await always.client.get('/api/ping')).status).toBe(503);
    const never = build(settings({ mode: 'error', errorRate: 0 }), [0, 0.5]);
    expect((await never.client.get('/api/ping')).status).toBe(200);
    expect((await never.client.get('/api/ping')).status).toBe(200);
  });

  it('when the mode is slow with a range, then each API request waits a delay within the range and then succeeds', async () => {
    const { client, metric } = build(settings({ mode: 'slow', delayMs: { min: 20, max: 40 } }), [0, 0.9999]);
    const started = performance.now();
    const first = await client.get('/api/ping');
    const second = await client.get('/api/ping');
    const elapsed = performance.now() - started;
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(first.headers.get('x-fault-injected')).toBe('delay=20ms');
    expect(second.headers.get('x-fault-injected')).toBe('delay=40ms');
    expect(elapsed).toBeGreaterThanOrEqual(55);
    expect((await client.get('/health/live')).headers.get('x-fault-injected')).toBeNull();
    expect(await metric('faults_injected_total', '{fault="delay"}')).toBe(2);
  });
});

describe('the admin route', () => {
  it('when GET, then it shows the settings in force', async () => {
    const { client } = build(settings({ mode: 'slow', delayMs: { min: 100, max: 300 }, errorRate: 0.25 }));
    const res = await client.get('/admin/faults');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ mode: 'slow', delay_ms: { min: 100, max: 300 }, error_rate: 0.25 });
  });

  it('when PUT switches to down and back to normal, then API routes follow at once without a restart', async () => {
    const { client, metric } = build(settings({ mode: 'normal' }));
    const down = await client.put('/admin/faults', { mode: 'down' });
    expect(down.body).toEqual({ mode: 'down', delay_ms: { min: 1_000, max: 1_000 }, error_rate: 0.5 });
    expect((await client.get('/api/ping')).status).toBe(503);
    expect(await metric('fault_injection_mode', '{mode="down"}')).toBe(1);
    expect(await metric('fault_injection_mode', '{mode="normal"}')).toBe(0);
    await client.put('/admin/faults', { mode: 'normal' });
    expect((await client.get('/api/ping')).status).toBe(200);
  });

  it('when PUT gives a delay range and a rate, then they replace the old ones; omitted ones stay', async () => {
    const { client } = build(settings({ mode: 'normal', errorRate: 0.3 }));
    const res = await client.put('/admin/faults', { mode: 'slow', delay_ms: '200-800' });
    expect(res.body).toEqual({ mode: 'slow', delay_ms: { min: 200, max: 800 }, error_rate: 0.3 });
    const fixed = await client.put('/admin/faults', { mode: 'error', delay_ms: 50, error_rate: 1 });
    expect(fixed.body).toEqual({ mode: 'error', delay_ms: { min: 50, max: 50 }, error_rate: 1 });
  });

  it.each([
    ['an unknown mode', { mode: 'flaky' }],
    ['no mode', { error_rate: 0.5 }],
    ['a rate above 1', { mode: 'error', error_rate: 1.5 }],
    ['a negative delay', { mode: 'slow', delay_ms: -1 }],
    ['a reversed range', { mode: 'slow', delay_ms: '800-200' }],
    ['a delay over the cap', { mode: 'slow', delay_ms: 10_000_000 }],
    ['an unknown field', { mode: 'down', until: 'tomorrow' }],
  ])('when PUT has %s, then it answers 400 and the settings stay', async (_label, body) => {
    const { client } = build(settings({ mode: 'normal' }));
    const res = await client.put('/admin/faults', body);
    expect(res.status).toBe(400);
    expect((await client.get('/admin/faults')).body).toMatchObject({ mode: 'normal' });
  });
});

describe('fault environment', () => {
  const parse = (env: Record<string, string>) => parseEnv(z.object(faultEnvShape), env);

  it('when nothing is set, then fault injection is off and nothing is ignored', () => {
    const env = parse({});
    expect(faultSettingsFromEnv(env)).toBeUndefined();
    expect(ignoredFaultVariables(env)).toEqual([]);
  });

  it('when FAULT_* are set without FAULTS_ENABLED=true, then faults stay off and the variables are reported as ignored', () => {
    const env = parse({ FAULT_MODE: 'down', FAULT_ERROR_RATE: '1', FAULTS_ENABLED: 'false' });
    expect(faultSettingsFromEnv(env)).toBeUndefined();
    expect(ignoredFaultVariables(env)).toEqual(['FAULT_MODE', 'FAULT_ERROR_RATE']);
  });

  it('when FAULTS_ENABLED=true alone, then the defaults apply: mode normal, 1000 ms, rate 0.5', () => {
    expect(faultSettingsFromEnv(parse({ FAULTS_ENABLED: 'true' }))).toEqual(DEFAULT_FAULT_SETTINGS);
  });

  it('when every fault variable is set, then each is parsed', () => {
    const env = parse({
      FAULTS_ENABLED: 'true',
      FAULT_MODE: 'slow',
      FAULT_DELAY_MS: '200-800',
      FAULT_ERROR_RATE: '0.1',
    });
    expect(faultSettingsFromEnv(env)).toEqual({
      mode: 'slow',
      delayMs: { min: 200, max: 800 },
      errorRate: 0.1,
    });
  });

  it.each([
    ['FAULT_MODE', 'broken'],
    ['FAULT_DELAY_MS', '800-200'],
    ['FAULT_DELAY_MS', 'soon'],
    ['FAULT_ERROR_RATE', '2'],
    ['FAULTS_ENABLED', 'maybe'],
  ])('when %s=%s, then configuration fails naming it', (name, value) => {
    expect(configErrorOf(() => parse({ [name]: value })).message).toContain(name);
  });
});
