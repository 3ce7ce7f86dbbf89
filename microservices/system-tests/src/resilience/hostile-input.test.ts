import {
  type CheckedClient,
  type CheckedResponse,
  type ContractChecker,
  httpClient,
} from '@microservices/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleOrder, exampleUser, FAST_RESILIENCE, type Order, type User } from '../support/fixtures.js';
import { jsonLogs } from '../support/logs.js';
import { LOOPBACK, type RunningService, startService, stopAll } from '../support/processes.js';
import { metricValue, parseMetrics } from '../support/prometheus.js';
import { contractOf } from './support/contract-check.js';
import { type RawResponse, rawRequest, sendRaw } from './support/raw-http.js';
import { reportFigures } from './support/resilience-report.js';
import { usePostgresForFile } from './support/test-postgres.js';

// Both services on a real PostgreSQL: SQL-looking input must be stored verbatim or refused, never run.
const postgres = usePostgresForFile();

const USERS = '/api/v1/users';
const ORDERS = '/api/v1/orders';
const MiB = 1024 * 1024;

interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: { path: string; message: string }[];
  request_id?: string;
}

let users: RunningService;
let orders: RunningService;
let userApi: CheckedClient;
let orderApi: CheckedClient;
let userContract: ContractChecker;
let orderContract: ContractChecker;
let knownUser: User;
let sent = 0;

beforeAll(async () => {
  const db = (prefix: string) => postgres.freshDatabase(prefix);
  const [usersDb, ordersDb] = await Promise.all([db('hostile_users'), db('hostile_orders')]);
  users = await startService('user-service', { DATABASE_URL: usersDb, LOG_LEVEL: 'info' });
  orders = await startService('order-service', {
    ...FAST_RESILIENCE,
    DATABASE_URL: ordersDb,
    USER_SERVICE_URL: `http://${LOOPBACK}:${users.port}`,
  });
  userApi = httpClient(users.url);
  orderApi = httpClient(orders.url);
  [userContract, orderContract] = await Promise.all([contractOf(users.url), contractOf(orders.url)]);
  knownUser = (await userApi.post<User>(USERS, exampleUser)).body;
});
afterAll(stopAll);

/** The problem a request was refused with; the checked client has already matched it to the contract. */
function expectProblem(res: CheckedResponse<Problem>, status: number, type: string): Problem {
  sent += 1;
  expect(res.status, res.text.slice(0, 300)).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  expect(res.body).toMatchObject({ status, type: `urn:problem-type:${type}` });
  expect(res.body.detail.length).toBeGreaterThan(0);
  // Nothing internal leaks: no stack frames, no SQL, no driver messages.
  expect(res.text).not.toMatch(/\bat .+:\d+:\d+|node_modules|SELECT |INSERT |syntax error|pg_|ECONN/i);
  return res.body;
}

/** Same, for an answer read off a raw socket, checked against the route's contract when it has one. */
function expectRawProblem(
  res: RawResponse,
  status: number,
  type: string,
  contract?: { checker: ContractChecker; method: string; path: string },
): Problem {
  sent += 1;
  expect(res.status, res.raw.slice(0, 300)).toBe(status);
  expect(res.headers['content-type']).toBe('application/problem+json');
  const body = JSON.parse(res.body) as Problem;
  expect(body).toMatchObject({ status, type: `urn:problem-type:${type}` });
  contract?.checker.check({
    method: contract.method,
    path: contract.path,
    status: res.status,
    contentType: res.headers['content-type'] ?? null,
    bodyText: res.body,
    headers: new Headers(res.headers),
  });
  return body;
}

const json = (
  client: CheckedClient,
  method: string,
  path: string,
  body: string | Uint8Array,
  type = 'application/json',
) => client.request<Problem>(method, path, { rawBody: body, headers: { 'Content-Type': type } });

const fieldPaths = (problem: Problem) => (problem.errors ?? []).map((e) => e.path);

const validUserJson = (overrides: Record<string, string>) => {
  const base: Record<string, string> = {
    name: '"Eve"',
    email: `"eve-${Date.now()}-${Math.random()}@example.com"`,
    age: '30',
  };
  return `{${Object.entries({ ...base, ...overrides })
    .map(([k, v]) => `"${k}": ${v}`)
    .join(', ')}}`;
};

