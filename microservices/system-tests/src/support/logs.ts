import { type PollOptions, pollUntil } from '@microservices/service-kit/testing';
import type { LogLine, RunningService } from './processes.js';

/** A JSON log line as the services write it (pino, string levels). */
export type LogRecord = Record<string, unknown> & { level?: string; msg?: string };

/** Only the JSON lines; every service log line should be one. */
export const jsonLogs = (lines: readonly LogLine[]): LogRecord[] =>
  lines.filter((line): line is LogRecord => typeof line === 'object');

/** Index of the first JSON line matching `predicate`, or -1. */
export const logIndex = (lines: readonly LogLine[], predicate: (line: LogRecord) => boolean): number =>
  lines.findIndex((line) => typeof line === 'object' && predicate(line));

/** Waits (bounded) until the service has written a line matching `predicate` and returns it. */
export function waitForLog(
  service: Pick<RunningService, 'name' | 'logs'>,
  what: string,
  predicate: (line: LogRecord) => boolean,
  options: PollOptions = { timeoutMs: 3_000, intervalMs: 10 },
): Promise<LogRecord> {
  return pollUntil(`${service.name} to log ${what}`, () => jsonLogs(service.logs()).find(predicate), options);
}
