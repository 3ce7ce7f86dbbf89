import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';

/** What `pg.Client` / `pg.Pool` are given: the URL, plus TLS settings when a CA file is configured. */
export interface PgConnection {
  connectionString: string;
  ssl?: ConnectionOptions;
}

// pg lets the URL's query string override the `ssl` object it is given, so with a CA file these go.
const URL_TLS_PARAMS = [
  'sslmode',
  'ssl',
  'sslnegotiation',
  'sslrootcert',
  'sslcert',
  'sslkey',
  'uselibpqcompat',
];
/** `ssl=` values pg-connection-string reads as TLS on (true); any other replaces the CA object. */
const SSL_ON = new Set(['true', '1']);

/**
 * The connection settings for `url`. With `sslRootCert` (DB_SSL_ROOT_CERT, the chart's `postgresql.tls`)
 * the connection is `verify-full` against that CA: TLS is required (a server that refuses TLS is an error,
 * never a plain-text fallback), the chain must lead to the CA and the certificate must name the host. A URL
 * asking for anything weaker than `verify-full` contradicts the CA and is refused here, at start-up.
 * Without it the URL stands as it is (pg 8 treats `sslmode=require` as `verify-full` against Node's own roots).
 */
export function pgConnection(url: string, sslRootCert?: string | undefined): PgConnection {
  if (!sslRootCert) return { connectionString: url };
  const parsed = new URL(url);
  // pg-connection-string takes the last of repeated parameters, so every occurrence is checked.
  for (const mode of parsed.searchParams.getAll('sslmode')) {
    if (mode !== 'verify-full') {
      throw new Error(
        `DB_SSL_ROOT_CERT is set, but DATABASE_URL asks for sslmode=${mode}: use sslmode=verify-full (or leave sslmode out)`,
      );
    }
  }
  // `ssl=` in the URL replaces the whole TLS object (and with it the CA): ssl=0 is plain text, no-verify
  // trusts any certificate, false crashes pg. Only the values that mean "TLS on" agree with the CA.
  for (const ssl of parsed.searchParams.getAll('ssl')) {
    if (!SSL_ON.has(ssl)) {
      throw new Error(
        `DB_SSL_ROOT_CERT is set, but DATABASE_URL asks for ssl=${ssl}: remove ssl from the URL (the CA alone means verify-full TLS)`,
      );
    }
  }
  // sslnegotiation=direct makes pg turn TLS on by itself, without the CA; postgres is the default.
  for (const negotiation of parsed.searchParams.getAll('sslnegotiation')) {
    if (negotiation !== 'postgres') {
      throw new Error(
        `DB_SSL_ROOT_CERT is set, but DATABASE_URL asks for sslnegotiation=${negotiation}: remove sslnegotiation from the URL (only the default, postgres, is supported with the CA)`,
      );
    }
  }
  let ca: string;
  try {
    ca = readFileSync(sslRootCert, 'utf8');
  } catch (err) {
    throw new Error(
      `DB_SSL_ROOT_CERT=${sslRootCert} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}): mount the database CA there`,
    );
  }
  if (!ca.includes('-----BEGIN CERTIFICATE-----'))
    throw new Error(`DB_SSL_ROOT_CERT=${sslRootCert} holds no PEM certificate`);
  for (const param of URL_TLS_PARAMS) parsed.searchParams.delete(param);
  return { connectionString: parsed.toString(), ssl: { ca, rejectUnauthorized: true } };
}

// Node's codes for a certificate the client does not trust or that names another host.
const TLS_VERIFY_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * Why a connection attempt can never succeed by waiting (TLS verification, a server without TLS, bad
 * credentials), as one line for the start-up log; null for errors worth retrying (not up yet, unreachable).
 */
export function permanentConnectFailure(err: unknown): string | null {
  if (!(err instanceof Error)) return null;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && TLS_VERIFY_CODES.has(code)) {
    return (
      `the database server's TLS certificate was refused (${code}: ${err.message}): ` +
      'give the CA that signed it in DB_SSL_ROOT_CERT (chart: postgresql.tls) and connect to a host name the certificate names'
    );
  }
  if (/does not support SSL connections/i.test(err.message)) {
    return 'the database server does not accept TLS, and TLS is required: refusing to connect in plain text (DB_SSL_ROOT_CERT or sslmode in DATABASE_URL asks for TLS)';
  }
  if (typeof code === 'string' && code.startsWith('28')) {
    return `the database refused the credentials (${code}: ${err.message})`;
  }
  return null;
}
