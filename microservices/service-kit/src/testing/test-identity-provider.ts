import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose';
import type { AuthSettings } from '../edge/auth/auth-settings.js';
import { TokenVerifier } from '../edge/auth/token-verifier.js';

interface SigningKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export interface MintOptions {
  /** Claims besides the defaults (iss, sub, aud, iat, exp one hour ahead, a fresh jti); `undefined` removes one. */
  claims?: Record<string, unknown>;
  /** Header `typ`; default `at+jwt`. */
  typ?: string;
  /** Sign with this key (by kid) instead of the current one, e.g. one already rotated out. */
  kid?: string;
}

/** How the provider answers its discovery and key-set requests. */
export type ProviderMode = 'up' | 'down' | 'slow' | 'error';

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

/**
 * A real OpenID provider for tests, on 127.0.0.1: OpenID discovery and a JWKS over HTTP, signing keys
 * generated per run, rotation, and outages (down, slow, 500). Tokens it mints are real signed JWTs; only
 * hostile cases are built by hand.
 */
export class TestIdentityProvider {
  readonly #keys: SigningKey[] = [];
  #published: SigningKey[] = [];
  #mode: ProviderMode = 'up';
  #sequence = 0;
  /** Requests each path received: discovery, key-set and token requests are counted by tests. */
  readonly requests = { discovery: 0, jwks: 0, token: 0 };
  readonly #clients = new Map<
    string,
    { secret: string; audience: string; claims: JWTPayload; lifetimeSeconds: number }
  >();

  private constructor(
    private readonly server: Server,
    readonly issuer: string,
  ) {}

  /** Starts a provider on a free loopback port with one signing key of `alg` (default RS256). */
  static async start(alg = 'RS256'): Promise<TestIdentityProvider> {
    let provider: TestIdentityProvider | undefined;
    const server = createServer((req, res) => provider?.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    provider = new TestIdentityProvider(server, `http://127.0.0.1:${port}/realms/test`);
    await provider.rotate(alg, { keepPrevious: false });
    return provider;
  }

  get currentKid(): string {
    return (this.#keys.at(-1) as SigningKey).kid;
  }

  /** A TokenVerifier trusting this provider for `audience`, with the service defaults unless overridden. */
  verifierFor(audience: string, overrides: Partial<AuthSettings> = {}): TokenVerifier {
    return new TokenVerifier({
      issuers: [this.issuer],
      audience,
      algorithms: ['RS256', 'ES256'],
      clockToleranceSeconds: 30,
      requireAccessTokenType: false,
      userIdClaim: 'user_id',
      idpTimeoutMs: 1_000,
      refetchCooldownSeconds: 30,
      ...overrides,
    });
  }

  /** The public keys the provider publishes now. */
  get jwks(): { keys: JWK[] } {
    return { keys: this.#published.map((key) => key.publicJwk) };
  }

  /**
   * A new current signing key. With `keepPrevious`, the old ones stay published (a graceful rotation);
   * without, they disappear from the JWKS (a key revoked) but can still sign tokens for hostile tests.
   */
  async rotate(alg = 'RS256', { keepPrevious = true } = {}): Promise<string> {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    this.#sequence += 1;
    const kid = `key-${this.#sequence}-${alg}`;
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
    const key = { kid, alg, privateKey, publicJwk };
    this.#keys.push(key);
    this.#published = keepPrevious ? [...this.#published, key] : [key];
    return kid;
  }

  /** Signs an access token for `audience` (default subject `user-1`, scopes none unless given). */
  async mint(audience: string, options: MintOptions = {}): Promise<string> {
    const key = options.kid ? this.#keys.find((k) => k.kid === options.kid) : this.#keys.at(-1);
    if (!key) throw new Error(`no signing key ${options.kid}`);
    const now = Math.floor(Date.now() / 1000);
    const defaults: JWTPayload = {
      iss: this.issuer,
      sub: 'user-1',
      aud: audience,
      iat: now,
      exp: now + 3600,
      jti: randomUUID(),
    };
    const claims = Object.fromEntries(
      Object.entries({ ...defaults, ...options.claims }).filter(([, value]) => value !== undefined),
    );
    return new SignJWT(claims)
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: options.typ ?? 'at+jwt' })
      .sign(key.privateKey);
  }

  /**
   * A confidential client for the client-credentials grant at `<issuer>/protocol/openid-connect/token`:
   * its tokens are for `audience`, with subject `service-account-<id>` and `claims` (e.g. a scope).
   */
  registerClient(
    id: string,
    secret: string,
    options: { audience: string; claims?: JWTPayload; lifetimeSeconds?: number },
  ): void {
    this.#clients.set(id, {
      secret,
      audience: options.audience,
      claims: options.claims ?? {},
      lifetimeSeconds: options.lifetimeSeconds ?? 300,
    });
  }

  get tokenEndpoint(): string {
    return `${this.issuer}/protocol/openid-connect/token`;
  }

  /** Makes discovery and JWKS requests fail (`down`: connection reset), hang (`slow`) or answer 500. */
  setMode(mode: ProviderMode): void {
    this.#mode = mode;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', this.issuer).pathname;
    const isDiscovery = path.endsWith('/.well-known/openid-configuration');
    const isJwks = path.endsWith('/protocol/openid-connect/certs');
    const isToken = path.endsWith('/protocol/openid-connect/token');
    if (isDiscovery) this.requests.discovery += 1;
    if (isJwks) this.requests.jwks += 1;
    if (isToken) this.requests.token += 1;
    if (this.#mode === 'down') {
      req.socket.destroy();
      return;
    }
    if (this.#mode === 'slow') return; // never answers; the client's timeout must end it
    if (this.#mode === 'error') {
      json(res, 500, { error: 'server_error' });
    } else if (isDiscovery) {
      json(res, 200, {
        issuer: this.issuer,
        jwks_uri: `${this.issuer}/protocol/openid-connect/certs`,
        token_endpoint: this.tokenEndpoint,
        id_token_signing_alg_values_supported: ['RS256', 'ES256'],
      });
    } else if (isJwks) {
      json(res, 200, this.jwks);
    } else if (isToken && req.method === 'POST') {
      this.issueClientToken(req)
        .then(([status, body]) => json(res, status, body))
        .catch(() => json(res, 500, { error: 'server_error' }));
    } else {
      json(res, 404, { error: 'not_found' });
    }
  }

  /** RFC 6749 §4.4: client_credentials with HTTP Basic client authentication. */
  private async issueClientToken(req: IncomingMessage): Promise<[number, unknown]> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
    const [id = '', secret = ''] = Buffer.from(
      (req.headers.authorization ?? '').replace(/^Basic /, ''),
      'base64',
    )
      .toString('utf8')
      .split(':')
      .map(decodeURIComponent);
    const client = this.#clients.get(id);
    if (!client || client.secret !== secret) return [401, { error: 'invalid_client' }];
    if (form.get('grant_type') !== 'client_credentials') return [400, { error: 'unsupported_grant_type' }];
    const now = Math.floor(Date.now() / 1000);
    const access_token = await this.mint(client.audience, {
      claims: { sub: `service-account-${id}`, ...client.claims, exp: now + client.lifetimeSeconds },
    });
    return [200, { access_token, token_type: 'Bearer', expires_in: client.lifetimeSeconds }];
  }
}
