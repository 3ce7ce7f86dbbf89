import type { Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Lifecycle } from '../base/lifecycle.js';

export interface GracefulShutdownOptions {
  server: Server;
  lifecycle: Lifecycle;
  logger: Logger;
  /** Time to keep serving after readiness turns 503, so load balancers stop sending new traffic first. */
  delayMs: number;
  /** Upper bound for in-flight requests to finish once the listener is closed. */
  timeoutMs: number;
  /** Released in order after the server has stopped (outbound dispatcher, store, ...). */
  resources: ReadonlyArray<{ name: string; close: () => Promise<void> }>;
}

/**
 * Returns an idempotent `shutdown(reason)`:
 * readiness 503 → wait `delayMs` (endpoints propagate) → stop accepting → let in-flight requests
 * finish within `timeoutMs`, closing idle keep-alive sockets as they free up → release resources.
 * Resolves `true` when everything drained in time.
 */
export function createGracefulShutdown(
  options: GracefulShutdownOptions,
): (reason: string) => Promise<boolean> {
  let running: Promise<boolean> | undefined;
  return (reason) => {
    running ??= drain(options, reason);
    return running;
  };
}

async function drain(options: GracefulShutdownOptions, reason: string): Promise<boolean> {
  const { server, lifecycle, logger } = options;
  const started = performance.now();
  lifecycle.beginDrain();
  logger.info(
    { reason, delay_ms: options.delayMs, timeout_ms: options.timeoutMs },
    'shutdown started: readiness now 503',
  );
  if (options.delayMs > 0) await sleep(options.delayMs);

  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  // Keep-alive sockets are idle between requests; closing them as they go idle lets clients reconnect elsewhere.
  const idleSweep = setInterval(() => server.closeIdleConnections(), 100);
  server.closeIdleConnections();
  const timedOut = await Promise.race([
    closed.then(() => false),
    sleep(options.timeoutMs, true, { ref: false }),
  ]);
  clearInterval(idleSweep);
  if (timedOut) {
    logger.warn(
      { timeout_ms: options.timeoutMs },
      'in-flight requests did not finish in time; closing connections',
    );
    server.closeAllConnections();
  }

  for (const resource of options.resources) {
    try {
      await resource.close();
    } catch (err) {
      logger.warn({ err, resource: resource.name }, 'resource failed to close cleanly');
    }
  }
  logger.info(
    { duration_ms: Math.round(performance.now() - started), drained: !timedOut },
    'shutdown complete',
  );
  return !timedOut;
}
