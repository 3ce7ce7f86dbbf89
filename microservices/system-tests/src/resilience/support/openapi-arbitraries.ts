import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';

/**
 * fast-check arbitraries derived from an OpenAPI 3.1 document: valid values and requests for every
 * operation, and mutated ones (each breaking the contract in one way, or probing the HTTP layer).
 *
 * Hand-written because the npm packages that do this either target fast-check 1 and draft-04
 * (`json-schema-fast-check` 0.0.x) or are not fast-check based (`openapi-fuzzer-core`). It reads the subset
 * of JSON Schema 2020-12 the services publish (see SUPPORTED) and throws on any other constraining keyword,
 * so a schema it cannot honour fails loudly instead of yielding "valid" values that are not.
 */

type JsonType = 'null' | 'boolean' | 'integer' | 'number' | 'string' | 'array' | 'object';
const JSON_TYPES: readonly JsonType[] = ['null', 'boolean', 'integer', 'number', 'string', 'array', 'object'];

/** A JSON Schema as an OpenAPI 3.1 document embeds it; only the keywords below are read. */
export type JsonSchema = boolean | SchemaObject;
export interface SchemaObject {
  $ref?: string;
  type?: JsonType | JsonType[];
  enum?: unknown[];
  const?: unknown;
  allOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  multipleOf?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: JsonSchema;
  // Annotations: read by nobody, listed so documents type-check.
  title?: string;
  description?: string;
  example?: unknown;
  default?: unknown;
}

const SUPPORTED = new Set<string>([
  '$ref',
  'type',
  'enum',
  'const',
  'allOf',
  'anyOf',
  'oneOf',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minLength',
  'maxLength',
  'pattern',
  'format',
  'items',
  'minItems',
  'maxItems',
  'uniqueItems',
  'properties',
  'required',
  'additionalProperties',
]);
/** Keywords that never constrain a value. */
const ANNOTATIONS = new Set<string>([
  '$schema',
  '$id',
  '$comment',
  'title',
  'description',
  'default',
  'example',
  'examples',
  'deprecated',
  'readOnly',
  'writeOnly',
  'contentMediaType',
  'contentEncoding',
  'discriminator',
  'externalDocs',
  'xml',
]);

/**
 * Values to use, for a `share` (0..1) of the time, for any parameter or property of this name instead of
 * values from its schema: existing ids, a few reused idempotency keys. They must be valid for the schema.
 */
export type Hints = Record<string, { arbitrary: fc.Arbitrary<unknown>; share: number }>;

const MAX_DEPTH = 8;
const anyJson = fc.jsonValue({ maxDepth: 2 });
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

function typeMatches(type: JsonType, value: unknown): boolean {
  switch (type) {
    case 'null':
      return value === null;
    case 'integer':
      return Number.isInteger(value);
    case 'array':
      return Array.isArray(value);
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    default:
      return typeof value === type;
  }
}

const listTypes = (type: SchemaObject['type']): JsonType[] | undefined =>
  type === undefined ? undefined : Array.isArray(type) ? type : [type];

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

function isoDates() {
  return fc.date({
    min: new Date('1970-01-01T00:00:00Z'),
    max: new Date('2100-01-01T00:00:00Z'),
    noInvalidDate: true,
  });
}

function decodePointer(root: unknown, ref: string): JsonSchema {
  if (!ref.startsWith('#')) throw new Error(`only local $refs are supported, got ${ref}`);
  let node: unknown = root;
  for (const raw of ref.slice(1).split('/').slice(1)) {
    const key = decodeURIComponent(raw).replaceAll('~1', '/').replaceAll('~0', '~');
    node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[key] : undefined;
    if (node === undefined) throw new Error(`$ref ${ref} does not resolve`);
  }
  return node as JsonSchema;
}

const hasConstraints = (schema: SchemaObject) => Object.keys(schema).some((k) => !ANNOTATIONS.has(k));

function assertSupported(schema: SchemaObject): void {
  for (const keyword of Object.keys(schema)) {
    if (!SUPPORTED.has(keyword) && !ANNOTATIONS.has(keyword)) {
      throw new Error(`JSON Schema keyword "${keyword}" is not supported: ${JSON.stringify(schema)}`);
    }
  }
}

const stricter = (pick: (a: number, b: number) => number, a?: number, b?: number) =>
  a === undefined ? b : b === undefined ? a : pick(a, b);

/**
 * Both schemas at once (for allOf). Exact for the keywords the documents use; combinations it cannot
 * express (two patterns, two anyOf) throw. `additionalProperties` is checked against the merged
 * properties, which is stricter than JSON Schema's per-branch rule: values stay valid.
 */
