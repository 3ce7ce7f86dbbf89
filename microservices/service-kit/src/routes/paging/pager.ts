import { BulkheadRejectedError, bulkhead } from 'cockatiel';
import type { Context, TypedResponse } from 'hono';
import type { JSONParsed } from 'hono/utils/types';
import { Counter, type Registry } from 'prom-client';
import type { AppEnv } from '../../edge/app-env.js';
import { serviceUnavailable } from '../../problems/app-error.js';
import { type PageRequest, type Positioned, pageRequestOf } from './page-query.js';
import { replyPage } from './page-reply.js';

/**
 * Default for `MAX_CONCURRENT_LISTS`: large list answers (over LARGE_PAGE_BYTES) being built at once per
 * process. A page of large orders is up to a megabyte parsed and serialised, a hundred times a single
 * resource's work: 20 clients listing at once held the event loop long enough for small requests beside
 * them to time out, and every one holds its page in the heap while it is built. Eight keep both cores
 * busy with large pages and at most ~8 MiB of them in the heap. Ordinary pages (100 users are ~15 KB)
 * never wait for a slot.
 */
export const DEFAULT_MAX_CONCURRENT_LISTS = 8;

/** A page whose JSON would be larger than this needs a slot; smaller ones are built at once. */
export const LARGE_PAGE_BYTES = 65_536;

/** The JSON size of a page of `rows`, judged from its first row: cheap, and exact for uniform rows. */
function likelyPageBytes<T>(rows: ReadonlyArray<Positioned<T>>, limit: number): number {
  const first = rows[0];
  return first ? JSON.stringify(first.value).length * Math.min(rows.length, limit) : 0;
}

export interface PagerOptions {
  maxResponseBytes: number;
  maxConcurrentLists: number;
  registry: Registry;
}

/** Reads the rows of one page: what a store's `list` does for the request. */
export type PageRows<T> = (request: PageRequest & { maxBytes: number }) => Promise<Array<Positioned<T>>>;

export interface Pager {
  /**
   * Answers a list request: its query as a PageRequest, the rows read within the byte budget, the page
   * replied (see replyPage). Large pages are built at most `maxConcurrentLists` at once; past that a
   * `503 overloaded` with `Retry-After: 1`, and the rows read are let go at once.
   */
  reply<T>(
    c: Context<AppEnv>,
    query: { skip: number; limit: number; cursor?: string | undefined },
    rows: PageRows<T>,
  ): Promise<Response & TypedResponse<JSONParsed<T[]>, 200, 'json'>>;
}

export function createPager({ maxResponseBytes, maxConcurrentLists, registry }: PagerOptions): Pager {
  const slots = bulkhead(maxConcurrentLists, 0);
  const shed = new Counter({
    name: 'http_list_requests_shed_total',
    help: 'List requests answered 503 because MAX_CONCURRENT_LISTS were being built already.',
    registers: [registry],
  });
  return {
    async reply(c, query, rows) {
      const request = pageRequestOf(query);
      const found = await rows({ ...request, maxBytes: maxResponseBytes });
      if (likelyPageBytes(found, request.limit) <= LARGE_PAGE_BYTES) {
        return replyPage(c, found, request, maxResponseBytes);
      }
      try {
        return await slots.execute(() => replyPage(c, found, request, maxResponseBytes));
      } catch (err) {
        if (!(err instanceof BulkheadRejectedError)) throw err;
        shed.inc();
        throw serviceUnavailable(
          `More than ${maxConcurrentLists} lists are being built at once (MAX_CONCURRENT_LISTS); retry shortly.`,
          1,
          'overloaded',
        );
      }
    },
  };
}
