import { setTimeout as sleep } from 'node:timers/promises';
import type { CheckedResponse } from '@microservices/service-kit/testing';

export interface Attempt {
  status: number;
  /** The `Idempotent-Replayed` response header was `true`. */
  replayed: boolean;
  body: unknown;
  /** `performance.now()` when the attempt was sent and when it was answered. */
  sentAt: number;
  at: number;
}

export interface RetryOutcome {
  attempts: Attempt[];
  /** The 2xx that ended the retries, if one came within the bound. */
  success?: Attempt;
}

export interface RetryPolicy {
  maxAttempts: number;
  /** No attempt starts after this long. */
  withinMs: number;
  /** Pause before the next attempt: uniform in [min, max] ms, so the clients do not retry in lock step. */
  pauseMs: { min: number; max: number };
}

/**
 * A client that repeats one request (the same Idempotency-Key and body) until it gets a 2xx, as a
 * well-behaved client of an idempotent create would: only 503s are retried; any other answer ends it.
 */
export async function retryUntilSuccess(
  send: () => Promise<CheckedResponse>,
  { maxAttempts, withinMs, pauseMs }: RetryPolicy,
): Promise<RetryOutcome> {
  const attempts: Attempt[] = [];
  const deadline = performance.now() + withinMs;
  for (let i = 0; i < maxAttempts && performance.now() < deadline; i += 1) {
    const sentAt = performance.now();
    const res = await send();
    const attempt: Attempt = {
      status: res.status,
      replayed: res.headers.get('idempotent-replayed') === 'true',
      body: res.body,
      sentAt,
      at: performance.now(),
    };
    attempts.push(attempt);
    if (res.status >= 200 && res.status < 300) return { attempts, success: attempt };
    if (res.status !== 503) return { attempts };
    await sleep(pauseMs.min + Math.random() * (pauseMs.max - pauseMs.min));
  }
  return { attempts };
}
