import { expect } from 'vitest';
import type { Problem } from '../problems/problem-schemas.js';
import type { CheckedResponse } from './checked-client.js';

/**
 * Asserts a complete application/problem+json answer: this status, a problem type, a title, a detail,
 * the request's path as `instance` and the caller's request id.
 */
export function expectCompleteProblem(
  res: CheckedResponse<Problem>,
  expected: { status: number; instance: string; requestId: string },
): void {
  expect(res.status).toBe(expected.status);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  expect(res.body).toEqual(
    expect.objectContaining({
      type: expect.stringMatching(/^urn:problem-type:[a-z-]+$/),
      title: expect.any(String),
      status: expected.status,
      detail: expect.stringMatching(/./),
      instance: expected.instance,
      request_id: expected.requestId,
    }),
  );
}
