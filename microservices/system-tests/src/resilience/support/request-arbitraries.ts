import fc from 'fast-check';
import {
  type Draft,
  encodeSegment,
  type FuzzRequest,
  finishRequest,
  headerSafe,
  type Parts,
  renderDraft,
  withBody,
} from './fuzz-request.js';
import { METHODS_TO_TRY, UNKNOWN_PATH_SEGMENTS, UNKNOWN_PATHS } from './hostile-catalogue.js';
import {
  listOperations,
  type OpenApiDocumentLike,
  type Operation,
  type Parameter,
} from './openapi-operations.js';
import { mutatedRequests } from './request-mutations.js';
import { type Hints, SchemaArbitraries } from './schema-arbitraries.js';

/**
 * fast-check arbitraries for the HTTP requests of an OpenAPI 3.1 document: for every operation, requests
 * it documents (parameters and body from schema-arbitraries.ts) and requests broken in one way
 * (request-mutations.ts, from the hostile catalogue), plus requests for routes the document does not have.
 */

export type { FuzzRequest } from './fuzz-request.js';
export type { OpenApiDocumentLike, Operation } from './openapi-operations.js';
export type { Hints } from './schema-arbitraries.js';

/** Valid and mutated requests for the operations of one OpenAPI document. */
export class RequestArbitraries {
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
    return this.#parts(op).map((parts) => finishRequest(op, 'valid', renderDraft(op, parts)));
  }

  /** Requests for the operation, each broken in one way. */
  mutated(op: Operation): fc.Arbitrary<FuzzRequest> {
    return mutatedRequests(op, {
      operations: this.operations,
      schemas: this.schemas,
      parts: this.#parts(op),
    });
  }

  /** Requests for paths the document does not have (or reaches only after normalisation). */
  unknownRoute(): fc.Arbitrary<FuzzRequest> {
    const fixed = fc.constantFrom(...UNKNOWN_PATHS);
    const segment = fc.oneof(
      fc.constantFrom(...UNKNOWN_PATH_SEGMENTS),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }).map(encodeSegment),
    );
    const random = fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => `/${s.join('/')}`);
    return fc
      .tuple(fc.oneof(fixed, random), fc.constantFrom(...METHODS_TO_TRY), fc.boolean())
      .map(([pathname, method, withJson]) => {
        const draft: Draft = { method, pathname, query: [], headers: {} };
        const op = { method, template: pathname, parameters: [] };
        const d = withJson && method !== 'GET' ? withBody(draft, '{}', 'application/json') : draft;
        return { ...finishRequest(op, 'unknown route', d), operation: 'no operation' };
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
}
