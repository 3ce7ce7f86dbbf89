import { ServerResponse } from 'node:http';
import type { Context } from 'hono';
import type { Gauge } from 'prom-client';
import { serviceUnavailable } from '../problems/app-error.js';

/**
 * Default for `MAX_UNSENT_RESPONSE_BYTES`: answer bytes the process holds for clients that have not read
 * them yet, across all connections. 16 MiB is an eighth of the chart's 128 MiB heap: sixteen of the
 * largest list pages, while the rest of the heap serves everything else. Per connection at most
 * MAX_PIPELINED_REQUESTS answers are held, but 64 connections × 8 pipelined 560 KB lists that are never
 * read (session 4's attacker) held more than the heap without a bound across them.
 */
export const DEFAULT_MAX_UNSENT_RESPONSE_BYTES = 16_777_216;

/**
 * Answers larger than this reserve their size in the budget before they are sent, and are a `503` while
 * it is spent: one large order (~390 KB) asked for by 300 sockets that never read ran a 128 MiB heap out.
 * Small enough that MAX_CONNECTIONS (768) answers just under it stay within 12 MiB: a page of 100
 * ordinary users (~15 KB) is under it.
 */
export const LARGE_ANSWER_BYTES = 16_384;

/**
 * What a large answer is: one `resource`, or a list `page` of many. Pages may fill at most
 * PAGES_SHARE_OF_UNSENT of the budget; the rest is kept for single resources, or 20 clients listing pages
 * of the largest orders left no room for a `GET` of one order beside them (a tenth of those were `503`).
 */
export type AnswerKind = 'resource' | 'page';

/** The share of MAX_UNSENT_RESPONSE_BYTES list pages may hold: 12 of the default 16 MiB. */
export const PAGES_SHARE_OF_UNSENT = 0.75;

/**
 * Pages that may wait for room in the pages' share before their rows are read; more are a `503` at once.
 * A waiting page holds nothing but its request, and MAX_INFLIGHT_REQUESTS bounds those already.
 */
const MAX_PAGE_WAITERS = 64;

/**
 * How long a page waits for room in the pages' share before it is a `503`: 20 clients listing pages of
 * the largest orders over loopback found it full half the time, for a few hundred milliseconds each.
 */
export const PAGE_ROOM_WAIT_MS = 2_000;

/**
 * The process-wide count of answer bytes written by the app and not yet handed to the kernel. An answer's
 * bytes are held from `write`/`end` until its response closes (all of it flushed, or its socket gone); a
 * string counts its UTF-8 bytes, what it occupies once written.
 *
 * Large answers reserve their likely size before they are built (reserveAnswerBytes). While `spent` (at
 * or over `max`), the server hands no further request to a connection that still has an answer in flight
 * or unsent, and the pager answers large pages `503` before building them; `onFreed`
 * runs once the count falls back under the bound, so the waiting connections are served again.
 */
export class UnsentAnswerBytes {
  readonly max: number;
  #held = 0;
  readonly #gauge: Gauge | undefined;
  #freed: (() => void) | undefined;
  /** Pages waiting for room in the pages' share, oldest first; each reserves as it is woken. */
  readonly #pageWaiters: Array<() => void> = [];

  constructor(max: number, gauge?: Gauge) {
    this.max = max;
    this.#gauge = gauge;
  }

  get held(): number {
    return this.#held;
  }

  get spent(): boolean {
    return this.#held >= this.max;
  }

  /** Whether an answer of `kind` finds the budget spent: pages find it so at their share of `max`. */
  spentFor(kind: AnswerKind): boolean {
    return kind === 'page' ? this.#held >= this.max * PAGES_SHARE_OF_UNSENT : this.spent;
  }

  /** Runs whenever the count falls from at-or-over the bound to under it. */
  onFreed(listener: () => void): void {
    this.#freed = listener;
  }

  hold(bytes: number): void {
    this.#held += bytes;
    this.#gauge?.inc(bytes);
  }