function mergeSchemas(a: SchemaObject, b: SchemaObject): SchemaObject {
  for (const key of ['pattern', 'anyOf', 'oneOf', 'multipleOf', 'format', 'const'] as const) {
    if (a[key] !== undefined && b[key] !== undefined && !isDeepStrictEqual(a[key], b[key])) {
      throw new Error(`cannot merge two different "${key}" in allOf`);
    }
  }
  const merged: SchemaObject = { ...a, ...b };
  const typesA = listTypes(a.type);
  const typesB = listTypes(b.type);
  if (typesA && typesB) {
    merged.type = JSON_TYPES.filter(
      (t) =>
        (typesA.includes(t) || (t === 'integer' && typesA.includes('number'))) &&
        (typesB.includes(t) || (t === 'integer' && typesB.includes('number'))),
    );
  }
  if (a.enum && b.enum) merged.enum = a.enum.filter((v) => b.enum?.some((w) => isDeepStrictEqual(v, w)));
  if (a.required && b.required) merged.required = [...new Set([...a.required, ...b.required])];
  if (a.properties && b.properties) {
    merged.properties = { ...a.properties };
    for (const [key, schema] of Object.entries(b.properties)) {
      const existing = a.properties[key];
      merged.properties[key] = existing === undefined ? schema : { allOf: [existing, schema] };
    }
  }
  for (const key of ['items', 'additionalProperties'] as const) {
    const [x, y] = [a[key], b[key]];
    if (x !== undefined && y !== undefined) merged[key] = { allOf: [x, y] };
  }
  for (const key of ['minimum', 'exclusiveMinimum', 'minLength', 'minItems'] as const) {
    const value = stricter(Math.max, a[key], b[key]);
    if (value !== undefined) merged[key] = value;
  }
  for (const key of ['maximum', 'exclusiveMaximum', 'maxLength', 'maxItems'] as const) {
    const value = stricter(Math.min, a[key], b[key]);
    if (value !== undefined) merged[key] = value;
  }
  return merged;
}

/** Generates valid and invalid values for the schemas of one document. */
export class SchemaArbitraries {
  constructor(
    readonly root: unknown,
    readonly hints: Hints = {},
  ) {}

  /** The schema with $refs followed and allOf merged: `true`, `false` or an object without $ref/allOf. */
  normalise(input: JsonSchema, depth = 0): JsonSchema {
    if (typeof input === 'boolean') return input;
    if (depth > MAX_DEPTH) throw new Error(`schema nested deeper than ${MAX_DEPTH} (recursive?)`);
    assertSupported(input);
    const { $ref, allOf, ...rest } = input;
    const parts: JsonSchema[] = [];
    if ($ref !== undefined) parts.push(decodePointer(this.root, $ref));
    if (allOf) parts.push(...allOf);
    if (parts.length === 0) return hasConstraints(rest) ? rest : true;
    let merged: true | SchemaObject = hasConstraints(rest) ? rest : true;
    for (const part of parts) {
      const next = this.normalise(part, depth + 1);
      if (next === false) return false;
      merged = next === true ? merged : merged === true ? next : mergeSchemas(merged, next);
    }
    return merged;
  }

