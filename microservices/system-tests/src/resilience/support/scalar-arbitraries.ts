import fc from 'fast-check';
import { type JsonType, listTypes, type SchemaObject, stricter, typeMatches } from './json-schema-subset.js';

/**
 * Valid and invalid values for the leaves of a schema: integers, numbers, strings and string formats, plus
 * values of the wrong JSON type. Arrays, objects and combinators are built on these in schema-arbitraries.ts.
 */

/** One value of each JSON type, for "wrong type" mutations. */
const TYPE_SAMPLES: readonly unknown[] = [
  null,
  true,
  false,
  0,
  7,
  -1,
  2.5,
  '',
  'text',
  '42',
  [],
  [1],
  {},
  { a: 1 },
];

const codePoints = (s: string) => [...s].length;

/** Formats the generator knows: a valid value, and values that are strings but not of the format. */
const FORMATS: Record<string, { valid: () => fc.Arbitrary<string>; invalid: readonly string[] }> = {
  email: {
    // Mostly plain addresses a strict validator also accepts, sometimes the full RFC 5322 range.
    valid: () =>
      fc.oneof(
        {
          arbitrary: fc.stringMatching(
            /^[a-z][a-z0-9]{0,7}([._][a-z0-9]{1,7})?@[a-z]{2,12}\.(com|org|net|io)$/,
          ),
          weight: 3,
        },
        { arbitrary: fc.emailAddress(), weight: 1 },
      ),
    invalid: ['plainaddress', '@example.com', 'a@', 'a b@example.com', 'a@b@example.com', 'a@example..com'],
  },
  uuid: {
    valid: () => fc.uuid(),
    invalid: [
      'not-a-uuid',
      '1234',
      'g0000000-0000-4000-8000-000000000000',
      '00000000-0000-4000-8000-00000000000',
    ],
  },
  'date-time': {
    valid: () => isoDates().map((d) => d.toISOString()),
    invalid: ['yesterday', '2024-13-01T00:00:00Z', '2024-01-01 25:00', '2024-01-01T00:00:00'],
  },
  date: {
    valid: () => isoDates().map((d) => d.toISOString().slice(0, 10)),
    invalid: ['2024-02-30', '24-1-1'],
  },
  uri: { valid: () => fc.webUrl(), invalid: ['not a uri', 'example.com/path', '::'] },
  hostname: { valid: () => fc.domain(), invalid: ['-bad-.example', 'a..b', 'under_score.example'] },
  ipv4: { valid: () => fc.ipV4(), invalid: ['256.0.0.1', '1.2.3', 'localhost'] },
  ipv6: { valid: () => fc.ipV6(), invalid: ['12345::', ':::1', 'localhost'] },
};

/** Strings a pattern is tried against for a known miss (a filter that never passes would spin forever). */
const PATTERN_MISS_CANDIDATES = ['', ' ', 'a b', '\t', 'é', '\u0000', '😀', '<script>'];

function isoDates() {
  return fc.date({
    min: new Date('1970-01-01T00:00:00Z'),
    max: new Date('2100-01-01T00:00:00Z'),
    noInvalidDate: true,
  });
}

/** Values of none of `types`; empty when every sample fits one of them. */
export function wrongTypes(types: readonly JsonType[]): fc.Arbitrary<unknown>[] {
  const wrong = TYPE_SAMPLES.filter((v) => !types.some((t) => typeMatches(t, v)));
  return wrong.length > 0 ? [fc.constantFrom(...wrong)] : [];
}

/** The smallest and largest integers a numeric schema allows (within the safe range). */
function integerBounds(schema: SchemaObject): [number, number] {
  let min = Number.MIN_SAFE_INTEGER;
  let max = Number.MAX_SAFE_INTEGER;
  if (schema.minimum !== undefined) min = Math.max(min, Math.ceil(schema.minimum));
  if (schema.exclusiveMinimum !== undefined) min = Math.max(min, Math.floor(schema.exclusiveMinimum) + 1);
  if (schema.maximum !== undefined) max = Math.min(max, Math.floor(schema.maximum));
  if (schema.exclusiveMaximum !== undefined) max = Math.min(max, Math.ceil(schema.exclusiveMaximum) - 1);
  return [min, max];
}

export function integers(schema: SchemaObject): fc.Arbitrary<number> {
  const [min, max] = integerBounds(schema);
  const step = schema.multipleOf;
  if (step === undefined) return fc.integer({ min, max });
  if (!Number.isInteger(step)) throw new Error(`integer multipleOf ${step} is not supported`);
  return fc.integer({ min: Math.ceil(min / step), max: Math.floor(max / step) }).map((k) => k * step);
}

function inNumberRange(schema: SchemaObject, v: number): boolean {
  return (
    (schema.minimum === undefined || v >= schema.minimum) &&
    (schema.exclusiveMinimum === undefined || v > schema.exclusiveMinimum) &&
    (schema.maximum === undefined || v <= schema.maximum) &&
    (schema.exclusiveMaximum === undefined || v < schema.exclusiveMaximum) &&
    // Ajv's own test for multipleOf.
    (schema.multipleOf === undefined || Number.isInteger(v / schema.multipleOf))
  );
}

/**
 * Numbers in range: mostly whole and two-decimal values (what prices and amounts look like, so requests
 * get past business rules), sometimes any double.
 */
