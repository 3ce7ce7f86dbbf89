import { describe, expect, it } from 'vitest';
import type { Problem } from '../problems/problem-schemas.js';
import { createFixtureService } from '../testing/fixture-service.js';

// Moved from user-service/src/errors.test.ts: kit behaviour, tested over the kit's fixture service.
const THINGS = '/api/v1/things';

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
