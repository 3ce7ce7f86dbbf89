import { randomUUID } from 'node:crypto';
import { pollUntil } from '@microservices/service-kit/testing';
import { expect } from 'vitest';

export interface HttpResult {
  status: number;
  contentType: string;
  body: unknown;
  text: string;
}

/** One bounded HTTP request; the body is parsed when it is JSON. */
export async function request(
  method: string,
  url: string,
  body?: unknown,
  timeoutMs = 5_000,
): Promise<HttpResult> {
  const init: RequestInit = { method, signal: AbortSignal.timeout(timeoutMs) };
  if (body !== undefined) {
    init.headers = { 'content-type': 'application/json' };
    init.body = JSON.stringify(body);
  }
  const res = await fetch(url, init);
  const text = await res.text();
  const contentType = res.headers.get('content-type') ?? '';
  return { status: res.status, contentType, text, body: /json/.test(contentType) ? JSON.parse(text) : text };
}

/** Polls `<baseUrl>/health/ready` until it answers 200; resolves with the milliseconds that took. */
export async function waitUntilReady(baseUrl: string, timeoutMs: number): Promise<number> {
  const started = performance.now();
  await pollUntil(
    `${baseUrl}/health/ready to answer 200`,
    async () =>
      (await request('GET', `${baseUrl}/health/ready`, undefined, 1_000)).status === 200 ? true : undefined,
    { timeoutMs, intervalMs: 50 },
  );
  return Math.round(performance.now() - started);
}

/**
 * The seed API's examples end to end, as the old clients send them: create a user, create an order for it
 * (order-service checks the user with user-service), and the 404s for a user that does not exist.
 * Asserts nothing about persistence: the same requests must work on either store.
 */
export async function exerciseSeedRequests(userUrl: string, orderUrl: string): Promise<void> {
  const email = `john.doe.${randomUUID().slice(0, 8)}@example.com`;
  const created = await request('POST', `${userUrl}/api/v1/users`, { name: 'John Doe', email, age: 30 });
  expect(created.status, created.text).toBe(201);
  expect(created.body).toMatchObject({ name: 'John Doe', email, age: 30 });
  const userId = (created.body as { id: string }).id;
  expect(typeof userId).toBe('string');

  const fetched = await request('GET', `${userUrl}/api/v1/users/${encodeURIComponent(userId)}`);
  expect(fetched.status, fetched.text).toBe(200);

  const order = await request('POST', `${orderUrl}/api/v1/orders`, {
    user_id: userId,
    items: [{ product_id: 'prod-1', product_name: 'Laptop', quantity: 1, price: 999.99 }],
    shipping_address: '123 Main St, City, Country',
  });
  expect(order.status, order.text).toBe(201);
  expect(order.body).toMatchObject({ user_id: userId, status: 'pending', total_amount: 999.99 });
  const orderId = (order.body as { id: string }).id;

  const readBack = await request('GET', `${orderUrl}/api/v1/orders/${encodeURIComponent(orderId)}`);
  expect(readBack.status, readBack.text).toBe(200);

  const unknownUser = await request('GET', `${userUrl}/api/v1/users/nonexistent-id`);
  expect(unknownUser.status).toBe(404);
  expect(unknownUser.contentType).toContain('application/problem+json');

  const orderForUnknownUser = await request('POST', `${orderUrl}/api/v1/orders`, {
    user_id: 'nonexistent-id',
    items: [{ product_id: 'prod-1', product_name: 'Laptop', quantity: 1, price: 999.99 }],
    shipping_address: '123 Main St, City, Country',
  });
  expect(orderForUnknownUser.status, orderForUnknownUser.text).toBe(404);
  expect(orderForUnknownUser.body).toMatchObject({ detail: 'User not found' });
}
