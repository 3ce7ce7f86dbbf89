import { DatabaseUnavailableError } from '@microservices/service-kit';
import { describe, expect, it } from 'vitest';
import type { Order } from '../../domain/order.js';
import { MemoryOrderStore } from '../../store/memory-order-store.js';
import { buildTestApp, metricValue, orderBody } from '../../test-app.js';

const withKey = (key: string) => ({ headers: { 'Idempotency-Key': key } });

describe('POST /api/v1/orders with Idempotency-Key', () => {
  it('when the same key and body are sent twice, then the second answer replays the first and creates nothing', async () => {
    const { client, users, registry } = buildTestApp();
    const first = await client.post<Order>('/api/v1/orders', orderBody(), withKey('retry-1'));
    const second = await client.post<Order>('/api/v1/orders', orderBody(), withKey('retry-1'));
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.body).toEqual(first.body);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect((await client.get<Order[]>('/api/v1/orders')).body).toHaveLength(1);
    expect(await metricValue(registry, 'orders_created_total')).toBe(1);
    // The repeat is answered from the stored response: user-service is asked once, not twice.
    expect(users.calls).toHaveLength(1);
  });

  it('when a repeat arrives while user-service is down, then it still gets the original 201', async () => {
    const { client, users } = buildTestApp();
    const first = await client.post<Order>('/api/v1/orders', orderBody(), withKey('retry-2'));
    users.goDown();
    const second = await client.post<Order>('/api/v1/orders', orderBody(), withKey('retry-2'));
    expect(second.status).toBe(201);
    expect(second.body).toEqual(first.body);
  });

  it('when the same key comes with another body, then it answers 422 and creates nothing', async () => {
    const { client } = buildTestApp();
    await client.post('/api/v1/orders', orderBody(), withKey('retry-3'));
    const res = await client.post(
      '/api/v1/orders',
      orderBody({ shipping_address: 'Elsewhere 1' }),
      withKey('retry-3'),
    );
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ type: 'urn:problem-type:idempotency-key-reused', status: 422 });
    expect((await client.get<Order[]>('/api/v1/orders')).body).toHaveLength(1);
  });

  it('when 50 requests with one key arrive at once, then exactly one order exists and all get the same body', async () => {
    const { client } = buildTestApp();
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => client.post<Order>('/api/v1/orders', orderBody(), withKey('burst'))),
    );
    expect(answers.every((a) => a.status === 201)).toBe(true);
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
    expect((await client.get<Order[]>('/api/v1/orders')).body).toHaveLength(1);
  });

  it.each([['has space'], ['x'.repeat(256)], ['']])(
    'when the key is invalid (%j), then it answers 400',
    async (key) => {
      const { client } = buildTestApp();
      const res = await client.post('/api/v1/orders', orderBody(), withKey(key));
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.body)).toContain('header.idempotency-key');
    },
  );
});

describe('when the database is unavailable', () => {
  class DownStore extends MemoryOrderStore {
    override async get(): Promise<Order | null> {
      throw new DatabaseUnavailableError();
    }
  }

  it('then reads answer a 503 problem with Retry-After, never a 500', async () => {
    const { client } = buildTestApp({ store: new DownStore() });
    const res = await client.get('/api/v1/orders/some-id');
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('2');
    expect(res.body).toMatchObject({ type: 'urn:problem-type:database-unavailable', status: 503 });
  });
});
