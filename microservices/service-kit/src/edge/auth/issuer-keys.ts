import {
  type CryptoKey,
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  type FlattenedJWSInput,
  type JSONWebKeySet,
  type JWSHeaderParameters,
  type KeyObject,
} from 'jose';

/** After a failed fetch the provider is left alone this long; tokens needing it meanwhile get a 503. */
export const IDP_RETRY_AFTER_MS = 5_000;

/** How long a fetched key set is used before it is fetched again (jose's default: 10 minutes). */
const KEY_SET_MAX_AGE_MS = 600_000;

/**
 * The identity provider could not be asked for what a token needs (its discovery document or a key it
 * has not published to us yet). An outage, not bad credentials: answered 503 with Retry-After, never 401.
 */
export class IdentityProviderUnavailable extends Error {
  override readonly name = 'IdentityProviderUnavailable';
  constructor(
    readonly issuer: string,
    readonly retryAfterSeconds: number,
    options: { cause: unknown },
  ) {
    super(`The identity provider ${issuer} could not be reached`, options);
  }
}

export interface IssuerKeysOptions {
  /** How long one discovery or key-set fetch may take. */
  timeoutMs: number;
  /** The least time between two fetches of the key set for a key it lacks (a new `kid` after rotation). */
  refetchCooldownMs: number;
  now?: (() => number) | undefined;
}

type RemoteKeySet = ReturnType<typeof createRemoteJWKSet>;
type VerifyKey = CryptoKey | KeyObject | Uint8Array;

/** A failure to fetch or read a key set, as opposed to a key set that lacks the token's key. */
const isFetchFailure = (err: unknown) =>
  !(err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys);

/**
 * One trusted issuer's signing keys: its `jwks_uri` found by OpenID discovery on first use, the key set
 * fetched and cached by jose (an unknown `kid` refetches it at most once per cooldown, so rotation needs
 * no restart; concurrent fetches are one). Two things jose leaves to us:
 * - while the provider is down, a key set fetched before keeps verifying tokens signed with keys it holds,
 *   so an outage only refuses tokens that need a key we never saw;
 * - after a failure the provider is not asked again for IDP_RETRY_AFTER_MS, so a burst of requests during
 *   an outage is a burst of 503s, not a burst of fetches each waiting out the timeout.
 */
export class IssuerKeys {
  readonly #now: () => number;
  #discovering: Promise<RemoteKeySet> | undefined;
  #remote: RemoteKeySet | undefined;
  #failedAt = Number.NEGATIVE_INFINITY;
  #lastKnown: { jwks: JSONWebKeySet; keys: ReturnType<typeof createLocalJWKSet> } | undefined;

  constructor(
    readonly issuer: string,
    private readonly options: IssuerKeysOptions,
  ) {
    this.#now = options.now ?? Date.now;
  }

  /** jose's key lookup for a token of this issuer (the second argument of `jwtVerify`). */
  readonly key = async (header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<VerifyKey> => {
    if (this.#coolingOff()) return this.#lastKnownKey(header, token, undefined);
    let remote: RemoteKeySet;
    try {
      remote = await this.#discovered();
    } catch (err) {
      this.#failedAt = this.#now();
      throw this.#unavailable(err);
    }
    try {
      return await remote(header, token);
    } catch (err) {
      if (!isFetchFailure(err)) throw err;
      this.#failedAt = this.#now();
      return this.#lastKnownKey(header, token, err);
    }
  };

  #coolingOff(): boolean {
    return this.#now() - this.#failedAt < IDP_RETRY_AFTER_MS;
  }

  /** The key from the last key set fetched, while the provider cannot be asked; a 503 if it lacks it. */
  async #lastKnownKey(
    header: JWSHeaderParameters,
    token: FlattenedJWSInput,
    cause: unknown,
  ): Promise<VerifyKey> {
    // jose keeps the last key set it fetched successfully; a failed fetch does not replace it.
    const jwks = this.#remote?.jwks();
    if (!jwks) throw this.#unavailable(cause);
    if (this.#lastKnown?.jwks !== jwks) this.#lastKnown = { jwks, keys: createLocalJWKSet(jwks) };
    try {
      return await this.#lastKnown.keys(header, token);
    } catch (err) {
      if (err instanceof errors.JWKSNoMatchingKey) throw this.#unavailable(cause ?? err);
      throw err;
    }
  }

  /**
   * The 503 of a token that needs the provider while it cannot be asked. Only a failed fetch starts the
   * back-off: tokens refused during it must not extend it, or a client sending one every few seconds would
   * keep the provider from ever being asked again.
   */
  #unavailable(cause: unknown): IdentityProviderUnavailable {
    const waitMs = IDP_RETRY_AFTER_MS - (this.#now() - this.#failedAt);
    return new IdentityProviderUnavailable(this.issuer, Math.max(1, Math.ceil(waitMs / 1000)), { cause });
  }

  /** The remote key set, after discovery found where it is; one discovery at a time, retried after a failure. */
  async #discovered(): Promise<RemoteKeySet> {
    if (this.#remote) return this.#remote;
    this.#discovering ??= this.#discover().finally(() => {
      this.#discovering = undefined;
    });
    this.#remote = await this.#discovering;
    return this.#remote;
  }

  async #discover(): Promise<RemoteKeySet> {
    const url = `${this.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    const response = await fetch(url, {
      headers: { accept: 'application/json' },
      redirect: 'manual',
      signal: AbortSignal.timeout(this.options.timeoutMs),
    });
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new Error(`${url} answered ${response.status}`);
    }
    const document = (await response.json()) as { issuer?: unknown; jwks_uri?: unknown };
    // OpenID Connect Discovery §4.3: the document must name the issuer it was asked for.
    if (document.issuer !== this.issuer) throw new Error(`${url} names another issuer`);
    if (typeof document.jwks_uri !== 'string') throw new Error(`${url} has no jwks_uri`);
    return createRemoteJWKSet(new URL(document.jwks_uri), {
      timeoutDuration: this.options.timeoutMs,
      cooldownDuration: this.options.refetchCooldownMs,
      cacheMaxAge: KEY_SET_MAX_AGE_MS,
    });
  }
}
