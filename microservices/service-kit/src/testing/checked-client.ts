import { ContractChecker, type OpenApiDocument } from './openapi-contract.js';

export interface CheckedResponse<T = unknown> {
  status: number;
  headers: Headers;
  /** Parsed JSON when the response is JSON, otherwise the text. */
  body: T;
  text: string;
}

export interface RequestOptions {
  /** Serialised as JSON with `Content-Type: application/json` unless `rawBody` is given. */
  json?: unknown;
  rawBody?: string | Uint8Array;
  headers?: Record<string, string>;
}

export type Send = (path: string, init: RequestInit) => Promise<Response>;

/**
 * Compiled checkers by document text. Every test builds a fresh app, but apps of one service publish the
 * same document, and compiling its schemas is most of a small test's cost. Tests only: apps never use this.
 */
const checkersByDocument = new Map<string, ContractChecker>();

function checkerFor(documentText: string): ContractChecker {
  let checker = checkersByDocument.get(documentText);
  if (!checker) {
    checker = new ContractChecker(JSON.parse(documentText) as OpenApiDocument);
    checkersByDocument.set(documentText, checker);
  }
  return checker;
}

/**
 * An HTTP client for tests that checks every response against the service's own `/openapi.json`,
 * so no test can receive an undocumented answer without failing. Works in-process (`app.request`)
 * and over the wire (`fetch` with a base URL).
 */
export function createCheckedClient(send: Send) {
  let checker: Promise<ContractChecker> | undefined;
  const contract = () => {
    checker ??= send('/openapi.json', { method: 'GET' })
      .then((res) => res.text())
      .then(checkerFor);
    return checker;
  };

  async function request<T = unknown>(method: string, path: string, options: RequestOptions = {}) {
    const headers = new Headers(options.headers);
    let body: RequestInit['body'];
    if (options.rawBody !== undefined) body = options.rawBody;
    else if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      if (!headers.has('content-type')) headers.set('content-type', 'application/json');
    }
    const res = await send(path, { method, headers, ...(body === undefined ? {} : { body }) });
    const text = await res.text();
    const contentType = res.headers.get('content-type');
    (await contract()).check({
      method,
      path,
      status: res.status,
      contentType,
      bodyText: text,
      headers: res.headers,
    });
    const parsed = contentType?.includes('json') && text ? (JSON.parse(text) as T) : (text as T);
    return { status: res.status, headers: res.headers, body: parsed, text } satisfies CheckedResponse<T>;
  }

  return {
    request,
    get: <T = unknown>(path: string, options?: RequestOptions) => request<T>('GET', path, options),
    post: <T = unknown>(path: string, json?: unknown, options?: RequestOptions) =>
      request<T>('POST', path, { ...options, json }),
    put: <T = unknown>(path: string, json?: unknown, options?: RequestOptions) =>
      request<T>('PUT', path, { ...options, json }),
    delete: <T = unknown>(path: string, options?: RequestOptions) => request<T>('DELETE', path, options),
    contract,
  };
}

export type CheckedClient = ReturnType<typeof createCheckedClient>;

/** A checked client over an in-process Hono app. */
export const inProcessClient = (app: {
  request: (path: string, init: RequestInit) => Response | Promise<Response>;
}) => createCheckedClient(async (path, init) => app.request(path, init));

/**
 * A checked client over the network. The path is appended to `baseUrl` as text, never resolved against
 * it, so a path such as `//elsewhere/x` still goes to `baseUrl`'s host.
 */
export const httpClient = (baseUrl: string) => {
  const base = baseUrl.replace(/\/+$/, '');
  return createCheckedClient((path, init) => fetch(`${base}${path.startsWith('/') ? '' : '/'}${path}`, init));
};
