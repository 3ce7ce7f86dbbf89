import { describe, expect, it } from 'vitest';
import { createCheckedClient } from './checked-client.js';
import { ContractChecker, type ObservedResponse, type OpenApiDocument } from './openapi-contract.js';

const json = (ref: string) => ({ 'application/json': { schema: { $ref: `#/components/schemas/${ref}` } } });
const problem = { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } };

/** A tiny service: things by id, a literal sibling path, a text endpoint and a catch-all `default`. */
const document: OpenApiDocument = {
  openapi: '3.1.0',
  paths: {
    '/things/{id}': {
      get: {
        responses: {
          '200': { description: 'The thing', content: json('Thing') },
          '404': { description: 'No such thing', content: problem },
        },
      },
      delete: { responses: { '204': { description: 'Deleted' } } },
    },
    '/things/latest': {
      get: {
        responses: {
          '200': { description: 'Newest', content: { 'text/plain': { schema: { type: 'string' } } } },
        },
      },
    },
    '/fallback': {
      get: {
        responses: {
          '200': { description: 'ok', content: json('Thing') },
          default: { description: 'Any error', content: problem },
        },
      },
    },
  },
  components: {
    schemas: {
      Thing: {
        type: 'object',
        required: ['id', 'name'],
        additionalProperties: false,
        properties: {
          id: { type: 'string' },
          name: { type: 'string' },
          created_at: { type: 'string', format: 'date-time' },
        },
      },
      Problem: {
        type: 'object',
        required: ['type', 'title', 'status', 'detail'],
        properties: {
          type: { type: 'string' },
          title: { type: 'string' },
          status: { type: 'integer' },
          detail: { type: 'string' },
        },
      },
    },
  },
};

const thing = { id: 't1', name: 'Widget', created_at: '2026-01-01T00:00:00.000Z' };
const notFoundProblem = {
  type: 'urn:problem-type:not-found',
  title: 'Not Found',
  status: 404,
  detail: 'nope',
};

const observed = (overrides: Partial<ObservedResponse>): ObservedResponse => ({
  method: 'GET',
  path: '/things/t1',
  status: 200,
  contentType: 'application/json',
  bodyText: JSON.stringify(thing),
  ...overrides,
});

const check = (overrides: Partial<ObservedResponse>) => () =>
  new ContractChecker(document).check(observed(overrides));

describe('ContractChecker accepts what the document allows', () => {
  it('when status, media type and body match, then it passes', () => {
    expect(check({})).not.toThrow();
  });

  it('when the content type carries parameters, then only its essence is compared', () => {
    expect(check({ contentType: 'Application/JSON; charset=utf-8' })).not.toThrow();
  });

  it('when the path has a query string, then the query is ignored for matching', () => {
    expect(check({ path: '/things/t1?expand=all' })).not.toThrow();
  });

  it('when a documented problem is answered, then it passes', () => {
    expect(
      check({
        status: 404,
        contentType: 'application/problem+json',
        bodyText: JSON.stringify(notFoundProblem),
      }),
    ).not.toThrow();
  });

  it('when a literal path and a template both match, then the literal path’s operation is used', () => {
    expect(check({ path: '/things/latest', contentType: 'text/plain', bodyText: 'Widget' })).not.toThrow();
  });

  it('when a body-less response is documented without content, then an empty body passes', () => {
    expect(check({ method: 'DELETE', status: 204, contentType: null, bodyText: '' })).not.toThrow();
  });

  it('when a status is only covered by `default`, then the default response is used', () => {
    const body = JSON.stringify({ ...notFoundProblem, status: 418 });
    expect(
      check({ path: '/fallback', status: 418, contentType: 'application/problem+json', bodyText: body }),
    ).not.toThrow();
  });

  it('when an undocumented path answers a 404 problem, then it passes', () => {
    const body = JSON.stringify(notFoundProblem);
    expect(
      check({ path: '/nowhere', status: 404, contentType: 'application/problem+json', bodyText: body }),
    ).not.toThrow();
  });
});

