import type { Socket } from 'node:net';
import { Hono } from 'hono';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';

import type { AppEnv } from '../../edge/app-env.js';
import { errorHandler } from '../../edge/error-handler.js';
import { replyJson } from '../../edge/reply.js';
import { reserveAnswerOrRefuse } from '../../edge/unsent-answers.js';
import { useLoopbackServers } from '../../testing/loopback-servers.js';
import { pollUntil } from '../../testing/poll.js';
import { createPager } from './pager.js';

const servers = useLoopbackServers();

/** Larger than loopback's socket buffers take from a client that does not read. */
const BIG = 'x'.repeat(8 * 1_048_576);
/** 200 rows of about 1 KB: a page larger than LARGE_PAGE_BYTES, so it needs a slot. */
const ROWS = Array.from({ length: 200 }, (_, i) => {
  const value = { id: i, text: 't'.repeat(1_000) };
  return { position: i + 1, value, minJsonBytes: JSON.stringify(value).length };
});

async function listingServer({
  gate,
  maxConcurrentLists = 100,
  maxUnsentResponseBytes = 1_048_576,
}: {
  gate?: Promise<void>;
  maxConcurrentLists?: number;
  maxUnsentResponseBytes?: number;
} = {}) {
  const registry = new Registry();
  const pager = createPager({ maxResponseBytes: 1_048_576, maxConcurrentLists, registry });
  const reads = { count: 0 };
  const writes = { count: 0 };
  const app = new Hono<AppEnv>();
  app.onError(errorHandler);
  app.get('/big', (c) => c.text(BIG));
  app.get('/one-large', (c) => replyJson(c, { text: 'x'.repeat(200_000) }, 200));
  app.get('/one-small', (c) => replyJson(c, { text: 'x' }, 200));
  // 10,000 characters but 30,000 bytes: large by its UTF-8 size, not by its length.
  app.get('/cjk', (c) => replyJson(c, { text: '中'.repeat(10_000) }, 200));
  app.post('/write', (c) => {
    const answer = { text: 'x'.repeat(200_000) };
    reserveAnswerOrRefuse(c, 200_020);
    writes.count += 1;
    return replyJson(c, answer, 201);
  });
  app.get('/list', (c) => {
    const limit = Number(c.req.query('limit'));
    return pager.reply(c, { skip: 0, limit }, async () => {
      reads.count += 1;
      await gate;
      return ROWS.slice(0, limit + 1);
    });
  });
  const started = await servers.start(app.fetch, { registry, limits: { maxUnsentResponseBytes } });
  return { ...started, reads, writes };
}

/** A client that asks for BIG and never reads: it holds the whole unsent-answer budget until destroyed. */
async function holdTheBudget(port: number, registry: Registry): Promise<Socket> {
  const slow = servers.connect(port);
  slow.pause();
  slow.write('GET /big HTTP/1.1\r\nHost: x\r\n\r\n');
  await pollUntil(
    'the big answer held unsent',
    async () => /^http_unsent_response_bytes [1-9]/m.test(await registry.metrics()) || undefined,
  );
  return slow;
}

const budgetFreed = (registry: Registry) =>
  pollUntil(
    'the budget free again',
    async () => /^http_unsent_response_bytes 0$/m.test(await registry.metrics()) || undefined,
  );

