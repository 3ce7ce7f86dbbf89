import { describe, expect, it } from 'vitest';
import { classifyAnswer, classifySendError } from './user-service-answers.js';
import type { AnswerBody } from './user-service-transport.js';

const json = (value: unknown): AnswerBody => ({ kind: 'json', value });
const unread: AnswerBody = { kind: 'unread' };

describe('classifyAnswer', () => {
  it('when a 200 names the user asked for, then the user is found', () => {
    expect(classifyAnswer({ statusCode: 200, body: json({ id: 'u1', name: 'Ann' }) }, 'u1')).toEqual({
      outcome: 'found',
      user: { id: 'u1' },
    });
  });

  it.each([
    ['another user', json({ id: 'u2' })],
    ['an id of another type', json({ id: 1 })],
    ['JSON null', json(null)],
    ['a JSON array', json([])],
    ['a body that is not JSON', { kind: 'not_json' } as AnswerBody],
  ])('when a 200 carries %s, then it is a bad_response', (_, body) => {
    expect(classifyAnswer({ statusCode: 200, body }, 'u1')).toMatchObject({ outcome: 'bad_response' });
  });

  it('when user-service answers 404, then the user is not found', () => {
    expect(classifyAnswer({ statusCode: 404, body: unread }, 'u1')).toEqual({ outcome: 'not_found' });
  });

  it.each([500, 502, 503, 504, 429])(
    'when user-service answers %d, then it is a retryable server_error',
    (status) => {
      expect(classifyAnswer({ statusCode: status, body: unread }, 'u1')).toEqual({ outcome: 'server_error' });
    },
  );

  it.each([401, 403])(
    'when user-service answers %d, then order-service’s own token was refused: credentials_refused',
    (status) => {
      expect(classifyAnswer({ statusCode: status, body: unread }, 'u1')).toEqual({
        outcome: 'credentials_refused',
        detail: `user-service refused order-service's token (${status})`,
      });
    },
  );

  it.each([400, 409, 422, 301, 204])(
    'when user-service answers %d, then it is a bad_response naming the status',
    (status) => {
      expect(classifyAnswer({ statusCode: status, body: unread }, 'u1')).toEqual({
        outcome: 'bad_response',
        detail: `user-service answered ${status}`,
      });
    },
  );
});

describe('classifySendError', () => {
  it('when the attempt was aborted, then it is a timeout whatever the error', () => {
    expect(classifySendError(new TypeError('aborted'), true)).toEqual({ outcome: 'timeout' });
  });

  it.each([
    ['a refused connection', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })],
    ['an undici socket error', Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' })],
    ['an unknown error', new Error('something else')],
    ['a thrown non-error', 'boom'],
    ['null', null],
  ])('when sending fails with %s, then it is a retryable connection_error', (_, err) => {
    expect(classifySendError(err, false)).toEqual({ outcome: 'connection_error' });
  });

  it.each([
    ['a TypeError', new TypeError('invalid header')],
    ['a URIError', new URIError('URI malformed')],
    ['a RangeError', new RangeError('out of range')],
    ['undici refusing an argument', Object.assign(new Error('invalid'), { code: 'UND_ERR_INVALID_ARG' })],
    ['Node refusing a header', Object.assign(new Error('invalid'), { code: 'ERR_INVALID_CHAR' })],
  ])('when sending fails with %s, then it is our request_error, not user-service’s fault', (_, err) => {
    expect(classifySendError(err, false)).toMatchObject({ outcome: 'request_error' });
  });
});
