import type { Context, TypedResponse } from 'hono';
import type { JSONParsed } from 'hono/utils/types';
import type { AppEnv } from '../../edge/app-env.js';
import { reply } from '../../edge/reply.js';
import { encodeCursor, type PageRequest, type Positioned } from './page-query.js';

/**
 * Default for `MAX_RESPONSE_BYTES`: the most one list answer may weigh (1 MiB). The largest valid
 * resource (an order of 100 items whose texts are all characters JSON escapes six-fold) is about 400 KB,
 * so a page always holds at least two; ordinary orders fit hundreds.
 */
export const DEFAULT_MAX_RESPONSE_BYTES = 1_048_576;
/** The smallest budget accepted: one largest valid resource must always fit on a page. */
export const MIN_MAX_RESPONSE_BYTES = 524_288;

const JSON_CONTENT_TYPE = 'application/json';

/**
 * About the JSON size of the page `rows` make (at most `limit` of them), from the sizes the store gives
 * each row: a lower bound, never judged from one row, so a small first row cannot pass a page of large
 * ones as small.
 */
export function likelyPageBytes<T>(rows: ReadonlyArray<Positioned<T>>, limit: number): number {
  let bytes = 2;
  const count = Math.min(rows.length, limit);
  for (let i = 0; i < count; i += 1) bytes += (rows[i] as Positioned<T>).minJsonBytes + 1;
  return bytes;
}

/**
 * A page of a collection as a JSON array, bounded twice: at most `request.limit` items and at most
 * `maxBytes` bytes (the first item always, so paging never stalls). `rows` may hold one row more than the
 * limit: that row, or any the byte budget left out, means there is more, and the answer says where it
 * resumes with `Link: <…?cursor=…>; rel="next"` (relative to this request, other parameters kept). A HEAD
 * request gets the same headers without the body being built. A page whose rows may all fit (`likelyBytes`,
 * their likelyPageBytes, within `maxBytes`) is serialised
 * at once; one that must be cut is measured row by row, in slices of YIELD_EVERY_BYTES with a turn of
 * the event loop between them.
 */
export async function replyPage<T>(
  c: Context<AppEnv>,
  rows: ReadonlyArray<Positioned<T>>,
  request: PageRequest,
  maxBytes: number,
  likelyBytes: number,
): Promise<Response & TypedResponse<JSONParsed<T[]>, 200, 'json'>> {
  const page =
    (likelyBytes <= maxBytes ? wholePage(c, rows, request, maxBytes) : undefined) ??
    (await buildPage(c, rows, request, maxBytes));
  return page as Response & TypedResponse<JSONParsed<T[]>, 200, 'json'>;
}

/** UTF-8 takes at most three bytes for each UTF-16 unit of a JS string. */
const MAX_UTF8_BYTES_PER_UNIT = 3;

/**
 * The page serialised in one `JSON.stringify`, when all its rows fit the byte budget: the common case,
 * and several times cheaper than measuring row by row (a megabyte takes a few milliseconds, and list
 * slots bound how many are built at once). Undefined when they do not fit, where only measuring row by
 * row can say where the page ends. A page that may be large is encoded once, here, and sent as those
 * bytes.
 */
function wholePage<T>(
  c: Context<AppEnv>,
  rows: ReadonlyArray<Positioned<T>>,
  request: PageRequest,
  maxBytes: number,
): Response | undefined {
  if (c.req.method === 'HEAD') return undefined;
  const available = Math.min(rows.length, request.limit);
  const values = new Array<T>(available);
  for (let i = 0; i < available; i += 1) values[i] = (rows[i] as Positioned<T>).value;
  const json = JSON.stringify(values);
  const body = json.length * MAX_UTF8_BYTES_PER_UNIT > maxBytes ? Buffer.from(json, 'utf8') : json;
  if (typeof body !== 'string' && body.byteLength > maxBytes) return undefined;
  const last = rows[available - 1];
  const link = rows.length > available && last ? nextLink(c, last.position, request.limit) : undefined;
  return reply(c, body, 200, JSON_CONTENT_TYPE, link);
}

/** Bytes serialised between two turns of the event loop. */
const YIELD_EVERY_BYTES = 65_536;
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
const COMMA = Buffer.from(',');
const OPEN = Buffer.from('[');
const CLOSE = Buffer.from(']');

/** The page cut at `maxBytes`, each row encoded once: its bytes are both what is measured and what is sent. */
async function buildPage<T>(
  c: Context<AppEnv>,
  rows: ReadonlyArray<Positioned<T>>,
  request: PageRequest,
  maxBytes: number,
): Promise<Response> {
  const available = Math.min(rows.length, request.limit);
  if (c.req.method === 'HEAD') {
    const last = rows[available - 1];
    const link = rows.length > available && last ? nextLink(c, last.position, request.limit) : undefined;
    return reply(c, null, 200, undefined, { 'Content-Type': JSON_CONTENT_TYPE, ...link });
  }
  const parts: Buffer[] = [OPEN];
  let taken = 0;
  let bytes = 2;
  let lastPosition: number | undefined;
  let sinceTurn = 0;
  for (let i = 0; i < available; i += 1) {
    if (sinceTurn >= YIELD_EVERY_BYTES) {
      sinceTurn = 0;
      await nextTurn();
    }
    const row = rows[i] as Positioned<T>;
    const json = Buffer.from(JSON.stringify(row.value), 'utf8');
    const size = json.byteLength + (i > 0 ? 1 : 0);
    if (i > 0 && bytes + size > maxBytes) break;
    if (i > 0) parts.push(COMMA);
    parts.push(json);
    taken += 1;
    bytes += size;
    sinceTurn += size;
    lastPosition = row.position;
  }
  parts.push(CLOSE);
  const more = rows.length > taken;
  const link = more && lastPosition !== undefined ? nextLink(c, lastPosition, request.limit) : undefined;
  return reply(c, Buffer.concat(parts, bytes), 200, JSON_CONTENT_TYPE, link);
}

function nextLink(c: Context<AppEnv>, position: number, limit: number): { Link: string } {
  const url = new URL(c.req.url);
  url.searchParams.delete('skip');
  url.searchParams.set('limit', String(limit));
  url.searchParams.set('cursor', encodeCursor(position));
  return { Link: `<${url.pathname}${url.search}>; rel="next"` };
}
