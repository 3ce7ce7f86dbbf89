import type { Logger } from 'pino';
import { ConfigError } from './env.js';

/**
 * Parses configuration or ends the process with exit code 1 and one message naming every bad variable.
 * Only `main.ts` calls this.
 */
export function loadConfigOrExit<T>(service: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`${service}: ${err.message}`);
      process.exit(1);
    }
    throw err;
  }
}

/**
 * SIGTERM (Kubernetes, docker stop) and SIGINT (Ctrl-C) start the graceful shutdown; the process exits 0
 * when it drained in time. A second signal exits at once, for the impatient Ctrl-C.
 */
export function exitOnSignals(
  shutdown: (reason: string) => Promise<boolean>,
  logger: Logger,
  /** Flushes and closes the log destination; called right before exit so no line is lost. */
  closeLogs: () => Promise<void>,
): void {
  const exitAfterLogs = (code: number) => {
    const exit = () => process.exit(code);
    closeLogs().then(exit, exit);
  };
  let received = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (received) {
      logger.warn({ signal }, 'second signal: exiting without waiting');
      logger.flush();
      process.exit(1);
    }
    received = true;
    shutdown(signal).then(
      (drained) => exitAfterLogs(drained ? 0 : 1),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        exitAfterLogs(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled promise rejection'));
}