describe('createPager: large pages and the unsent-answer budget', () => {
  it('when MAX_UNSENT_RESPONSE_BYTES are held for a client that does not read, then a large page waits up to PAGE_ROOM_WAIT_MS for room and is a 503 overloaded before its rows are read, and a small page is still served', async () => {
    const { port, registry, reads } = await listingServer();
    const url = `http://127.0.0.1:${port}`;
    expect((await fetch(`${url}/list?limit=150`)).status).toBe(200);

    const slow = await holdTheBudget(port, registry);

    const readsBefore = reads.count;
    const refused = await fetch(`${url}/list?limit=150`);
    expect(refused.status).toBe(503);
    // A page above the default size is refused before its rows are read.
    expect(reads.count).toBe(readsBefore);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(await refused.json()).toMatchObject({ type: 'urn:problem-type:overloaded', status: 503 });
    const small = await fetch(`${url}/list?limit=10`);
    expect(small.status).toBe(200);
    expect(((await small.json()) as unknown[]).length).toBe(10);
    expect(await registry.metrics()).toContain('http_list_requests_unsent_shed_total 1');

    slow.destroy();
    await budgetFreed(registry);
    expect((await fetch(`${url}/list?limit=150`)).status).toBe(200);
  });

  it("when 20 large pages are asked for at once, then they reserve the largest answer in turn within the pages' share of MAX_UNSENT_RESPONSE_BYTES before reading, a single large answer is still served beside them, and all 20 are built", async () => {
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    // Pages may hold three of these 4 MiB; each page above the default size reserves 1 MiB (the largest
    // answer) before it reads.
    const { port, registry, reads } = await listingServer({ gate, maxUnsentResponseBytes: 4 * 1_048_576 });
    const url = `http://127.0.0.1:${port}`;
    const answers = Array.from({ length: 20 }, () => fetch(`${url}/list?limit=150`));
    await pollUntil(
      '20 requests in the app',
      async () => /^http_server_requests_in_flight 20$/m.test(await registry.metrics()) || undefined,
    );
    expect(reads.count).toBe(3);
    const single = await fetch(`${url}/one-large`);
    expect(single.status).toBe(200);
    await single.arrayBuffer();
    open();
    const statuses = await Promise.all(answers.map(async (a) => (await a).status));
    expect(statuses.filter((s) => s === 200).length).toBe(20);
    expect(reads.count).toBe(20);
    expect(await registry.metrics()).toContain('http_list_requests_unsent_shed_total 0');
  });

  it('when a client resets while its list waits for a read slot, then its rows are never read (attacker review: abandoned lists did all their work)', async () => {
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const { port, registry, reads } = await listingServer({ gate, maxConcurrentLists: 1 });
    const first = fetch(`http://127.0.0.1:${port}/list?limit=10`);
    await pollUntil('the first list reading', async () => reads.count === 1 || undefined);
    const abandoned = servers.connect(port);
    abandoned.write('GET /list?limit=10 HTTP/1.1\r\nHost: x\r\n\r\n');
    await pollUntil(
      'the second list waiting',
      async () => /^http_server_requests_in_flight 2$/m.test(await registry.metrics()) || undefined,
    );
    abandoned.destroy();
    await pollUntil(
      'the abandoned list gone',
      async () => /^http_server_requests_in_flight 1$/m.test(await registry.metrics()) || undefined,
    );
    open();
    expect((await first).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(reads.count).toBe(1);
  });

  it('when more lists are read at once than MAX_CONCURRENT_LISTS, then 32 per slot wait their turn and the rest are 503 before reading', async () => {
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const { port, registry, reads } = await listingServer({ gate, maxConcurrentLists: 1 });
    const answers = Array.from({ length: 35 }, () => fetch(`http://127.0.0.1:${port}/list?limit=10`));
    await pollUntil(
      'the refused ones answered',
      async () => /^http_list_requests_shed_total 2$/m.test(await registry.metrics()) || undefined,
    );
    // One reads (held at the gate), 32 wait: the store saw one read only.
    expect(reads.count).toBe(1);
    open();
    const statuses = (await Promise.all(answers)).map((a) => a.status).sort();
    expect(statuses).toEqual([...Array.from({ length: 33 }, () => 200), 503, 503]);
    expect(reads.count).toBe(33);
  });

  it('when the budget is spent, then any single answer over 64 KB is a 503 overloaded instead of being held, and small ones are served', async () => {
    const { port, registry } = await listingServer();
    const url = `http://127.0.0.1:${port}`;
    expect((await fetch(`${url}/one-large`)).status).toBe(200);
    const slow = await holdTheBudget(port, registry);
    const refused = await fetch(`${url}/one-large`);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(await refused.json()).toMatchObject({ type: 'urn:problem-type:overloaded' });
    expect((await fetch(`${url}/one-small`)).status).toBe(200);
    slow.destroy();
    await budgetFreed(registry);
    expect((await fetch(`${url}/one-large`)).status).toBe(200);
  });

  it('when the budget is spent, then an answer large by its UTF-8 bytes is refused too, and a write is refused before it changes anything', async () => {
    const { port, registry, writes } = await listingServer();
    const url = `http://127.0.0.1:${port}`;
    expect((await fetch(`${url}/cjk`)).status).toBe(200);
    expect((await fetch(`${url}/write`, { method: 'POST' })).status).toBe(201);
    expect(writes.count).toBe(1);
    const slow = await holdTheBudget(port, registry);
    expect((await fetch(`${url}/cjk`)).status).toBe(503);
    const write = await fetch(`${url}/write`, { method: 'POST' });
    expect(write.status).toBe(503);
    expect(await write.json()).toMatchObject({ type: 'urn:problem-type:overloaded' });
    // Refused before the handler: nothing was written behind the 503.
    expect(writes.count).toBe(1);
    slow.destroy();
    await budgetFreed(registry);
    expect((await fetch(`${url}/write`, { method: 'POST' })).status).toBe(201);
    expect(writes.count).toBe(2);
  });
});