  free(bytes: number): void {
    if (bytes === 0) return;
    const wasSpent = this.spent;
    this.#held -= bytes;
    this.#gauge?.dec(bytes);
    if (wasSpent && !this.spent) this.#freed?.();
    while (this.#pageWaiters.length > 0 && !this.spentFor('page')) this.#pageWaiters.shift()?.();
  }

  /**
   * Runs `reserve` once the pages' share has room, oldest waiter first, and resolves true; or resolves
   * false after `waitMs`, or at once when MAX_PAGE_WAITERS are waiting already.
   */
  whenRoomForPage(reserve: () => void, waitMs: number): Promise<boolean> {
    if (this.#pageWaiters.length >= MAX_PAGE_WAITERS) return Promise.resolve(false);
    return new Promise((resolve) => {
      const waiter = () => {
        clearTimeout(timer);
        reserve();
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.#pageWaiters.splice(this.#pageWaiters.indexOf(waiter), 1);
        resolve(false);
      }, waitMs);
      this.#pageWaiters.push(waiter);
    });
  }
}

/** Memory that every answer sending it shares (static assets loaded once): holding it costs nothing more. */
const sharedBodies = new WeakSet<ArrayBufferLike>();

/**
 * Marks `body` as shared by every answer that sends it (a static asset kept in memory): answers are not
 * charged for it. Three clients not reading a 1.7 MB asset 12 times over otherwise "held" 20 MB.
 */
export function markSharedBody(body: Uint8Array): void {
  sharedBodies.add(body.buffer);
}

/**
 * The bytes an answer chunk is charged: its UTF-8 size (a CJK character is one unit but three bytes), 0
 * for a shared body.
 */
export const chargedBytes = (chunk: unknown): number =>
  typeof chunk === 'string'
    ? Buffer.byteLength(chunk)
    : chunk instanceof Uint8Array && !sharedBodies.has(chunk.buffer)
      ? chunk.byteLength
      : 0;

type Write = (this: ServerResponse, ...args: unknown[]) => boolean;
type End = (this: ServerResponse, ...args: unknown[]) => ServerResponse;
const baseWrite = ServerResponse.prototype.write as Write;
const baseEnd = ServerResponse.prototype.end as End;

/** A server response that charges its body bytes to the process's UnsentAnswerBytes. */
export class ChargedResponse extends ServerResponse {
  /** Set by the server's ServerResponse class (chargedResponseClass). */
  unsentAnswers: UnsentAnswerBytes | undefined;
  #held = 0;
  /** Bytes held for an answer still being built (reserve); replaced by its real size once written. */
  #reserved = 0;
  #settled = false;
  #ended: (() => void) | undefined;

  override write(chunk: unknown, ...rest: unknown[]): boolean {
    this.#charge(chunk);
    return baseWrite.call(this, chunk, ...rest);
  }

  override end(chunk?: unknown, ...rest: unknown[]): this {
    this.#charge(chunk);
    baseEnd.call(this, chunk, ...rest);
    const ended = this.#ended;
    this.#ended = undefined;
    ended?.();
    return this;
  }

  /** Runs once, when the app ends this answer (its last byte written, not necessarily sent). */
  onEnded(listener: () => void): void {
    this.#ended = listener;
  }