  /** Values that validate against `schema`. */
  valid(input: JsonSchema, depth = 0): fc.Arbitrary<unknown> {
    const schema = this.normalise(input, depth);
    if (schema === true) return anyJson;
    if (schema === false) throw new Error('no value validates against the schema `false`');
    const { anyOf, oneOf, ...rest } = schema;
    // Each branch with the sibling keywords; for oneOf this assumes the branches do not overlap.
    const branches = anyOf ?? oneOf;
    if (branches) {
      const others: SchemaObject = anyOf && oneOf ? { ...rest, oneOf } : rest;
      return fc.oneof(...branches.map((b) => this.valid({ allOf: [others, b] }, depth + 1)));
    }
    if ('const' in schema) return fc.constant(schema.const);
    if (schema.enum) return fc.constantFrom(...schema.enum);
    const types = listTypes(schema.type) ?? inferTypes(schema);
    if (types.length === 0) throw new Error(`no type left in ${JSON.stringify(schema)}`);
    return fc.oneof(...types.map((type) => this.#validOfType(type, schema, depth + 1)));
  }

  /** Values that do not validate against `schema`, or undefined when every value does. */
  invalid(input: JsonSchema, depth = 0): fc.Arbitrary<unknown> | undefined {
    const schema = this.normalise(input, depth);
    if (schema === true) return undefined;
    if (schema === false) return anyJson;
    const { anyOf, oneOf, ...rest } = schema;
    const candidates: fc.Arbitrary<unknown>[] = [];
    const branches = anyOf ?? oneOf;
    if (branches) {
      // Breaking every branch at once is only certain with a type none of them allows.
      const branchTypes = branches.map((b) => {
        const n = this.normalise({ allOf: [rest, b] }, depth + 1);
        return typeof n === 'object' ? listTypes(n.type) : n ? undefined : [];
      });
      if (branchTypes.every((t) => t !== undefined)) {
        const allowed = new Set(branchTypes.flat());
        candidates.push(...wrongTypes([...allowed]));
      }
    }
    if ('const' in rest) {
      candidates.push(anyJson.filter((v) => !isDeepStrictEqual(v, rest.const)));
    }
    if (rest.enum) {
      const options = rest.enum;
      const nearMiss = fc
        .constantFrom(...options)
        .chain((e) =>
          typeof e === 'string' ? fc.constantFrom(e.toUpperCase(), `${e} `, ` ${e}`, `${e}x`, '') : anyJson,
        );
      candidates.push(
        fc.oneof(nearMiss, anyJson).filter((v) => !options.some((e) => isDeepStrictEqual(e, v))),
      );
    }
    const types = listTypes(rest.type);
    if (types) candidates.push(...wrongTypes(types));
    const allowed = types ?? JSON_TYPES;
    if (allowed.includes('integer') || allowed.includes('number')) candidates.push(...numberViolations(rest));
    if (allowed.includes('string')) candidates.push(...stringViolations(rest));
    if (allowed.includes('array')) candidates.push(...this.#arrayViolations(rest, depth + 1));
    if (allowed.includes('object')) candidates.push(...this.#objectViolations(rest, depth + 1));
    return candidates.length === 0 ? undefined : fc.oneof(...candidates);
  }

  /** The hint for `name` mixed with `arbitrary`, or `arbitrary` alone. */
  withHint(name: string, arbitrary: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
    const hint = this.hints[name];
    if (!hint) return arbitrary;
    const weight = Math.round(Math.min(1, Math.max(0, hint.share)) * 100);
    return fc.oneof({ arbitrary: hint.arbitrary, weight }, { arbitrary, weight: 100 - weight });
  }

  #validOfType(type: JsonType, schema: SchemaObject, depth: number): fc.Arbitrary<unknown> {
    switch (type) {
      case 'null':
        return fc.constant(null);
      case 'boolean':
        return fc.boolean();
      case 'integer':
        return integers(schema);
      case 'number':
        return numbers(schema);
      case 'string':
        return strings(schema);
      case 'array':
        return this.#arrays(schema, depth);
      case 'object':
        return this.#objects(schema, depth);
    }
  }

  #arrays(schema: SchemaObject, depth: number): fc.Arbitrary<unknown[]> {
    const item = schema.items === undefined ? anyJson : this.valid(schema.items, depth);
    const bounds = {
      minLength: schema.minItems ?? 0,
      ...(schema.maxItems === undefined ? {} : { maxLength: schema.maxItems }),
    };
    return schema.uniqueItems
      ? fc.uniqueArray(item, { ...bounds, selector: (v) => JSON.stringify(v) })
      : fc.array(item, bounds);
  }

  #objects(schema: SchemaObject, depth: number): fc.Arbitrary<Record<string, unknown>> {
    const properties: Record<string, JsonSchema> = { ...schema.properties };
    for (const key of schema.required ?? []) properties[key] ??= true;
    const model = Object.fromEntries(
      Object.entries(properties).map(([key, s]) => [key, this.withHint(key, this.valid(s, depth))]),
    );
    const record = fc.record(model, { requiredKeys: schema.required ?? [] });
    const extra = schema.additionalProperties;
    // Absent additionalProperties allows extras, but requests stay closer to what clients send without them.
    if (extra === undefined || extra === false) return record;
    const extraKey = fc
      .string({ minLength: 1, maxLength: 12 })
      .filter((k) => !(k in properties) && k !== '__proto__');
    return fc
      .tuple(record, fc.dictionary(extraKey, this.valid(extra, depth), { maxKeys: 3 }))
      .map(([known, extras]) => ({ ...extras, ...known }));
  }

  #arrayViolations(schema: SchemaObject, depth: number): fc.Arbitrary<unknown>[] {
    const out: fc.Arbitrary<unknown>[] = [];
    const item = schema.items === undefined ? anyJson : this.valid(schema.items, depth);
    const { minItems, maxItems } = schema;
    if (minItems !== undefined && minItems > 0) out.push(fc.array(item, { maxLength: minItems - 1 }));
    if (maxItems !== undefined)
      out.push(fc.array(item, { minLength: maxItems + 1, maxLength: maxItems + 3 }));
    const badItem = schema.items === undefined ? undefined : this.invalid(schema.items, depth);
    if (badItem) {
      out.push(
        fc
          .tuple(this.#arrays(schema, depth), badItem, fc.nat())
          .map(([items, bad, at]) => items.toSpliced(at % (items.length + 1), 0, bad)),
      );
    }
    if (schema.uniqueItems) {
      out.push(
        this.#arrays({ ...schema, minItems: Math.max(1, minItems ?? 0) }, depth).map((items) => [
          items[0],
          ...items,
        ]),
      );
    }
    return out;
  }

  #objectViolations(schema: SchemaObject, depth: number): fc.Arbitrary<unknown>[] {
    const out: fc.Arbitrary<unknown>[] = [];
    const valid = this.#objects(schema, depth);
    const properties = schema.properties ?? {};
    const required = schema.required ?? [];
    if (required.length > 0) {
      out.push(
        fc.tuple(valid, fc.constantFrom(...required)).map(([object, missing]) => {
          const { [missing]: _dropped, ...rest } = object;
          return rest;
        }),
      );
    }
    const unknownKey = fc
      .oneof(
        fc.constantFrom('id', 'created_at', 'is_admin', 'role', 'unknown', '__proto__', 'constructor'),
        fc.string({ minLength: 1, maxLength: 10 }),
      )
      .filter((k) => !(k in properties));
    if (schema.additionalProperties === false) {
      // A computed key makes even "__proto__" an own property, as JSON.parse would.
      out.push(
        fc.tuple(valid, unknownKey, anyJson).map(([object, key, value]) => ({ ...object, [key]: value })),
      );
    } else if (schema.additionalProperties !== undefined) {
      const badExtra = this.invalid(schema.additionalProperties, depth);
      if (badExtra) {
        out.push(
          fc.tuple(valid, unknownKey, badExtra).map(([object, key, value]) => ({ ...object, [key]: value })),
        );
      }
    }
    const breakable = Object.entries(properties).flatMap(([key, s]) => {
      const bad = this.invalid(s, depth);
      return bad ? [fc.tuple(valid, bad).map(([object, value]) => ({ ...object, [key]: value }))] : [];
    });
    if (breakable.length > 0) out.push(fc.oneof(...breakable));
    return out;
  }
}

