import type { PagedEntry } from '../../data/memory-records.js';
import type { PageRequest, Positioned } from './page-query.js';

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