  #charge(chunk: unknown): void {
    if (this.#settled || !this.unsentAnswers) return;
    const bytes = chargedBytes(chunk);
    this.#held += bytes;
    this.unsentAnswers.hold(bytes);
    if (this.#reserved > 0) {
      this.#held -= this.#reserved;
      this.unsentAnswers.free(this.#reserved);
      this.#reserved = 0;
    }
  }

  /**
   * Holds `bytes` for an answer about to be built, unless the budget is spent already (then false): a
   * burst of large answers is bounded while they are built, not only once they are written.
   */
  reserve(bytes: number, kind: AnswerKind): boolean {
    const budget = this.unsentAnswers;
    // An answer reserves once: the pager reserves a large page before building it, and the reply that
    // then carries it is already accounted for.
    if (this.#settled || !budget || this.#reserved > 0) return true;
    if (budget.spentFor(kind)) return false;
    this.#reserved += bytes;
    this.#held += bytes;
    budget.hold(bytes);
    return true;
  }

  /**
   * Holds `bytes` for a page about to be read and built: at once if the pages' share has room, else once
   * it has (oldest first) within PAGE_ROOM_WAIT_MS; false if it has none by then (or the answer is
   * settled already, its client gone). Replaced by the answer's real size once it is written.
   */
  async reserveWhenRoomForPage(bytes: number): Promise<boolean> {
    const budget = this.unsentAnswers;
    // reserve() is false only with a budget that has no room yet.
    if (!budget || this.reserve(bytes, 'page')) return true;
    const reserved = await budget.whenRoomForPage(() => this.reserve(bytes, 'page'), PAGE_ROOM_WAIT_MS);
    return reserved && !this.#settled;
  }

  /** Lowers this answer's reservation to `bytes` when it reserved more (a page smaller than feared). */
  lowerReservation(bytes: number): void {
    if (this.#settled || !this.unsentAnswers || this.#reserved <= bytes) return;
    const freed = this.#reserved - bytes;
    this.#reserved = bytes;
    this.#held -= freed;
    this.unsentAnswers.free(freed);
  }

  /**
   * Frees this answer's bytes, once: the server calls it when the response closes or its socket does
   * (Node never closes answers queued behind another when their socket dies). Later writes are not charged.
   */
  settle(): void {
    if (this.#settled) return;
    this.#settled = true;
    this.unsentAnswers?.free(this.#held);
    this.#held = 0;
  }
}

/** The `ServerResponse` class a server passes to `http.createServer` to charge every answer to `budget`. */
export function chargedResponseClass(budget: UnsentAnswerBytes): typeof ServerResponse {
  return class extends ChargedResponse {
    override unsentAnswers = budget;
  } as unknown as typeof ServerResponse;
}

/** The charged response carrying `c`'s answer; undefined outside a charged server (`app.request`). */
function chargedResponseOf(c: Context): ChargedResponse | undefined {
  const outgoing = (c.env as { outgoing?: unknown } | undefined)?.outgoing;
  return outgoing instanceof ChargedResponse ? outgoing : undefined;
}

/**
 * Whether the process holds all the unsent-answer budget an answer of `kind` may use; false outside a
 * charged server.
 */
export function unsentAnswersSpent(c: Context, kind: AnswerKind = 'resource'): boolean {
  return chargedResponseOf(c)?.unsentAnswers?.spentFor(kind) === true;
}

/**
 * For a handler about to build a large answer of about `bytes`: holds them in the process's unsent-answer
 * budget until the answer is written, or says false when the budget is spent for its `kind` (answer 503
 * instead). Always true outside a charged server (in-process tests call `app.request`, where nothing is
 * held).
 */
export function reserveAnswerBytes(c: Context, bytes: number, kind: AnswerKind = 'resource'): boolean {
  return chargedResponseOf(c)?.reserve(bytes, kind) ?? true;
}

/**
 * For a list about to read a page of up to `bytes`: holds them in the budget's pages' share, waiting up
 * to PAGE_ROOM_WAIT_MS for room (see ChargedResponse.reserveWhenRoomForPage). Always true outside a
 * charged server.
 */
export function reservePageBytesWhenRoom(c: Context, bytes: number): Promise<boolean> {
  return chargedResponseOf(c)?.reserveWhenRoomForPage(bytes) ?? Promise.resolve(true);
}

/** Lowers a reservation made by reservePageBytesWhenRoom to the page's likely size once it is read. */
export function lowerReservedAnswerBytes(c: Context, bytes: number): void {
  chargedResponseOf(c)?.lowerReservation(bytes);
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Whether a request may not change anything: its answer can be refused late without losing a write. */
export const isSafeMethod = (method: string): boolean => SAFE_METHODS.has(method);

/**
 * Holds an answer of about `bytes` (over LARGE_ANSWER_BYTES) in the unsent-answer budget, or refuses the
 * request with `503 overloaded` while the budget is spent. A handler that writes calls it before writing,
 * with the size its answer will have: refusing the answer afterwards would leave a saved change behind a
 * "retry", and a retried POST would create it twice. Reads are checked by reply() itself.
 */
export function reserveAnswerOrRefuse(c: Context, bytes: number): void {
  if (bytes > LARGE_ANSWER_BYTES && !reserveAnswerBytes(c, bytes)) throw unsentBudgetSpentError();
}

/** The `503 overloaded` for an answer the spent unsent-answer budget has no room for. */
export const unsentBudgetSpentError = () =>
  serviceUnavailable(
    'The server holds as many unsent answer bytes as it may (MAX_UNSENT_RESPONSE_BYTES); retry shortly.',
    1,
    'overloaded',
  );