/** The types a schema without `type` constrains, judged by its keywords; every type when it has none. */
function inferTypes(schema: SchemaObject): JsonType[] {
  if (schema.properties || schema.required || schema.additionalProperties !== undefined) return ['object'];
  if (schema.items || schema.minItems !== undefined || schema.maxItems !== undefined) return ['array'];
  if (schema.minLength !== undefined || schema.maxLength !== undefined || schema.pattern || schema.format) {
    return ['string'];
  }
  if (schema.minimum !== undefined || schema.maximum !== undefined || schema.multipleOf !== undefined) {
    return ['number'];
  }
  return [...JSON_TYPES];
}

function wrongTypes(types: readonly JsonType[]): fc.Arbitrary<unknown>[] {
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

function integers(schema: SchemaObject): fc.Arbitrary<number> {
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
function numbers(schema: SchemaObject): fc.Arbitrary<number> {
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

function strings(schema: SchemaObject): fc.Arbitrary<string> {
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

function numberViolations(schema: SchemaObject): fc.Arbitrary<unknown>[] {
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

function stringViolations(schema: SchemaObject): fc.Arbitrary<unknown>[] {
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
    const misses = ['', ' ', 'a b', '\t', 'é', '\u0000', '😀', '<script>'].filter((s) => !pattern.test(s));
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

// ---------------------------------------------------------------------------------------------------------
// Requests: one operation of the document, with its parameters and JSON body, valid or mutated.

/** An operation of the document, as the request generator reads it. */
export interface Operation {
  /** Upper case, as sent. */
  method: string;
  /** The path template, e.g. `/api/v1/users/{user_id}`. */
  template: string;
  parameters: Parameter[];
  body?: { schema: JsonSchema; required: boolean };
}

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: JsonSchema;
}

/** The parts of an OpenAPI 3.1 document the generator reads. */
export interface OpenApiDocumentLike {
  paths: Record<string, Record<string, unknown>>;
}

/** One generated HTTP request. */
export interface FuzzRequest {
  /** The operation it was made from (`POST /api/v1/users`), or `no operation`. */
  operation: string;
  /** `valid`, or `mutated: <what was broken>`. */
  variant: string;
  method: string;
  /** Path and query exactly as sent: already normalised the way URL parsers do (dot segments, escapes). */
  path: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
}

/** The request on one line, bodies cut short: what a failure report shows. */
export function describeRequest(request: FuzzRequest): string {
  const cut = (text: string, max: number) =>
    text.length > max ? `${text.slice(0, max)}…(${text.length} chars)` : text;
  const headers = Object.entries(request.headers).map(([k, v]) => `${k}: ${JSON.stringify(cut(v, 80))}`);
  const { body } = request;
  let shown = '';
  if (typeof body === 'string') {
    shown = ` body=${JSON.stringify(cut(body, 300))}`;
  } else if (body) {
    shown = ` body=<${body.length} bytes: ${Buffer.from(body.subarray(0, 48)).toString('hex')}…>`;
  }
  return `[${request.variant}] ${request.method} ${cut(request.path, 300)} {${headers.join(', ')}}${shown}`;
}

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'] as const;
const DOCUMENT_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** Every operation in the document, path-level parameters included and $refs resolved. */
export function listOperations(document: OpenApiDocumentLike): Operation[] {
  const deref = <T>(value: unknown): T => {
    const ref = (value as { $ref?: unknown }).$ref;
    return (typeof ref === 'string' ? decodePointer(document, ref) : value) as T;
  };
  return Object.entries(document.paths).flatMap(([template, item]) => {
    const shared = ((item.parameters as unknown[] | undefined) ?? []).map((p) => deref<Parameter>(p));
    return DOCUMENT_METHODS.flatMap((method) => {
      const raw = item[method] as { parameters?: unknown[]; requestBody?: unknown } | undefined;
      if (!raw) return [];
      const own = (raw.parameters ?? []).map((p) => deref<Parameter>(p));
      const parameters = [
        ...shared.filter((s) => !own.some((o) => o.name === s.name && o.in === s.in)),
        ...own,
      ];
      const operation: Operation = { method: method.toUpperCase(), template, parameters };
      if (raw.requestBody !== undefined) {
        const body = deref<{ required?: boolean; content?: Record<string, { schema?: JsonSchema }> }>(
          raw.requestBody,
        );
        const media = Object.keys(body.content ?? {}).find(
          (m) => m === 'application/json' || m.endsWith('+json'),
        );
        if (media === undefined)
          throw new Error(`${method} ${template}: only JSON request bodies are supported`);
        operation.body = { schema: body.content?.[media]?.schema ?? true, required: body.required ?? false };
      }
      return [operation];
    });
  });
}

/** Parameter values and body of one request, before serialisation. */
interface Parts {
  path: Record<string, unknown>;
  query: Record<string, unknown>;
  headers: Record<string, unknown>;
  /** undefined: no body. */
  body: unknown;
}

/** A request being built: path and query pieces are already percent-encoded as they will be sent. */
interface Draft {
  method: string;
  pathname: string;
  query: string[];
  headers: Record<string, string>;
  body?: string | Uint8Array;
}

// Lone surrogates (which encodeURIComponent rejects) become U+FFFD, as String#toWellFormed would.
const encodeSegment = (value: string) => encodeURIComponent(value.replace(/\p{Cs}/gu, '\uFFFD'));
/** What `fetch` accepts as a header value and sends unchanged (it trims surrounding whitespace). */
const headerSafe = (value: string) =>
  /^[\x21-\x7e\x80-\xff]([\t\x20-\x7e\x80-\xff]*[\x21-\x7e\x80-\xff])?$/.test(value);

const ODD_SEGMENTS = [
  '%00',
  '%2F',
  '%2e%2e%2f%2e%2e%2fetc%2fpasswd',
  '%ZZ',
  '%',
  '%20',
  ';',
  '-1',
  '0',
  'null',
  'undefined',
  'NaN',
  "1'%20OR%20'1'%3D'1",
  '%3Cscript%3E',
  '%F0%9F%98%80',
  '%C0%AF',
  '%FF',
  'a'.repeat(4096),
];
const ODD_QUERY_VALUES = [
  '',
  'abc',
  '-1',
  '1.5',
  '1e3',
  '%20',
  '0x10',
  'NaN',
  'Infinity',
  '-0',
  '99999999999999999999999',
  'null',
  'true',
  '[]',
  '%00',
  '%ZZ',
  '%',
  '1%2C2',
  'a'.repeat(2000),
];
const ODD_HEADER_VALUES = [
  'application/xml',
  '*/*',
  'é',
  '../../etc/passwd',
  '<script>alert(1)</script>',
  "' OR '1'='1",
  'x'.repeat(8192),
];
const NOT_JSON = [
  '',
  '{',
  '{"a":',
  'nul',
  "{'name':'x'}",
  '{"a":1}}',
  '[1,2',
  '\u0000',
  'undefined',
  'NaN',
  '{"a":1,}',
  '{"a":01}',
  '{"a":"\\x41"}',
  '<xml/>',
  'a=1&b=2',
  'null',
  '[]',
  '0',
  '"text"',
];
const OTHER_CONTENT_TYPES = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'application/xml',
  'multipart/form-data; boundary=x',
  'application/json; charset=utf-16',
  'application/json;charset=UTF-8',
  'APPLICATION/JSON',
  'application/vnd.api+json',
  'application/json, text/plain',
  'application/jsonx',
  '',
  // Sent as bytes, so fetch adds no Content-Type at all.
  'none',
];
/** Rewrites of a valid JSON text that a lenient or careless parser might treat differently. */
const JSON_TEXT_ODDITIES: ReadonlyArray<(text: string) => string> = [
  (t) => `\uFEFF${t}`,
  (t) => ` \n\t${t}\n `,
  (t) =>
    t === '{}' ? '{"__proto__":{"polluted":"yes"}}' : t.replace(/^\{/, '{"__proto__":{"polluted":"yes"},'),
  (t) =>
    t === '{}'
      ? '{"constructor":{"prototype":{"polluted":"yes"}}}'
      : t.replace(/^\{/, '{"constructor":{"prototype":{"polluted":"yes"}},'),
  (t) => (t.startsWith('{') && t !== '{}' ? `${t.slice(0, -1)},${t.slice(1)}` : t),
  (t) => t.replace(/:-?\d+(\.\d+)?(?=[,}\]])/, ':1e400'),
  (t) => t.replace(/:-?\d+(\.\d+)?(?=[,}\]])/, ':-0'),
  (t) => t.replace(/:-?\d+(\.\d+)?(?=[,}\]])/, ':123456789012345678901234567890'),
  (t) => t.replace(/:-?\d+(\.\d+)?(?=[,}\]])/, ':0.1e1'),
];

