import type { Problem } from '@microservices/service-kit';
import {
  type CheckedClient,
  type CheckedResponse,
  expectCompleteProblem,
} from '@microservices/service-kit/testing';
import { describe, it } from 'vitest';
import { buildTestApp } from './test-app.js';

// The error model itself (every kind of failure a complete problem+json body: malformed and unsupported
// bodies, the body limit, unknown routes, unexpected failures) is the kit's: tested over the kit's fixture
// service in service-kit/src/app/error-model.test.ts. Here: the problems user-service's own routes answer.
const USERS = '/api/v1/users';
const REQUEST_ID = 'trace-me-123';
const john = { name: 'John Doe', email: 'john.doe@example.com', age: 30 };
const withId = { headers: { 'X-Request-Id': REQUEST_ID } };

type Case = {
  status: number;
  path: string;
  send: (client: CheckedClient) => Promise<CheckedResponse<Problem>>;
};

const cases: Record<string, Case> = {
  'an invalid user (400)': {
    status: 400,
    path: USERS,
    send: (c) => c.post(USERS, { ...john, email: 'nope' }, withId),
  },
  'bad paging (400)': { status: 400, path: USERS, send: (c) => c.get(`${USERS}?limit=0`, withId) },
  'a missing user (404)': {
    status: 404,
    path: `${USERS}/nonexistent-id`,
    send: (c) => c.get(`${USERS}/nonexistent-id`, withId),
  },
  'a duplicate email (409)': {
    status: 409,
    path: USERS,
    send: async (c) => {
      await c.post(USERS, john);
      return c.post(USERS, john, withId);
    },
  },
};

describe('user-service problems', () => {
  it.each(Object.entries(cases))(
    'when a request fails with %s, then it answers that status as a complete application/problem+json body',
    async (_label, testCase) => {
      const res = await testCase.send(buildTestApp().client);
      expectCompleteProblem(res, { status: testCase.status, instance: testCase.path, requestId: REQUEST_ID });
    },
  );
});
