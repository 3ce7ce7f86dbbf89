import { BulkheadRejectedError, bulkhead } from 'cockatiel';
import type { Context, TypedResponse } from 'hono';
import type { JSONParsed } from 'hono/utils/types';
import { Counter, type Registry } from 'prom-client';
import type { AppEnv } from '../../edge/app-env.js';
import { stopIfClientGone } from '../../edge/client-gone.js';
import {
  lowerReservedAnswerBytes,
  reserveAnswerBytes,
  reservePageBytesWhenRoom,
  unsentBudgetSpentError,
} from '../../edge/unsent-answers.js';
import { serviceUnavailable } from '../../problems/app-error.js';
import { DEFAULT_PAGE_SIZE, type PageRequest, type Positioned, pageRequestOf } from './page-query.js';
import { likelyPageBytes, replyPage } from './page-reply.js';

/**
 * Default for `MAX_CONCURRENT_LISTS`: large list answers (over LARGE_PAGE_BYTES) being built at once per
 * process. A page of large orders is up to a megabyte parsed and serialised, a hundred times a single
 * resource's work: 20 clients listing at once held the event loop long enough for small requests beside
 * them to time out, and every one holds its page in the heap while it is built. Eight keep both cores
 * busy with large pages and at most ~8 MiB of them in the heap. Ordinary pages (100 users are ~15 KB)
 * never wait for a slot.
 */
export const DEFAULT_MAX_CONCURRENT_LISTS = 8;

/**
 * List reads that may wait for one of the MAX_CONCURRENT_LISTS read slots, per slot: as many as the
 * default MAX_INFLIGHT_REQUESTS (256) in all, so ordinary listings wait their turn rather than being
 * refused (a queue of 32 refused a third of 64 concurrent `GET /users` on PostgreSQL). Reads are bounded
 * below the database pool (DB_POOL_MAX, 10) so a burst of listings leaves connections for everything
 * else: 20 clients listing large orders at once held the whole pool, and the requests beside them timed
 * out waiting for a connection.
 */
const QUEUED_READS_PER_SLOT = 32;

/** A page whose JSON would be larger than this needs a slot; smaller ones are built at once. */
export const LARGE_PAGE_BYTES = 65_536;

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
   * replied (see replyPage). Rows are read at most `maxConcurrentLists` at once (a few times that wait
   * their turn, more are a `503`), so listings never hold the whole database pool. Large pages are built
   * at most `maxConcurrentLists` at once, and only within the pages' share of MAX_UNSENT_RESPONSE_BYTES
   * (the rest is kept for single resources): pages above the default size reserve room for the largest
   * answer before their rows are read, waiting up to PAGE_ROOM_WAIT_MS for it. Past either bound, a
   * `503 overloaded` with `Retry-After: 1`, and the rows read are let go at once.
   */
  reply<T>(
    c: Context<AppEnv>,
    query: { skip: number; limit: number; cursor?: string | undefined },
    rows: PageRows<T>,
  ): Promise<Response & TypedResponse<JSONParsed<T[]>, 200, 'json'>>;
}

export function createPager({ maxResponseBytes, maxConcurrentLists, registry }: PagerOptions): Pager {
  // A large page waits for a build slot rather than being refused while as many again are waiting; the
  // unsent-answer budget, reserved before the wait, bounds what the waiting ones hold.
  const slots = bulkhead(maxConcurrentLists, maxConcurrentLists);
  const reads = bulkhead(maxConcurrentLists, maxConcurrentLists * QUEUED_READS_PER_SLOT);
  const shed = new Counter({
    name: 'http_list_requests_shed_total',
    help: 'List requests answered 503 because MAX_CONCURRENT_LISTS were being read (and more waiting) or built already.',
    registers: [registry],
  });
  const tooMany = (doing: string) => {
    shed.inc();
    return serviceUnavailable(
      `More than ${maxConcurrentLists} lists are being ${doing} at once (MAX_CONCURRENT_LISTS); retry shortly.`,
      1,
      'overloaded',
    );
  };
  const unsentShed = new Counter({
    name: 'http_list_requests_unsent_shed_total',
    help: 'Large list requests answered 503 because MAX_UNSENT_RESPONSE_BYTES were held unsent.',
    registers: [registry],
  });
  const unsentBudgetSpent = () => {
    unsentShed.inc();
    return unsentBudgetSpentError();
  };
  return {
    async reply(c, query, rows) {
      const request = pageRequestOf(query);
      // A page above the default size holds room for the largest answer before any row is read, waiting
      // its turn while pages fill their share of the budget: reading a thousand rows only to refuse them
      // was most of what slow readers cost.
      if (request.limit > DEFAULT_PAGE_SIZE && !(await reservePageBytesWhenRoom(c, maxResponseBytes))) {
        throw unsentBudgetSpent();
      }
      // An abandoned request (its client reset while it waited) is dropped before its rows are read and
      // before its page is built.
      const found = await reads
        .execute(() => {
          stopIfClientGone(c);
          return rows({ ...request, maxBytes: maxResponseBytes });
        })
        .catch((err) => {
          throw err instanceof BulkheadRejectedError ? tooMany('read') : err;
        });
      stopIfClientGone(c);
      const pageBytes = likelyPageBytes(found, request.limit);
      const likelyBytes = Math.min(pageBytes, maxResponseBytes);
      lowerReservedAnswerBytes(c, likelyBytes);
      if (likelyBytes <= LARGE_PAGE_BYTES) {
        return replyPage(c, found, request, maxResponseBytes, pageBytes);
      }
      if (!reserveAnswerBytes(c, likelyBytes, 'page')) throw unsentBudgetSpent();
      try {
        return await slots.execute(() => {
          stopIfClientGone(c);
          return replyPage(c, found, request, maxResponseBytes, pageBytes);
        });
      } catch (err) {
        throw err instanceof BulkheadRejectedError ? tooMany('built') : err;
      }
    },
  };
}
