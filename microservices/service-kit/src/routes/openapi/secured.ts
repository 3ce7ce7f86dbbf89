import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../../edge/app-env.js';
import { authorize, OWN_SUFFIX } from '../../edge/auth/authorize.js';
import { problemResponse } from '../../problems/problem-schemas.js';

/** The scope of the operator routes under /admin (fault injection). */
export const ADMIN_SCOPE = 'admin';

/** The name of the bearer security scheme in every service's OpenAPI document. */
export const BEARER_SCHEME = 'bearerAuth';

/** The security scheme itself: a JWT access token from the organisation's OpenID provider. */
export const bearerSecurityScheme = {
  type: 'http' as const,
  scheme: 'bearer',
  bearerFormat: 'JWT',
  description:
    'An access token (JWT) from a trusted OpenID provider, for this service’s audience. Each operation lists the scopes that admit it; a `:own` scope admits only what belongs to the user the token names. Not checked when the service runs with AUTH_ENABLED=false.',
};

/** The answers of a route behind authentication, besides its own. */
export const authProblemResponses = {
  401: problemResponse(
    'invalid-token',
    'No bearer token, or one that is expired, not yet valid, for another audience or issuer, badly signed or malformed (`authentication-required`, `invalid-token`)',
  ),
  403: problemResponse(
    'insufficient-scope',
    'The token lacks the scope, or holds only the `:own` scope and the resource is another user’s (`insufficient-scope`, `not-owner`)',
  ),
};

/**
 * What a route definition needs to require `scope` (and, with `own`, to admit `<scope>:own` for the
 * token's own user): its OpenAPI `security` requirement, the `authorize` middleware that enforces it,
 * and the 401/403 answers. Spread into `createRoute({ ...requires('users:read', { own: true }), … })`
 * and spread `responses` into the route's own.
 */
export function requires(scope: string, { own }: { own: boolean }) {
  const scopes = own ? [scope, `${scope}${OWN_SUFFIX}`] : [scope];
  return {
    security: [{ [BEARER_SCHEME]: scopes }],
    middleware: [authorize(scope, { own })] as MiddlewareHandler<AppEnv>[],
  };
}

/** The OpenAPI `security` of an operation anyone may call (probes, metrics, the document, docs). */
export const OPEN_TO_ALL: Array<Record<string, string[]>> = [];
