import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureLogger } from '../../testing/capture-logger.js';
import { createFixtureService } from '../../testing/fixture-service.js';
import { sampleValue, scrape } from '../../testing/prometheus-samples.js';
import { TestIdentityProvider } from '../../testing/test-identity-provider.js';
import type { AuthSettings } from './auth-settings.js';

const AUDIENCE = 'fixture-service';
let idp: TestIdentityProvider;
let other: TestIdentityProvider;

beforeAll(async () => {
  idp = await TestIdentityProvider.start();
  other = await TestIdentityProvider.start('ES256');
});
afterAll(async () => {
  await idp.stop();
  await other.stop();
});

/** The fixture with authentication on; `call` sends GET /api/v1/things/{id} with a bearer token. */
function build(overrides: Partial<AuthSettings> = {}, corsOrigins: string[] = []) {
  const capture = captureLogger();
  const { app, client } = createFixtureService({
    corsOrigins,
    tokenVerifier: idp.verifierFor(AUDIENCE, { idpTimeoutMs: 300, refetchCooldownSeconds: 0, ...overrides }),
    logger: capture.logger,
  });
  const call = (token: string | undefined, id = 'user-1', headers: Record<string, string> = {}) =>
    client.get<{ type?: string; detail?: string }>(`/api/v1/things/${id}`, {
      headers: { ...headers, ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
    });
  const failures = async (reason: string) =>
    sampleValue((await scrape(client)).samples, 'http_auth_failures_total', { reason });
  return { app, client, call, failures, capture };
}

const reader = { scope: 'things:read' };
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

/** The challenge's `error` parameter (RFC 6750 §3), or null when it names none. */
const challengeError = (headers: Headers) =>
  /error="([^"]+)"/.exec(headers.get('www-authenticate') ?? '')?.[1] ?? null;

