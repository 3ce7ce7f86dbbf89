import { decodePointer, type JsonSchema } from './json-schema-subset.js';

/** The operations of an OpenAPI 3.1 document, as the request arbitraries read them. */

/** An operation of the document, as the request generator reads it. */
export interface Operation {
  /** Upper case, as sent. */
  method: string;
  /** The path template, e.g. `/api/v1/users/{user_id}`. */
  template: string;
  parameters: Parameter[];
  body?: { schema: JsonSchema; required: boolean };
}

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: JsonSchema;
}

/** The parts of an OpenAPI 3.1 document the generator reads. */
export interface OpenApiDocumentLike {
  paths: Record<string, Record<string, unknown>>;
}

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
