import type { JWTPayload } from 'jose';

/** Who a verified token speaks for, and what it may do. */
export interface Principal {
  /** The token's `sub`: the access line and the per-client rate limit name the caller by it. */
  subject: string;
  issuer: string;
  scopes: ReadonlySet<string>;
  /** The user the token acts for (AUTH_USER_ID_CLAIM), when it names one as a string. */
  userId: string | undefined;
}

/** What every request may do when authentication is off (AUTH_ENABLED=false): everything. */
export const UNAUTHENTICATED_FULL_ACCESS: Principal = Object.freeze({
  subject: 'anonymous',
  issuer: 'none',
  scopes: new Set<string>(),
  userId: undefined,
});

const words = (value: unknown): string[] => {
  if (typeof value === 'string') return value.split(' ').filter((word) => word !== '');
  if (Array.isArray(value)) return value.filter((word): word is string => typeof word === 'string');
  return [];
};

const rolesIn = (value: unknown): string[] =>
  typeof value === 'object' && value !== null ? words((value as { roles?: unknown }).roles) : [];

/**
 * The scopes a token grants, from wherever its provider puts them: `scope` (RFC 9068, Auth0, Dex,
 * Keycloak), `scp` as a string or a list (Entra ID, Okta), and Keycloak's realm and client roles
 * (`realm_access.roles`, `resource_access[<audience>].roles`), whose names are taken as scopes.
 */
export function scopesOf(claims: JWTPayload, audience: string): Set<string> {
  const clientRoles = (claims.resource_access as Record<string, unknown> | undefined)?.[audience];
  return new Set([
    ...words(claims.scope),
    ...words(claims.scp),
    ...rolesIn(claims.realm_access),
    ...rolesIn(clientRoles),
  ]);
}
