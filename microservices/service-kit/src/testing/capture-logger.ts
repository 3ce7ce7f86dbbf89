import { Writable } from 'node:stream';
import type { Logger } from 'pino';
import { createLogger } from '../base/logger.js';

/** The services' real logger configuration, with its JSON lines kept in memory for assertions. */
export function captureLogger(level = 'info'): {
  logger: Logger;
  lines: () => Array<Record<string, unknown>>;
} {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  const logger = createLogger({ level, service: 'test', version: '0.0.0' }, sink);
  const lines = () =>
    chunks
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, lines };
}