export function numbers(schema: SchemaObject): fc.Arbitrary<number> {
  const min = stricter(Math.max, schema.minimum, schema.exclusiveMinimum) ?? -1e12;
  const max = stricter(Math.min, schema.maximum, schema.exclusiveMaximum) ?? 1e12;
  const inRange = (v: number) => inNumberRange(schema, v);
  if (schema.multipleOf !== undefined) {
    const step = schema.multipleOf;
    return fc
      .integer({ min: Math.ceil(min / step), max: Math.floor(max / step) })
      .map((k) => k * step)
      .filter(inRange);
  }
  const cents = fc
    .integer({ min: Math.ceil(Math.max(min, -1e12) * 100), max: Math.floor(Math.min(max, 1e12) * 100) })
    .map((c) => c / 100)
    .filter(inRange);
  const doubles = fc.double({
    min,
    max,
    minExcluded: schema.exclusiveMinimum !== undefined && min === schema.exclusiveMinimum,
    maxExcluded: schema.exclusiveMaximum !== undefined && max === schema.exclusiveMaximum,
    noNaN: true,
    noDefaultInfinity: true,
  });
  return fc.oneof({ arbitrary: cents, weight: 9 }, { arbitrary: doubles.filter(inRange), weight: 1 });
}

export function strings(schema: SchemaObject): fc.Arbitrary<string> {
  const minLength = schema.minLength ?? 0;
  const { maxLength } = schema;
  const pattern = schema.pattern === undefined ? undefined : new RegExp(schema.pattern, 'u');
  const fits = (s: string) =>
    codePoints(s) >= minLength &&
    (maxLength === undefined || codePoints(s) <= maxLength) &&
    (pattern === undefined || pattern.test(s));
  const format = schema.format === undefined ? undefined : FORMATS[schema.format];
  if (format) return format.valid().filter(fits);
  if (pattern) return fc.stringMatching(pattern).filter(fits);
  const bounds = { minLength, ...(maxLength === undefined ? {} : { maxLength }) };
  const options = [
    { arbitrary: fc.string({ ...bounds, unit: 'grapheme-ascii' }), weight: 4 },
    // One unit is one code point, as JSON Schema counts length.
    { arbitrary: fc.string({ ...bounds, unit: 'binary' }), weight: 1 },
  ];
  if (maxLength !== undefined) {
    options.push({
      arbitrary: fc.string({ minLength: maxLength, maxLength, unit: 'grapheme-ascii' }),
      weight: 1,
    });
  }
  return fc.oneof(...options);
}

/** Numbers outside the range, fractions for integers, and values off the `multipleOf` grid. */
export function numberViolations(schema: SchemaObject): fc.Arbitrary<unknown>[] {
  const out: fc.Arbitrary<unknown>[] = [];
  const [min, max] = integerBounds(schema);
  // Whole numbers just outside the range break it for "integer" and "number" alike.
  if (min > Number.MIN_SAFE_INTEGER) {
    out.push(fc.integer({ min: Math.max(Number.MIN_SAFE_INTEGER, min - 1_000_000), max: min - 1 }));
    out.push(fc.constant(-1e308));
  }
  if (max < Number.MAX_SAFE_INTEGER) {
    out.push(fc.integer({ min: max + 1, max: Math.min(Number.MAX_SAFE_INTEGER, max + 1_000_000) }));
    out.push(fc.constant(1e308));
  }
  const types = listTypes(schema.type);
  if (types?.includes('integer') && !types.includes('number')) {
    out.push(fc.integer({ min: -1000, max: 1000 }).map((n) => n + 0.5));
  }
  const step = schema.multipleOf;
  if (step !== undefined) {
    out.push(
      fc
        .integer({ min: -1000, max: 1000 })
        .map((k) => k * step + step / 2)
        .filter((v) => !Number.isInteger(v / step)),
    );
  }
  return out;
}

/** Strings too short or too long, missing the pattern, or not of the format. */
export function stringViolations(schema: SchemaObject): fc.Arbitrary<unknown>[] {
  const out: fc.Arbitrary<unknown>[] = [];
  const { minLength, maxLength } = schema;
  if (minLength !== undefined && minLength > 0) {
    out.push(fc.string({ maxLength: minLength - 1, unit: 'grapheme-ascii' }));
  }
  if (maxLength !== undefined) {
    out.push(
      fc.oneof(
        fc.string({ minLength: maxLength + 1, maxLength: maxLength + 8, unit: 'grapheme-ascii' }),
        fc.constantFrom(maxLength * 2 + 1, Math.max(maxLength + 1, 65_536)).map((n) => 'x'.repeat(n)),
      ),
    );
  }
  if (schema.pattern !== undefined) {
    const pattern = new RegExp(schema.pattern, 'u');
    const misses = PATTERN_MISS_CANDIDATES.filter((s) => !pattern.test(s));
    // Only with a known miss: a filter that never passes would spin forever.
    if (misses.length > 0) {
      out.push(
        fc
          .oneof(fc.constantFrom(...misses), fc.string({ unit: 'binary', maxLength: 8 }))
          .filter((s) => !pattern.test(s)),
      );
    }
  }
  const format = schema.format === undefined ? undefined : FORMATS[schema.format];
  if (format) out.push(fc.constantFrom(...format.invalid));
  return out;
}
