import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestIdentityProvider } from '@microservices/service-kit/testing';
import { decodeJwt } from 'jose';
import { Agent } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  CredentialsUnavailable,
  clientCredentials,
  projectedTokenFile,
  TOKEN_FILE_REREAD_MS,
} from './call-credentials.js';

const dir = mkdtempSync(join(tmpdir(), 'token-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('projectedTokenFile: the kubelet’s rotating ServiceAccount token', () => {
  it('when the kubelet rewrites the file, then the new token is presented within a minute, and at once after a refusal', async () => {
    const path = join(dir, 'token');
    writeFileSync(path, 'first-token\n');
    let now = 0;
    const credentials = projectedTokenFile(path, () => now);
    expect(await credentials.token()).toBe('first-token');
    writeFileSync(path, 'second-token');
    now = TOKEN_FILE_REREAD_MS - 1;
    expect(await credentials.token()).toBe('first-token');
    now = TOKEN_FILE_REREAD_MS;
    expect(await credentials.token()).toBe('second-token');
    writeFileSync(path, 'third-token');
    credentials.invalidate();
    expect(await credentials.token()).toBe('third-token');
  });

  const fileWith = (name: string, content: string | Buffer) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };

  it.each([
    ['missing', join(dir, 'nowhere')],
    [
      'a directory',
      (() => {
        const p = join(dir, 'a-dir');
        mkdirSync(p);
        return p;
      })(),
    ],
    ['100 KB', fileWith('huge', 'a'.repeat(100_000))],
    ['binary', fileWith('binary', Buffer.from([0xff, 0x00, 0x1b, 0x0a, 0x41]))],
    ['two lines', fileWith('two-lines', 'header.payload\nsignature')],
    [
      'empty',
      (() => {
        const p = join(dir, 'empty');
        writeFileSync(p, '  \n');
        return p;
      })(),
    ],
  ])('when the file is %s, then CredentialsUnavailable', async (_, path) => {
    await expect(projectedTokenFile(path).token()).rejects.toBeInstanceOf(CredentialsUnavailable);
  });

  it('when a FIFO is put in the file’s place, then CredentialsUnavailable at once, without waiting for a writer', async () => {
    const path = join(dir, 'fifo');
    execFileSync('mkfifo', [path]);
    const started = performance.now();
    await expect(projectedTokenFile(path).token()).rejects.toBeInstanceOf(CredentialsUnavailable);
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});

describe('clientCredentials: OAuth2 client credentials against a real provider', () => {
  let idp: TestIdentityProvider;
  const dispatcher = new Agent();
  beforeAll(async () => {
    idp = await TestIdentityProvider.start();
    idp.registerClient('order-service', 's3cret', {
      audience: 'user-service',
      claims: { scope: 'users:read' },
      lifetimeSeconds: 100,
    });
  });
  afterAll(async () => {
    await idp.stop();
    await dispatcher.close();
  });
  afterEach(() => idp.setMode('up'));

  const build = (overrides: { clientSecret?: string; now?: () => number } = {}) =>
    clientCredentials({
      tokenUrl: idp.tokenEndpoint,
      clientId: 'order-service',
      clientSecret: 's3cret',
      scope: 'users:read',
      audience: '',
      dispatcher,
      timeoutMs: 300,
      ...overrides,
    });

  it('when calls ask for tokens, then one token is fetched and shared until 80 % of its life, then replaced in the background', async () => {
    let now = 1_000_000;
    const credentials = build({ now: () => now });
    const before = idp.requests.token;
    const tokens = await Promise.all(Array.from({ length: 10 }, () => credentials.token()));
    expect(new Set(tokens).size).toBe(1);
    expect(idp.requests.token).toBe(before + 1);
    expect(decodeJwt(tokens[0] as string)).toMatchObject({ aud: 'user-service', scope: 'users:read' });
    now += 79_000;
    expect(await credentials.token()).toBe(tokens[0]);
    expect(idp.requests.token).toBe(before + 1);
    // Past 80 %: this call still gets the valid token while the next is fetched.
    now += 2_000;
    expect(await credentials.token()).toBe(tokens[0]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(idp.requests.token).toBe(before + 2);
    expect(await credentials.token()).not.toBe(tokens[0]);
  });

  it('when the provider is down while the token is still valid, then calls keep the token; once it expires, CredentialsUnavailable', async () => {
    let now = 2_000_000;
    const credentials = build({ now: () => now });
    const token = await credentials.token();
    idp.setMode('down');
    now += 90_000;
    expect(await credentials.token()).toBe(token);
    now += 20_000;
    await expect(credentials.token()).rejects.toBeInstanceOf(CredentialsUnavailable);
  });

  it.each([
    [
      '50 MB',
      (res: import('node:http').ServerResponse) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        const chunk = Buffer.alloc(1_048_576, 0x20);
        let sent = 0;
        const more = () => {
          while (sent < 50 && res.write(chunk)) sent += 1;
          if (sent < 50) res.once('drain', more);
          else res.end();
        };
        more();
      },
    ],
    [
      'a token that is not a bearer token',
      (res: import('node:http').ServerResponse) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ access_token: 'two\nlines', expires_in: 300 }));
      },
    ],
  ])(
    'when the token endpoint answers %s, then CredentialsUnavailable (the answer is not held)',
    async (_, answer) => {
      const server = createServer((_req, res) => answer(res));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const { port } = server.address() as AddressInfo;
        const credentials = clientCredentials({
          tokenUrl: `http://127.0.0.1:${port}/token`,
          clientId: 'order-service',
          clientSecret: 's3cret',
          scope: '',
          audience: '',
          dispatcher,
          timeoutMs: 5_000,
        });
        await expect(credentials.token()).rejects.toBeInstanceOf(CredentialsUnavailable);
      } finally {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
    },
  );

  it.each([
    ['a wrong secret', { clientSecret: 'wrong' }, 'up'],
    ['a provider answering 500', {}, 'error'],
    ['a provider that never answers', {}, 'slow'],
  ] as const)('when asked with %s, then CredentialsUnavailable', async (_, overrides, mode) => {
    idp.setMode(mode);
    await expect(build(overrides).token()).rejects.toBeInstanceOf(CredentialsUnavailable);
  });
});
