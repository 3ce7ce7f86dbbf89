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

describe('GET /api/v1/users: large lists built at once are bounded', () => {
  it('when MAX_CONCURRENT_LISTS large pages are being built and as many wait, then the next large one is a 503 overloaded with Retry-After, and small pages are never held', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let holding = true;
    // 300 users of ~500 bytes: a page of 300 is ~150 KB (large), a page of 10 is ~5 KB (small). Over the
    // 100 KB answer budget, the large page is cut, so it is measured row by row with turns in between.
    const { client } = buildTestApp({ maxConcurrentLists: 1, maxResponseBytes: 100_000 });
    for (let i = 0; i < 300; i++) {
      await client.post(USERS, { name: 'n'.repeat(200), email: `big-${i}-${'e'.repeat(200)}@example.com` });
    }
    // Hold the first large page's build at its first event-loop turn (a cut page yields every 64 KB).
    const originalSetImmediate = globalThis.setImmediate;
    globalThis.setImmediate = ((fn: () => void) =>
      holding ? void gate.then(fn) : originalSetImmediate(fn)) as typeof setImmediate;
    try {
      const held = client.get<User[]>(`${USERS}?limit=300`);
      await Promise.resolve();
      await new Promise((resolve) => originalSetImmediate(resolve));
      // One is built (held), one waits for its slot, the third is refused.
      const waiting = client.get<User[]>(`${USERS}?limit=300`);
      await new Promise((resolve) => originalSetImmediate(resolve));
      const shed = await client.get<{ type: string }>(`${USERS}?limit=300`);
      expect(shed.status).toBe(503);
      expect(shed.body.type).toBe('urn:problem-type:overloaded');
      expect(shed.headers.get('retry-after')).toBe('1');
      const small = await client.get<User[]>(`${USERS}?limit=10`);
      expect(small.status).toBe(200);
      holding = false;
      release();
      const pageLength = (await held).body.length;
      expect(pageLength).toBeGreaterThan(100);
      expect(pageLength).toBeLessThan(300);
      expect((await waiting).body).toHaveLength(pageLength);
    } finally {
      globalThis.setImmediate = originalSetImmediate;
    }
    expect((await client.get(`${USERS}?limit=300`)).status).toBe(200);
  });
});
