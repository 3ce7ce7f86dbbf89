import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestIdentityProvider } from '../../testing/test-identity-provider.js';
import type { AuthSettings } from './auth-settings.js';
import { IDP_RETRY_AFTER_MS, IdentityProviderUnavailable } from './issuer-keys.js';
import {
  TokenRejected,
  TokenVerifier,
  VERIFIED_TOKEN_CACHE_BYTES,
  VERIFIED_TOKEN_TTL_MS,
} from './token-verifier.js';

let idp: TestIdentityProvider;
beforeAll(async () => {
  idp = await TestIdentityProvider.start();
});
afterAll(() => idp.stop());

const settings = (): AuthSettings => ({
  issuers: [idp.issuer],
  audience: 'kit-test',
  algorithms: ['RS256'],
  clockToleranceSeconds: 0,
  requireAccessTokenType: false,
  userIdClaim: 'user_id',
  idpTimeoutMs: 500,
  refetchCooldownSeconds: 0,
});

/** A verifier on a clock the test moves. */
function build() {
  const clock = { now: Date.now() };
  const verifier = new TokenVerifier(settings(), { now: () => clock.now });
  const rejection = async (token: string) =>
    verifier.verify(token).then(
      () => 'accepted',
      (err: unknown) => (err instanceof TokenRejected ? err.reason : String(err)),
    );
  return { clock, verifier, rejection };
}

/** A provider of the test's own (it rotates keys or goes down) and a verifier on a clock the test moves. */
async function withOwnProvider(
  test: (parts: {
    provider: TestIdentityProvider;
    clock: { now: number };
    verifier: TokenVerifier;
  }) => Promise<void>,
) {
  const provider = await TestIdentityProvider.start();
  try {
    const clock = { now: Date.now() };
    const verifier = new TokenVerifier(
      { ...settings(), issuers: [provider.issuer] },
      { now: () => clock.now },
    );
    await test({ provider, clock, verifier });
  } finally {
    await provider.stop();
  }
}

describe('TokenVerifier: tokens verified once are remembered, never past their validity', () => {
  it('when a remembered token expires, then it is refused as expired (the cache never outlives exp)', async () => {
    const { clock, verifier, rejection } = build();
    const token = await idp.mint('kit-test', { claims: { exp: Math.floor(clock.now / 1000) + 60 } });
    expect((await verifier.verify(token)).subject).toBe('user-1');
    clock.now += 59_000;
    expect(await rejection(token)).toBe('accepted');
    clock.now += 2_000;
    expect(await rejection(token)).toBe('expired');
  });

  it('when the key of a remembered token is withdrawn, then the token is still admitted from memory for at most VERIFIED_TOKEN_TTL_MS, then refused', async () => {
    await withOwnProvider(async ({ provider, clock, verifier }) => {
      const old = await provider.mint('kit-test');
      await verifier.verify(old);
      await provider.rotate('RS256', { keepPrevious: false });
      // A token of the new key makes the verifier fetch the key set without the old key.
      await verifier.verify(await provider.mint('kit-test'));
      clock.now += VERIFIED_TOKEN_TTL_MS - 1_000;
      await expect(verifier.verify(old)).resolves.toMatchObject({ subject: 'user-1' });
      clock.now += 2_000;
      await expect(verifier.verify(old)).rejects.toMatchObject({ reason: 'unknown_key' });
    });
  });

  it('when a token was refused, then sending it again is checked again (refusals are not remembered as admissions)', async () => {
    const { rejection } = build();
    const token = await idp.mint('another-audience');
    expect(await rejection(token)).toBe('audience');
    expect(await rejection(token)).toBe('audience');
  });
});

describe('TokenVerifier: the back-off after the provider failed', () => {
  it('when tokens needing the provider keep arriving during the back-off, then they do not extend it: the provider is asked again once it has passed', async () => {
    await withOwnProvider(async ({ provider, clock, verifier }) => {
      await verifier.verify(await provider.mint('kit-test'));
      const newKid = await provider.rotate();
      provider.setMode('down');
      const needsNewKey = () => provider.mint('kit-test', { kid: newKid });
      await expect(verifier.verify(await needsNewKey())).rejects.toBeInstanceOf(IdentityProviderUnavailable);
      // A caller retrying every second through the back-off.
      for (let waited = 1_000; waited < IDP_RETRY_AFTER_MS; waited += 1_000) {
        clock.now += 1_000;
        await expect(verifier.verify(await needsNewKey())).rejects.toBeInstanceOf(
          IdentityProviderUnavailable,
        );
      }
      provider.setMode('up');
      clock.now += 1_001;
      await expect(verifier.verify(await needsNewKey())).resolves.toMatchObject({ subject: 'user-1' });
    });
  });
});

describe('TokenVerifier: the memory of verified tokens is bounded in bytes', () => {
  it('when many valid tokens carry thousands of scopes each, then the memory stays under VERIFIED_TOKEN_CACHE_BYTES', async () => {
    const { verifier } = build();
    const scope = Array.from({ length: 400 }, (_, i) => `s${i}`).join(' ');
    for (let i = 0; i < 300; i++) await verifier.verify(await idp.mint('kit-test', { claims: { scope } }));
    const usage = verifier.cacheUsage();
    expect(usage.bytes).toBeLessThanOrEqual(VERIFIED_TOKEN_CACHE_BYTES);
    expect(usage.entries).toBeLessThan(300);
  });
});
