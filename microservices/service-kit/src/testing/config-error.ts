import { ConfigError } from '../boot/env.js';

/** The ConfigError `parse` throws; fails the test if it throws something else or nothing. */
export function configErrorOf(parse: () => unknown): ConfigError {
  try {
    parse();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError, but parsing succeeded');
}
