import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsPlugin from 'ajv-formats';

/** The parts of an OpenAPI 3.1 document the checker reads. */
export interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, { responses?: Record<string, ResponseObject> }>>;
  components?: { schemas?: Record<string, unknown> };
}

interface ResponseObject {
  description?: string;
  content?: Record<string, { schema?: unknown }>;
  headers?: Record<string, { required?: boolean; schema?: unknown }>;
}

export interface ObservedResponse {
  method: string;
  /** Path as requested; the query string is ignored. */
  path: string;
  status: number;
  contentType: string | null;
  bodyText: string;
  /** When given, headers the document marks `required` must be present. */
  headers?: Headers;
}

const DOC_ID = 'openapi.json';
const addFormats = addFormatsPlugin as unknown as (ajv: Ajv2020) => void;
const escapePointer = (s: string) => s.replaceAll('~', '~0').replaceAll('/', '~1');
const mediaEssence = (contentType: string) => (contentType.split(';')[0] ?? '').trim().toLowerCase();

function templateToRegExp(template: string): RegExp {
  const pattern = template
    .split(/(\{[^}]+\})/)
    .map((part) => (part.startsWith('{') ? '[^/]+' : part.replace(/[.*+?^$()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${pattern}$`);
}

/**
 * Checks observed responses against a service's published OpenAPI document: the status must be
 * documented for the operation, the media type must be one it declares, and the body must validate
 * against the declared JSON Schema (2020-12, formats included). Requests to undocumented paths must
 * have been answered with the documented Problem shape.
 */
export class ContractChecker {
  readonly #ajv: Ajv2020;
  readonly #validators = new Map<string, ValidateFunction>();
  readonly #paths: Array<{ template: string; regexp: RegExp }>;

  constructor(readonly document: OpenApiDocument) {
    if (!document.openapi?.startsWith('3.1'))
      throw new Error(`expected OpenAPI 3.1, got ${document.openapi}`);
    this.#ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
    addFormats(this.#ajv);
    this.#ajv.addSchema(document as object, DOC_ID);
    // Literal segments first so `/orders/user/{id}` wins over `/orders/{id}` as routers do.
    this.#paths = Object.keys(document.paths)
      .sort((a, b) => a.split('{').length - b.split('{').length)
      .map((template) => ({ template, regexp: templateToRegExp(template) }));
  }

  /** Throws an Error describing every way the response breaks the contract. */
  check(observed: ObservedResponse): void {
    const where = `${observed.method} ${observed.path} → ${observed.status}`;
    const pathname = observed.path.split('?')[0] ?? observed.path;
    const match = this.#paths.find((p) => p.regexp.test(pathname));
    const operation = match && this.document.paths[match.template]?.[observed.method.toLowerCase()];
    if (!match || !operation) {
      if (observed.status !== 404 && observed.status !== 405) {
        throw new Error(`${where}: no documented operation, so only a 404/405 problem is acceptable`);
      }
      this.#validateBody(where, 'application/problem+json', observed, '#/components/schemas/Problem');
      return;
    }
    const responses = operation.responses ?? {};
    const statusKey = String(observed.status);
    const documented = responses[statusKey] ? statusKey : responses.default ? 'default' : undefined;
    if (!documented) {
      throw new Error(`${where}: status not documented (documented: ${Object.keys(responses).join(', ')})`);
    }
    for (const [name, header] of Object.entries(responses[documented]?.headers ?? {})) {
      if (header.required && observed.headers && !observed.headers.has(name)) {
        throw new Error(`${where}: required header ${name} is missing`);
      }
    }
    const content = responses[documented]?.content;
    if (!content) {
      if (observed.bodyText.length > 0) throw new Error(`${where}: documented without a body but got one`);
      return;
    }
    const essence = observed.contentType ? mediaEssence(observed.contentType) : '';
    const mediaType = Object.keys(content).find((m) => m === essence);
    if (!mediaType) {
      throw new Error(
        `${where}: content type "${observed.contentType}" not among ${Object.keys(content).join(', ')}`,
      );
    }
    const pointer = [
      '#',
      'paths',
      match.template,
      observed.method.toLowerCase(),
      'responses',
      documented,
      'content',
    ]
      .map((part, i) => (i === 0 ? part : escapePointer(part)))
      .join('/');
    this.#validateBody(where, mediaType, observed, `${pointer}/${escapePointer(mediaType)}/schema`);
  }

  #validateBody(where: string, mediaType: string, observed: ObservedResponse, schemaPointer: string): void {
    const essence = observed.contentType ? mediaEssence(observed.contentType) : '';
    if (essence !== mediaType)
      throw new Error(`${where}: expected ${mediaType}, got "${observed.contentType}"`);
    if (!mediaType.includes('json')) return;
    let body: unknown;
    try {
      body = JSON.parse(observed.bodyText);
    } catch {
      throw new Error(`${where}: body is not JSON: ${observed.bodyText.slice(0, 200)}`);
    }
    let validate = this.#validators.get(schemaPointer);
    if (!validate) {
      validate = this.#ajv.compile({ $ref: `${DOC_ID}${schemaPointer}` });
      this.#validators.set(schemaPointer, validate);
    }
    if (!validate(body)) {
      const errors = this.#ajv.errorsText(validate.errors, { separator: '; ' });
      throw new Error(
        `${where}: body does not match the documented schema: ${errors}\n${observed.bodyText.slice(0, 500)}`,
      );
    }
  }
}
