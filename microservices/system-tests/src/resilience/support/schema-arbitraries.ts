import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import {
  inferTypes,
  JSON_TYPES,
  type JsonSchema,
  type JsonType,
  listTypes,
  normaliseSchema,
  type SchemaObject,
} from './json-schema-subset.js';
import {
  integers,
  numbers,
  numberViolations,
  strings,
  stringViolations,
  wrongTypes,
} from './scalar-arbitraries.js';

/**
 * fast-check arbitraries derived from the JSON Schemas of an OpenAPI 3.1 document: values that validate
 * against a schema, and values that break it in one way.
 *
 * Hand-written because the npm packages that do this either target fast-check 1 and draft-04
 * (`json-schema-fast-check` 0.0.x) or are not fast-check based (`openapi-fuzzer-core`). It reads the subset
 * of JSON Schema 2020-12 the services publish (json-schema-subset.ts) and throws on any other constraining
 * keyword. Requests built from these values are in request-arbitraries.ts.
 */

export type { JsonSchema, SchemaObject } from './json-schema-subset.js';

/**
 * Values to use, for a `share` (0..1) of the time, for any parameter or property of this name instead of
 * values from its schema: existing ids, a few reused idempotency keys. They must be valid for the schema.
 */
export type Hints = Record<string, { arbitrary: fc.Arbitrary<unknown>; share: number }>;

const anyJson = fc.jsonValue({ maxDepth: 2 });

/** Keys an object schema does not declare, tried as extra properties (mass assignment, prototype keys). */
const UNDECLARED_KEYS = ['id', 'created_at', 'is_admin', 'role', 'unknown', '__proto__', 'constructor'];

/** Generates valid and invalid values for the schemas of one document. */
export class SchemaArbitraries {
  constructor(
    readonly root: unknown,
    readonly hints: Hints = {},
  ) {}

  /** The schema with $refs followed and allOf merged: `true`, `false` or an object without $ref/allOf. */
  normalise(input: JsonSchema, depth = 0): JsonSchema {
    return normaliseSchema(this.root, input, depth);
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
      .oneof(fc.constantFrom(...UNDECLARED_KEYS), fc.string({ minLength: 1, maxLength: 10 }))
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
