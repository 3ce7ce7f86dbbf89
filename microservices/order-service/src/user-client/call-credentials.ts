import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { MAX_TOKEN_LENGTH } from '@microservices/service-kit';
import type { Dispatcher } from 'undici';

/** The bearer token order-service presents to user-service: its own identity, never a caller's. */
export interface CallCredentials {
  /** A token good for the next call; rejects with CredentialsUnavailable when none can be had. */
  token(): Promise<string>;
  /** user-service refused the last token: the next `token()` gets a fresh one. */
  invalidate(): void;
}

/** No token could be had (the token file unreadable, the identity provider down or refusing us). */
export class CredentialsUnavailable extends Error {
  override readonly name = 'CredentialsUnavailable';
}

/** How often a projected token file is read again: the kubelet replaces it well before it expires. */
export const TOKEN_FILE_REREAD_MS = 60_000;

/** A token file larger than this is not a token (the kubelet's are 1-2 KB). */
export const MAX_TOKEN_FILE_BYTES = 65_536;

/** What an HTTP `Authorization: Bearer` value may hold (RFC 6750 b64token), within the services' length limit. */
const BEARER_TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/** `text` as a token to present, or CredentialsUnavailable saying where it came from. */
function asToken(text: string, source: string): string {
  const token = text.trim();
  if (token === '') throw new CredentialsUnavailable(`${source} is empty`);
  if (token.length > MAX_TOKEN_LENGTH || !BEARER_TOKEN.test(token)) {
    throw new CredentialsUnavailable(`${source} does not hold a bearer token`);
  }
  return token;
}

/**
 * The file's text, read only if it is a regular file of at most MAX_TOKEN_FILE_BYTES. Opened without
 * blocking, so a FIFO (or a device) put in its place is refused instead of holding a libuv thread, which
 * the services' signature checks need too.
 */
async function readTokenFile(path: string): Promise<string> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new CredentialsUnavailable(`the token file ${path} is not a regular file`);
    if (stat.size > MAX_TOKEN_FILE_BYTES) {
      throw new CredentialsUnavailable(`the token file ${path} is larger than ${MAX_TOKEN_FILE_BYTES} bytes`);
    }
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

/**
 * A Kubernetes projected ServiceAccount token (audience user-service), read from its file and read again
 * every minute or after a refusal: the kubelet rewrites the file (an atomic symlink swap) once 80 % of the
 * token's lifetime has passed, so a process that read it once would present an expired token an hour later.
 */
export function projectedTokenFile(path: string, now: () => number = Date.now): CallCredentials {
  let cached: { token: string; readAt: number } | undefined;
  return {
    async token() {
      if (cached && now() - cached.readAt < TOKEN_FILE_REREAD_MS) return cached.token;
      let text: string;
      try {
        text = await readTokenFile(path);
      } catch (err) {
        if (err instanceof CredentialsUnavailable) throw err;
        throw new CredentialsUnavailable(`the token file ${path} cannot be read`, { cause: err });
      }
      const token = asToken(text, `the token file ${path}`);
      cached = { token, readAt: now() };
      return token;
    },
    invalidate() {
      cached = undefined;
    },
  };
}

export interface ClientCredentialsOptions {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  /** Space-separated scopes to ask for (e.g. `users:read`); none when empty. */
  scope: string;
  /** The `audience` parameter some providers need (Auth0); not sent when empty. */
  audience: string;
  dispatcher: Dispatcher;
  timeoutMs: number;
  now?: () => number;
}

/** A token is used until this share of its lifetime has passed, then replaced before it expires. */
const REFRESH_AT_SHARE = 0.8;
/** Token answers larger than this are not tokens. */
const MAX_TOKEN_ANSWER_BYTES = 65_536;

/**
 * A token answer's JSON, read only up to MAX_TOKEN_ANSWER_BYTES: a larger one (announced or streamed) is
 * cut off unread rather than held in the heap ({} when it is not JSON).
 */
async function readBoundedJson(body: Dispatcher.ResponseData['body']): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  try {
    for await (const chunk of body) {
      bytes += (chunk as Buffer).length;
      if (bytes > MAX_TOKEN_ANSWER_BYTES) {
        body.destroy();
        throw new CredentialsUnavailable(
          `the token endpoint answered more than ${MAX_TOKEN_ANSWER_BYTES} bytes`,
        );
      }
      chunks.push(chunk as Buffer);
    }
  } catch (err) {
    if (err instanceof CredentialsUnavailable) throw err;
    throw new CredentialsUnavailable('the token endpoint’s answer could not be read', { cause: err });
  }
  try {
    const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

interface IssuedToken {
  token: string;
  refreshAt: number;
  expiresAt: number;
}

/**
 * OAuth2 client credentials (RFC 6749 §4.4) against the organisation's provider: one token at a time,
 * cached, and replaced once 80 % of its lifetime has passed. The replacement is fetched while calls keep
 * using the current token; only a call finding no valid token waits, and concurrent ones share one fetch.
 * A provider that cannot be reached is a CredentialsUnavailable, which the resilience policy counts.
 */
export function clientCredentials(options: ClientCredentialsOptions): CallCredentials {
  const now = options.now ?? Date.now;
  const url = new URL(options.tokenUrl);
  let current: IssuedToken | undefined;
  let fetching: Promise<IssuedToken> | undefined;

  const form = new URLSearchParams({ grant_type: 'client_credentials' });
  if (options.scope) form.set('scope', options.scope);
  if (options.audience) form.set('audience', options.audience);
  const basic = Buffer.from(
    `${encodeURIComponent(options.clientId)}:${encodeURIComponent(options.clientSecret)}`,
  ).toString('base64');

  async function fetchToken(): Promise<IssuedToken> {
    const asked = now();
    let res: Dispatcher.ResponseData;
    try {
      res = await options.dispatcher.request({
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        headers: {
          authorization: `Basic ${basic}`,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: form.toString(),
        signal: AbortSignal.timeout(options.timeoutMs),
      });
    } catch (err) {
      throw new CredentialsUnavailable(`the token endpoint ${url.origin} cannot be reached`, { cause: err });
    }
    if (res.statusCode !== 200) {
      await res.body.dump();
      throw new CredentialsUnavailable(`the token endpoint answered ${res.statusCode}`);
    }
    const answer = await readBoundedJson(res.body);
    const lifetimeSeconds = Number(answer.expires_in);
    if (typeof answer.access_token !== 'string' || !(lifetimeSeconds > 0)) {
      throw new CredentialsUnavailable('the token endpoint answered without access_token and expires_in');
    }
    const token = asToken(answer.access_token, 'the token endpoint’s access_token');
    const lifetimeMs = lifetimeSeconds * 1000;
    return { token, refreshAt: asked + lifetimeMs * REFRESH_AT_SHARE, expiresAt: asked + lifetimeMs };
  }

  const refresh = () => {
    fetching ??= fetchToken()
      .then((issued) => {
        current = issued;
        return issued;
      })
      .finally(() => {
        fetching = undefined;
      });
    return fetching;
  };

  return {
    async token() {
      const at = now();
      if (current && at < current.expiresAt) {
        // Past 80 % of its life: replaced in the background; this call still has a valid token.
        if (at >= current.refreshAt) refresh().catch(() => undefined);
        return current.token;
      }
      return (await refresh()).token;
    },
    invalidate() {
      current = undefined;
    },
  };
}
