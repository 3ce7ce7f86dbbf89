import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { COMMON_ENV_DEFAULTS } from '../testing/common-env-defaults.js';
import { configErrorOf } from '../testing/config-error.js';
import { booleanVar, ConfigError, commonEnvShape, intVar, parseEnv, portVar } from './env.js';

/** The ConfigError `parse` throws; fails the test when it does not throw one. */
describe('parseEnv', () => {
  const schema = z.object({ COUNT: intVar(5, 1, 10), NAME: z.string().default('anon') });

  it('when nothing is set, then every default applies', () => {
    expect(parseEnv(schema, {})).toEqual({ COUNT: 5, NAME: 'anon' });
  });

  it('when a variable is an empty string, then it counts as unset and its default applies', () => {
    expect(parseEnv(schema, { COUNT: '', NAME: '' })).toEqual({ COUNT: 5, NAME: 'anon' });
  });

  it('when a variable is only whitespace, then it counts as unset', () => {
    expect(parseEnv(schema, { COUNT: '   ' })).toEqual({ COUNT: 5, NAME: 'anon' });
  });

  it('when a value has surrounding whitespace, then it is trimmed', () => {
    expect(parseEnv(schema, { COUNT: ' 7 ', NAME: '  bob ' })).toEqual({ COUNT: 7, NAME: 'bob' });
  });

  it('when the source has variables the schema does not know, then they are ignored', () => {
    expect(parseEnv(schema, { PATH: '/usr/bin', HOME: '/root' })).toEqual({ COUNT: 5, NAME: 'anon' });
  });

  it('when a variable is undefined, then it counts as unset', () => {
    expect(parseEnv(schema, { COUNT: undefined })).toEqual({ COUNT: 5, NAME: 'anon' });
  });

  it('when a variable is bad, then it throws a ConfigError', () => {
    expect(() => parseEnv(schema, { COUNT: 'many' })).toThrow(ConfigError);
  });

  it('when several variables are bad, then one ConfigError names every one of them', () => {
    const strict = z.object({ A: intVar(1, 0, 9), B: booleanVar(false), C: intVar(1, 0, 9) });
    const error = configErrorOf(() => parseEnv(strict, { A: 'x', B: 'maybe', C: '99' }));
    expect(error.problems).toHaveLength(3);
    expect(error.message).toMatch(/\bA: /);
    expect(error.message).toMatch(/\bB: /);
    expect(error.message).toMatch(/\bC: /);
  });

  it('when a variable is bad, then the message quotes the value it got', () => {
    const error = configErrorOf(() => parseEnv(schema, { COUNT: 'many' }));
    expect(error.problems).toEqual(['COUNT: must be a whole number (got "many")']);
  });

  it('when a ConfigError is thrown, then its name is ConfigError and its message starts with a headline', () => {
    const error = configErrorOf(() => parseEnv(schema, { COUNT: '0' }));
    expect(error.name).toBe('ConfigError');
    expect(error.message.split('\n')[0]).toBe('Invalid configuration:');
    expect(error.message).toContain('  - COUNT: must be >= 1 (got "0")');
  });
});

describe('intVar', () => {
  const parse = (value: string | undefined) => parseEnv(z.object({ N: intVar(5, 1, 10) }), { N: value }).N;
  const problem = (value: string) => configErrorOf(() => parse(value)).problems[0];

  it('when unset, then the default is used', () => {
    expect(parse(undefined)).toBe(5);
  });

  it.each([
    ['1', 1],
    ['10', 10],
    ['7', 7],
  ])('when %s (within the inclusive bounds), then it parses to %i', (raw, expected) => {
    expect(parse(raw)).toBe(expected);
  });

  it.each([
    ['abc', 'must be a whole number'],
    ['5abc', 'must be a whole number'],
    ['Infinity', 'must be a whole number'],
    ['0x1F40', 'must be a whole number'],
    ['8e3', 'must be a whole number'],
    ['0b1', 'must be a whole number'],
    ['5.5', 'must be a whole number'],
    ['0', 'must be >= 1'],
    ['-3', 'must be >= 1'],
    ['11', 'must be <= 10'],
  ])('when %s, then it is rejected with "%s"', (raw, message) => {
    expect(problem(raw)).toBe(`N: ${message} (got "${raw}")`);
  });
});

describe('portVar', () => {
  const parse = (value: string) => parseEnv(z.object({ PORT: portVar(8000) }), { PORT: value }).PORT;

  it.each([
    ['1', 1],
    ['65535', 65535],
  ])('when %s, then it is a valid port', (raw, expected) => {
    expect(parse(raw)).toBe(expected);
  });

  it.each(['0', '65536', '-1', 'http'])('when %s, then it is rejected', (raw) => {
    expect(() => parse(raw)).toThrow(ConfigError);
  });
});

