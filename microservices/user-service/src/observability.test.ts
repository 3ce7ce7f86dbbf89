import { DatabaseUnavailableError, type Problem } from '@microservices/service-kit';
import { captureLogger } from '@microservices/service-kit/testing';
import { describe, expect, it } from 'vitest';
import type { User } from './domain/user.js';
import { MemoryUserStore } from './store/memory-user-store.js';
import { buildTestApp } from './test-app.js';

/** A store whose reads fail with a message only operators may see. */
class BrokenStore extends MemoryUserStore {
  override async get(): Promise<User | null> {
    throw new Error('db password is hunter2');
  }
}

class UnreachableStore extends MemoryUserStore {
  override async get(): Promise<User | null> {
    throw new DatabaseUnavailableError();
  }
}

type TestApp = ReturnType<typeof buildTestApp>;

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the sample lines of a Prometheus text exposition. */
function parseExposition(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!match) throw new Error(`not a sample line: ${line}`);
      const labels = Object.fromEntries(
        [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
      );
      return { name: match[1] ?? '', labels, value: Number(match[3]) };
    });
}

async function scrape({ client }: TestApp): Promise<{ text: string; samples: Sample[] }> {
  const res = await client.get<string>('/metrics');
  expect(res.status).toBe(200);
  return { text: res.text, samples: parseExposition(res.text) };
}

