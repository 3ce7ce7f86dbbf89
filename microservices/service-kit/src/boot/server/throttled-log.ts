import type { Logger } from 'pino';

export type ThrottledLog = (key: string, fields: Record<string, unknown>, message: string) => void;

/**
 * A warning at most once per `intervalMs` per `key`, carrying how many were suppressed since the last one:
 * what an attack triggers thousands of times a second must not become thousands of log lines.
 */
export function throttledWarn(
  logger: Logger,
  intervalMs: number,
  now: () => number = Date.now,
): ThrottledLog {
  const state = new Map<string, { at: number; suppressed: number }>();
  return (key, fields, message) => {
    const t = now();
    const entry = state.get(key);
    if (entry && t - entry.at < intervalMs) {
      entry.suppressed += 1;
      return;
    }
    logger.warn({ ...fields, suppressed: entry?.suppressed ?? 0 }, message);
    state.set(key, { at: t, suppressed: 0 });
  };
}
