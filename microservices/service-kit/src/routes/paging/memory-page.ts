import type { PageRequest, Positioned } from './page-query.js';

/** What a memory store keeps per record for paging: its position and a lower bound of its JSON size. */
export interface PagedEntry<T> {
  position: number;
  value: T;
  /** At most the bytes `JSON.stringify(value)` takes; the memory stores keep the exact size (jsonBytes). */
  minJsonBytes: number;
}

/**
 * The rows a list request gets from an in-process collection, in position order: after the cursor or
 * past `skip`, at most `limit + 1` (the extra one tells the reply there is more), and no more rows once
 * those taken could already fill `maxBytes`, so a page of large records is never copied in full.
 */
export function memoryPage<T>(
  entries: Iterable<PagedEntry<T>>,
  request: PageRequest & { maxBytes: number },
  copy: (value: T) => T,
): Array<Positioned<T>> {
  const rows: Array<Positioned<T>> = [];
  let skipped = 0;
  let bytes = 0;
  for (const entry of entries) {
    if (request.after !== undefined && entry.position <= request.after) continue;
    if (skipped < request.skip) {
      skipped += 1;
      continue;
    }
    if (rows.length > request.limit || (rows.length > 0 && bytes >= request.maxBytes)) break;
    rows.push({ position: entry.position, value: copy(entry.value), minJsonBytes: entry.minJsonBytes });
    bytes += entry.minJsonBytes;
  }
  return rows;
}

/** The exact size of a value's JSON, for PagedEntry.minJsonBytes (escapes included). */
export const jsonBytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value));
