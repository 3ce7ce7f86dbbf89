import { configErrorOf } from '@microservices/service-kit/testing';
import { describe, expect, it } from 'vitest';
import { parseOrderServiceEnv } from './env.js';

const configError = (source: Record<string, string>) => configErrorOf(() => parseOrderServiceEnv(source));

describe('parseOrderServiceEnv', () => {
  it('when nothing is set, then it answers the documented defaults', () => {
    expect(parseOrderServiceEnv({})).toMatchObject({
      PORT: 8001,
      USER_SERVICE_URL: 'http://127.0.0.1:8000',
      USER_SERVICE_TIMEOUT_MS: 1_000,
      USER_SERVICE_DEADLINE_MS: 2_500,
      USER_SERVICE_RETRIES: 2,
      USER_SERVICE_RETRY_BASE_MS: 50,
      USER_SERVICE_BREAKER_THRESHOLD: 5,
      USER_SERVICE_BREAKER_HALF_OPEN_MS: 5_000,
      USER_SERVICE_CONNECTIONS: 64,
      USER_CACHE_ENABLED: true,
      USER_CACHE_TTL_MS: 30_000,
      USER_CACHE_MAX_ENTRIES: 10_000,
    });
  });

  it('when values are set, then they are parsed to their types', () => {
    const env = parseOrderServiceEnv({
      PORT: '9001',
      USER_SERVICE_URL: 'https://users.internal:8443',
      USER_SERVICE_TIMEOUT_MS: '200',
      USER_SERVICE_DEADLINE_MS: '600',
      USER_SERVICE_RETRIES: '0',
      USER_CACHE_ENABLED: 'off',
      USER_CACHE_TTL_MS: '5000',
    });
    expect(env).toMatchObject({
      PORT: 9001,
      USER_SERVICE_URL: 'https://users.internal:8443',
      USER_SERVICE_TIMEOUT_MS: 200,
      USER_SERVICE_DEADLINE_MS: 600,
      USER_SERVICE_RETRIES: 0,
      USER_CACHE_ENABLED: false,
      USER_CACHE_TTL_MS: 5_000,
    });
  });

  it.each([
    ['true', true],
    ['FALSE', false],
    ['1', true],
    ['0', false],
    ['yes', true],
    ['no', false],
  ])('when USER_CACHE_ENABLED is %s, then the cache is %s', (value, enabled) => {
    expect(parseOrderServiceEnv({ USER_CACHE_ENABLED: value }).USER_CACHE_ENABLED).toBe(enabled);
  });

  it('when a variable is empty or blank, then its default applies', () => {
    const env = parseOrderServiceEnv({ PORT: '', USER_SERVICE_URL: '  ', USER_CACHE_ENABLED: '' });
    expect(env).toMatchObject({
      PORT: 8001,
      USER_SERVICE_URL: 'http://127.0.0.1:8000',
      USER_CACHE_ENABLED: true,
    });
  });

  it('when several variables are bad, then one ConfigError names every one of them', () => {
    const err = configError({
      USER_SERVICE_URL: 'ftp://x',
      USER_SERVICE_RETRIES: '-1',
      USER_CACHE_ENABLED: 'maybe',
      PORT: '70000',
      USER_CACHE_TTL_MS: 'soon',
    });
    for (const name of [
      'USER_SERVICE_URL',
      'USER_SERVICE_RETRIES',
      'USER_CACHE_ENABLED',
      'PORT',
      'USER_CACHE_TTL_MS',
    ]) {
      expect(err.message).toContain(name);
    }
    expect(err.problems).toHaveLength(5);
  });

  it('when a variable is bad, then the message shows the value it got', () => {
    const err = configError({ USER_SERVICE_URL: 'ftp://x' });
    expect(err.message).toContain('USER_SERVICE_URL: must be an http(s) URL (got "ftp://x")');
  });

  it.each([
    ['USER_SERVICE_URL', 'not a url'],
    ['USER_SERVICE_TIMEOUT_MS', '5'],
    ['USER_SERVICE_RETRIES', '11'],
    ['USER_SERVICE_RETRIES', '1.5'],
    ['USER_SERVICE_BREAKER_THRESHOLD', '0'],
    ['USER_SERVICE_BREAKER_HALF_OPEN_MS', '99'],
    ['USER_CACHE_TTL_MS', '0'],
    ['USER_CACHE_MAX_ENTRIES', '0'],
    ['USER_SERVICE_CONNECTIONS', '0'],
  ])('when %s is %s, then it is rejected by name', (name, value) => {
    expect(configError({ [name]: value }).message).toContain(name);
  });

  it('when the deadline is shorter than one attempt’s timeout, then the deadline is rejected', () => {
    const err = configError({ USER_SERVICE_TIMEOUT_MS: '3000', USER_SERVICE_DEADLINE_MS: '2000' });
    expect(err.problems).toEqual([
      'USER_SERVICE_DEADLINE_MS: must be >= USER_SERVICE_TIMEOUT_MS (got "2000")',
    ]);
  });

  it('when the deadline is too short and another variable is bad, then both are reported together', () => {
    const err = configError({
      USER_SERVICE_URL: 'ftp://x',
      USER_SERVICE_TIMEOUT_MS: '3000',
      USER_SERVICE_DEADLINE_MS: '2000',
    });
    expect(err.problems.map((p) => p.split(':')[0])).toEqual([
      'USER_SERVICE_URL',
      'USER_SERVICE_DEADLINE_MS',
    ]);
  });

  it('when the deadline equals the timeout, then it is accepted', () => {
    const env = parseOrderServiceEnv({ USER_SERVICE_TIMEOUT_MS: '2000', USER_SERVICE_DEADLINE_MS: '2000' });
    expect(env.USER_SERVICE_DEADLINE_MS).toBe(2_000);
  });

  it('when only the timeout is raised above the default deadline, then the default deadline is rejected', () => {
    const err = configError({ USER_SERVICE_TIMEOUT_MS: '3000' });
    expect(err.message).toContain('USER_SERVICE_DEADLINE_MS');
  });
});
