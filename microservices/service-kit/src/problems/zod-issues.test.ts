import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  MAX_DETAIL_LENGTH,
  MAX_ECHOED_TEXT,
  MAX_LISTED_FIELD_ERRORS,
  summarizeFieldErrors,
  zodIssuesToFieldErrors,
} from './zod-issues.js';

const issuesOf = (schema: z.ZodType, value: unknown) => {
  const result = schema.safeParse(value);
  if (result.success) throw new Error('expected the value to be invalid');
  return result.error;
};

describe('zodIssuesToFieldErrors', () => {
  it('when there are more unknown keys than the cap, then MAX_LISTED_FIELD_ERRORS are listed and all are counted', () => {
    const body = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`k${i}`, 1]));
    const list = zodIssuesToFieldErrors(issuesOf(z.strictObject({}), body), 'body');
    expect(list.errors).toHaveLength(MAX_LISTED_FIELD_ERRORS);
    expect(list.total).toBe(500);
    expect(summarizeFieldErrors(list)).toContain('(and 497 more)');
  });

  it('when several issues each bring many keys, then the list still stops at the cap', () => {
    const schema = z.strictObject({ a: z.strictObject({}), b: z.strictObject({}) });
    const many = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`k${i}`, 1]));
    const list = zodIssuesToFieldErrors(issuesOf(schema, { a: many, b: many }), 'body');
    expect(list.errors).toHaveLength(MAX_LISTED_FIELD_ERRORS);
    expect(list.total).toBe(60);
  });

  it('when a key name is huge, then its path is clipped and the detail stays bounded', () => {
    const key = 'x'.repeat(100_000);
    const list = zodIssuesToFieldErrors(issuesOf(z.strictObject({}), { [key]: 1 }), 'body');
    expect(list.errors[0]?.path.length).toBe(MAX_ECHOED_TEXT);
    expect(list.errors[0]?.path.endsWith('…')).toBe(true);
    expect(summarizeFieldErrors(list).length).toBeLessThanOrEqual(MAX_DETAIL_LENGTH);
  });

  it('when there are a few errors, then each is listed as before', () => {
    const list = zodIssuesToFieldErrors(
      issuesOf(z.strictObject({ a: z.number() }), { a: 'x', b: 1 }),
      'body',
    );
    expect(list.errors.map((e) => e.path)).toEqual(['body.a', 'body.b']);
    expect(list.total).toBe(2);
  });
});
