import { isDeepStrictEqual } from 'node:util';

/**
 * The subset of JSON Schema 2020-12 the services publish, as the arbitraries read it: the types, the
 * keywords (any other constraining keyword throws, so a schema the generator cannot honour fails loudly
 * instead of yielding "valid" values that are not), local `$ref`s and `allOf` merging.
 */

export type JsonType = 'null' | 'boolean' | 'integer' | 'number' | 'string' | 'array' | 'object';
export const JSON_TYPES: readonly JsonType[] = [
  'null',
  'boolean',
  'integer',
  'number',
  'string',
  'array',
  'object',
];

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

export function typeMatches(type: JsonType, value: unknown): boolean {
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

export const listTypes = (type: SchemaObject['type']): JsonType[] | undefined =>
  type === undefined ? undefined : Array.isArray(type) ? type : [type];

/** The types a schema without `type` constrains, judged by its keywords; every type when it has none. */
export function inferTypes(schema: SchemaObject): JsonType[] {
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

/** The node a local `$ref` (a JSON pointer into `root`) names; throws when it does not resolve. */
export function decodePointer(root: unknown, ref: string): JsonSchema {
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

/** The stricter of two optional bounds (`pick` is Math.max for lower bounds, Math.min for upper ones). */
export const stricter = (pick: (a: number, b: number) => number, a?: number, b?: number) =>
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

const MAX_DEPTH = 8;

/**
 * The schema with $refs (into `root`) followed and allOf merged: `true`, `false` or an object without
 * $ref/allOf. Throws on an unsupported keyword and on nesting deeper than MAX_DEPTH (a recursive schema).
 */
export function normaliseSchema(root: unknown, input: JsonSchema, depth = 0): JsonSchema {
  if (typeof input === 'boolean') return input;
  if (depth > MAX_DEPTH) throw new Error(`schema nested deeper than ${MAX_DEPTH} (recursive?)`);
  assertSupported(input);
  const { $ref, allOf, ...rest } = input;
  const parts: JsonSchema[] = [];
  if ($ref !== undefined) parts.push(decodePointer(root, $ref));
  if (allOf) parts.push(...allOf);
  if (parts.length === 0) return hasConstraints(rest) ? rest : true;
  let merged: true | SchemaObject = hasConstraints(rest) ? rest : true;
  for (const part of parts) {
    const next = normaliseSchema(root, part, depth + 1);
    if (next === false) return false;
    merged = next === true ? merged : merged === true ? next : mergeSchemas(merged, next);
  }
  return merged;
}
