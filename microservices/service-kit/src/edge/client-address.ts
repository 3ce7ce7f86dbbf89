import { BlockList, isIP } from 'node:net';
import type { Context } from 'hono';

/** The peer address Node saw, when the app runs behind @hono/node-server (undefined in-process). */
export function peerAddress(c: Context): string | undefined {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return env?.incoming?.socket?.remoteAddress;
}

/** Node reports IPv4 peers of a dual-stack socket as `::ffff:a.b.c.d`; compare them as IPv4. */
const unmapped = (address: string) =>
  address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;

/**
 * The proxies whose `X-Forwarded-For` is believed (`TRUSTED_PROXIES`: addresses or CIDR ranges). Empty:
 * the header is ignored and the peer address is the client, so no caller can pick its own identity.
 */
export class TrustedProxies {
  readonly #list = new BlockList();
  readonly #empty: boolean;

  constructor(entries: readonly string[]) {
    this.#empty = entries.length === 0;
    for (const entry of entries) {
      const [address = '', prefix] = entry.split('/');
      const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
      if (prefix === undefined) this.#list.addAddress(address, family);
      else this.#list.addSubnet(address, Number(prefix), family);
    }
  }

  trusts(address: string): boolean {
    if (this.#empty) return false;
    const plain = unmapped(address);
    const family = isIP(plain);
    return family !== 0 && this.#list.check(plain, family === 6 ? 'ipv6' : 'ipv4');
  }

  /**
   * The client a request comes from: the peer, or, when the peer is a trusted proxy, the right-most
   * `X-Forwarded-For` entry that is not itself trusted (entries further left are the client's to invent).
   */
  clientOf(peer: string | undefined, forwardedFor: string | undefined): string {
    let client = peer === undefined ? 'unknown' : unmapped(peer);
    if (peer === undefined || forwardedFor === undefined || !this.trusts(peer)) return client;
    const hops = forwardedFor.split(',');
    for (let i = hops.length - 1; i >= 0; i -= 1) {
      const hop = (hops[i] ?? '').trim();
      if (isIP(unmapped(hop)) === 0) return client;
      client = unmapped(hop);
      if (!this.trusts(hop)) return client;
    }
    return client;
  }
}

/** `TRUSTED_PROXIES` entries that are an IP address or a CIDR range with a valid prefix length. */
export function isProxyEntry(entry: string): boolean {
  const [address = '', prefix, extra] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return false;
  if (prefix === undefined) return true;
  if (!/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 6 ? 128 : 32);
}

/**
 * The key a client's quota is kept under: an IPv4 address as is, an IPv6 address by its /64, the block
 * one subscriber or host is usually given, so rotating through its 2^64 addresses buys no extra quota
 * and cannot flush the table of remembered clients.
 */
export function quotaKey(client: string): string {
  if (isIP(client) !== 6) return client;
  const [head = '', tail] = client.split('::');
  const left = head ? head.split(':') : [];
  const right = tail === undefined ? [] : tail ? tail.split(':') : [];
  const groups =
    tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g || '0', 16).toString(16))
    .join(':')}::/64`;
}
