import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';

export type { Logger } from 'pino';

export interface LoggerConfig {
  level: string;
  service: string;
  version: string;
}

/**
 * Paths that must never reach a log line even if someone logs a whole object by mistake.
 * Bodies are not logged at all; this is the second line of defence.
 */
const REDACTED_PATHS = [
  'email',
  '*.email',
  'password',
  '*.password',
  'headers.authorization',
  'headers.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
  'databaseUrl',
  '*.databaseUrl',
  // node-postgres attaches the client, connection parameters and password included, to some errors.
  'err.client',
  'error.client',
];

let lastMillisecond = Number.NaN;
let lastTimestamp = '';

/**
 * pino's ISO `time` field, formatted once per millisecond rather than once per line: under load many
 * lines share a millisecond, and formatting the date measured as about a quarter of an access line's cost.
 */
export function isoTimeOncePerMillisecond(): string {
  const now = Date.now();
  if (now !== lastMillisecond) {
    lastMillisecond = now;
    lastTimestamp = `,"time":"${new Date(now).toISOString()}"`;
  }
  return lastTimestamp;
}

/** JSON logger with ISO timestamps, string levels and the service identity on every line. */
export function createLogger(config: LoggerConfig, destination?: DestinationStream): Logger {
  const options: LoggerOptions = {
    level: config.level,
    base: { service: config.service, version: config.version },
    timestamp: isoTimeOncePerMillisecond,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
  return destination ? pino(options, destination) : pino(options);
}

/**
 * Where log lines go: asynchronous stdout writes (kept off the request path), or a human-readable
 * stream when a person is watching a terminal. Deciding by TTY rather than NODE_ENV keeps
 * containers on JSON even when someone forgets to set NODE_ENV.
 */
export async function createLogDestination(options: { pretty: boolean }): Promise<DestinationStream> {
  if (options.pretty) {
    const { default: pretty } = await import('pino-pretty');
    return pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' });
  }
  return pino.destination({ dest: 1, sync: false, maxWrite: LOG_WRITE_BYTES });
}

/**
 * Largest single write of buffered log lines. sonic-boom measures the pending buffer's byte length on every
 * line, so a large buffer (its default is 16 KiB) costs more per line under load: 4 KiB measured about 15 %
 * more requests per second on a probe than the default (`npm run bench`), and it is PIPE_BUF, the size up to
 * which a write to a pipe (a container's stdout) is atomic, so lines from several writers never interleave.
 */
export const LOG_WRITE_BYTES = 4096;

/**
 * Ends a log destination and resolves once everything written so far has reached the file descriptor.
 * With asynchronous writes, `logger.flush(cb)` may call back while a write is still in flight, so a
 * process that exits from that callback can lose or reorder its last lines; ending the stream cannot.
 * Bounded by `timeoutMs` so a stuck stdout never prevents exit.
 */
export function closeLogDestination(destination: DestinationStream, timeoutMs = 2_000): Promise<void> {
  const stream = destination as Partial<NodeJS.WritableStream & { destroyed: boolean }>;
  if (typeof stream.end !== 'function' || typeof stream.once !== 'function' || stream.destroyed) {
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    stream.once?.('close', done);
    stream.once?.('finish', done);
    stream.once?.('error', done);
    stream.end?.();
  });
}

/** A logger that drops everything; for tests that do not look at logs. */
export const silentLogger = (): Logger => pino({ level: 'silent' });
