import type { UserRef } from './user-client.js';
import type { UserServiceAnswer } from './user-service-transport.js';

/** Failures that say user-service is unwell or out of reach: worth another attempt, counted by the breaker. */
export type RetryableOutcome = 'server_error' | 'timeout' | 'connection_error' | 'identity_unavailable';

/** What one attempt to look a user up means. */
export type AttemptVerdict =
  | { outcome: 'found'; user: UserRef }
  /** user-service says there is no such user: an answer, never retried. */
  | { outcome: 'not_found' }
  | { outcome: RetryableOutcome }
  /** user-service answered something a retry will not fix (a 4xx, a 200 for someone else, not JSON). */
  | { outcome: 'bad_response'; detail: string }
  /** user-service refused our token (401/403): a retry with the same identity will not fix it. */
  | { outcome: 'credentials_refused'; detail: string }
  /** Our fault, not user-service's: the request could not be built. Never retried, never counted by the breaker. */
  | { outcome: 'request_error'; detail: string };

/** What user-service's answer to `GET /api/v1/users/{userId}` means. */
export function classifyAnswer(answer: UserServiceAnswer, userId: string): AttemptVerdict {
  const { statusCode, body } = answer;
  if (statusCode === 200) {
    if (body.kind !== 'json')
      return { outcome: 'bad_response', detail: 'user-service answered 200 with a body that is not JSON' };
    const id = (body.value as { id?: unknown } | null)?.id;
    if (id !== userId)
      return { outcome: 'bad_response', detail: 'user-service answered 200 with a different user' };
    return { outcome: 'found', user: { id: userId } };
  }
  if (statusCode === 404) return { outcome: 'not_found' };
  if (statusCode === 401 || statusCode === 403) {
    return {
      outcome: 'credentials_refused',
      detail: `user-service refused order-service's token (${statusCode})`,
    };
  }
  if (statusCode >= 500 || statusCode === 429) return { outcome: 'server_error' };
  return { outcome: 'bad_response', detail: `user-service answered ${statusCode}` };
}

/**
 * What an error thrown while sending or reading means. An aborted attempt is a timeout. A request that could
 * not be built (an id URL encoding refuses, a header Node or undici rejects) would fail the same way on every
 * retry and says nothing about user-service's health: a `request_error`. Anything else (undici's `UND_ERR_*`
 * transport errors, errno codes, unknown errors) is a `connection_error`, so an unexpected failure still
 * protects the caller.
 */
export function classifySendError(err: unknown, aborted: boolean): AttemptVerdict {
  if (aborted) return { outcome: 'timeout' };
  if (!isRequestBuildError(err)) return { outcome: 'connection_error' };
  return { outcome: 'request_error', detail: 'the request to user-service could not be sent' };
}

const isRequestBuildError = (err: unknown): boolean => {
  if (err instanceof TypeError || err instanceof URIError || err instanceof RangeError) return true;
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'UND_ERR_INVALID_ARG' || (typeof code === 'string' && code.startsWith('ERR_INVALID'));
};