/** The value of the one sample with this name whose labels include `labels`; undefined when absent. */
function sampleValue(
  samples: Sample[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const found = samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return found[0]?.value;
}

const newUser = (n: number) => ({ name: `User ${n}`, email: `user${n}@example.com` });

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Requests a missing user, so both the response header and the problem body carry the id. */
const requestWith = (headers: Record<string, string> = {}) =>
  buildTestApp().client.get<Problem>('/api/v1/users/nonexistent-id', { headers });

const ACCESS_MESSAGE = 'request completed';

/**
 * A fresh app logging into memory. The checked client's own first request (`/openapi.json`, to load
 * the contract) is made up front and its line dropped, so tests see only the requests they make.
 */
async function appWithCapturedLogs(overrides: Parameters<typeof buildTestApp>[0] = {}) {
  const captured = captureLogger();
  const built = buildTestApp({ logger: captured.logger, ...overrides });
  await built.client.contract();
  const before = captured.lines().length;
  const lines = () => captured.lines().slice(before);
  const accessLines = () => lines().filter((line) => line.msg === ACCESS_MESSAGE);
  return { ...built, lines, accessLines };
}

describe('GET /metrics', () => {
  it('when scraped, then it answers Prometheus text exposition', async () => {
    const { client } = buildTestApp();
    const res = await client.get<string>('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.text).toContain('# TYPE http_requests_total counter');
  });

  it('when a user is requested by id, then requests are labelled with the route template, never the raw id', async () => {
    const built = buildTestApp();
    await built.client.get('/api/v1/users/some-raw-id-123');
    const { text, samples } = await scrape(built);
    expect(text).not.toContain('some-raw-id-123');
    expect(
      sampleValue(samples, 'http_requests_total', {
        method: 'GET',
        route: '/api/v1/users/:user_id',
        status_code: '404',
      }),
    ).toBe(1);
  });

  it('when many different ids are requested, then they all count under one series', async () => {
    const built = buildTestApp();
    for (const id of ['a', 'b', 'c']) await built.client.get(`/api/v1/users/${id}`);
    const { samples } = await scrape(built);
    expect(sampleValue(samples, 'http_requests_total', { route: '/api/v1/users/:user_id' })).toBe(3);
  });

  it('when an unknown path is requested, then it is labelled route="unmatched" and the path is not recorded', async () => {
    const built = buildTestApp();
    await built.client.get('/wp-admin/secret-probe');
    const { text, samples } = await scrape(built);
    expect(text).not.toContain('secret-probe');
    expect(sampleValue(samples, 'http_requests_total', { route: 'unmatched', status_code: '404' })).toBe(1);
  });

  it('when a request was served, then its duration is observed in a seconds histogram under the route template', async () => {
    const built = buildTestApp();
    await built.client.post('/api/v1/users', newUser(1));
    const { samples } = await scrape(built);
    const labels = { method: 'POST', route: '/api/v1/users', status_code: '201' };
    expect(sampleValue(samples, 'http_request_duration_seconds_count', labels)).toBe(1);
    expect(sampleValue(samples, 'http_request_duration_seconds_bucket', { ...labels, le: '+Inf' })).toBe(1);
  });

  it('when scraped, then http_requests_in_flight counts the scrape itself', async () => {
    const built = buildTestApp();
    const { samples } = await scrape(built);
    expect(sampleValue(samples, 'http_requests_in_flight')).toBe(1);
  });

  it('when earlier requests finished, including failed ones, then in-flight goes back down', async () => {
    const built = buildTestApp({ store: new BrokenStore() });
    await built.client.get('/api/v1/users/x');
    await built.client.get('/nowhere');
    await built.client.post('/api/v1/users', { bad: true });
    const { samples } = await scrape(built);
    expect(sampleValue(samples, 'http_requests_in_flight')).toBe(1);
  });

  it('when users are created, then users_created_total counts them', async () => {
    const built = buildTestApp();
    await built.client.post('/api/v1/users', newUser(1));
    await built.client.post('/api/v1/users', newUser(2));
    const { samples } = await scrape(built);
    expect(sampleValue(samples, 'users_created_total')).toBe(2);
  });

  it('when a create is rejected (409 or 400), then users_created_total does not move', async () => {
    const built = buildTestApp();
    await built.client.post('/api/v1/users', newUser(1));
    await built.client.post('/api/v1/users', newUser(1));
    await built.client.post('/api/v1/users', { name: '' });
    const { samples } = await scrape(built);
    expect(sampleValue(samples, 'users_created_total')).toBe(1);
  });

  it('when a user is deleted, then users_deleted_total counts it', async () => {
    const built = buildTestApp();
    const created = await built.client.post<User>('/api/v1/users', newUser(1));
    await built.client.delete(`/api/v1/users/${created.body.id}`);
    const { samples } = await scrape(built);
    expect(sampleValue(samples, 'users_deleted_total')).toBe(1);
  });

  it('when a delete finds no user, then users_deleted_total does not move', async () => {
    const built = buildTestApp();
    await built.client.delete('/api/v1/users/nonexistent-id');
    const { samples } = await scrape(built);
    expect(sampleValue(samples, 'users_deleted_total')).toBe(0);
  });

  it('when two apps run in one process, then their counters are independent', async () => {
    const first = buildTestApp();
    const second = buildTestApp();
    await first.client.post('/api/v1/users', newUser(1));
    const { samples } = await scrape(second);
    expect(sampleValue(samples, 'users_created_total')).toBe(0);
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
    const { client } = buildTestApp();
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
    const { client } = buildTestApp();
    const first = await client.get('/');
    const second = await client.get('/');
    expect(first.headers.get('x-request-id')).not.toBe(second.headers.get('x-request-id'));
  });
});

describe('access log', () => {
  it('when a request is served, then exactly one access line is written', async () => {
    const { client, accessLines } = await appWithCapturedLogs();
    await client.get('/api/v1/users/nonexistent-id');
    expect(accessLines()).toHaveLength(1);
  });

  it('when a request is served, then its access line has req_id, method, route template, status and duration_ms', async () => {
    const { client, accessLines } = await appWithCapturedLogs();
    await client.get('/api/v1/users/some-id', { headers: { 'X-Request-Id': 'req-1' } });
    const [line] = accessLines();
    expect(line).toMatchObject({
      req_id: 'req-1',
      method: 'GET',
      route: '/api/v1/users/:user_id',
      status: 404,
      level: 'info',
    });
    expect(line?.duration_ms).toEqual(expect.any(Number));
    expect(line?.duration_ms).toBeGreaterThanOrEqual(0);
  });

  it('when several requests are served, then each gets its own line with its own req_id', async () => {
    const { client, accessLines } = await appWithCapturedLogs();
    for (const id of ['r-1', 'r-2', 'r-3']) await client.get('/', { headers: { 'X-Request-Id': id } });
    expect(accessLines().map((l) => l.req_id)).toEqual(['r-1', 'r-2', 'r-3']);
  });

  it('when the path matches no route, then the access line says route "unmatched"', async () => {
    const { client, accessLines } = await appWithCapturedLogs();
    await client.get('/nowhere');
    expect(accessLines()[0]).toMatchObject({ route: 'unmatched', status: 404 });
  });

  it('when a request fails with 500, then its access line is logged at error level', async () => {
    const { client, accessLines } = await appWithCapturedLogs({ store: new BrokenStore() });
    await client.get('/api/v1/users/x');
    expect(accessLines()).toEqual([expect.objectContaining({ level: 'error', status: 500 })]);
  });

  it('when a request is refused with 503 (shed, or a dependency down), then its access line is at warn, not error', async () => {
    const { client, accessLines } = await appWithCapturedLogs({ store: new UnreachableStore() });
    await client.get('/api/v1/users/x');
    expect(accessLines()).toEqual([expect.objectContaining({ level: 'warn', status: 503 })]);
  });

  it('when a request fails with 500, then the cause is logged for operators with the request id', async () => {
    const { client, lines } = await appWithCapturedLogs({ store: new BrokenStore() });
    await client.get('/api/v1/users/x', { headers: { 'X-Request-Id': 'req-500' } });
    const errorLine = lines().find((l) => l.msg === 'unhandled error');
    expect(errorLine).toMatchObject({ req_id: 'req-500', level: 'error' });
    expect(JSON.stringify(errorLine?.err)).toContain('hunter2');
  });

  it('when a body is rejected before reaching the handler (413), then it is still logged once', async () => {
    const { client, accessLines } = await appWithCapturedLogs({ bodyLimitBytes: 2048 });
    await client.post('/api/v1/users', { name: 'x'.repeat(4096), email: 'a@example.com' });
    expect(accessLines()).toEqual([expect.objectContaining({ route: '/api/v1/users', status: 413 })]);
  });

  it('when users are created, updated and rejected, then their email appears in no log line', async () => {
    const { client, lines } = await appWithCapturedLogs();
    const email = 'very.private@example.com';
    const created = await client.post<User>('/api/v1/users', { name: 'Private', email });
    await client.post('/api/v1/users', { name: 'Dup', email: email.toUpperCase() });
    await client.put(`/api/v1/users/${created.body.id}`, { email: 'also.private@example.com' });
    await client.post('/api/v1/users', { name: '', email: 'third.private@example.com' });
    const logged = JSON.stringify(lines()).toLowerCase();
    expect(lines().length).toBeGreaterThanOrEqual(4);
    expect(logged).not.toContain('private@example.com');
  });
});