const orderJson = (item: Record<string, string>, extra: Record<string, string> = {}) => {
  const fields: Record<string, string> = {
    product_id: '"p-1"',
    product_name: '"Widget"',
    quantity: '1',
    price: '9.99',
    ...item,
  };
  const itemText = `{${Object.entries(fields)
    .map(([k, v]) => `"${k}": ${v}`)
    .join(', ')}}`;
  return `{"user_id": ${JSON.stringify(knownUser.id)}, "items": [${itemText}], "shipping_address": "1 Main St"${Object.entries(
    extra,
  )
    .map(([k, v]) => `, "${k}": ${v}`)
    .join('')}}`;
};

describe.each([
  { service: 'user-service', path: USERS, client: () => userApi, body: () => validUserJson({}) },
  { service: 'order-service', path: ORDERS, client: () => orderApi, body: () => orderJson({}) },
])('hostile bodies sent to $service', ({ path, client, body }) => {
  it('when the JSON is malformed or truncated, then 400 malformed-json', async () => {
    expectProblem(await json(client(), 'POST', path, '{"name": '), 400, 'malformed-json');
    expectProblem(await json(client(), 'POST', path, body().slice(0, -7)), 400, 'malformed-json');
    expectProblem(await json(client(), 'POST', path, `${body()},`), 400, 'malformed-json');
  });

  it('when the content type is wrong or missing, then 415 unsupported-media-type', async () => {
    expectProblem(await json(client(), 'POST', path, body(), 'text/plain'), 415, 'unsupported-media-type');
    expectProblem(
      await json(client(), 'POST', path, body(), 'application/x-www-form-urlencoded'),
      415,
      'unsupported-media-type',
    );
    const none = await client().request<Problem>('POST', path, { rawBody: new TextEncoder().encode(body()) });
    expectProblem(none, 415, 'unsupported-media-type');
  });

  it('when the body is 10 MiB, with or without a Content-Length, then 413 payload-too-large', async () => {
    const huge = `{"name": "${'x'.repeat(10 * MiB)}"}`;
    expectProblem(await json(client(), 'POST', path, huge), 413, 'payload-too-large');
    // Chunked, no Content-Length: the limit is enforced while reading.
    const port = client() === userApi ? users.port : orders.port;
    const chunk = Buffer.alloc(MiB, 'x');
    const chunks = [Buffer.from(`${(MiB).toString(16)}\r\n`), chunk, Buffer.from('\r\n')];
    const head = Buffer.from(
      `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`,
    );
    const stream = Buffer.concat([
      head,
      ...Array.from({ length: 10 }, () => chunks).flat(),
      Buffer.from('0\r\n\r\n'),
    ]);
    const checker = client() === userApi ? userContract : orderContract;
    expectRawProblem(await sendRaw(port, stream, 15_000), 413, 'payload-too-large', {
      checker,
      method: 'POST',
      path,
    });
  });

  it('when the JSON nests 10,000 deep, then 400 json-too-deep', async () => {
    const deep = `{"name": ${'['.repeat(10_000)}${']'.repeat(10_000)}}`;
    expectProblem(await json(client(), 'POST', path, deep), 400, 'json-too-deep');
  });

  it('when the body carries __proto__ or constructor.prototype keys, then 400 forbidden-json-key', async () => {
    for (const key of ['"__proto__"', '"\\u005f_proto__"']) {
      const hostile = body().replace(/^\{/, `{${key}: {"isAdmin": true}, `);
      expectProblem(await json(client(), 'POST', path, hostile), 400, 'forbidden-json-key');
    }
    const ctor = body().replace(/^\{/, '{"constructor": {"prototype": {"isAdmin": true}}, ');
    expectProblem(await json(client(), 'POST', path, ctor), 400, 'forbidden-json-key');
  });

  it('when the body is not valid UTF-8, then 400 invalid-encoding', async () => {
    const text = new TextEncoder().encode(body());
    const broken = new Uint8Array([...text.slice(0, 12), 0xc3, 0x28, 0xff, ...text.slice(12)]);
    expectProblem(await json(client(), 'POST', path, broken), 400, 'invalid-encoding');
  });

  it('when the body has unknown fields, then 400 validation-error naming them', async () => {
    const extra = body().replace(/^\{/, '{"is_admin": true, ');
    const problem = expectProblem(await json(client(), 'POST', path, extra), 400, 'validation-error');
    expect(JSON.stringify(problem.errors)).toContain('is_admin');
  });
});

describe('hostile user fields', () => {
  it.each([
    ['NaN', 'NaN', 'malformed-json'],
    ['Infinity', 'Infinity', 'malformed-json'],
    ['-Infinity', '-Infinity', 'malformed-json'],
    ['1e309 (overflows to Infinity)', '1e309', 'validation-error'],
    ['a fraction', '30.5', 'validation-error'],
    ['a string', '"30"', 'validation-error'],
    ['a negative number', '-1', 'validation-error'],
  ])('when age is %s, then 400 %s', async (_label, value, type) => {
    const problem = expectProblem(
      await json(userApi, 'POST', USERS, validUserJson({ age: value })),
      400,
      type,
    );
    if (type === 'validation-error') expect(fieldPaths(problem)).toEqual(['body.age']);
  });

  it('when age is -0, then it is the number 0 (JSON has one zero), stored as 0', async () => {
    const res = await json(userApi, 'POST', USERS, validUserJson({ age: '-0' }));
    sent += 1;
    expect(res.status).toBe(201);
    expect(res.text).toContain('"age":0');
  });

  it.each([
    ['name', '"x".repeat(100 KB)', () => JSON.stringify('x'.repeat(100_000))],
    ['email', 'a 100 KB address', () => JSON.stringify(`${'a'.repeat(100_000)}@example.com`)],
  ])('when %s is 100 KB, then 400 validation-error on that field', async (field, _label, value) => {
    const problem = expectProblem(
      await json(userApi, 'POST', USERS, validUserJson({ [field]: value() })),
      400,
      'validation-error',
    );
    expect(fieldPaths(problem)).toEqual([`body.${field}`]);
  });

  it.each([
    ["Robert'); DROP TABLE users; --"],
    ["' OR '1'='1"],
    ['1; SELECT pg_sleep(10); --'],
    ['../../../../etc/passwd'],
    ['..\\..\\windows\\system32'],
    ['<script>alert(1)</script>'],
    ['\u0000 nul byte'],
  ])('when the name is %j, then it is stored verbatim or refused, never executed', async (name) => {
    const email = `verbatim-${Math.random().toString(36).slice(2)}@example.com`;
    const res = await userApi.post<User | Problem>(USERS, { name, email });
    sent += 1;
    if (res.status === 201) {
      const created = res.body as User;
      expect(created.name).toBe(name.trim());
      expect((await userApi.get<User>(`${USERS}/${created.id}`)).body).toEqual(created);
    } else {
      // PostgreSQL text cannot hold NUL; refusing it is the only honest answer.
      expect(name).toContain('\u0000');
      expectProblem(res as CheckedResponse<Problem>, 400, 'validation-error');
    }
  });
});

describe('hostile order fields', () => {
  it.each([
    ['quantity', '-1'],
    ['quantity', '0'],
    ['quantity', '-0'],
    ['quantity', '1.5'],
    ['quantity', '1e309'],
    ['quantity', '"1"'],
    ['quantity', '100001'],
    ['price', '9.999'],
    ['price', '-1'],
    ['price', '1e309'],
    ['price', '"9.99"'],
  ])('when %s is %s, then 400 validation-error on that field', async (field, value) => {
    const problem = expectProblem(
      await json(orderApi, 'POST', ORDERS, orderJson({ [field]: value })),
      400,
      'validation-error',
    );
    expect(fieldPaths(problem)).toEqual([`body.items.0.${field}`]);
  });

  it.each([
    ['price', '1e-400', 'underflows to 0'],
    ['price', '999.999999999999999999', 'rounds to 1000'],
    ['quantity', '10000.0000000000000001', 'rounds to 10000'],
  ])('when %s is %s (it %s), then 400 imprecise-number and nothing is stored', async (field, value) => {
    expectProblem(
      await json(orderApi, 'POST', ORDERS, orderJson({ [field]: value })),
      400,
      'imprecise-number',
    );
  });

  it.each([
    ['quantity', 'NaN'],
    ['price', 'Infinity'],
  ])('when %s is %s, then 400 malformed-json', async (field, value) => {
    expectProblem(await json(orderApi, 'POST', ORDERS, orderJson({ [field]: value })), 400, 'malformed-json');
  });

  it('when the shipping address is 100 KB, then 400 validation-error on it', async () => {
    const body = orderJson({}).replace('"1 Main St"', JSON.stringify('x'.repeat(100_000)));
    const problem = expectProblem(await json(orderApi, 'POST', ORDERS, body), 400, 'validation-error');
    expect(fieldPaths(problem)).toEqual(['body.shipping_address']);
  });

  it.each([["' OR 1=1 --"], ['../../admin/faults'], ['..'], ['%2e%2e%2fadmin'], ['x/../../metrics']])(
    'when user_id is %j, then 404 user-not-found or 400, and user-service never sees a path outside /api/v1/users/{id}',
    async (userId) => {
      const res = await orderApi.post<Problem>(ORDERS, exampleOrder(userId));
      sent += 1;
      expect([400, 404]).toContain(res.status);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      const apiRoutes = new Set(
        jsonLogs(users.logs())
          .filter((l) => l.msg === 'request completed' && !String(l.path).startsWith('/health'))
          .filter((l) => l.path !== '/openapi.json')
          .map((l) => String(l.route)),
      );
      expect([...apiRoutes].filter((r) => r !== '/api/v1/users' && r !== '/api/v1/users/:user_id')).toEqual(
        [],
      );
    },
  );

  it.each([
    ['a lone high surrogate', '"\\ud800"'],
    ['a lone low surrogate', '"x\\udfff"'],
    ['a reversed surrogate pair', '"\\udc00\\ud800"'],
  ])(
    'when user_id holds %s (not well-formed Unicode), then 400 on body.user_id, user-service is never asked, and the breaker stays closed for everyone',
    async (_label, userIdJson) => {
      const body = orderJson({}).replace(JSON.stringify(knownUser.id), userIdJson);
      for (let i = 0; i < 10; i++) {
        const problem = expectProblem(await json(orderApi, 'POST', ORDERS, body), 400, 'validation-error');
        expect(fieldPaths(problem)).toEqual(['body.user_id']);
      }
      // A user order-service has never seen (not cached) is still verified and accepted.
      const fresh = (
        await userApi.post<User>(USERS, { name: 'Fresh', email: `fresh-${Math.random()}@example.com` })
      ).body;
      const order = await orderApi.post<{ id: string }>(ORDERS, exampleOrder(fresh.id));
      sent += 1;
      expect(order.status).toBe(201);
      const metrics = await (await fetch(`${orders.url}/metrics`)).text();
      expect(metrics).toMatch(/^user_service_circuit_state 0$/m);
    },
  );

  it('when product names look like SQL or paths, then they are stored verbatim', async () => {
    const names = [
      "Robert'); DROP TABLE orders; --",
      '../../etc/passwd',
      "1' UNION SELECT * FROM order_items --",
    ];
    const res = await orderApi.post<Order>(ORDERS, {
      ...exampleOrder(knownUser.id),
      items: names.map((product_name, i) => ({
        product_id: `p-${i}`,
        product_name,
        quantity: 1,
        price: 1.5,
      })),
    });
    sent += 1;
    expect(res.status).toBe(201);
    expect(res.body.items.map((i) => i.product_name)).toEqual(names);
    expect((await orderApi.get<Order>(`${ORDERS}/${res.body.id}`)).body).toEqual(res.body);
  });

  it('when price is -0, then it is the number 0 (a free item), not an error', async () => {
    const res = await json(orderApi, 'POST', ORDERS, orderJson({ price: '-0' }));
    sent += 1;
    expect(res.status).toBe(201);
    expect(res.text).toContain('"price":0');
  });
});

describe.each([
  { service: 'user-service', base: USERS, client: () => userApi },
  { service: 'order-service', base: ORDERS, client: () => orderApi },
])('hostile paths and queries on $service', ({ base, client }) => {
  it.each([
    ['an unknown parameter', '?foo=bar'],
    ['limit=0', '?limit=0'],
    ['limit=100000', '?limit=100000'],
    ['skip=-1', '?skip=-1'],
    ['limit with SQL', '?limit=1;DROP%20TABLE%20users'],
    ['limit as an exponent', '?limit=1e2'],
    ['a repeated limit', '?limit=1&limit=2'],
  ])('when the list query has %s, then 400 validation-error', async (_label, query) => {
    expectProblem(await client().get<Problem>(`${base}${query}`), 400, 'validation-error');
  });

  it.each([
    ['SQL', "/'%20OR%20'1'%3D'1"],
    ['an encoded traversal', '/..%2F..%2Fetc%2Fpasswd'],
    ['a percent-encoded NUL', '/abc%00def'],
    ['invalid UTF-8 percent-encoding', '/%FF%FE%FD'],
  ])('when the id in the path is %s, then a 4xx problem, never a 5xx', async (_label, suffix) => {
    const res = await client().get<Problem>(`${base}${suffix}`);
    sent += 1;
    expect([400, 404]).toContain(res.status);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
  });

  it('when the raw path climbs out with ../ (plain or %2e-encoded), then the server refuses it before routing: 400 invalid-path', async () => {
    const port = client() === userApi ? users.port : orders.port;
    // Once 404 after URL normalisation; a dot segment is now refused outright (issue 13, strict HTTP).
    for (const climb of ['/../../../etc/passwd', '/%2e%2e/%2E%2E/etc/passwd', '/.%2e/metrics']) {
      const res = await sendRaw(port, rawRequest('GET', `${base}${climb}`));
      expectRawProblem(res, 400, 'invalid-path');
    }
  });

  it('when a known path is called with a method it does not have, then 405 with Allow listing the ones it has', async () => {
    const res = await client().request<Problem>('DELETE', base);
    expectProblem(res, 405, 'method-not-allowed');
    expect(res.headers.get('allow')).toBe('GET, HEAD, POST');
  });
});

describe.each([
  { service: 'user-service', port: () => users.port, checker: () => userContract },
  { service: 'order-service', port: () => orders.port, checker: () => orderContract },
])('hostile X-Request-Id on $service', ({ port, checker }) => {
  const contract = () => ({ checker: checker(), method: 'GET', path: '/api/v1/users' });

  it.each([
    ['markup', '<script>alert(1)</script>'],
    ['an encoded CRLF and a header', 'abc%0d%0aSet-Cookie:%20x=1'],
    ['spaces', 'a b c'],
    ['10 KB', 'a'.repeat(10_000)],
    ['latin-1 bytes', 'caf\u00e9'],
  ])(
    'when it carries %s, then 400 invalid-request-id, a fresh id, and nothing echoed',
    async (_label, id) => {
      const path = port() === users.port ? USERS : ORDERS;
      const res = await sendRaw(port(), rawRequest('GET', path, { 'X-Request-Id': id }));
      expectRawProblem(res, 400, 'invalid-request-id', { ...contract(), path });
      expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(res.headers['set-cookie']).toBeUndefined();
      expect(res.raw).not.toContain(id);
    },
  );

  it('when the headers exceed 16 KiB, then 431 headers-too-large as a problem', async () => {
    const path = port() === users.port ? USERS : ORDERS;
    const res = await sendRaw(port(), rawRequest('GET', path, { 'X-Padding': 'p'.repeat(20_000) }));
    expectRawProblem(res, 431, 'headers-too-large', { ...contract(), path });
  });

  it.each([
    ['a bare CR', 'abc\rSet-Cookie: x=1'],
    ['a bare LF', 'abc\nSet-Cookie: x=1'],
    ['a NUL', 'abc\u0000def'],
  ])(
    'when the header value holds %s, then the HTTP parser refuses it: 400 problem, no smuggled header',
    async (_label, id) => {
      const path = port() === users.port ? USERS : ORDERS;
      const res = await sendRaw(port(), rawRequest('GET', path, { 'X-Request-Id': id }));
      expectRawProblem(res, 400, 'malformed-http');
      expect(res.headers['set-cookie']).toBeUndefined();
    },
  );
});

describe('after the catalogue', () => {
  it('then both services are healthy, answered no 5xx, logged no errors, and the data is intact', async () => {
    for (const service of [users, orders]) {
      const api = httpClient(service.url);
      expect((await api.get('/health/ready')).status).toBe(200);
      expect(service.process.exitCode).toBeNull();
      const metrics = parseMetrics((await api.get<string>('/metrics')).body);
      const fiveHundreds = metrics
        .filter((s) => s.name === 'http_requests_total' && /^5/.test(s.labels.status_code ?? ''))
        .reduce((sum, s) => sum + s.value, 0);
      expect(fiveHundreds, `${service.name} answered 5xx`).toBe(0);
      const errors = jsonLogs(service.logs()).filter((l) => l.level === 'error' || l.level === 'fatal');
      expect(errors, `${service.name} logged errors`).toEqual([]);
      expect(service.stderr()).toEqual([]);
      reportFigures(`7 hostile input: ${service.name}`, {
        requests_4xx:
          metricValue(metrics, 'http_requests_total') -
          metrics
            .filter((s) => s.name === 'http_requests_total' && /^[23]/.test(s.labels.status_code ?? ''))
            .reduce((sum, s) => sum + s.value, 0),
        requests_5xx: fiveHundreds,
      });
    }
    // The tables are still there and hold what was stored, quotes and all.
    const stored = await userApi.get<User[]>(`${USERS}?limit=100`);
    expect(stored.status).toBe(200);
    expect(stored.body.map((u) => u.id)).toContain(knownUser.id);
    expect(stored.body.some((u) => u.name === "Robert'); DROP TABLE users; --")).toBe(true);
    const placed = await orderApi.get<Order[]>(`${ORDERS}/user/${knownUser.id}`);
    expect(placed.status).toBe(200);
    reportFigures('7 hostile input: catalogue', { cases_asserted: sent });
  });
});
