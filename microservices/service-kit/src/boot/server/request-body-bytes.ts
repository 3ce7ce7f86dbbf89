import type { IncomingMessage } from 'node:http';
import type { Gauge } from 'prom-client';

/**
 * Default for `MAX_REQUEST_BODY_BYTES_HELD`: request body bytes the app may be reading or holding at once,
 * across all requests. 16 MiB is sixteen bodies at the 1 MiB `BODY_LIMIT_BYTES`, or forty of the largest
 * valid order (~390 KB with every character escaped). Without it, 300 uploads that each sent all but the
 * last byte of a 1 MiB body had MAX_INFLIGHT_REQUESTS (256) bodies buffered at once, and the pod's RSS
 * went from 96 to 366 MB, over the chart's 256 Mi limit.
 */
export const DEFAULT_MAX_REQUEST_BODY_BYTES_HELD = 16_777_216;

/**
 * Bodies up to this size are always admitted (and counted): MAX_INFLIGHT_REQUESTS of them hold at most
 * 4 MiB, and an attacker holding the budget with large bodies cannot refuse an ordinary create (a few
 * hundred bytes) beside them.
 */
export const SMALL_BODY_BYTES = 16_384;

/**
 * The share of `max` one client may hold (by its quotaKey): 4 MiB of the default 16. Without it, 16 uploads
 * from one client that declared 1 MiB and sent nothing held the whole budget for 339 B/s of headers, and
 * every other client's body over 16 KB was a `503`.
 */
export const CLIENT_SHARE_OF_BODY_BYTES = 0.25;

/**
 * What a request's body will hold once read: its `Content-Length`, or, sent in chunks (no length known),
 * the most it may be (`bodyLimitBytes`). A declared length over `bodyLimitBytes` holds nothing: the app
 * answers `413` without reading it.
 */
export function bodyBytesToHold(req: IncomingMessage, bodyLimitBytes: number): number {
  if (req.headers['transfer-encoding'] !== undefined) return bodyLimitBytes;
  const declared = Number(req.headers['content-length'] ?? 0);
  return Number.isFinite(declared) && declared <= bodyLimitBytes ? declared : 0;
}

/**
 * The process-wide count of request body bytes admitted to the app and not yet answered. A request whose
 * body is larger than SMALL_BODY_BYTES is admitted only while its bytes fit under `max`; the server
 * answers the others `503` before reading a byte of their bodies.
 */
export class RequestBodyBytes {
  readonly max: number;
  #held = 0;
  readonly #byClient = new Map<string, number>();
  readonly #gauge: Gauge | undefined;

  constructor(max: number, gauge?: Gauge) {
    this.max = max;
    this.#gauge = gauge;
  }

  get held(): number {
    return this.#held;
  }

  /**
   * Holds `bytes` for `client` ('held'), unless they are over SMALL_BODY_BYTES and do not fit beside what
   * that client holds within its CLIENT_SHARE_OF_BODY_BYTES ('client-share') or beside what is held
   * ('full'). Alone, any body fits: a `max` below BODY_LIMIT_BYTES never refuses a body forever.
   */
  tryHold(bytes: number, client: string): 'held' | 'full' | 'client-share' {
    if (bytes === 0) return 'held';
    const mine = this.#byClient.get(client) ?? 0;
    if (bytes > SMALL_BODY_BYTES) {
      if (mine > 0 && mine + bytes > this.max * CLIENT_SHARE_OF_BODY_BYTES) return 'client-share';
      if (this.#held > 0 && this.#held + bytes > this.max) return 'full';
    }
    this.#held += bytes;
    this.#byClient.set(client, mine + bytes);
    this.#gauge?.inc(bytes);
    return 'held';
  }

  free(bytes: number, client: string): void {
    if (bytes === 0) return;
    this.#held -= bytes;
    const left = (this.#byClient.get(client) ?? 0) - bytes;
    if (left > 0) this.#byClient.set(client, left);
    else this.#byClient.delete(client);
    this.#gauge?.dec(bytes);
  }
}