describe('booleanVar', () => {
  const parse = (value: string | undefined, fallback = false) =>
    parseEnv(z.object({ FLAG: booleanVar(fallback) }), { FLAG: value }).FLAG;

  it.each(['true', 'TRUE', 'True', '1', 'yes', 'YES', 'on', 'On', ' true '])(
    'when %j, then it is true',
    (raw) => {
      expect(parse(raw)).toBe(true);
    },
  );

  it.each(['false', 'FALSE', '0', 'no', 'No', 'off', 'OFF'])('when %j, then it is false', (raw) => {
    expect(parse(raw, true)).toBe(false);
  });

  it.each([
    [undefined, true],
    [undefined, false],
    ['', true],
  ])('when %j, then the default (%s) applies', (raw, fallback) => {
    expect(parse(raw, fallback)).toBe(fallback);
  });

  it.each(['maybe', 'enabled', '2', 'y', 't'])(
    'when %j, then it is an error rather than silently false',
    (raw) => {
      expect(configErrorOf(() => parse(raw)).problems).toEqual([
        `FLAG: must be true or false (got "${raw}")`,
      ]);
    },
  );
});

describe('commonEnvShape', () => {
  const common = z.object(commonEnvShape);

  it('when nothing is set, then the documented defaults apply', () => {
    expect(parseEnv(common, {})).toEqual(COMMON_ENV_DEFAULTS);
  });

  it.each(['10.0.0.0/33', 'proxy.internal', '192.0.2.1/8/1', '::1/129', '192.0.2.1/x'])(
    'when TRUSTED_PROXIES contains %s, then it is rejected',
    (entry) => {
      expect(() => parseEnv(common, { TRUSTED_PROXIES: `192.0.2.1,${entry}` })).toThrow(/TRUSTED_PROXIES/);
    },
  );

  it('when CORS_ORIGINS lists origins with spaces and empty entries, then it yields the clean list', () => {
    const env = parseEnv(common, { CORS_ORIGINS: 'https://a.example.com, ,http://b.example.org:8080,' });
    expect(env.CORS_ORIGINS).toEqual(['https://a.example.com', 'http://b.example.org:8080']);
  });

  it.each(['ftp://files.example.com', 'example.com', 'javascript:alert(1)'])(
    'when CORS_ORIGINS contains %s, then it is rejected',
    (origin) => {
      expect(() => parseEnv(common, { CORS_ORIGINS: `https://ok.example.com,${origin}` })).toThrow(
        /CORS_ORIGINS/,
      );
    },
  );

  it('when LOG_LEVEL is not a pino level, then the message lists the allowed levels', () => {
    const error = configErrorOf(() => parseEnv(common, { LOG_LEVEL: 'loud' }));
    expect(error.problems[0]).toContain('must be one of fatal, error, warn, info, debug, trace, silent');
  });

  it('when MAX_RESPONSE_BYTES is below 512 KiB (one largest order must fit a page), then it is rejected', () => {
    expect(() => parseEnv(common, { MAX_RESPONSE_BYTES: '100000' })).toThrow(
      /MAX_RESPONSE_BYTES: must be >= 524288/,
    );
  });

  it('when BODY_LIMIT_BYTES is below 1 KiB, then it is rejected', () => {
    expect(() => parseEnv(common, { BODY_LIMIT_BYTES: '100' })).toThrow(/BODY_LIMIT_BYTES: must be >= 1024/);
  });

  it('when APP_VERSION is longer than 64 characters, then it is rejected', () => {
    expect(() => parseEnv(common, { APP_VERSION: 'v'.repeat(65) })).toThrow(/APP_VERSION/);
  });
});

describe('secrets in configuration errors', () => {
  it.each(['DATABASE_URL', 'API_TOKEN', 'DB_PASSWORD', 'SIGNING_KEY'])(
    'when %s is invalid, then the message names it without repeating its value',
    (name) => {
      const secretSchema = z.object({ [name]: z.url() });
      const error = configErrorOf(() => parseEnv(secretSchema, { [name]: 'not a url hunter2' }));
      expect(error.message).toContain(name);
      expect(error.message).not.toContain('hunter2');
    },
  );
});

describe('CORS_ORIGINS entries', () => {
  const cors = z.object({ CORS_ORIGINS: commonEnvShape.CORS_ORIGINS });
  it.each(['https://app.example.com/', 'https://app.example.com/app', 'https://app.example.com?x=1'])(
    'when an entry is not a bare origin (%s), then it is rejected',
    (value) => {
      expect(() => parseEnv(cors, { CORS_ORIGINS: value })).toThrow(/CORS_ORIGINS/);
    },
  );

  it('when entries are bare origins, then they parse into a list', () => {
    expect(
      parseEnv(cors, { CORS_ORIGINS: 'https://a.example.com, http://localhost:3000' }).CORS_ORIGINS,
    ).toEqual(['https://a.example.com', 'http://localhost:3000']);
  });
});
