import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { AppError } from '../problems/app-error.js';

/**
 * Default for `MEMORY_STORE_MAX_BYTES` (32 MiB): a quarter of the 128 MiB old-space heap the chart gives
 * each pod, leaving the rest for requests in flight. Estimates count two bytes per character plus a fixed
 * overhead per object, which is at or above what V8 holds.
 */
export const DEFAULT_MEMORY_STORE_MAX_BYTES = 33_554_432;

/** The estimate the memory stores charge for one string: UTF-16 units and a string header. */
export const stringBytes = (text: string): number => 2 * text.length + 16;

/** The answer to a write the full memory store cannot take (507 Insufficient Storage, RFC 4918). */
export const storeFull = () =>
  new AppError({
    type: 'store-full',
    detail:
      'The in-memory store has reached MEMORY_STORE_MAX_BYTES; reads still work. Delete data or use PostgreSQL.',
  });

export interface MemoryBudgetOptions {
  maxBytes: number;
  logger: Logger;
  registry: Registry;
}

/**
 * The bytes an in-process store may hold, shared by its records and its idempotency keys. A write that
 * would pass the cap throws the 507 problem and nothing is stored; reads are never refused. The first
 * refusal after a period of room is logged once (not once per request), every one is counted.
 */
export class MemoryBudget {
  readonly maxBytes: number;
  #used = 0;
  #full = false;
  readonly #logger: Logger;
  readonly #usedGauge: Gauge;
  readonly #refused: Counter;

  constructor({ maxBytes, logger, registry }: MemoryBudgetOptions) {
    this.maxBytes = maxBytes;
    this.#logger = logger;
    this.#usedGauge = new Gauge({
      name: 'memory_store_bytes',
      help: 'Estimated bytes the in-memory store holds (records and idempotency keys).',
      registers: [registry],
    });
    new Gauge({
      name: 'memory_store_max_bytes',
      help: 'MEMORY_STORE_MAX_BYTES: writes past it are refused with 507.',
      registers: [registry],
    }).set(maxBytes);
    this.#refused = new Counter({
      name: 'memory_store_refused_writes_total',
      help: 'Writes refused with 507 because the in-memory store was full.',
      registers: [registry],
    });
  }

  get usedBytes(): number {
    return this.#used;
  }

  /** Charges `bytes` (negative gives back); throws storeFull() when a growth would pass the cap. */
  charge(bytes: number): void {
    if (bytes > 0 && this.#used + bytes > this.maxBytes) {
      this.#refused.inc();
      if (!this.#full) {
        this.#full = true;
        this.#logger.warn(
          { used_bytes: this.#used, max_bytes: this.maxBytes },
          'in-memory store full (MEMORY_STORE_MAX_BYTES): refusing writes with 507 until data is deleted',
        );
      }
      throw storeFull();
    }
    this.#used += bytes;
    this.#usedGauge.set(this.#used);
    // Room again for a tenth of the cap: the next refusal is news worth a log line.
    if (this.#full && this.#used < this.maxBytes * 0.9) this.#full = false;
  }

  /** Gives back what `charge(bytes)` took. */
  release(bytes: number): void {
    this.charge(-bytes);
  }
}
