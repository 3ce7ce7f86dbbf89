import { decodeJwt, decodeProtectedHeader, errors, type JWTPayload, jwtVerify } from 'jose';
import { LRUCache } from 'lru-cache';
import { type AuthSettings, MAX_TOKEN_LENGTH } from './auth-settings.js';
import { IdentityProviderUnavailable, IssuerKeys } from './issuer-keys.js';
import { type Principal, scopesOf } from './principal.js';

/** Why a token was refused: the `reason` label of `http_auth_failures_total`. */
export type TokenRejection =
  | 'malformed'
  | 'too_large'
  | 'issuer'
  | 'audience'
  | 'expired'
  | 'not_yet_valid'
  | 'algorithm'
  | 'signature'
  | 'unknown_key'
  | 'token_type'
  | 'claims'
  | 'unsupported';

/** A token that is not a valid access token for this service: answered 401 `invalid_token`. */
export class TokenRejected extends Error {
  override readonly name = 'TokenRejected';
  constructor(
    readonly reason: TokenRejection,
    /** Shown to the client (problem `detail`, `error_description`): fixed text, never token content. */
    readonly description: string,
  ) {
    super(description);
  }
}

const claimRejection = (claim: string): [TokenRejection, string] => {
  switch (claim) {
    case 'iss':
      return ['issuer', 'The token was issued by an issuer this service does not trust.'];
    case 'aud':
      return ['audience', 'The token is not meant for this service (audience).'];
    case 'nbf':
      return ['not_yet_valid', 'The token is not valid yet.'];
    case 'typ':
      return ['token_type', 'The token is not an access token (typ must be at+jwt).'];
    default:
      return ['claims', `The token's ${claim} claim is missing or invalid.`];
  }
};

/** What jose's refusal of a token means to the client; anything else (an outage, a bug) passes through. */
function rejectionOf(err: unknown): unknown {
  if (err instanceof errors.JWTExpired) return new TokenRejected('expired', 'The token has expired.');
  if (err instanceof errors.JWTClaimValidationFailed) return new TokenRejected(...claimRejection(err.claim));
  if (err instanceof errors.JOSEAlgNotAllowed) {
    return new TokenRejected(
      'algorithm',
      'The token is signed with an algorithm this service does not accept.',
    );
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) {
    return new TokenRejected('signature', 'The token signature is invalid.');
  }
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) {
    return new TokenRejected('unknown_key', 'The token is signed with a key its issuer does not publish.');
  }
  if (err instanceof errors.JOSENotSupported) {
    return new TokenRejected('unsupported', 'The token uses a header or key this service does not support.');
  }
  if (err instanceof errors.JOSEError)
    return new TokenRejected('malformed', 'The token is not a well-formed JWT.');
  return err;
}

export interface TokenVerifierOptions {
  /** The clock of `exp`/`nbf`, the verified-token cache and the identity-provider back-off (tests). */
  now?: () => number;
}

/**
 * Tokens verified recently, kept so a client sending the same token again (every client does, for the
 * token's lifetime) costs a lookup instead of a signature check: about 90 µs of CPU per request with
 * RS256 through WebCrypto, half of a GET's whole cost. Bounded in entries (tokens are 1-3 KB) and in time:
 * an entry lasts until its token expires, and at most VERIFIED_TOKEN_TTL_MS, so a key withdrawn by the
 * provider stops admitting its tokens within that time at the latest.
 */
export const VERIFIED_TOKEN_CACHE_ENTRIES = 1_000;
export const VERIFIED_TOKEN_TTL_MS = 300_000;
/** ... and in bytes: a token and its scopes, UTF-16 (a 1,000 tokens of 8 KB with 1,650 scopes each were 60 MB). */
export const VERIFIED_TOKEN_CACHE_BYTES = 4 * 1_048_576;

/** A JWS in compact form: three base64url segments, without padding. */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/**
 * Whether each segment is the one canonical spelling of its bytes. base64url's last character carries
 * unused bits that decoders ignore, so a token has many spellings that verify alike: each would be a
 * separate entry of the cache and a separate signature check.
 */
const isCanonical = (token: string) =>
  token.split('.').every((segment) => Buffer.from(segment, 'base64url').toString('base64url') === segment);

const entryBytes = (token: string, entry: Verified) => {
  let bytes = token.length * 2 + 256;
  for (const scope of entry.principal.scopes) bytes += scope.length * 2 + 32;
  return bytes;
};

interface Verified {
  principal: Principal;
  /** Until when the entry answers (ms): the token's expiry plus the clock tolerance, or VERIFIED_TOKEN_TTL_MS. */
  until: number;
}

/**
 * Verifies bearer tokens locally: the issuer (one of those trusted), the signature against that issuer's
 * published keys, the audience, the algorithm allow-list, `exp`/`nbf` within the clock tolerance, and
 * optionally `typ: at+jwt`. Returns who the token speaks for; throws TokenRejected (401) or
 * IdentityProviderUnavailable (503).
 */