describe('ContractChecker rejects what the document does not allow', () => {
  it('when the status is not documented for the operation, then it throws', () => {
    expect(check({ status: 500, contentType: 'application/problem+json' })).toThrow(/status not documented/);
  });

  it('when the content type is not one the response declares, then it throws', () => {
    expect(check({ contentType: 'text/html' })).toThrow(
      /content type "text\/html" not among application\/json/,
    );
  });

  it('when there is no content type on a response that declares content, then it throws', () => {
    expect(check({ contentType: null })).toThrow(/content type/);
  });

  it('when the body is missing a required field, then it throws naming it', () => {
    expect(check({ bodyText: JSON.stringify({ id: 't1' }) })).toThrow(/does not match.*name/);
  });

  it('when the body has a property the schema forbids, then it throws', () => {
    expect(check({ bodyText: JSON.stringify({ ...thing, secret: 'x' }) })).toThrow(/additional properties/);
  });

  it('when a field has the wrong type, then it throws', () => {
    expect(check({ bodyText: JSON.stringify({ ...thing, name: 42 }) })).toThrow(/does not match/);
  });

  it('when a field breaks its format, then it throws (formats are checked)', () => {
    expect(check({ bodyText: JSON.stringify({ ...thing, created_at: 'yesterday' }) })).toThrow(/date-time/);
  });

  it('when a JSON response body is not JSON, then it throws', () => {
    expect(check({ bodyText: '<html>oops</html>' })).toThrow(/not JSON/);
  });

  it('when a response documented without a body has one, then it throws', () => {
    expect(check({ method: 'DELETE', status: 204, contentType: 'text/plain', bodyText: 'gone' })).toThrow(
      /without a body/,
    );
  });

  it('when an undocumented path answers 200, then it throws', () => {
    expect(check({ path: '/admin/secret' })).toThrow(/no documented operation/);
  });

  it('when a documented path answers 200 to an undocumented method, then it throws', () => {
    expect(check({ method: 'POST' })).toThrow(/no documented operation/);
  });

  it('when a path has extra segments beyond a template, then it counts as undocumented', () => {
    expect(check({ path: '/things/t1/extra' })).toThrow(/no documented operation/);
  });

  it('when an undocumented path answers 404 with a non-problem body, then it throws', () => {
    expect(
      check({ path: '/nowhere', status: 404, contentType: 'text/plain', bodyText: 'Not Found' }),
    ).toThrow(/expected application\/problem\+json/);
  });

  it('when an undocumented path answers a 404 problem missing detail, then it throws', () => {
    const { detail: _omitted, ...withoutDetail } = notFoundProblem;
    const body = JSON.stringify(withoutDetail);
    expect(
      check({ path: '/nowhere', status: 404, contentType: 'application/problem+json', bodyText: body }),
    ).toThrow(/does not match.*detail/);
  });

  it('when a documented problem comes as plain application/json, then it throws', () => {
    const body = JSON.stringify(notFoundProblem);
    expect(check({ status: 404, contentType: 'application/json', bodyText: body })).toThrow(/content type/);
  });

  it('when the document is not OpenAPI 3.1, then the checker refuses it', () => {
    expect(() => new ContractChecker({ ...document, openapi: '3.0.3' })).toThrow(/expected OpenAPI 3\.1/);
  });
});

describe('createCheckedClient', () => {
  /** A fake service that publishes `document` and answers everything else with `answer`. */
  const clientAnswering = (answer: () => Response) =>
    createCheckedClient(async (path) => (path === '/openapi.json' ? Response.json(document) : answer()));

  it('when the service answers within its contract, then the client returns the parsed body', async () => {
    const client = clientAnswering(() => Response.json(thing));
    const res = await client.get('/things/t1');
    expect(res).toMatchObject({ status: 200, body: thing });
  });

  it('when the service answers outside its contract, then the client call fails', async () => {
    const client = clientAnswering(() => Response.json(thing, { status: 500 }));
    await expect(client.get('/things/t1')).rejects.toThrow(/status not documented/);
  });

  it('when several requests are made, then the contract is fetched only once', async () => {
    let fetches = 0;
    const client = createCheckedClient(async (path) => {
      if (path !== '/openapi.json') return Response.json(thing);
      fetches++;
      return Response.json(document);
    });
    await client.get('/things/a');
    await client.get('/things/b');
    expect(fetches).toBe(1);
  });

  it('when a JSON body is given, then it is sent as JSON with a JSON content type', async () => {
    let sent: RequestInit | undefined;
    const client = createCheckedClient(async (path, init) => {
      if (path === '/openapi.json') return Response.json(document);
      sent = init;
      return Response.json(thing);
    });
    await client.post('/fallback', { name: 'x' }).catch(() => undefined);
    expect(sent?.body).toBe('{"name":"x"}');
    expect(new Headers(sent?.headers).get('content-type')).toBe('application/json');
  });

  it('when the caller sets content-type in lower case, then it is sent once, unchanged', async () => {
    let sent: RequestInit | undefined;
    const client = createCheckedClient(async (path, init) => {
      if (path === '/openapi.json') return Response.json(document);
      sent = init;
      return Response.json(thing);
    });
    await client
      .post('/fallback', { name: 'x' }, { headers: { 'content-type': 'text/plain' } })
      .catch(() => undefined);
    expect(new Headers(sent?.headers).get('content-type')).toBe('text/plain');
  });
});
