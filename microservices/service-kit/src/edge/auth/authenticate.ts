import type { Context, MiddlewareHandler } from 'hono';
import { Counter, type Registry } from 'prom-client';
import { AppError } from '../../problems/app-error.js';
import type { AppEnv } from '../app-env.js';
import type { RefusalLimit } from '../rate-limit.js';
import { IdentityProviderUnavailable } from './issuer-keys.js';
import { UNAUTHENTICATED_FULL_ACCESS } from './principal.js';
import { mentionsAccessToken } from './token-in-url.js';
import { TokenRejected, type TokenRejection, type TokenVerifier } from './token-verifier.js';

/** Every `reason` of `http_auth_failures_total`, exported at 0 from the start so alerts can rate() them. */
export const AUTH_FAILURE_REASONS = [
  'missing',
  'invalid_request',
  'malformed',
  'too_large',
  'issuer',
  'audience',
  'expired',
  'not_yet_valid',
  'algorithm',
  'signature',
  'unknown_key',
  'token_type',
  'claims',
  'unsupported',
  'idp_unavailable',
  'insufficient_scope',
  'not_owner',
] as const satisfies ReadonlyArray<TokenRejection | string>;

export type AuthFailureReason = (typeof AUTH_FAILURE_REASONS)[number];

/** Counts refused requests by reason: `http_auth_failures_total{reason}`. */
export function createAuthFailureCounter(registry: Registry): (reason: AuthFailureReason) => void {
  const failures = new Counter({
    name: 'http_auth_failures_total',
    help: 'Requests refused by authentication (401), authorization (403) or an unreachable identity provider (503), by reason.',
    labelNames: ['reason'],
    registers: [registry],
  });
  for (const reason of AUTH_FAILURE_REASONS) failures.inc({ reason }, 0);
  return (reason) => failures.inc({ reason });
}

/** RFC 6750 §2.1: `Bearer` and a b64token, nothing else (a JWT's has no `=` padding: TokenVerifier refuses it). */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
const BEARER_SCHEME = /^Bearer(?: |$)/i;

/** The `WWW-Authenticate` challenge of RFC 6750 §3; `error` is left out when no credentials came. */
export function bearerChallenge(realm: string, error?: { code: string; description: string }): string {
  const params = [`realm="${realm}"`];
  if (error) params.push(`error="${error.code}"`, `error_description="${error.description}"`);
  return `Bearer ${params.join(', ')}`;
}

/**
 * Authentication of the API and admin surfaces. With a verifier (AUTH_ENABLED=true) every request needs
 * `Authorization: Bearer <JWT>`: none is a 401 `authentication-required`, a refused token a 401
 * `invalid-token` (RFC 6750 `invalid_token`), a token in the query string a 400 (it would be logged by
 * every proxy on the way), an identity provider that cannot be reached for a key a 503 with Retry-After.
 * The verified principal is put on the context for authorization (`authorize`) and the access line.
 * Without a verifier every request gets UNAUTHENTICATED_FULL_ACCESS, so routes are authorized the same way.
 */
export function authenticate(options: {
  verifier: TokenVerifier | undefined;
  realm: string;
  registry: Registry;
  /** The rate limit's address buckets (RATE_LIMIT_ENABLED): refused credentials spend them. */
  refusals?: RefusalLimit | undefined;
}): MiddlewareHandler<AppEnv> {
  const { verifier, realm } = options;
  if (!verifier) {
    return async (c, next) => {
      c.set('principal', UNAUTHENTICATED_FULL_ACCESS);
      await next();
    };
  }
  const { refusals } = options;
  const fail = createAuthFailureCounter(options.registry);
  const unauthorized = (c: Context<AppEnv>, reason: AuthFailureReason, detail: string, error?: string) => {
    fail(reason);
    refusals?.spend(c);
    return new AppError({
      type: error ? 'invalid-token' : 'authentication-required',
      detail,
      headers: {
        'WWW-Authenticate': bearerChallenge(realm, error ? { code: error, description: detail } : undefined),
      },
    });
  };
  return async (c, next) => {
    c.set('authFailures', fail);
    if (mentionsAccessToken(c.req.url)) {
      fail('invalid_request');
      const detail = 'Send the token in the Authorization header, never in the URL.';
      throw new AppError({
        type: 'token-in-query',
        detail,
        headers: {
          'WWW-Authenticate': bearerChallenge(realm, { code: 'invalid_request', description: detail }),
        },
      });
    }
    const authorization = c.req.header('authorization');
    if (authorization === undefined || !BEARER_SCHEME.test(authorization)) {
      throw unauthorized(
        c,
        'missing',
        'This request needs a bearer token: Authorization: Bearer <access token>.',
      );
    }
    const token = BEARER.exec(authorization)?.[1];
    if (token === undefined) {
      throw unauthorized(
        c,
        'malformed',
        'The Authorization header is not Bearer and one token.',
        'invalid_token',
      );
    }
    try {
      // A token seen and admitted recently costs nothing to check; any other is a signature check, which
      // an address that keeps sending refused tokens is no longer given.
      let principal = verifier.remembered(token);
      if (principal === undefined) {
        refusals?.ensureRoom(c);
        principal = await verifier.verify(token);
      }
      c.set('principal', principal);
      c.set('subject', principal.subject);
    } catch (err) {
      if (err instanceof TokenRejected) throw unauthorized(c, err.reason, err.description, 'invalid_token');
      if (err instanceof IdentityProviderUnavailable) {
        fail('idp_unavailable');
        throw new AppError({
          type: 'identity-provider-unavailable',
          detail: 'The identity provider cannot be reached to check this token; retry shortly.',
          headers: { 'Retry-After': String(err.retryAfterSeconds) },
        });
      }
      throw err;
    }
    await next();
  };
}
