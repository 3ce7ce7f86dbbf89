import type { Clock } from '../base/clock.js';

/** A clock tests move by hand. */
export class FakeClock implements Clock {
  #now: number;
  constructor(start = '2026-01-01T00:00:00.000Z') {
    this.#now = Date.parse(start);
  }
  now(): Date {
    return new Date(this.#now);
  }
  advance(ms: number): void {
    this.#now += ms;
  }
}
