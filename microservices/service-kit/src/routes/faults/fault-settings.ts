/** What injected faults do to API routes: nothing, delay, fail a share of requests, or refuse all. */
export const FAULT_MODES = ['normal', 'slow', 'error', 'down'] as const;
export type FaultMode = (typeof FAULT_MODES)[number];

/** Delay range for `slow`; each request waits a uniformly random time in [min, max] ms. */
export interface DelayRange {
  min: number;
  max: number;
}

export interface FaultSettings {
  mode: FaultMode;
  delayMs: DelayRange;
  /** Share of requests (0..1) that `error` answers with a 500 or a 503. */
  errorRate: number;
}

/** Longest delay `slow` may inject: beyond any sensible client timeout, short of blocking a shutdown for long. */
export const MAX_FAULT_DELAY_MS = 120_000;

export const DEFAULT_FAULT_SETTINGS: FaultSettings = {
  mode: 'normal',
  delayMs: { min: 1_000, max: 1_000 },
  errorRate: 0.5,
};

const DELAY = /^(\d+)(?:\s*-\s*(\d+))?$/;

/** Parses `"500"` or `"200-800"` (ms); returns an error message instead for anything else. */
export function parseDelayRange(text: string): DelayRange | string {
  const match = DELAY.exec(text.trim());
  if (!match) return 'must be milliseconds, e.g. 500, or a range, e.g. 200-800';
  const min = Number(match[1]);
  const max = match[2] === undefined ? min : Number(match[2]);
  if (min > max) return 'range must be low-high, e.g. 200-800';
  if (max > MAX_FAULT_DELAY_MS) return `must be at most ${MAX_FAULT_DELAY_MS} ms`;
  return { min, max };
}

export const formatDelayRange = ({ min, max }: DelayRange) => (min === max ? `${min}` : `${min}-${max}`);