function nested(kind: 'array' | 'object' | 'wide', n: number): string {
  if (kind === 'array') return `${'['.repeat(n)}${']'.repeat(n)}`;
  if (kind === 'object') return `${'{"a":'.repeat(n)}0${'}'.repeat(n)}`;
  return `{${Array.from({ length: n }, (_, i) => `"k${i}":${i}`).join(',')}}`;
}

/** Valid and mutated requests for the operations of one OpenAPI document. */
export class OpenApiArbitraries {
  readonly operations: Operation[];
  readonly schemas: SchemaArbitraries;

  constructor(document: OpenApiDocumentLike, hints: Hints = {}) {
    this.operations = listOperations(document);
    this.schemas = new SchemaArbitraries(document, hints);
  }

  /**
   * Requests for every operation (weighted by `weightOf`, default 1), half valid and half mutated, plus
   * requests for routes the document does not have.
   */
  requests(weightOf: (operation: Operation) => number = () => 1): fc.Arbitrary<FuzzRequest> {
    return fc.oneof(
      ...this.operations.map((op) => ({
        arbitrary: fc.oneof(this.valid(op), this.mutated(op)),
        weight: weightOf(op),
      })),
      { arbitrary: this.unknownRoute(), weight: 1 },
    );
  }

  /** Requests the operation documents: parameters and body valid against their schemas. */
  valid(op: Operation): fc.Arbitrary<FuzzRequest> {
    return this.#parts(op).map((parts) => this.#finish(op, 'valid', this.#render(op, parts)));
  }

