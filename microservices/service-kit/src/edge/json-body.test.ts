import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import type { AppEnv } from './app-env.js';
import { errorHandler } from './error-handler.js';
import {
  isExactNumberLiteral,
  MAX_JSON_DEPTH,
  MAX_JSON_ENTRIES,
  nestingExceeds,
  scanJsonText,
  strictJsonBody,
} from './json-body.js';

/** The reader in front of a route that echoes what `c.req.json()` gives it, as the validator would read it. */
function app() {
  const hono = new Hono<AppEnv>();
  hono.onError(errorHandler);
  hono.use('*', strictJsonBody());
  hono.post('/echo', async (c) => {
    const value: unknown = await c.req.json();
    return c.json({ value, prototypeIntact: Object.getPrototypeOf({}) === Object.prototype });
  });
  hono.post('/text', async (c) => c.text(await c.req.text()));
  return hono;
}

const post = (body: string | Uint8Array, contentType = 'application/json', path = '/echo') =>
  app().request(path, { method: 'POST', body, headers: { 'Content-Type': contentType } });

async function problemType(res: Response): Promise<string> {
  expect(res.status).toBe(400);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  const body = (await res.json()) as { type: string };
  return body.type;
}

const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

describe('strictJsonBody', () => {
  it('when the body is valid JSON, then the route reads the parsed value', async () => {
    const res = await post('{"name":"Zoë","tags":["a"]}');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ value: { name: 'Zoë', tags: ['a'] }, prototypeIntact: true });
  });

  it('when the route reads the body again, then it is not rebuilt as a Fetch Response (only the answer is one)', async () => {
    const FetchResponse = globalThis.Response;
    let built = 0;
    class CountingResponse extends FetchResponse {
      constructor(...args: ConstructorParameters<typeof Response>) {
        super(...args);
        built += 1;
      }
    }
    globalThis.Response = CountingResponse;
    try {
      const res = await post('{"name":"Zoë"}');
      expect(await res.json()).toMatchObject({ value: { name: 'Zoë' } });
      expect(await (await post('{"a":1}', 'application/json', '/text')).text()).toBe('{"a":1}');
    } finally {
      globalThis.Response = FetchResponse;
    }
    expect(built).toBe(2);
  });

  it('when the media type is application/merge-patch+json with a charset, then it is read as JSON too', async () => {
    const res = await post('{"a":1}', 'application/merge-patch+json; charset=utf-8');
    expect(await res.json()).toMatchObject({ value: { a: 1 } });
  });

  it.each([
    ['a lone continuation byte', [0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0x80, 0x22, 0x7d]],
    ['an overlong encoding of "/"', [0x22, 0xc0, 0xaf, 0x22]],
    ['a truncated 3-byte sequence', [0x22, 0xe2, 0x82, 0x22]],
    ['a UTF-16 surrogate encoded as UTF-8', [0x22, 0xed, 0xa0, 0x80, 0x22]],
  ])('when the body has invalid UTF-8 (%s), then it answers 400 invalid-encoding', async (_label, bytes) => {
    expect(await problemType(await post(new Uint8Array(bytes)))).toBe('urn:problem-type:invalid-encoding');
  });

  it(`when nesting is exactly ${MAX_JSON_DEPTH} deep, then it is accepted`, async () => {
    expect((await post(nested(MAX_JSON_DEPTH))).status).toBe(200);
  });

  it.each([MAX_JSON_DEPTH + 1, 10_000, 1_000_000])(
    'when nesting is %i deep, then it answers 400 json-too-deep without parsing',
    async (depth) => {
      expect(await problemType(await post(nested(depth)))).toBe('urn:problem-type:json-too-deep');
    },
  );

  it.each([
    ['NaN', '{"price": NaN}'],
    ['Infinity', '{"price": Infinity}'],
    ['a trailing comma', '{"a": 1,}'],
    ['a truncated document', '{"name": "Jo'],
    ['single quotes', "{'a': 1}"],
    ['an empty body', ''],
    ['two documents', '{} {}'],
  ])('when the body has %s, then it answers 400 malformed-json', async (_label, body) => {
    expect(await problemType(await post(body))).toBe('urn:problem-type:malformed-json');
  });

  it.each([
    ['a top-level __proto__ key', '{"__proto__": {"isAdmin": true}}'],
    ['a nested __proto__ key', '{"items": [{"__proto__": {"polluted": 1}}]}'],
    ['an escaped __proto__ key', '{"\\u005f_proto__": {"polluted": 1}}'],
    ['constructor.prototype', '{"constructor": {"prototype": {"polluted": 1}}}'],
  ])(
    'when the body has %s, then it answers 400 forbidden-json-key and nothing is polluted',
    async (_l, body) => {
      expect(await problemType(await post(body))).toBe('urn:problem-type:forbidden-json-key');
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    },
  );

  it('when a key is merely named "constructor", then the body is accepted', async () => {
    const res = await post('{"constructor": "a name"}');
    expect(res.status).toBe(200);
  });

  it('when the content type is not JSON, then the body is left for the route (and its validator) to judge', async () => {
    const res = await post('{"__proto__": 1', 'text/plain', '/text');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('{"__proto__": 1');
  });
});

