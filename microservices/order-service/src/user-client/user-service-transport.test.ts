import { MockAgent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { createUserServiceTransport, isDotSegment, userPath } from './user-service-transport.js';

const ORIGIN = 'http://user-service.test';
const agents: MockAgent[] = [];
afterEach(async () => {
  await Promise.all(agents.splice(0).map((agent) => agent.close()));
});

function setup(baseUrl = ORIGIN) {
  const agent = new MockAgent();
  agent.disableNetConnect();
  agents.push(agent);
  return { pool: agent.get(ORIGIN), transport: createUserServiceTransport({ baseUrl, dispatcher: agent }) };
}

const signal = () => AbortSignal.timeout(1_000);

describe('userPath', () => {
  it('when the id is plain, then it is appended as is', () => {
    expect(userPath('3f0c2d3e-5a4b')).toBe('/api/v1/users/3f0c2d3e-5a4b');
  });

  it('when the id contains dots, then every dot is encoded', () => {
    expect(userPath('a.b..c')).toBe('/api/v1/users/a%2Eb%2E%2Ec');
    expect(userPath('..')).toBe('/api/v1/users/%2E%2E');
  });
});

describe('isDotSegment', () => {
  it.each([
    ['.', true],
    ['..', true],
    ['...', false],
    ['a.', false],
  ])('when the id is %j, then it is %s', (id, expected) => {
    expect(isDotSegment(id)).toBe(expected);
  });
});

describe('getUser', () => {
  it('when user-service answers 200 with JSON, then the parsed body comes back', async () => {
    const t = setup();
    t.pool
      .intercept({ path: '/api/v1/users/u1', method: 'GET', headers: { 'x-request-id': 'r-1' } })
      .reply(200, { id: 'u1' });
    expect(await t.transport.getUser('u1', 'r-1', signal())).toEqual({
      statusCode: 200,
      body: { kind: 'json', value: { id: 'u1' } },
    });
  });

  it('when a 200 body is not JSON, then it says so instead of throwing', async () => {
    const t = setup();
    t.pool.intercept({ path: '/api/v1/users/u1', method: 'GET' }).reply(200, '<html>proxy error</html>');
    expect(await t.transport.getUser('u1', 'r-1', signal())).toEqual({
      statusCode: 200,
      body: { kind: 'not_json' },
    });
  });

  it('when the status is not 200, then the body is left unread', async () => {
    const t = setup();
    t.pool.intercept({ path: '/api/v1/users/u1', method: 'GET' }).reply(404, { detail: 'User not found' });
    expect(await t.transport.getUser('u1', 'r-1', signal())).toEqual({
      statusCode: 404,
      body: { kind: 'unread' },
    });
  });

  it('when the connection fails, then it rejects with the transport error', async () => {
    const t = setup();
    t.pool.intercept({ path: '/api/v1/users/u1', method: 'GET' }).replyWithError(new Error('ECONNREFUSED'));
    await expect(t.transport.getUser('u1', 'r-1', signal())).rejects.toThrow('ECONNREFUSED');
  });

  it('when the base URL has a path, then it prefixes the user path and the readiness path', async () => {
    const t = setup(`${ORIGIN}/users-api/`);
    t.pool.intercept({ path: '/users-api/api/v1/users/u1', method: 'GET' }).reply(404, {});
    t.pool.intercept({ path: '/users-api/health/ready', method: 'GET' }).reply(503, {});
    expect((await t.transport.getUser('u1', 'r-1', signal())).statusCode).toBe(404);
    expect(await t.transport.getReadiness(signal())).toBe(503);
  });
});
