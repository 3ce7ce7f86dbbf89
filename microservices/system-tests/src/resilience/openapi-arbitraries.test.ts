import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsPlugin from 'ajv-formats';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOOPBACK, type RunningService, startService, stopAll } from '../support/processes.js';
import { type OpenApiDocumentLike, RequestArbitraries } from './support/request-arbitraries.js';
import { type JsonSchema, SchemaArbitraries } from './support/schema-arbitraries.js';

const addFormats = addFormatsPlugin as unknown as (ajv: Ajv2020) => void;
const SEED = 20_260_707;
const RUNS = 150;

/** Ajv 2020-12 with formats over a whole document, as the contract checker validates. */
function validatorOf(document: object): (pointer: string) => ValidateFunction {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
  addFormats(ajv);
  ajv.addSchema(document, 'doc');
  return (pointer) => ajv.compile({ $ref: `doc${pointer}` });
}

const escapePointer = (part: string) => part.replaceAll('~', '~0').replaceAll('/', '~1');
const schemaPointers = (document: { components?: { schemas?: object } }) =>
  Object.keys(document.components?.schemas ?? {}).map(
    (name) => `#/components/schemas/${escapePointer(name)}`,
  );

/** Every keyword the generator claims to handle, each somewhere below. */
const keywordDocument = {
  openapi: '3.1.0',
  paths: {},
  components: {
    schemas: {
      Nullable: { type: ['integer', 'null'], minimum: 0, maximum: 150 },
      Exclusive: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 },
      Cents: { type: 'number', minimum: 0, maximum: 1_000_000, multipleOf: 0.01 },
      Even: { type: 'integer', multipleOf: 2, minimum: -10, maximum: 10 },
      Huge: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
      Token: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7e]+$' },
      Short: { type: 'string', minLength: 2, maxLength: 5 },
      Email: { type: 'string', format: 'email', maxLength: 254 },
      Uuid: { type: 'string', format: 'uuid' },
      Stamp: { type: 'string', format: 'date-time' },
      Day: { type: 'string', format: 'date' },
      Link: { type: 'string', format: 'uri' },
      Host: { type: 'string', format: 'hostname' },
      V4: { type: 'string', format: 'ipv4' },
      V6: { type: 'string', format: 'ipv6' },
      Status: { type: 'string', enum: ['pending', 'confirmed'] },
      Fixed: { const: 'v1' },
      Flag: { type: 'boolean' },
      Tags: {
        type: 'array',
        items: { $ref: '#/components/schemas/Short' },
        minItems: 1,
        maxItems: 3,
        uniqueItems: true,
      },
      Strict: {
        type: 'object',
        properties: {
          name: { type: 'string', minLength: 1 },
          age: { $ref: '#/components/schemas/Nullable' },
        },
        required: ['name'],
        additionalProperties: false,
      },
      Labels: { type: 'object', additionalProperties: { type: 'string', maxLength: 3 } },
      Either: {
        anyOf: [
          { type: 'string', maxLength: 3 },
          { type: 'integer', minimum: 10 },
        ],
      },
      OneShape: { oneOf: [{ $ref: '#/components/schemas/Strict' }, { type: 'null' }] },
      Both: {
        allOf: [
          { $ref: '#/components/schemas/Strict' },
          { type: 'object', properties: { name: { maxLength: 4 } }, required: ['age'] },
        ],
      },
      Untyped: { minLength: 3 },
    },
  },
};