describe('authentication: bearer tokens verified against the issuer’s published keys', () => {
  it('when a token of a trusted issuer for this audience carries the scope, then the request is served and the access line names its subject, never the token', async () => {
    const { call, capture } = build();
    const token = await idp.mint(AUDIENCE, { claims: { ...reader, sub: 'alice' } });
    const res = await call(token);
    expect(res.status).toBe(200);
    const line = capture.lines().find((l) => l.msg === 'request completed');
    expect(line?.subject).toBe('alice');
    expect(JSON.stringify(capture.lines())).not.toContain(token.split('.')[2]);
  });

  it('when no token is sent, then 401 authentication-required with a bare Bearer challenge (no error code, RFC 6750 §3.1)', async () => {
    const { call, failures } = build();
    const res = await call(undefined);
    expect(res.status).toBe(401);
    expect(res.body.type).toBe('urn:problem-type:authentication-required');
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="fixture-service"');
    expect(await failures('missing')).toBe(1);
  });

  it('when another scheme is sent (Basic), then it is a request without a bearer token: 401 with a bare challenge', async () => {
    const { client } = build();
    const res = await client.get('/api/v1/things/user-1', {
      headers: { authorization: 'Basic dXNlcjpwYXNz' },
    });
    expect(res.status).toBe(401);
    expect(challengeError(res.headers)).toBeNull();
  });

  // The hostile catalogue: each token, the reason it is refused and the metric label it is counted under.
  const hostile: Array<[string, () => Promise<string>, string]> = [
    [
      'alg none',
      async () =>
        `${b64({ alg: 'none', kid: idp.currentKid })}.${b64({ iss: idp.issuer, sub: 'x', aud: AUDIENCE, exp: now() + 60, ...reader })}.`,
      'algorithm',
    ],
    [
      'HS256 signed with the public key as the secret',
      async () => {
        const header = b64({ alg: 'HS256', kid: idp.currentKid, typ: 'JWT' });
        const payload = b64({ iss: idp.issuer, sub: 'x', aud: AUDIENCE, exp: now() + 60, ...reader });
        const secret = JSON.stringify(idp.jwks.keys[0]);
        const signature = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
        return `${header}.${payload}.${signature}`;
      },
      'algorithm',
    ],
    ['a wrong issuer (a provider not trusted)', () => other.mint(AUDIENCE, { claims: reader }), 'issuer'],
    [
      'a trusted issuer’s key under another iss',
      () => idp.mint(AUDIENCE, { claims: { ...reader, iss: 'https://evil.example' } }),
      'issuer',
    ],
    [
      'a token for the other service’s audience',
      () => idp.mint('order-service', { claims: reader }),
      'audience',
    ],
    [
      'an expired token (past the 30 s tolerance)',
      () => idp.mint(AUDIENCE, { claims: { ...reader, exp: now() - 60 } }),
      'expired',
    ],
    [
      'a token not valid yet (nbf past the tolerance)',
      () => idp.mint(AUDIENCE, { claims: { ...reader, nbf: now() + 120 } }),
      'not_yet_valid',
    ],
    ['a token without exp', () => idp.mint(AUDIENCE, { claims: { ...reader, exp: undefined } }), 'claims'],
    [
      'a token without kid',
      async () => {
        const token = await idp.mint(AUDIENCE, { claims: reader });
        const [, payload, signature] = token.split('.');
        return `${b64({ alg: 'RS256', typ: 'at+jwt' })}.${payload}.${signature}`;
      },
      'unknown_key',
    ],
    [
      'a token naming a kid the issuer never published',
      async () => {
        const token = await idp.mint(AUDIENCE, { claims: reader });
        const [, payload, signature] = token.split('.');
        return `${b64({ alg: 'RS256', kid: 'made-up', typ: 'at+jwt' })}.${payload}.${signature}`;
      },
      'unknown_key',
    ],
    [
      'a payload changed after signing',
      async () => {
        const [header, , signature] = (await idp.mint(AUDIENCE, { claims: reader })).split('.');
        return `${header}.${b64({ iss: idp.issuer, sub: 'x', aud: AUDIENCE, exp: now() + 60, scope: 'admin things:read' })}.${signature}`;
      },
      'signature',
    ],
    [
      'a crit header this service does not understand',
      async () => {
        const token = await idp.mint(AUDIENCE, { claims: reader });
        const [, payload, signature] = token.split('.');
        return `${b64({ alg: 'RS256', kid: idp.currentKid, crit: ['x-custom'], 'x-custom': 1 })}.${payload}.${signature}`;
      },
      'unsupported',
    ],
    ['malformed base64', async () => 'eyJhbGciOiJSUzI1NiJ9.@@@.###', 'malformed'],
    [
      'a valid token with = padding appended',
      async () => `${await idp.mint(AUDIENCE, { claims: reader })}==`,
      'malformed',
    ],
    [
      'a valid token re-spelled (its signature’s last character changed, same bytes)',
      async () => {
        const token = await idp.mint(AUDIENCE, { claims: reader });
        // 2048-bit RSA: 256 bytes, so the last base64url character holds 4 unused bits.
        const last = token.at(-1) as string;
        const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
        const respelled = alphabet[alphabet.indexOf(last) ^ 1] as string;
        return token.slice(0, -1) + respelled;
      },
      'malformed',
    ],
    ['a token whose sub is a number', () => idp.mint(AUDIENCE, { claims: { ...reader, sub: 42 } }), 'claims'],
    ['a token whose sub is empty', () => idp.mint(AUDIENCE, { claims: { ...reader, sub: '' } }), 'claims'],
    ['a token of 9,000 characters', async () => `${'a'.repeat(4_500)}.${'b'.repeat(4_499)}`, 'too_large'],
  ];

  it.each(hostile)(
    'when %s is sent, then 401 invalid-token (invalid_token) counted as its reason',
    async (_, make, reason) => {
      const { call, failures } = build();
      const res = await call(await make());
      expect(res.status).toBe(401);
      expect(res.body.type).toBe('urn:problem-type:invalid-token');
      expect(challengeError(res.headers)).toBe('invalid_token');
      expect(res.headers.get('www-authenticate')).toMatch(
        /^Bearer realm="fixture-service", error="invalid_token", error_description="[^"\\]+"$/,
      );
      expect(await failures(reason)).toBe(1);
    },
  );

  it('when the token is expired by less than the clock tolerance, then it is still accepted (clock skew)', async () => {
    const { call } = build();
    expect((await call(await idp.mint(AUDIENCE, { claims: { ...reader, exp: now() - 10 } }))).status).toBe(
      200,
    );
  });

  it('when the token is sent in the query string, then 400 token-in-query (invalid_request), even beside a valid header', async () => {
    const { client, failures } = build();
    const token = await idp.mint(AUDIENCE, { claims: reader });
    const res = await client.get<{ type: string }>(`/api/v1/things/user-1?access_token=${token}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(400);
    expect(res.body.type).toBe('urn:problem-type:token-in-query');
    expect(challengeError(res.headers)).toBe('invalid_request');
    expect(await failures('invalid_request')).toBe(1);
  });

  it.each([
    ['percent-encoded in the query', '/api/v1/things/user-1?access%5Ftoken=x'],
    ['with an encoded letter', '/api/v1/things/user-1?%61ccess_token=x'],
    ['followed by NUL', '/api/v1/things/user-1?access_token%00=x'],
    ['in a path parameter', '/api/v1/things/user-1;access_token=x'],
  ])(
    'when the token is in the URL %s, then 400 token-in-query, even beside a valid header, and the access line does not write the path down',
    async (_, path) => {
      const { client, capture } = build();
      const token = await idp.mint(AUDIENCE, { claims: reader });
      const res = await client.get<{ type: string }>(path, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(400);
      expect(res.body.type).toBe('urn:problem-type:token-in-query');
      const line = capture.lines().find((l) => l.msg === 'request completed');
      expect(String(line?.path)).not.toMatch(/access/i);
    },
  );

  it('when an address keeps sending refused tokens, then they spend its rate-limit tokens, and once none are left its tokens are refused (429) before any signature check, while a token it had verified still passes', async () => {
    const { app, client } = createFixtureService({
      tokenVerifier: idp.verifierFor(AUDIENCE),
      rateLimit: { ratePerSecond: 0.01, burst: 3, maxClients: 100, trustedProxies: [] },
    });
    const from = (address: string, token: string) =>
      app.request(
        '/api/v1/things/user-1',
        { headers: { authorization: `Bearer ${token}` } },
        { incoming: { socket: { remoteAddress: address } } },
      );
    const good = await idp.mint(AUDIENCE, { claims: reader });
    expect((await from('192.0.2.7', good)).status).toBe(200);
    const [header, payload] = good.split('.');
    const forged = `${header}.${payload}.${Buffer.alloc(256, 7).toString('base64url')}`;
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await from('192.0.2.7', forged)).status);
    // The address's three tokens (the verified caller is counted under its subject, not its address).
    expect(statuses).toEqual([401, 401, 401, 429, 429, 429]);
    const { samples } = await scrape(client);
    expect(sampleValue(samples, 'http_auth_failures_total', { reason: 'signature' })).toBe(3);
    expect((await from('192.0.2.7', good)).status).toBe(200);
    expect((await from('192.0.2.7', await idp.mint(AUDIENCE, { claims: reader }))).status).toBe(429);
    expect((await from('198.51.100.1', forged)).status).toBe(401);
  });

  it('when two issuers name the same subject, then each has its own rate-limit bucket', async () => {
    const { client } = createFixtureService({
      tokenVerifier: idp.verifierFor(AUDIENCE, { issuers: [idp.issuer, other.issuer] }),
      rateLimit: { ratePerSecond: 0.01, burst: 2, maxClients: 100, trustedProxies: [] },
    });
    const as = async (provider: TestIdentityProvider) => ({
      headers: {
        authorization: `Bearer ${await provider.mint(AUDIENCE, { claims: { ...reader, sub: 'victim' } })}`,
      },
    });
    const statuses = async (provider: TestIdentityProvider) => {
      const options = await as(provider);
      const seen: number[] = [];
      for (let i = 0; i < 3; i++) seen.push((await client.get('/api/v1/things/user-1', options)).status);
      return seen;
    };
    expect(await statuses(other)).toEqual([200, 200, 429]);
    expect(await statuses(idp)).toEqual([200, 200, 429]);
  });

  it('when access tokens must be typed at+jwt, then an ID token (typ JWT) is refused as token_type, and an at+jwt token is served', async () => {
    const { call, failures } = build({ requireAccessTokenType: true });
    const idToken = await idp.mint(AUDIENCE, { claims: reader, typ: 'JWT' });
    expect((await call(idToken)).status).toBe(401);
    expect(await failures('token_type')).toBe(1);
    expect((await call(await idp.mint(AUDIENCE, { claims: reader }))).status).toBe(200);
  });

  it('when CORS is on, then a browser’s preflight (which never carries a token) is answered, and a 401 carries the CORS headers and exposes its challenge', async () => {
    const { app, client } = build({}, ['https://shop.example']);
    // A preflight is not an operation of the document: sent unchecked.
    const preflight = await app.request('/api/v1/things/user-1', {
      method: 'OPTIONS',
      headers: {
        origin: 'https://shop.example',
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'authorization',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-headers')).toBe('authorization');
    const refused = await client.get('/api/v1/things/user-1', {
      headers: { origin: 'https://shop.example' },
    });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('access-control-allow-origin')).toBe('https://shop.example');
    expect(refused.headers.get('access-control-expose-headers')).toContain('WWW-Authenticate');
  });

  it('when two issuers are trusted, then tokens of each are served', async () => {
    const { call } = build({ issuers: [idp.issuer, other.issuer] });
    expect((await call(await idp.mint(AUDIENCE, { claims: reader }))).status).toBe(200);
    expect((await call(await other.mint(AUDIENCE, { claims: reader }))).status).toBe(200);
  });
});

describe('authorization: scopes and ownership', () => {
  it('when the token lacks the scope, then 403 insufficient-scope naming the scopes that would do', async () => {
    const { call, failures } = build();
    const res = await call(await idp.mint(AUDIENCE, { claims: { scope: 'things:write' } }));
    expect(res.status).toBe(403);
    expect(res.body.type).toBe('urn:problem-type:insufficient-scope');
    expect(challengeError(res.headers)).toBe('insufficient_scope');
    expect(res.headers.get('www-authenticate')).toContain('scope="things:read things:read:own"');
    expect(await failures('insufficient_scope')).toBe(1);
  });

  it('when a token holds only the :own scope, then it reaches its own user’s resource and gets 403 not-owner for another’s', async () => {
    const { call, failures } = build();
    const token = await idp.mint(AUDIENCE, { claims: { scope: 'things:read:own', user_id: 'user-7' } });
    expect((await call(token, 'user-7')).status).toBe(200);
    const res = await call(token, 'user-8');
    expect(res.status).toBe(403);
    expect(res.body.type).toBe('urn:problem-type:not-owner');
    expect(await failures('not_owner')).toBe(1);
  });

  it('when a token holds the :own scope but names no user, then it reaches nothing (403 insufficient-scope)', async () => {
    const { call } = build();
    expect(
      (await call(await idp.mint(AUDIENCE, { claims: { scope: 'things:read:own' } }), 'user-1')).status,
    ).toBe(403);
  });

  it.each([
    ['scp as a list (Entra ID, Okta)', { scp: ['things:read'] }],
    ['scp as a string', { scp: 'openid things:read' }],
    ['a Keycloak realm role', { realm_access: { roles: ['things:read'] } }],
    [
      'a Keycloak client role of this audience',
      { resource_access: { [AUDIENCE]: { roles: ['things:read'] } } },
    ],
  ])('when the scope comes as %s, then it counts', async (_, claims) => {
    const { call } = build();
    expect((await call(await idp.mint(AUDIENCE, { claims }))).status).toBe(200);
  });

  it('when a Keycloak client role belongs to another client, then it does not count', async () => {
    const { call } = build();
    const token = await idp.mint(AUDIENCE, {
      claims: { resource_access: { other: { roles: ['things:read'] } } },
    });
    expect((await call(token)).status).toBe(403);
  });

  it('when a workload token (ServiceAccount) comes from the workload issuer, then it gets the scopes configured for its subject and none of its own claims', async () => {
    const { call } = build({
      issuers: [],
      workload: {
        issuer: idp.issuer,
        subjects: new Map([['system:serviceaccount:shop:order-service', ['things:read']]]),
      },
    });
    const workload = (sub: string, scope?: string) =>
      idp.mint(AUDIENCE, { claims: { sub, ...(scope ? { scope } : {}) } });
    expect((await call(await workload('system:serviceaccount:shop:order-service'))).status).toBe(200);
    expect((await call(await workload('system:serviceaccount:shop:intruder', 'things:read'))).status).toBe(
      403,
    );
  });
});

describe('the identity provider: rotation and outages', () => {
  it('when the provider rotates to a new key, then the first token signed with it fetches the key set once more and is served', async () => {
    const provider = await TestIdentityProvider.start();
    try {
      const { call } = build({ issuers: [provider.issuer] });
      expect((await call(await provider.mint(AUDIENCE, { claims: reader }))).status).toBe(200);
      const fetchesBefore = provider.requests.jwks;
      await provider.rotate();
      expect((await call(await provider.mint(AUDIENCE, { claims: reader }))).status).toBe(200);
      expect(provider.requests.jwks).toBe(fetchesBefore + 1);
      // Served from the cache after that: no fetch per request.
      for (let i = 0; i < 5; i++) await call(await provider.mint(AUDIENCE, { claims: reader }));
      expect(provider.requests.jwks).toBe(fetchesBefore + 1);
      expect(provider.requests.discovery).toBe(1);
    } finally {
      await provider.stop();
    }
  });

  it('when a key is rotated out (no longer published), then tokens it signed are refused once the key set is fetched again', async () => {
    const provider = await TestIdentityProvider.start();
    try {
      const { call } = build({ issuers: [provider.issuer] });
      const oldKid = provider.currentKid;
      expect((await call(await provider.mint(AUDIENCE, { claims: reader }))).status).toBe(200);
      await provider.rotate('RS256', { keepPrevious: false });
      expect((await call(await provider.mint(AUDIENCE, { claims: reader }))).status).toBe(200);
      const res = await call(await provider.mint(AUDIENCE, { claims: reader, kid: oldKid }));
      expect(res.status).toBe(401);
    } finally {
      await provider.stop();
    }
  });

  it('when unknown kids arrive within the refetch cooldown, then the key set is fetched at most once for them', async () => {
    const provider = await TestIdentityProvider.start();
    try {
      const { call } = build({ issuers: [provider.issuer], refetchCooldownSeconds: 60 });
      expect((await call(await provider.mint(AUDIENCE, { claims: reader }))).status).toBe(200);
      const fetches = provider.requests.jwks;
      const token = await provider.mint(AUDIENCE, { claims: reader });
      const [, payload, signature] = token.split('.');
      for (let i = 0; i < 20; i++) {
        const forged = `${b64({ alg: 'RS256', kid: `made-up-${i}` })}.${payload}.${signature}`;
        expect((await call(forged)).status).toBe(401);
      }
      expect(provider.requests.jwks).toBe(fetches);
    } finally {
      await provider.stop();
    }
  });

  it.each([
    ['down (connections reset)', 'down'],
    ['slow (never answers within AUTH_IDP_TIMEOUT_MS)', 'slow'],
    ['failing (500)', 'error'],
  ] as const)(
    'when the provider is %s before any key was fetched, then 503 identity-provider-unavailable with Retry-After, never 401',
    async (_, mode) => {
      const provider = await TestIdentityProvider.start();
      try {
        const { call, failures } = build({ issuers: [provider.issuer] });
        const token = await provider.mint(AUDIENCE, { claims: reader });
        provider.setMode(mode);
        const res = await call(token);
        expect(res.status).toBe(503);
        expect(res.body.type).toBe('urn:problem-type:identity-provider-unavailable');
        expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
        expect(await failures('idp_unavailable')).toBe(1);
        // Within the back-off the provider is not asked again: a burst of requests is a burst of 503s.
        const asked = provider.requests.discovery;
        for (let i = 0; i < 10; i++) expect((await call(token)).status).toBe(503);
        expect(provider.requests.discovery).toBe(asked);
      } finally {
        await provider.stop();
      }
    },
  );

  it('when the provider goes down after its keys were fetched, then tokens signed with known keys are still served, and a token needing a new key is a 503', async () => {
    const provider = await TestIdentityProvider.start();
    try {
      const { call } = build({ issuers: [provider.issuer] });
      expect((await call(await provider.mint(AUDIENCE, { claims: reader }))).status).toBe(200);
      const newKid = await provider.rotate();
      provider.setMode('down');
      expect((await call(await provider.mint(AUDIENCE, { claims: reader, kid: 'key-1-RS256' }))).status).toBe(
        200,
      );
      expect((await call(await provider.mint(AUDIENCE, { claims: reader, kid: newKid }))).status).toBe(503);
      // Known keys keep working during the back-off too.
      expect((await call(await provider.mint(AUDIENCE, { claims: reader, kid: 'key-1-RS256' }))).status).toBe(
        200,
      );
      provider.setMode('up');
    } finally {
      await provider.stop();
    }
  });
});
