import { isStorableText } from '@microservices/service-kit';
import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import { type CallCredentials, CredentialsUnavailable } from './call-credentials.js';
import { createResiliencePolicy, type ResilienceOptions, RetryableFailure } from './resilience-policy.js';
import {
  InvalidUserIdError,
  type UnavailableReason,
  type UserClient,
  type UserRef,
  UserServiceUnavailableError,
} from './user-client.js';
import { recordAttempt, type UserClientMetrics } from './user-client-metrics.js';
import { type AttemptVerdict, classifyAnswer, classifySendError } from './user-service-answers.js';
import { createUserServiceTransport, isDotSegment } from './user-service-transport.js';

export type { ResilienceOptions } from './resilience-policy.js';

export interface HttpUserClientDeps {
  baseUrl: string;
  dispatcher: Dispatcher;
  metrics: UserClientMetrics;
  logger: Logger;
  resilience: ResilienceOptions;
  /** order-service's own identity towards user-service (AUTH on there); undefined: calls carry no token. */
  credentials?: CallCredentials | undefined;
}

/** An answer that retrying will not fix (e.g. a 200 that is not the user asked for). */
class UnusableAnswer extends Error {
  constructor(
    readonly reason: UnavailableReason,
    detail: string,
  ) {
    super(detail);
  }
}

/**
 * user-service over HTTP: each attempt goes through the transport (undici), its answer or error is
 * classified (user-service-answers.ts), and the whole call runs under the resilience policy
 * (resilience-policy.ts): deadline ⟶ retry ⟶ circuit breaker ⟶ per-attempt timeout.
 */
export function createHttpUserClient(deps: HttpUserClientDeps): UserClient {
  const { metrics, logger, credentials } = deps;
  const transport = createUserServiceTransport(deps);
  const policy = createResiliencePolicy({ options: deps.resilience, metrics, logger });

  /** One attempt: sent, classified, recorded; a failure thrown as the policy should treat it. */
  async function attempt(userId: string, requestId: string, signal: AbortSignal): Promise<UserRef | null> {
    const started = performance.now();
    let verdict: AttemptVerdict;
    try {
      const token = credentials ? await credentials.token() : undefined;
      verdict = classifyAnswer(await transport.getUser(userId, requestId, signal, token), userId);
    } catch (err) {
      verdict =
        err instanceof CredentialsUnavailable
          ? { outcome: 'identity_unavailable' }
          : classifySendError(err, signal.aborted);
      if (verdict.outcome === 'identity_unavailable') {
        logger.warn({ err }, 'order-service has no token of its own for user-service');
      }
      if (verdict.outcome === 'request_error') {
        // Not the upstream's fault: never retried, never counted by the breaker, logged with its cause.
        logger.error({ err, user_id_length: userId.length }, 'could not build the request to user-service');
      }
    }
    const { outcome } = verdict;
    // An answer that arrives after the attempt timed out is recorded as the timeout the policy saw.
    const answered = outcome === 'found' || outcome === 'not_found';
    recordAttempt(
      metrics,
      !answered && signal.aborted ? 'timeout' : outcome,
      (performance.now() - started) / 1000,
    );
    switch (verdict.outcome) {
      case 'found':
        return verdict.user;
      case 'not_found':
        return null;
      case 'credentials_refused':
        // A token the kubelet or the provider has just replaced is read again on the next call.
        credentials?.invalidate();
        logger.error(
          { detail: verdict.detail },
          'user-service refused order-service’s token: check user-service’s AUTH_WORKLOAD_SUBJECTS or the token’s audience and scope',
        );
        throw new UnusableAnswer('credentials_refused', verdict.detail);
      case 'bad_response':
      case 'request_error':
        throw new UnusableAnswer('bad_response', verdict.detail);
      default:
        throw new RetryableFailure(verdict.outcome);
    }
  }

  return {
    async getUser(userId, { requestId }) {
      // A caller's mistake is refused before any call, so it can never count against the breaker.
      if (!isStorableText(userId) || userId.length === 0) throw new InvalidUserIdError();
      if (isDotSegment(userId)) return null;
      try {
        return await policy.execute((signal) => attempt(userId, requestId, signal));
      } catch (err) {
        const reason =
          policy.reasonFor(err) ?? (err instanceof UnusableAnswer ? err.reason : 'connection_error');
        throw new UserServiceUnavailableError(reason, policy.retryAfterSeconds());
      }
    },

    async checkReady(signal) {
      const status = await transport.getReadiness(signal);
      if (status !== 200) throw new Error(`user-service readiness answered ${status}`);
    },
  };
}
