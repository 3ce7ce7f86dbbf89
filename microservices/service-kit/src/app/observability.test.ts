import { describe, expect, it } from 'vitest';
import type { ServiceAppParts } from '../app/create-service-app.js';
import type { Problem } from '../problems/problem-schemas.js';
import { captureLogger } from '../testing/capture-logger.js';
import { createFixtureService } from '../testing/fixture-service.js';
import { sampleValue, scrape } from '../testing/prometheus-samples.js';

// Moved from user-service/src/observability.test.ts: metrics labelling, request ids and the access log are
// the kit's, so they are tested over the kit's fixture service. The users_* counters and what user-service
// keeps out of its logs stay there.
const THINGS = '/api/v1/things';
const THING_ROUTE = '/api/v1/things/:id';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ACCESS_MESSAGE = 'request completed';

/** Requests a missing thing, so both the response header and the problem body carry the id. */
const requestWith = (headers: Record<string, string> = {}) =>
  createFixtureService().client.get<Problem>(`${THINGS}/missing`, { headers });

/**
 * A fresh fixture logging into memory. The checked client's own first request (`/openapi.json`, to load
 * the contract) is made up front and its line dropped, so tests see only the requests they make.
 */
async function fixtureWithCapturedLogs(overrides: Partial<ServiceAppParts> = {}) {
  const captured = captureLogger();
  const built = createFixtureService({ logger: captured.logger, ...overrides });
  await built.client.contract();
  const before = captured.lines().length;
  const lines = () => captured.lines().slice(before);
  const accessLines = () => lines().filter((line) => line.msg === ACCESS_MESSAGE);
  return { ...built, lines, accessLines };
}

describe('GET /metrics', () => {
  it('when scraped, then it answers Prometheus text exposition', async () => {
    const { client } = createFixtureService();
    const res = await client.get<string>('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.text).toContain('# TYPE http_requests_total counter');
  });

  it('when a thing is requested by id, then requests are labelled with the route template, never the raw id', async () => {
    const { client } = createFixtureService();
    await client.get(`${THINGS}/missing`);
    const { text, samples } = await scrape(client);
    expect(text).not.toContain('missing');
    expect(
      sampleValue(samples, 'http_requests_total', { method: 'GET', route: THING_ROUTE, status_code: '404' }),
    ).toBe(1);
  });

  it('when many different ids are requested, then they all count under one series', async () => {
    const { client } = createFixtureService();
    for (const id of ['a', 'b', 'c']) await client.get(`${THINGS}/${id}`);
    const { samples } = await scrape(client);
    expect(sampleValue(samples, 'http_requests_total', { route: THING_ROUTE })).toBe(3);
  });

  it('when an unknown path is requested, then it is labelled route="unmatched" and the path is not recorded', async () => {
    const { client } = createFixtureService();
    await client.get('/wp-admin/secret-probe');
    const { text, samples } = await scrape(client);
    expect(text).not.toContain('secret-probe');
    expect(sampleValue(samples, 'http_requests_total', { route: 'unmatched', status_code: '404' })).toBe(1);
  });

  it('when a request was served, then its duration is observed in a seconds histogram under the route template', async () => {
    const { client } = createFixtureService();
    await client.post(THINGS, { name: 'one' });
    const { samples } = await scrape(client);
    const labels = { method: 'POST', route: THINGS, status_code: '201' };
    expect(sampleValue(samples, 'http_request_duration_seconds_count', labels)).toBe(1);
    expect(sampleValue(samples, 'http_request_duration_seconds_bucket', { ...labels, le: '+Inf' })).toBe(1);
  });

  it('when scraped, then http_requests_in_flight counts the scrape itself', async () => {
    const { client } = createFixtureService();
    const { samples } = await scrape(client);
    expect(sampleValue(samples, 'http_requests_in_flight')).toBe(1);
  });

  it('when earlier requests finished, including failed ones, then in-flight goes back down', async () => {
    const { client } = createFixtureService();
    await client.get(`${THINGS}/boom`);
    await client.get('/nowhere');
    await client.post(THINGS, { bad: true });
    const { samples } = await scrape(client);
    expect(sampleValue(samples, 'http_requests_in_flight')).toBe(1);
  });

  it('when two apps run in one process, then their counters are independent', async () => {
    const first = createFixtureService();
    const second = createFixtureService();
    await first.client.post(THINGS, { name: 'one' });
    const { samples } = await scrape(second.client);
    expect(sampleValue(samples, 'http_requests_total', { method: 'POST', route: THINGS })).toBeUndefined();
    expect(sampleValue((await scrape(first.client)).samples, 'http_requests_total', { method: 'POST' })).toBe(
      1,
    );
  });
});

describe('X-Request-Id', () => {
  it('when the caller sends none, then a UUID is generated and echoed', async () => {
    const res = await requestWith();
    expect(res.headers.get('x-request-id')).toMatch(UUID);
    expect(res.body.request_id).toBe(res.headers.get('x-request-id'));
  });

  it('when the caller sends a valid id, then it is echoed back', async () => {
    const res = await requestWith({ 'X-Request-Id': 'abc-123_XYZ=' });
    expect(res.headers.get('x-request-id')).toBe('abc-123_XYZ=');
  });

  it('when the caller sends a valid id, then problems carry it as request_id', async () => {
    const res = await requestWith({ 'X-Request-Id': 'abc-123' });
    expect(res.body.request_id).toBe('abc-123');
  });

  it('when a request succeeds, then the response carries the id too', async () => {
    const { client } = createFixtureService();
    const res = await client.get('/', { headers: { 'X-Request-Id': 'ok-1' } });
    expect(res.headers.get('x-request-id')).toBe('ok-1');
  });

  it('when the id is exactly 128 characters, then it is kept', async () => {
    const id = 'a'.repeat(128);
    const res = await requestWith({ 'X-Request-Id': id });
    expect(res.headers.get('x-request-id')).toBe(id);
  });

  it.each([
    ['129 characters long', 'a'.repeat(129)],
    ['200 characters long', 'b'.repeat(200)],
    ['containing spaces', 'has spaces in it'],
    ['containing markup', '<script>alert(1)</script>'],
    ['containing a quote', 'abc"def'],
    ['containing a slash', '../../etc'],
  ])(
    'when the id is %s, then the request is refused with a 400 problem carrying a fresh id',
    async (_label, id) => {
      const res = await requestWith({ 'X-Request-Id': id });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ type: 'urn:problem-type:invalid-request-id', status: 400 });
      expect(res.body.detail).toContain('X-Request-Id');
      expect(res.headers.get('x-request-id')).toMatch(UUID);
      expect(res.body.request_id).toBe(res.headers.get('x-request-id'));
    },
  );

  it('when two requests send no id, then each gets a different one', async () => {
    const { client } = createFixtureService();
    const first = await client.get('/');
    const second = await client.get('/');
    expect(first.headers.get('x-request-id')).not.toBe(second.headers.get('x-request-id'));
  });
});

