import { afterEach, describe, expect, it, vi } from 'vitest';
import { captureLogger } from '../testing/capture-logger.js';
import { isoTimeOncePerMillisecond } from './logger.js';

describe('log timestamps', () => {
  afterEach(() => vi.useRealTimers());

  it('writes the ISO time of the millisecond each line is written in', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { lines, logger } = captureLogger();
    vi.setSystemTime(new Date('2026-11-22T09:00:00.123Z'));
    logger.info('first');
    logger.info('same millisecond');
    vi.setSystemTime(new Date('2026-11-22T09:00:00.124Z'));
    logger.info('next millisecond');
    vi.setSystemTime(new Date('2027-01-01T00:00:00.000Z'));
    logger.info('much later');
    expect(lines().map((l) => l.time)).toEqual([
      '2026-11-22T09:00:00.123Z',
      '2026-11-22T09:00:00.123Z',
      '2026-11-22T09:00:00.124Z',
      '2027-01-01T00:00:00.000Z',
    ]);
    expect(lines()[0]).toMatchObject({ level: 'info', service: 'test', msg: 'first' });
  });

  it('is the fragment pino splices into a line', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-11-22T09:00:00.500Z'));
    expect(isoTimeOncePerMillisecond()).toBe(',"time":"2026-11-22T09:00:00.500Z"');
  });
});