export class TokenVerifier {
  readonly #keys = new Map<string, IssuerKeys>();
  readonly #verified: LRUCache<string, Verified>;
  readonly #now: () => number;

  constructor(
    private readonly settings: AuthSettings,
    options: TokenVerifierOptions = {},
  ) {
    this.#now = options.now ?? Date.now;
    this.#verified = new LRUCache({
      max: VERIFIED_TOKEN_CACHE_ENTRIES,
      maxSize: VERIFIED_TOKEN_CACHE_BYTES,
      sizeCalculation: (entry, token) => entryBytes(token, entry),
    });
    const keyOptions = {
      timeoutMs: settings.idpTimeoutMs,
      refetchCooldownMs: settings.refetchCooldownSeconds * 1000,
      now: options.now,
    };
    const issuers = [...settings.issuers, ...(settings.workload ? [settings.workload.issuer] : [])];
    for (const issuer of issuers) this.#keys.set(issuer, new IssuerKeys(issuer, keyOptions));
  }

  /** What the memory of verified tokens holds now: entries and their estimated bytes. */
  cacheUsage(): { entries: number; bytes: number } {
    return { entries: this.#verified.size, bytes: this.#verified.calculatedSize };
  }

  /** Who `token` speaks for, if it was verified recently and is still valid; undefined otherwise. */
  remembered(token: string): Principal | undefined {
    const known = this.#verified.get(token);
    if (known === undefined) return undefined;
    if (this.#now() < known.until) return known.principal;
    this.#verified.delete(token);
    return undefined;
  }

  async verify(token: string): Promise<Principal> {
    const known = this.remembered(token);
    if (known) return known;
    if (token.length > MAX_TOKEN_LENGTH) {
      throw new TokenRejected('too_large', `The token is longer than ${MAX_TOKEN_LENGTH} characters.`);
    }
    if (!COMPACT_JWS.test(token) || !isCanonical(token)) {
      throw new TokenRejected('malformed', 'The token is not a well-formed JWT.');
    }
    let issuer: unknown;
    let header: { alg?: unknown; kid?: unknown };
    try {
      // Read unverified only to choose whose keys verify it; jwtVerify checks everything again.
      issuer = decodeJwt(token).iss;
      header = decodeProtectedHeader(token);
    } catch {
      throw new TokenRejected('malformed', 'The token is not a well-formed JWT.');
    }
    if (typeof header.alg !== 'string' || !this.settings.algorithms.includes(header.alg)) {
      throw new TokenRejected(
        'algorithm',
        'The token is signed with an algorithm this service does not accept.',
      );
    }
    // Every provider names its key; a token without `kid` is hand-made, and would be tried against each key.
    if (typeof header.kid !== 'string' || header.kid === '') {
      throw new TokenRejected('unknown_key', 'The token does not name its signing key (kid).');
    }
    const keys = typeof issuer === 'string' ? this.#keys.get(issuer) : undefined;
    if (!keys) throw new TokenRejected(...claimRejection('iss'));
    try {
      const { payload } = await jwtVerify(token, keys.key, {
        issuer: keys.issuer,
        audience: this.settings.audience,
        algorithms: [...this.settings.algorithms],
        clockTolerance: this.settings.clockToleranceSeconds,
        requiredClaims: ['exp', 'sub'],
        currentDate: new Date(this.#now()),
        ...(this.settings.requireAccessTokenType ? { typ: 'at+jwt' } : {}),
      });
      const principal = this.#principal(payload, keys.issuer);
      const expiresAt = ((payload.exp as number) + this.settings.clockToleranceSeconds) * 1000;
      this.#verified.set(token, {
        principal,
        until: Math.min(expiresAt, this.#now() + VERIFIED_TOKEN_TTL_MS),
      });
      return principal;
    } catch (err) {
      if (err instanceof IdentityProviderUnavailable || err instanceof TokenRejected) throw err;
      throw rejectionOf(err);
    }
  }

  #principal(claims: JWTPayload, issuer: string): Principal {
    const subject = claims.sub;
    // The subject names the caller in the access line and keys its rate limit: one string, never empty.
    if (typeof subject !== 'string' || subject === '') {
      throw new TokenRejected('claims', "The token's sub claim is missing or invalid.");
    }
    const workload = this.settings.workload;
    // A ServiceAccount token carries no scopes: the ones its subject is trusted with are configured here.
    const scopes =
      workload?.issuer === issuer
        ? new Set(workload.subjects.get(subject) ?? [])
        : scopesOf(claims, this.settings.audience);
    const userId = claims[this.settings.userIdClaim];
    return { subject, issuer, scopes, userId: typeof userId === 'string' ? userId : undefined };
  }
}
