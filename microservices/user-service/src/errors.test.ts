import type { Problem } from '@microservices/service-kit';
import type { CheckedClient, CheckedResponse } from '@microservices/service-kit/testing';
import { describe, expect, it } from 'vitest';
import type { User } from './domain/user.js';
import { MemoryUserStore } from './store/memory-user-store.js';
import { buildTestApp } from './test-app.js';

const USERS = '/api/v1/users';
const REQUEST_ID = 'trace-me-123';
const john = { name: 'John Doe', email: 'john.doe@example.com', age: 30 };
const withId = { headers: { 'X-Request-Id': REQUEST_ID } };

/** A store whose reads fail with a message that must never reach a client. */
class LeakyStore extends MemoryUserStore {
  override async get(): Promise<User | null> {
    throw new Error('db password is hunter2');
  }
}

type Case = {
  status: number;
  path: string;
  send: (client: CheckedClient) => Promise<CheckedResponse<Problem>>;
  /** Built per test so no two tests share a store. */
  overrides?: () => Parameters<typeof buildTestApp>[0];
};

const cases: Record<string, Case> = {
  'an invalid body (400)': {
    status: 400,
    path: USERS,
    send: (c) => c.post(USERS, { ...john, email: 'nope' }, withId),
  },
  'bad paging (400)': {
    status: 400,
    path: USERS,
    send: (c) => c.get(`${USERS}?limit=0`, withId),
  },
  'malformed JSON (400)': {
    status: 400,
    path: USERS,
    send: (c) =>
      c.request('POST', USERS, {
        rawBody: '{"name": "John",',
        headers: { ...withId.headers, 'Content-Type': 'application/json' },
      }),
  },
  'a missing user (404)': {
    status: 404,
    path: `${USERS}/nonexistent-id`,
    send: (c) => c.get(`${USERS}/nonexistent-id`, withId),
  },
  'an unknown route (404)': { status: 404, path: '/nope', send: (c) => c.get('/nope', withId) },
  'a duplicate email (409)': {
    status: 409,
    path: USERS,
    send: async (c) => {
      await c.post(USERS, john);
      return c.post(USERS, john, withId);
    },
  },
  'an oversized body (413)': {
    status: 413,
    path: USERS,
    overrides: () => ({ bodyLimitBytes: 2048 }),
    send: (c) => c.post(USERS, { ...john, name: 'x'.repeat(4096) }, withId),
  },
  'a text/plain body (415)': {
    status: 415,
    path: USERS,
    send: (c) =>
      c.request('POST', USERS, {
        rawBody: JSON.stringify(john),
        headers: { ...withId.headers, 'Content-Type': 'text/plain' },
      }),
  },
  'an unexpected failure (500)': {
    status: 500,
    path: `${USERS}/any`,
    overrides: () => ({ store: new LeakyStore() }),
    send: (c) => c.get(`${USERS}/any`, withId),
  },
};

describe('error model', () => {
  it.each(Object.entries(cases))(
    'when a request fails with %s, then it answers that status as a complete application/problem+json body',
    async (_label, testCase) => {
      const res = await testCase.send(buildTestApp(testCase.overrides?.()).client);
      expect(res.status).toBe(testCase.status);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(res.body).toEqual(
        expect.objectContaining({
          type: expect.stringMatching(/^urn:problem-type:[a-z-]+$/),
          title: expect.any(String),
          status: testCase.status,
          detail: expect.stringMatching(/./),
          instance: testCase.path,
          request_id: REQUEST_ID,
        }),
      );
    },
  );
});

describe('malformed and unsupported bodies', () => {
  it('when the JSON is malformed, then it answers 400 saying so', async () => {
    const { client } = buildTestApp();
    const res = await client.request<Problem>('POST', USERS, {
      rawBody: '{"name": ',
      headers: { 'Content-Type': 'application/json' },
    });
    expect(res.status).toBe(400);
    expect(res.body.detail).toMatch(/malformed json/i);
  });

  it('when the body is empty, then it answers 400', async () => {
    const { client } = buildTestApp();
    const res = await client.request('POST', USERS, {
      rawBody: '',
      headers: { 'Content-Type': 'application/json' },
    });
    expect(res.status).toBe(400);
  });

  it('when POST has Content-Type text/plain, then it answers 415', async () => {
    const { client } = buildTestApp();
    const res = await client.request('POST', USERS, {
      rawBody: JSON.stringify(john),
      headers: { 'Content-Type': 'text/plain' },
    });
    expect(res.status).toBe(415);
  });

  it('when PUT has Content-Type text/plain, then it answers 415', async () => {
    const { client } = buildTestApp();
    const res = await client.request('PUT', `${USERS}/any`, {
      rawBody: JSON.stringify({ age: 1 }),
      headers: { 'Content-Type': 'text/plain' },
    });
    expect(res.status).toBe(415);
  });

  it('when POST has no Content-Type at all, then it answers 415', async () => {
    const { client } = buildTestApp();
    const res = await client.request('POST', USERS, {
      rawBody: new TextEncoder().encode(JSON.stringify(john)),
    });
    expect(res.status).toBe(415);
  });

  it('when Content-Type is application/json with a charset, then it is accepted', async () => {
    const { client } = buildTestApp();
    const res = await client.request('POST', USERS, {
      rawBody: JSON.stringify(john),
      headers: { 'Content-Type': 'application/json; charset=utf-8' },
    });
    expect(res.status).toBe(201);
  });
});

// The body size limit and unexpected-failure tests moved to service-kit/src/app/error-model.test.ts (kit
// behaviour, over the kit's fixture service); the error-model table above still covers 413 and 500 here.
