/** The asymmetric signature algorithms a token may use; `none` and the HMAC family are never accepted. */
export const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const;

/** What the organisation's identity providers sign with, by default: RSA and P-256 ECDSA. */
export const DEFAULT_ALGORITHMS: readonly string[] = ['RS256', 'PS256', 'ES256'];

/** Default for AUTH_CLOCK_TOLERANCE_SECONDS: the clock skew `exp`/`nbf`/`iat` checks forgive. */
export const DEFAULT_CLOCK_TOLERANCE_SECONDS = 30;

/** Default for AUTH_IDP_TIMEOUT_MS: how long one discovery or JWKS fetch may take. */
export const DEFAULT_IDP_TIMEOUT_MS = 2_000;

/**
 * Default for AUTH_JWKS_REFETCH_COOLDOWN_SECONDS (jose's): the least time between two fetches of a key
 * set for a key it lacks, so tokens with made-up `kid`s cannot make us hammer the identity provider.
 */
export const DEFAULT_REFETCH_COOLDOWN_SECONDS = 30;

/** Default for AUTH_USER_ID_CLAIM: the claim naming the user a customer's token acts for. */
export const DEFAULT_USER_ID_CLAIM = 'user_id';

/** Longest bearer token accepted: real access tokens are 1-3 KB; anything larger is refused unparsed. */
export const MAX_TOKEN_LENGTH = 8_192;

/**
 * How a service verifies bearer tokens (AUTH_* variables). Tokens are verified locally against each
 * issuer's published keys, found by OpenID discovery; nothing is shared with the issuer but its URL.
 */
export interface AuthSettings {
  /** Issuers whose tokens carry their own scopes (people, clients): AUTH_ISSUERS. */
  issuers: readonly string[];
  /** The `aud` every token must name: this service (AUTH_AUDIENCE). */
  audience: string;
  /** Signature algorithms accepted (AUTH_ALGORITHMS), asymmetric only. */
  algorithms: readonly string[];
  clockToleranceSeconds: number;
  /** Refuse tokens whose header `typ` is not `at+jwt` (RFC 9068), so ID tokens are never access tokens. */
  requireAccessTokenType: boolean;
  /** The claim naming the user a token acts for; tokens with only `:own` scopes are held to that user. */
  userIdClaim: string;
  /**
   * Workload identity (AUTH_WORKLOAD_ISSUER, AUTH_WORKLOAD_SUBJECTS): the cluster's ServiceAccount token
   * issuer, and the scopes each trusted ServiceAccount subject is given (its tokens carry none).
   */
  workload?: { issuer: string; subjects: ReadonlyMap<string, readonly string[]> } | undefined;
  /** How long one discovery or key-set fetch may take (AUTH_IDP_TIMEOUT_MS). */
  idpTimeoutMs: number;
  /** AUTH_JWKS_REFETCH_COOLDOWN_SECONDS: a key unknown within this long of the last fetch is a 401. */
  refetchCooldownSeconds: number;
}