describe('OpenAPI arbitraries, on a schema for every supported keyword', () => {
  const validator = validatorOf(keywordDocument);
  const schemas = new SchemaArbitraries(keywordDocument);

  it.each(schemaPointers(keywordDocument))(
    'when values are generated for %s, then valid ones validate with Ajv 2020 and mutated ones do not',
    (pointer) => {
      const validate = validator(pointer);
      const schema: JsonSchema = { $ref: pointer };
      fc.assert(
        fc.property(schemas.valid(schema), (value) => {
          expect(validate(value), `${JSON.stringify(value)}: ${JSON.stringify(validate.errors)}`).toBe(true);
        }),
        { seed: SEED, numRuns: RUNS },
      );
      const invalid = schemas.invalid(schema);
      expect(invalid).toBeDefined();
      if (!invalid) return;
      fc.assert(
        fc.property(invalid, (value) => {
          expect(validate(value), `${JSON.stringify(value)?.slice(0, 200)} was accepted`).toBe(false);
        }),
        { seed: SEED, numRuns: RUNS },
      );
    },
  );

  it('when a schema uses a keyword the generator does not know, then building its arbitrary throws', () => {
    expect(() => schemas.valid({ type: 'object', patternProperties: {} } as JsonSchema)).toThrow(
      /"patternProperties" is not supported/,
    );
  });

  it('when a schema accepts everything, then there is no mutated value for it', () => {
    expect(schemas.invalid(true)).toBeUndefined();
    expect(schemas.invalid({ description: 'anything' })).toBeUndefined();
  });
});

describe("OpenAPI arbitraries, on the services' own documents", () => {
  const documents: Record<string, OpenApiDocumentLike & { components?: { schemas?: object } }> = {};
  let services: RunningService[] = [];

  beforeAll(async () => {
    // order-service serves its document without its dependency; the address only has to be well formed.
    services = await Promise.all([
      startService('user-service', { LOG_LEVEL: 'warn' }),
      startService('order-service', { LOG_LEVEL: 'warn', USER_SERVICE_URL: `http://${LOOPBACK}:9` }),
    ]);
    for (const service of services) {
      const res = await fetch(`${service.url}/openapi.json`);
      documents[service.name] = (await res.json()) as OpenApiDocumentLike;
    }
  });
  afterAll(stopAll);

  for (const name of ['user-service', 'order-service']) {
    it(`when values are generated for ${name}'s component schemas, then valid ones validate and mutated ones do not`, () => {
      const document = documents[name];
      if (!document) throw new Error(`${name} served no document`);
      const validator = validatorOf(document);
      const schemas = new SchemaArbitraries(document);
      for (const pointer of schemaPointers(document)) {
        const validate = validator(pointer);
        fc.assert(
          fc.property(schemas.valid({ $ref: pointer }), (value) => validate(value)),
          { seed: SEED, numRuns: RUNS },
        );
        const invalid = schemas.invalid({ $ref: pointer });
        if (invalid) {
          fc.assert(
            fc.property(invalid, (value) => !validate(value)),
            { seed: SEED, numRuns: RUNS },
          );
        }
      }
    });

    it(`when requests are generated for ${name}'s operations, then valid ones match their template, parameter and body schemas, and schema-breaking bodies do not`, () => {
      const document = documents[name];
      if (!document) throw new Error(`${name} served no document`);
      const validator = validatorOf(document);
      const requests = new RequestArbitraries(document);
      expect(requests.operations.length).toBeGreaterThan(5);
      for (const op of requests.operations) {
        const base = `#/paths/${escapePointer(op.template)}/${op.method.toLowerCase()}`;
        const bodyValidator = op.body && validator(`${base}/requestBody/content/application~1json/schema`);
        const template = new RegExp(`^${op.template.replace(/\{[^}]+\}/g, '[^/]+')}(\\?|$)`);
        fc.assert(
          fc.property(requests.valid(op), (request) => {
            expect(request.method).toBe(op.method);
            expect(request.path).toMatch(template);
            for (const [index, param] of op.parameters.entries()) {
              const value = param.in === 'header' ? request.headers[param.name] : undefined;
              if (value !== undefined)
                expect(validator(`${base}/parameters/${index}/schema`)(value)).toBe(true);
            }
            if (bodyValidator && request.body !== undefined) {
              expect(request.headers['content-type']).toBe('application/json');
              expect(bodyValidator(JSON.parse(String(request.body)))).toBe(true);
            }
          }),
          { seed: SEED, numRuns: RUNS },
        );
        fc.assert(
          fc.property(requests.mutated(op), (request) => {
            expect(request.variant).toMatch(/^mutated: /);
            expect(request.path.startsWith('/')).toBe(true);
            if (request.variant === 'mutated: body violates the schema' && bodyValidator) {
              expect(bodyValidator(JSON.parse(String(request.body)))).toBe(false);
            }
          }),
          { seed: SEED, numRuns: RUNS },
        );
      }
    });
  }
});