describe('nestingExceeds', () => {
  it.each([
    ['brackets inside strings', '{"a": "[[[[[[[[["}', 2, false],
    ['an escaped quote before brackets in a string', '{"a": "\\"[[[[[[["}', 2, false],
    ['an escaped backslash ending a string', '{"a": "\\\\", "b": [[[]]]}', 3, true],
    ['siblings at the same depth', '[[], [], [[]]]', 3, false],
    ['objects and arrays mixed', '{"a": [{"b": [1]}]}', 3, true],
  ])('with %s, depth limit %i: %s', (_label, text, max, expected) => {
    expect(nestingExceeds(text, max)).toBe(expected);
  });
});

describe('strictJsonBody: entries', () => {
  const keys = (n: number) => `{${Array.from({ length: n }, (_, i) => `"k${i}":1`).join(',')}}`;

  it('when a body has MAX_JSON_ENTRIES + 1 entries, then it answers 400 json-too-many-entries', async () => {
    expect(await problemType(await post(keys(MAX_JSON_ENTRIES + 2)))).toBe(
      'urn:problem-type:json-too-many-entries',
    );
  });

  it('when a body has 80,000 unknown keys, then it is refused before parsing with a small answer', async () => {
    const res = await post(keys(80_000));
    expect(await problemType(res.clone())).toBe('urn:problem-type:json-too-many-entries');
    expect((await res.text()).length).toBeLessThan(1_000);
  });

  it('when a body has exactly MAX_JSON_ENTRIES entries, then it is accepted', async () => {
    expect((await post(keys(MAX_JSON_ENTRIES + 1))).status).toBe(200);
  });

  it('when the commas are inside strings, then they do not count', async () => {
    expect((await post(JSON.stringify({ a: ','.repeat(MAX_JSON_ENTRIES * 2) }))).status).toBe(200);
  });
});

describe('strictJsonBody: numbers judged on the digits sent', () => {
  it.each(['1e-400', '-2e-330', '0.1000000000000000001', '12345678901234567890', '999.999999999999999999'])(
    'when a number is %s (not exactly representable), then it answers 400 imprecise-number',
    async (literal) => {
      expect(await problemType(await post(`{"price": ${literal}}`))).toBe(
        'urn:problem-type:imprecise-number',
      );
    },
  );

  it('when a number literal is 100,000 digits long, then it is refused as imprecise at once (no work that grows with it)', async () => {
    const started = performance.now();
    expect(await problemType(await post(`{"age": 0.1${'0'.repeat(100_000)}1}`))).toBe(
      'urn:problem-type:imprecise-number',
    );
    expect(isExactNumberLiteral(`0.1${'0'.repeat(1_000_000)}1`)).toBe(false);
    // A bound for a pathology (29 s before), not a benchmark: linear work on 1 MB takes milliseconds.
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('when a number is too large for a double (1e400), then it is left to the schema, which names the field', async () => {
    expect((await post('{"price": 1e400}')).status).toBe(200);
  });

  it.each([
    ['1.50', 1.5],
    ['15e-1', 1.5],
    ['999.99', 999.99],
    ['1E2', 100],
    ['-0', 0],
    ['0.0', 0],
    ['0.30000000000000004', 0.30000000000000004],
    ['9007199254740991', 9007199254740991],
    ['5e-324', 5e-324],
  ])('when a number is %s (exact), then the route reads %d', async (literal, value) => {
    const res = await post(`[${literal}]`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { value: number[] }).value[0]).toBe(value);
  });
});

describe('isExactNumberLiteral and scanJsonText', () => {
  it.each([
    ['0', true],
    ['-12', true],
    ['0.1', true],
    ['1e-7', true],
    ['100e-2', true],
    ['0.000', true],
    ['9007199254740993', false],
    ['1e-400', false],
    ['2.5e-324', false],
  ])('%s exact: %s', (literal, exact) => {
    expect(isExactNumberLiteral(literal)).toBe(exact);
  });

  it('when digits appear only inside strings, then numbers are not judged there', () => {
    expect(scanJsonText('{"a": "1e-400"}', { maxDepth: 4, maxEntries: 4 })).toBeNull();
  });
});