describe('access log', () => {
  it('when a request is served, then exactly one access line is written', async () => {
    const { client, accessLines } = await fixtureWithCapturedLogs();
    await client.get(`${THINGS}/missing`);
    expect(accessLines()).toHaveLength(1);
  });

  it('when a request is served, then its access line has req_id, method, route template, status and duration_ms', async () => {
    const { client, accessLines } = await fixtureWithCapturedLogs();
    await client.get(`${THINGS}/missing`, { headers: { 'X-Request-Id': 'req-1' } });
    const [line] = accessLines();
    expect(line).toMatchObject({
      req_id: 'req-1',
      method: 'GET',
      route: THING_ROUTE,
      status: 404,
      level: 'info',
    });
    expect(line?.duration_ms).toEqual(expect.any(Number));
    expect(line?.duration_ms).toBeGreaterThanOrEqual(0);
  });

  it('when several requests are served, then each gets its own line with its own req_id', async () => {
    const { client, accessLines } = await fixtureWithCapturedLogs();
    for (const id of ['r-1', 'r-2', 'r-3']) await client.get('/', { headers: { 'X-Request-Id': id } });
    expect(accessLines().map((l) => l.req_id)).toEqual(['r-1', 'r-2', 'r-3']);
  });

  it('when the path matches no route, then the access line says route "unmatched"', async () => {
    const { client, accessLines } = await fixtureWithCapturedLogs();
    await client.get('/nowhere');
    expect(accessLines()[0]).toMatchObject({ route: 'unmatched', status: 404 });
  });

  it('when a request fails with 500, then its access line is logged at error level', async () => {
    const { client, accessLines } = await fixtureWithCapturedLogs();
    await client.get(`${THINGS}/boom`);
    expect(accessLines()).toEqual([expect.objectContaining({ level: 'error', status: 500 })]);
  });

  it('when a request is refused with 503 (shed, or a dependency down), then its access line is at warn, not error', async () => {
    const { client, accessLines } = await fixtureWithCapturedLogs();
    await client.get(`${THINGS}/unavailable`);
    expect(accessLines()).toEqual([expect.objectContaining({ level: 'warn', status: 503 })]);
  });

  it('when a request fails with 500, then the cause is logged for operators with the request id', async () => {
    const { client, lines } = await fixtureWithCapturedLogs();
    await client.get(`${THINGS}/boom`, { headers: { 'X-Request-Id': 'req-500' } });
    const errorLine = lines().find((l) => l.msg === 'unhandled error');
    expect(errorLine).toMatchObject({ req_id: 'req-500', level: 'error' });
    expect(JSON.stringify(errorLine?.err)).toContain('hunter2');
  });

  it('when a body is rejected before reaching the handler (413), then it is still logged once', async () => {
    const { client, accessLines } = await fixtureWithCapturedLogs({ bodyLimitBytes: 2048 });
    await client.post(THINGS, { name: 'x'.repeat(4096) });
    expect(accessLines()).toEqual([expect.objectContaining({ route: THINGS, status: 413 })]);
  });
});
