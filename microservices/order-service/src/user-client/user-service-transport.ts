import type { Dispatcher } from 'undici';

/** What the transport read of an answer: only a 200's body matters, and only as JSON. */
export type AnswerBody =
  | { kind: 'json'; value: unknown }
  /** A 200 whose body does not parse as JSON (a proxy's error page, say). */
  | { kind: 'not_json' }
  /** Any other status: the body was discarded unread. */
  | { kind: 'unread' };

export interface UserServiceAnswer {
  statusCode: number;
  body: AnswerBody;
}

/** user-service's HTTP API as order-service uses it, over one undici dispatcher. No policy, no judgement. */
export interface UserServiceTransport {
  /**
   * `GET /api/v1/users/{id}` with the request id forwarded. Rejects when the request cannot be built or
   * sent, the connection fails, or `signal` aborts it.
   */
  getUser(
    userId: string,
    requestId: string,
    signal: AbortSignal,
    bearerToken?: string,
  ): Promise<UserServiceAnswer>;
  /** The status of `GET /health/ready` (its body is discarded). */
  getReadiness(signal: AbortSignal): Promise<number>;
}

export interface UserServiceTransportDeps {
  /** user-service's base URL; a path (an ingress prefix such as /users-api) is kept before every path. */
  baseUrl: string;
  dispatcher: Dispatcher;
}

/**
 * The id as one path segment: encodeURIComponent escapes `/`, `?`, `#` and friends, and dots are encoded
 * as well so no segment reads as `.`/`..` to a naive parser. URL parsers still resolve a segment that is
 * exactly `%2E` or `%2E%2E`, which is why such ids never reach the wire (see `isDotSegment`).
 */
export const userPath = (userId: string) =>
  `/api/v1/users/${encodeURIComponent(userId).replaceAll('.', '%2E')}`;

/** `.` and `..` cannot name a user: any URL parser would turn them into a different path. */
export const isDotSegment = (userId: string) => userId === '.' || userId === '..';

export function createUserServiceTransport({
  baseUrl,
  dispatcher,
}: UserServiceTransportDeps): UserServiceTransport {
  const base = new URL(baseUrl);
  const origin = base.origin;
  // user-service may sit behind a path prefix (e.g. an ingress at /users-api); keep it, minus a trailing slash.
  const prefix = base.pathname.replace(/\/+$/, '');

  return {
    async getUser(userId, requestId, signal, bearerToken) {
      const headers: Record<string, string> = { accept: 'application/json', 'x-request-id': requestId };
      if (bearerToken !== undefined) headers.authorization = `Bearer ${bearerToken}`;
      const res = await dispatcher.request({
        origin,
        path: prefix + userPath(userId),
        method: 'GET',
        headers,
        signal,
      });
      if (res.statusCode !== 200) {
        await res.body.dump();
        return { statusCode: res.statusCode, body: { kind: 'unread' } };
      }
      try {
        return { statusCode: 200, body: { kind: 'json', value: await res.body.json() } };
      } catch (err) {
        // A body that is not JSON will not parse on a retry either; a socket error while reading might.
        if (!(err instanceof SyntaxError)) throw err;
        return { statusCode: 200, body: { kind: 'not_json' } };
      }
    },

    async getReadiness(signal) {
      const res = await dispatcher.request({ origin, path: `${prefix}/health/ready`, method: 'GET', signal });
      await res.body.dump();
      return res.statusCode;
    },
  };
}
