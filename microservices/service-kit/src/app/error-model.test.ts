import { describe, expect, it } from 'vitest';
import type { ServiceAppParts } from '../app/create-service-app.js';
import type { Problem } from '../problems/problem-schemas.js';
import type { CheckedClient, CheckedResponse } from '../testing/checked-client.js';
import { createFixtureService } from '../testing/fixture-service.js';
import { expectCompleteProblem } from '../testing/problem-assertions.js';

// Moved from user-service/src/errors.test.ts: kit behaviour, tested over the kit's fixture service.
const THINGS = '/api/v1/things';
const REQUEST_ID = 'trace-me-123';
const withId = { headers: { 'X-Request-Id': REQUEST_ID } };
const thing = { name: 'John Doe' };

/** A body sent as it is, with this Content-Type (none when undefined) and the request id. */
const raw = (
  c: CheckedClient,
  method: string,
  path: string,
  rawBody: string | Uint8Array,
  contentType?: string,
) =>
  c.request<Problem>(method, path, {
    rawBody,
    headers: { ...withId.headers, ...(contentType === undefined ? {} : { 'Content-Type': contentType }) },
  });

type Case = {
  status: number;
  path: string;
  send: (client: CheckedClient) => Promise<CheckedResponse<Problem>>;
  overrides?: Partial<ServiceAppParts>;
};

const cases: Record<string, Case> = {
  'an invalid body (400)': { status: 400, path: THINGS, send: (c) => c.post(THINGS, { name: '' }, withId) },
  'malformed JSON (400)': {
    status: 400,
    path: THINGS,
    send: (c) => raw(c, 'POST', THINGS, '{"name": "John",', 'application/json'),
  },
  'a missing thing (404)': {
    status: 404,
    path: `${THINGS}/missing`,
    send: (c) => c.get(`${THINGS}/missing`, withId),
  },
  'an unknown route (404)': { status: 404, path: '/nope', send: (c) => c.get('/nope', withId) },
  'an oversized body (413)': {
    status: 413,
    path: THINGS,
    overrides: { bodyLimitBytes: 2048 },
    send: (c) => c.post(THINGS, { name: 'x'.repeat(4096) }, withId),
  },
  'a text/plain body (415)': {
    status: 415,
    path: THINGS,
    send: (c) => raw(c, 'POST', THINGS, JSON.stringify(thing), 'text/plain'),
  },
  'an unexpected failure (500)': {
    status: 500,
    path: `${THINGS}/boom`,
    send: (c) => c.get(`${THINGS}/boom`, withId),
  },
  'an unavailable dependency (503)': {
    status: 503,
    path: `${THINGS}/unavailable`,
    send: (c) => c.get(`${THINGS}/unavailable`, withId),
  },
};

describe('error model', () => {
  it.each(Object.entries(cases))(
    'when a request fails with %s, then it answers that status as a complete application/problem+json body',
    async (_label, testCase) => {
      const res = await testCase.send(createFixtureService(testCase.overrides).client);
      expectCompleteProblem(res, { status: testCase.status, instance: testCase.path, requestId: REQUEST_ID });
    },
  );
});

describe('malformed and unsupported bodies', () => {
  const json = JSON.stringify(thing);

  it('when the JSON is malformed, then it answers 400 saying so', async () => {
    const res = await raw(createFixtureService().client, 'POST', THINGS, '{"name": ', 'application/json');
    expect(res.status).toBe(400);
    expect(res.body.detail).toMatch(/malformed json/i);
  });

  it.each([
    ['the body is empty', 400, 'POST', '', 'application/json'],
    ['POST has Content-Type text/plain', 415, 'POST', json, 'text/plain'],
    ['PUT has Content-Type text/plain', 415, 'PUT', json, 'text/plain'],
    // Bytes, so that fetch adds no Content-Type of its own (it would say text/plain for a string).
    ['POST has no Content-Type at all', 415, 'POST', new TextEncoder().encode(json), undefined],
    ['Content-Type is application/json with a charset', 201, 'POST', json, 'application/json; charset=utf-8'],
  ])('when %s, then it answers %i', async (_when, status, method, body, contentType) => {
    const path = method === 'PUT' ? `${THINGS}/any` : THINGS;
    const res = await raw(createFixtureService().client, method, path, body, contentType);
    expect(res.status).toBe(status);
  });
});

describe('body size limit', () => {
  /** A valid create body padded with trailing whitespace to exactly `bytes` bytes. */
  const bodyOfSize = (bytes: number) => {
    const json = JSON.stringify({ name: 'John Doe' });
    return json + ' '.repeat(bytes - Buffer.byteLength(json));
  };
  const post = (bodyLimitBytes: number, rawBody: string, headers: Record<string, string> = {}) =>
    createFixtureService({ bodyLimitBytes }).client.request<Problem>('POST', THINGS, {
      rawBody,
      headers: { 'Content-Type': 'application/json', ...headers },
    });

  it('when the body is 4 KB and the limit 2 KB, then it answers 413 naming the limit', async () => {
    const res = await post(2048, bodyOfSize(4096));
    expect(res.status).toBe(413);
    expect(res.body.detail).toBe('Request body exceeds 2048 bytes.');
  });

  it('when the body is exactly at the limit, then it is accepted', async () => {
    const res = await post(2048, bodyOfSize(2048));
    expect(res.status).toBe(201);
  });

  it('when the body is one byte over the limit, then it answers 413', async () => {
    const res = await post(2048, bodyOfSize(2049));
    expect(res.status).toBe(413);
  });

  it('when an oversized body declares its Content-Length, then it answers 413', async () => {
    const body = bodyOfSize(4096);
    const res = await post(2048, body, { 'Content-Length': String(Buffer.byteLength(body)) });
    expect(res.status).toBe(413);
  });

  it('when a PUT body is over the limit, then it answers 413', async () => {
    const { client } = createFixtureService({ bodyLimitBytes: 2048 });
    const res = await client.put(`${THINGS}/any`, { name: 'x'.repeat(4096) });
    expect(res.status).toBe(413);
  });
});

describe('unexpected failures', () => {
  const failingGet = () => createFixtureService().client.get<Problem>(`${THINGS}/boom`);

  it('when the handler throws, then it answers 500', async () => {
    const res = await failingGet();
    expect(res.status).toBe(500);
  });

  it('when the handler throws, then the body does not contain the error message', async () => {
    const res = await failingGet();
    expect(res.text).not.toContain('hunter2');
    expect(res.text).not.toContain('password');
  });

  it('when the handler throws, then the body has no stack trace', async () => {
    const res = await failingGet();
    expect(res.body).not.toHaveProperty('stack');
    expect(res.text).not.toMatch(/\bat .+:\d+:\d+/);
    expect(res.text).not.toContain('.ts');
  });

  it('when the handler throws, then the detail asks the caller to quote the request id', async () => {
    const res = await failingGet();
    expect(res.body.detail).toMatch(/request id/i);
    expect(res.body.request_id).toBe(res.headers.get('x-request-id'));
  });
});
