import { describe, expect, it } from 'vitest';
import { hasDotSegment, type ParsedRequest, strictHttpRefusal } from './strict-http.js';

const parsed = (raw: string[], overrides: Partial<ParsedRequest> = {}): ParsedRequest => {
  const headers: Record<string, string> = {};
  for (let i = 0; i < raw.length; i += 2) headers[(raw[i] as string).toLowerCase()] ??= raw[i + 1] as string;
  return { httpVersion: '1.1', url: '/api/v1/users', rawHeaders: raw, headers, ...overrides };
};

describe('strictHttpRefusal', () => {
  it('when the request is ordinary, then nothing is refused', () => {
    expect(strictHttpRefusal(parsed(['Host', 'a', 'Accept', '*/*']), 100)).toBeUndefined();
  });

  it.each([
    ['two Host headers', parsed(['Host', 'a', 'hOsT', 'b']), 'duplicate_host', 400],
    ['no Host on HTTP/1.1', parsed(['Accept', '*/*']), 'missing_host', 400],
    [
      'Transfer-Encoding on HTTP/1.0',
      parsed(['Host', 'a', 'Transfer-Encoding', 'chunked'], { httpVersion: '1.0' }),
      'transfer_encoding_http10',
      400,
    ],
    [
      '101 header fields',
      parsed(['Host', 'a', ...Array.from({ length: 100 }, (_, i) => [`X-${i}`, 'v']).flat()]),
      'too_many_headers',
      431,
    ],
    ['a %2e%2e segment', parsed(['Host', 'a'], { url: '/api/%2e%2e/metrics?x=1' }), 'dot_segment', 400],
  ])('when the request has %s, then it is refused (%s, %i)', (_label, req, reason, status) => {
    const refused = strictHttpRefusal(req, 100);
    expect(refused?.refusal).toMatchObject({ reason, status });
  });

  it('when HTTP/1.0 comes without Host, then that is allowed (Host is an HTTP/1.1 requirement)', () => {
    expect(strictHttpRefusal(parsed([], { httpVersion: '1.0' }), 100)).toBeUndefined();
  });
});

describe('hasDotSegment', () => {
  it.each(['/a/../b', '/a/./b', '/a/%2e%2e/b', '/a/%2E%2e', '/a/.%2E/b', '/..', '/a\\..\\b'])(
    'when the path is %s, then it has one',
    (path) => expect(hasDotSegment(path)).toBe(true),
  );

  it.each([
    '/api/v1/users',
    '/a/..b/c',
    '/a/...',
    '/a/b.json',
    '/a/..%2F..%2Fadmin',
    '/a/%2e%2e%2fb',
    '/v1.2/x',
  ])(
    'when the path is %s, then it has none (a dot inside a segment, or an encoded slash, is part of an id)',
    (path) => expect(hasDotSegment(path)).toBe(false),
  );
});
