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
import {
  JSON_TEXT_ODDITIES,
  METHODS_TO_TRY,
  NESTED_SHAPES,
  NESTED_SIZES,
  NOT_JSON,
  NOT_UTF8_SEQUENCES,
  nested,
  ODD_HEADER_VALUES,
  ODD_QUERY_VALUES,
  ODD_SEGMENTS,
  ODD_VALUED_HEADERS,
  OTHER_CONTENT_TYPES,
  OVERSIZED_NAME_LENGTHS,
  oversizedBody,
  PATH_SPELLINGS,
  UNEXPECTED_BODIES,
} from './hostile-catalogue.js';
import type { JsonSchema } from './json-schema-subset.js';
import type { Operation, Parameter } from './openapi-operations.js';
import type { SchemaArbitraries } from './schema-arbitraries.js';

/**
 * Requests for one operation, each broken in one way: a valid request (from `parts`) with one place
 * replaced by a case of the hostile catalogue or by a value its schema rejects.
 */
export interface MutationContext {
  /** Every operation of the document (to know which methods a path does not have). */
  operations: readonly Operation[];
  schemas: SchemaArbitraries;
  /** Valid parameter values and body for the operation. */
  parts: fc.Arbitrary<Parts>;
}

export function mutatedRequests(
  op: Operation,
  { operations, schemas, parts }: MutationContext,
): fc.Arbitrary<FuzzRequest> {
  const mutation = <T>(what: string, extra: fc.Arbitrary<T>, apply: (parts: Parts, extra: T) => Draft) =>
    fc.tuple(parts, extra).map(([p, x]) => finishRequest(op, `mutated: ${what}`, apply(p, x)));
  const render = (p: Parts) => renderDraft(op, p);
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
        renderDraft(op, p, { [name]: raw }),
      ),
    );
  }
  out.push(
    mutation('extra path segment', segment, (p, raw) => {
      const d = render(p);
      return { ...d, pathname: `${d.pathname}/${raw}` };
    }),
    mutation('path spelling', fc.constantFrom(...Object.keys(PATH_SPELLINGS)), (p, how) => {
      const d = render(p);
      return { ...d, pathname: PATH_SPELLINGS[how]?.(d.pathname) ?? d.pathname };
    }),
  );
  const documented = new Set(operations.filter((o) => o.template === op.template).map((o) => o.method));
  const undocumented = METHODS_TO_TRY.filter((m) => !documented.has(m));
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
    const bad = param.schema === undefined ? undefined : schemas.invalid(param.schema);
    if (!bad) return [];
    const value = bad.filter((v): v is string => typeof v === 'string' && headerSafe(v));
    return [value.map((v) => [param.name, v] as const)];
  });
  const commonHeader = fc.tuple(
    fc.constantFrom(...ODD_VALUED_HEADERS),
    fc.constantFrom(...ODD_HEADER_VALUES),
  );
  out.push(
    mutation('odd header', fc.oneof(commonHeader, ...badHeaders), (p, [name, value]) => {
      const d = render(p);
      return { ...d, headers: { ...d.headers, [name]: value } };
    }),
  );

  if (op.body) out.push(...bodyMutations(op, op.body.schema, schemas, parts));
  else if (op.method !== 'GET' && op.method !== 'HEAD') {
    out.push(
      mutation('unexpected body', fc.constantFrom(...UNEXPECTED_BODIES), (p, text) =>
        withBody(render(p), text, 'application/json'),
      ),
    );
  }
  return fc.oneof(...out);
}

/** The body broken in one way: missing, not JSON, oddly written, mislabelled, not UTF-8, huge, invalid. */
function bodyMutations(
  op: Operation,
  schema: JsonSchema,
  schemas: SchemaArbitraries,
  parts: fc.Arbitrary<Parts>,
): fc.Arbitrary<FuzzRequest>[] {
  const mutation = <T>(what: string, extra: fc.Arbitrary<T>, apply: (draft: Draft, extra: T) => Draft) =>
    fc
      .tuple(parts, extra)
      .map(([p, x]) =>
        finishRequest(op, `mutated: ${what}`, apply(renderDraft(op, { ...p, body: undefined }), x)),
      );
  const validText = schemas.valid(schema).map((v) => JSON.stringify(v));
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
      fc.tuple(validText, fc.nat(), fc.constantFrom(...NOT_UTF8_SEQUENCES)),
      (d, [text, at, bytes]) => {
        const encoded = Buffer.from(text);
        const cut = at % (encoded.length + 1);
        const body = Buffer.concat([encoded.subarray(0, cut), Buffer.from(bytes), encoded.subarray(cut)]);
        return { ...d, headers: { ...d.headers, 'content-type': json }, body: new Uint8Array(body) };
      },
    ),
    mutation(
      'deep or wide body',
      fc.tuple(fc.constantFrom(...NESTED_SHAPES), fc.constantFrom(...NESTED_SIZES)),
      (d, [kind, n]) => withBody(d, nested(kind, kind === 'wide' ? n / 10 : n), json),
    ),
    mutation('oversized body', fc.constantFrom(...OVERSIZED_NAME_LENGTHS), (d, n) =>
      withBody(d, oversizedBody(n), json),
    ),
  ];
  const bad = schemas.invalid(schema);
  if (bad)
    out.push(
      mutation('body violates the schema', bad, (d, value) => withBody(d, JSON.stringify(value), json)),
    );
  return out;
}
