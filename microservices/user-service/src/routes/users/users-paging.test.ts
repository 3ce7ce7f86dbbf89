import { createMetricsRegistry, MemoryBudget, silentLogger } from '@microservices/service-kit';
import type { CheckedResponse } from '@microservices/service-kit/testing';
import { describe, expect, it } from 'vitest';
import type { User } from '../../domain/user.js';
import { MemoryUserStore } from '../../store/memory-user-store.js';
import { buildTestApp } from '../../test-app.js';

const USERS = '/api/v1/users';
const john = (i: number) => ({ name: `John ${i}`, email: `john.${i}@example.com`, age: 30 });

describe('GET /api/v1/users: cursor pagination', () => {
  it('when pages are followed by their Link headers, then every user comes exactly once, oldest first', async () => {
    const { client } = buildTestApp();
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push((await client.post<User>(USERS, john(i))).body.id);
    const seen: string[] = [];
    let next: string | null = `${USERS}?limit=3`;
    for (let pages = 0; next !== null && pages < 10; pages++) {
      const page: CheckedResponse<User[]> = await client.get<User[]>(next);
      seen.push(...page.body.map((u) => u.id));
      const link: string | null = page.headers.get('link');
      next = link === null ? null : (/^<([^>]+)>; rel="next"$/.exec(link)?.[1] ?? 'malformed');
    }
    expect(seen).toEqual(ids);
  });

  it('when the request is HEAD, then the headers come without a body', async () => {
    const { app, client } = buildTestApp();
    await client.post(USERS, john(1));
    const res = await app.request(USERS, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.text()).toBe('');
  });
});

describe('the in-memory store at its cap', () => {
  it('when creates fill MEMORY_STORE_MAX_BYTES, then the next is a 507 store-full and reads and deletes keep working', async () => {
    const registry = createMetricsRegistry({ defaultMetrics: false });
    const budget = new MemoryBudget({ maxBytes: 5_000, logger: silentLogger(), registry });
    const { client } = buildTestApp({ store: new MemoryUserStore({ budget }), registry });
    const created: User[] = [];
    let refused: { status: number; body: { type: string } } | undefined;
    for (let i = 0; i < 100 && !refused; i++) {
      const res = await client.post<User & { type: string }>(USERS, john(i));
      if (res.status === 201) created.push(res.body);
      else refused = res;
    }
    expect(refused?.status).toBe(507);
    expect(refused?.body.type).toBe('urn:problem-type:store-full');
    expect((await client.get<User[]>(`${USERS}?limit=1000`)).body).toHaveLength(created.length);
    // A longer name would grow the user past the cap: refused, and the user is unchanged.
    const grown = await client.put(`${USERS}/${created[0]?.id}`, { name: 'x'.repeat(200) });
    expect(grown.status).toBe(507);
    expect((await client.get<User>(`${USERS}/${created[0]?.id}`)).body.name).toBe('John 0');
    expect((await client.delete(`${USERS}/${created[0]?.id}`)).status).toBe(204);
    expect((await client.post(USERS, john(1000))).status).toBe(201);
  });
});

describe('GET /api/v1/users: lists built at once are bounded', () => {
  it('when more lists than MAX_CONCURRENT_LISTS are in progress, then the next is a 503 overloaded with Retry-After, before the store is asked', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let asked = 0;
    class SlowStore extends MemoryUserStore {
      override async list(request: Parameters<MemoryUserStore['list']>[0]) {
        asked++;
        await gate;
        return super.list(request);
      }
    }
    const { client } = buildTestApp({ store: new SlowStore(), maxConcurrentLists: 2 });
    const held = [client.get(USERS), client.get(USERS)];
    await new Promise((resolve) => setImmediate(resolve));
    const shed = await client.get<{ type: string }>(USERS);
    expect(shed.status).toBe(503);
    expect(shed.body.type).toBe('urn:problem-type:overloaded');
    expect(shed.headers.get('retry-after')).toBe('1');
    expect(asked).toBe(2);
    release();
    expect((await Promise.all(held)).map((r) => r.status)).toEqual([200, 200]);
    expect((await client.get(USERS)).status).toBe(200);
  });
});
