import type { Context, MiddlewareHandler } from 'hono';
import { AppError } from '../../problems/app-error.js';
import type { AppEnv } from '../app-env.js';
import type { Principal } from './principal.js';
import { UNAUTHENTICATED_FULL_ACCESS } from './principal.js';

/**
 * What a request may reach with one scope: everything, or only what belongs to one user (a token with
 * only the scope's `:own` form and a user id claim).
 */
export type Access = { readonly all: true } | { readonly all: false; readonly userId: string };

const ALL: Access = Object.freeze({ all: true });

/** The suffix of a scope that holds a token to the user it acts for: `orders:read:own`. */
export const OWN_SUFFIX = ':own';

/**
 * The access `principal` has under `scope`: all of it with `scope` itself, its own user's with
 * `<scope>:own` and a user id claim (when `ownAllowed`), none otherwise (null).
 */
export function accessUnder(principal: Principal, scope: string, ownAllowed: boolean): Access | null {
  if (principal === UNAUTHENTICATED_FULL_ACCESS || principal.scopes.has(scope)) return ALL;
  if (ownAllowed && principal.userId !== undefined && principal.scopes.has(`${scope}${OWN_SUFFIX}`)) {
    return { all: false, userId: principal.userId };
  }
  return null;
}

/** The 403 of a token that lacks a scope (RFC 6750 §3.1 `insufficient_scope`, naming what would do). */
export function insufficientScope(scopes: readonly string[]): AppError {
  const needed = scopes.join(' ');
  return new AppError({
    type: 'insufficient-scope',
    detail: `This token lacks the scope this operation needs: ${scopes.join(' or ')}.`,
    headers: {
      'WWW-Authenticate': `Bearer error="insufficient_scope", error_description="The token lacks the scope this operation needs.", scope="${needed}"`,
    },
  });
}

/** The 403 of a token held to its own user reaching for another user's resource (counted as `not_owner`). */
export function notOwner(c: Context<AppEnv>, detail: string): AppError {
  c.get('authFailures')?.('not_owner');
  return new AppError({ type: 'not-owner', detail });
}

/**
 * Route middleware: the request needs `scope` (or, when `own` is true, `<scope>:own` for what belongs to
 * the token's user). Puts the access granted on the context for the handler (`accessOf`), or answers 403.
 * Runs after `authenticate`; a route reached without it is a bug and answers 500, never open.
 */
export function authorize(scope: string, { own }: { own: boolean }): MiddlewareHandler<AppEnv> {
  const accepted = own ? [scope, `${scope}${OWN_SUFFIX}`] : [scope];
  return async (c, next) => {
    const principal = c.get('principal');
    if (!principal) throw new Error(`${c.req.path} was reached without authentication`);
    const access = accessUnder(principal, scope, own);
    if (!access) {
      c.get('authFailures')?.('insufficient_scope');
      throw insufficientScope(accepted);
    }
    c.set('access', access);
    await next();
  };
}

/** The access `authorize` granted this request; throws (500) on a route that did not authorize it. */
export function accessOf(c: Context<AppEnv>): Access {
  const access = c.get('access');
  if (!access) throw new Error(`${c.req.path} has no authorize() in its route`);
  return access;
}

/** Whether `access` reaches what belongs to `userId`. */
export const reaches = (access: Access, userId: string): boolean => access.all || access.userId === userId;

/** Throws 403 `not-owner` unless this request's access reaches what belongs to `userId`. */
export function ensureReaches(c: Context<AppEnv>, userId: string, doing: string): void {
  if (!reaches(accessOf(c), userId)) {
    throw notOwner(c, `This token acts for one user only; it may not ${doing} another user's.`);
  }
}
