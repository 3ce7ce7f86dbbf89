import { BulkheadRejectedError, bulkhead } from 'cockatiel';
import type { Context, TypedResponse } from 'hono';
import type { JSONParsed } from 'hono/utils/types';
import { Counter, type Registry } from 'prom-client';
import { serviceUnavailable } from '../errors/app-error.js';
import type { AppEnv } from '../http/app-env.js';
import { type PageRequest, type Positioned, pageRequestOf } from './page-query.js';
import { replyPage } from './page-reply.js';

/**
 * Default for `MAX_CONCURRENT_LISTS`: list answers being built at once per process. A page of large
 * orders is up to a megabyte read, parsed and serialised, a hundred times a single resource's work: 20
 * clients listing at once held the event loop long enough for small requests beside them to time out.
 * Eight keep both cores busy with lists while other requests still get their turn.
 */
export const DEFAULT_MAX_CONCURRENT_LISTS = 8;

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
   * replied (see replyPage), at most `maxConcurrentLists` at once; past that a `503 overloaded` with
   * `Retry-After: 1`, before the store is asked.
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
      try {
        return await slots.execute(async () => {
          const found = await rows({ ...request, maxBytes: maxResponseBytes });
          return replyPage(c, found, request, maxResponseBytes);
        });
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
