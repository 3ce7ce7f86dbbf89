import { z } from 'zod';

/**
 * An integer env var within [min, max]. Only plain decimal digits: `0x1F40` or `8e3` are typos far more
 * often than intent, and coercion would silently turn them into a different port.
 */
export const intVar = (defaultValue: number, min: number, max: number) =>
  z
    .string()
    .regex(/^[+-]?\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().min(min, `must be >= ${min}`).max(max, `must be <= ${max}`))
    .optional()
    .transform((v) => v ?? defaultValue);

/** A decimal number within [min, max] (fractions allowed, no hex or exponents); required unless made optional. */
export const decimalVar = (min: number, max: number) =>
  z
    .string()
    .regex(/^[+-]?(\d+(\.\d*)?|\.\d+)$/, 'must be a decimal number')
    .transform(Number)
    .pipe(z.number().min(min, `must be >= ${min}`).max(max, `must be <= ${max}`));

/** A decimal number env var within [min, max], `defaultValue` when unset. */
export const numberVar = (defaultValue: number, min: number, max: number) =>
  decimalVar(min, max)
    .optional()
    .transform((v) => v ?? defaultValue);

/** `true/false/1/0/yes/no/on/off`, case-insensitive; anything else is an error rather than silently false. */
export const booleanVar = (defaultValue: boolean) =>
  z
    .string()
    .toLowerCase()
    .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'], { error: 'must be true or false' }))
    .transform((v) => v === 'true' || v === '1' || v === 'yes' || v === 'on')
    .optional()
    .transform((v) => v ?? defaultValue);

export const portVar = (defaultValue: number) => intVar(defaultValue, 1, 65535);

/** A comma-separated variable as a list of trimmed, non-empty entries, each checked by `entry`. */
export const commaList = (entry: z.ZodType<string, string>) =>
  z
    .string()
    .transform((raw) =>
      raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .pipe(z.array(entry))
    .default([]);
