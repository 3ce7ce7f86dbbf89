import { setTimeout as sleep } from 'node:timers/promises';

export interface PollOptions {
  /** Give up after this long. */
  timeoutMs?: number;
  /** Pause between tries. */
  intervalMs?: number;
}

/**
 * Calls `probe` until it returns something other than `undefined`, bounded in time and in tries.
 * Errors thrown by `probe` count as "not yet" (the last one is reported on timeout).
 * For waiting on a condition a test cannot subscribe to; never a fixed sleep.
 */
export async function pollUntil<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  { timeoutMs = 5_000, intervalMs = 25 }: PollOptions = {},
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  const maxTries = Math.ceil(timeoutMs / intervalMs) + 1;
  let lastError: unknown;
  for (let attempt = 0; attempt < maxTries && performance.now() <= deadline; attempt += 1) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    await sleep(intervalMs);
  }
  const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}`);
}

/** Rejects with a clear message if `promise` has not settled within `timeoutMs`. */
export async function within<T>(what: string, timeoutMs: number, promise: Promise<T>): Promise<T> {
  const timer = sleep(timeoutMs, 'timeout' as const, { ref: false });
  const outcome = await Promise.race([promise.then((value) => ({ value })), timer]);
  if (outcome === 'timeout') throw new Error(`${what} did not happen within ${timeoutMs} ms`);
  return outcome.value;
}