  /** Requests for the operation, each broken in one way. */
  mutated(op: Operation): fc.Arbitrary<FuzzRequest> {
    const parts = this.#parts(op);
    const mutation = <T>(what: string, extra: fc.Arbitrary<T>, apply: (parts: Parts, extra: T) => Draft) =>
      fc.tuple(parts, extra).map(([p, x]) => this.#finish(op, `mutated: ${what}`, apply(p, x)));
    const render = (p: Parts) => this.#render(op, p);
    const segment = fc.oneof(
      fc.constantFrom(...ODD_SEGMENTS),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }).map(encodeSegment),
    );
    const byPlace = (where: Parameter['in']) => op.parameters.filter((p) => p.in === where);
    const out: fc.Arbitrary<FuzzRequest>[] = [];

    // Path: odd parameter values, extra segments, spelling variants, methods the path does not document.
    const pathParams = byPlace('path').map((p) => p.name);
    if (pathParams.length > 0) {
      out.push(
        mutation('odd path parameter', fc.tuple(fc.constantFrom(...pathParams), segment), (p, [name, raw]) =>
          this.#render(op, p, { [name]: raw }),
        ),
      );
    }
    out.push(
      mutation('extra path segment', segment, (p, raw) => {
        const d = render(p);
        return { ...d, pathname: `${d.pathname}/${raw}` };
      }),
      mutation('path spelling', fc.constantFrom('trailing slash', 'upper case', 'double slash'), (p, how) => {
        const d = render(p);
        const pathname =
          how === 'trailing slash'
            ? `${d.pathname}/`
            : how === 'upper case'
              ? d.pathname.toUpperCase()
              : d.pathname.replace(/^(\/[^/]*)\//, '$1//');
        return { ...d, pathname };
      }),
    );
    const documented = new Set(
      this.operations.filter((o) => o.template === op.template).map((o) => o.method),
    );
    const undocumented = METHODS.filter((m) => !documented.has(m));
    if (undocumented.length > 0) {
      out.push(
        mutation('undocumented method', fc.constantFrom(...undocumented), (p, method) => {
          const { body, ...d } = render(p);
          // fetch cannot send a body with GET.
          return method === 'GET' || body === undefined ? { ...d, method } : { ...d, method, body };
        }),
      );
    }

    // Query: odd values for declared parameters, repeats, bare names, unknown names.
    const queryNames = byPlace('query').map((p) => p.name);
    const oddValue = fc.constantFrom(...ODD_QUERY_VALUES);
    const queryEdits: fc.Arbitrary<{ drop?: string; add: string[] }>[] = [
      fc
        .tuple(fc.stringMatching(/^[a-z_]{1,12}$/), oddValue)
        .map(([name, value]) => ({ add: [`${name}=${value}`] })),
    ];
    if (queryNames.length > 0) {
      const name = fc.constantFrom(...queryNames);
      queryEdits.push(
        fc.tuple(name, oddValue).map(([n, value]) => ({ drop: n, add: [`${n}=${value}`] })),
        fc.tuple(name, oddValue, oddValue).map(([n, a, b]) => ({ drop: n, add: [`${n}=${a}`, `${n}=${b}`] })),
        name.map((n) => ({ drop: n, add: [n] })),
      );
    }
    out.push(
      mutation('odd query', fc.oneof(...queryEdits), (p, edit) => {
        const d = render(p);
        const kept = d.query.filter((piece) => edit.drop === undefined || !piece.startsWith(`${edit.drop}=`));
        return { ...d, query: [...kept, ...edit.add] };
      }),
    );

    // Headers: values the declared headers' schemas reject, odd values of common headers.
    const badHeaders = byPlace('header').flatMap((param) => {
      const bad = param.schema === undefined ? undefined : this.schemas.invalid(param.schema);
      if (!bad) return [];
      const value = bad.filter((v): v is string => typeof v === 'string' && headerSafe(v));
      return [value.map((v) => [param.name, v] as const)];
    });
    const commonHeader = fc.tuple(
      fc.constantFrom('accept', 'x-request-id', 'accept-encoding', 'content-language', 'x-forwarded-for'),
      fc.constantFrom(...ODD_HEADER_VALUES),
    );
    out.push(
      mutation('odd header', fc.oneof(commonHeader, ...badHeaders), (p, [name, value]) => {
        const d = render(p);
        return { ...d, headers: { ...d.headers, [name]: value } };
      }),
    );

    if (op.body) out.push(...this.#bodyMutations(op, op.body.schema, parts));
    else if (op.method !== 'GET' && op.method !== 'HEAD') {
      out.push(
        mutation('unexpected body', fc.constantFrom('{}', '{"a":1}', '[]', 'not json'), (p, text) =>
          withBody(render(p), text, 'application/json'),
        ),
      );
    }
    return fc.oneof(...out);
  }

  /** Requests for paths the document does not have (or reaches only after normalisation). */
  unknownRoute(): fc.Arbitrary<FuzzRequest> {
    const fixed = fc.constantFrom(
      '/api',
      '/api/v1',
      '/api/v2/users',
      '/API/V1/USERS',
      '/.env',
      '/admin',
      '/%2e%2e/%2e%2e/etc/passwd',
      '/api/v1/users/../../openapi.json',
      '/index.php',
      '//',
      '/%00',
      '/%',
      '/favicon.ico',
      '/health/../metrics',
      '/docs/assets/swagger-ui-dist/..%2f..%2fpackage.json',
      '/docs/assets/swagger-ui-dist/../../../package.json',
      '/api/v1/users;jsessionid=1',
    );
    const segment = fc.oneof(
      fc.constantFrom('api', 'v1', 'users', 'orders', 'user', 'health', 'docs', 'assets', '..', '.', '%2e'),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }).map(encodeSegment),
    );
    const random = fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => `/${s.join('/')}`);
    return fc
      .tuple(fc.oneof(fixed, random), fc.constantFrom(...METHODS), fc.boolean())
      .map(([pathname, method, withJson]) => {
        const draft: Draft = { method, pathname, query: [], headers: {} };
        const op = { method, template: pathname, parameters: [] };
        const d = withJson && method !== 'GET' ? withBody(draft, '{}', 'application/json') : draft;
        return { ...this.#finish(op, 'unknown route', d), operation: 'no operation' };
      });
  }

  #parts(op: Operation): fc.Arbitrary<Parts> {
    const group = (where: Parameter['in']) => {
      const params = op.parameters.filter((p) => p.in === where);
      const model = Object.fromEntries(params.map((p) => [p.name, this.#parameterValue(p)]));
      const requiredKeys = params.filter((p) => p.required || where === 'path').map((p) => p.name);
      return fc.record(model, { requiredKeys });
    };
    const { body } = op;
    const bodyValue = body === undefined ? undefined : this.schemas.valid(body.schema);
    return fc.record({
      path: group('path'),
      query: group('query'),
      headers: group('header'),
      body:
        bodyValue === undefined
          ? fc.constant(undefined)
          : body?.required
            ? bodyValue
            : fc.option(bodyValue, { nil: undefined }),
    });
  }

  #parameterValue(param: Parameter): fc.Arbitrary<unknown> {
    const value = this.schemas.withHint(param.name, this.schemas.valid(param.schema ?? true));
    if (param.in === 'header') return value.filter((v) => headerSafe(String(v)));
    // "", "." and ".." may be valid text, but no URL carries them as a segment: clients resolve them away.
    if (param.in === 'path') return value.filter((v) => !['', '.', '..'].includes(String(v)));
    return value;
  }

  /** The request `parts` make; `rawPath` replaces path parameters with already-encoded text. */
  #render(op: Operation, parts: Parts, rawPath: Record<string, string> = {}): Draft {
    const pathname = op.template.replace(
      /\{([^}]+)\}/g,
      (_, name: string) => rawPath[name] ?? encodeSegment(String(parts.path[name])),
    );
    const query = Object.entries(parts.query).flatMap(([name, value]) => {
      if (value === undefined || value === null) return [];
      const values = Array.isArray(value) ? value : [value];
      return values.map(
        (v) =>
          `${encodeURIComponent(name)}=${encodeURIComponent(typeof v === 'object' ? JSON.stringify(v) : String(v))}`,
      );
    });
    const headers = Object.fromEntries(
      Object.entries(parts.headers)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, String(v)]),
    );
    const draft: Draft = { method: op.method, pathname, query, headers };
    return parts.body === undefined ? draft : withBody(draft, JSON.stringify(parts.body), 'application/json');
  }

  #finish(op: Operation, variant: string, draft: Draft): FuzzRequest {
    const search = draft.query.length > 0 ? `?${draft.query.join('&')}` : '';
    // Concatenated, not resolved against a base: "//x" must stay a path, never become a host.
    const url = new URL(
      `http://fuzz.invalid${draft.pathname.startsWith('/') ? '' : '/'}${draft.pathname}${search}`,
    );
    const request: FuzzRequest = {
      operation: `${op.method} ${op.template}`,
      variant,
      method: draft.method,
      path: `${url.pathname}${url.search}`,
      headers: draft.headers,
      ...(draft.body === undefined ? {} : { body: draft.body }),
    };
    Object.defineProperty(request, fc.toStringMethod, { value: () => describeRequest(request) });
    return request;
  }

  #bodyMutations(op: Operation, schema: JsonSchema, parts: fc.Arbitrary<Parts>): fc.Arbitrary<FuzzRequest>[] {
    const mutation = <T>(what: string, extra: fc.Arbitrary<T>, apply: (draft: Draft, extra: T) => Draft) =>
      fc
        .tuple(parts, extra)
        .map(([p, x]) =>
          this.#finish(op, `mutated: ${what}`, apply(this.#render(op, { ...p, body: undefined }), x)),
        );
    const validText = this.schemas.valid(schema).map((v) => JSON.stringify(v));
    const json = 'application/json';
    const out = [
      mutation('no body', fc.boolean(), (d, typed) =>
        typed ? { ...d, headers: { 'content-type': json } } : d,
      ),
      mutation('body is not JSON', fc.oneof(fc.constantFrom(...NOT_JSON), fc.string()), (d, text) =>
        withBody(d, text, json),
      ),
      mutation(
        'JSON text oddity',
        fc.tuple(validText, fc.constantFrom(...JSON_TEXT_ODDITIES)),
        (d, [text, rewrite]) => withBody(d, rewrite(text), json),
      ),
      mutation(
        'other content type',
        fc.tuple(validText, fc.constantFrom(...OTHER_CONTENT_TYPES)),
        (d, [text, type]) =>
          type === 'none' ? { ...d, body: new TextEncoder().encode(text) } : withBody(d, text, type),
      ),
      mutation(
        'body is not UTF-8',
        fc.tuple(
          validText,
          fc.nat(),
          fc.constantFrom([0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xfe, 0xff]),
        ),
        (d, [text, at, bytes]) => {
          const encoded = Buffer.from(text);
          const cut = at % (encoded.length + 1);
          const body = Buffer.concat([encoded.subarray(0, cut), Buffer.from(bytes), encoded.subarray(cut)]);
          return { ...d, headers: { ...d.headers, 'content-type': json }, body: new Uint8Array(body) };
        },
      ),
      mutation(
        'deep or wide body',
        fc.tuple(
          fc.constantFrom('array', 'object', 'wide') as fc.Arbitrary<'array' | 'object' | 'wide'>,
          fc.constantFrom(64, 5_000, 100_000),
        ),
        (d, [kind, n]) => withBody(d, nested(kind, kind === 'wide' ? n / 10 : n), json),
      ),
      mutation('oversized body', fc.constantFrom(1_048_577, 1_200_000, 3_000_000), (d, n) =>
        withBody(d, `{"name":"${'a'.repeat(n)}"}`, json),
      ),
    ];
    const bad = this.schemas.invalid(schema);
    if (bad)
      out.push(
        mutation('body violates the schema', bad, (d, value) => withBody(d, JSON.stringify(value), json)),
      );
    return out;
  }
}

function withBody(draft: Draft, body: string, contentType: string): Draft {
  return { ...draft, headers: { ...draft.headers, 'content-type': contentType }, body };
}
