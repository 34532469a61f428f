// Who a WebSocket session belongs to, for the per-address limits: the TCP peer, or, when that
// peer is a proxy the operator named (--trust-proxy), the client that proxy says it forwarded.
// X-Forwarded-For is read from the right: each trusted hop appends the address it saw, so the
// first address from the right that is not a trusted proxy is the one no client could forge.
// Anything else in the header (what the client itself sent) is ignored.
import { isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';

/** Longest X-Forwarded-For read; a longer one is ignored (the peer's address counts). */
const MAX_FORWARDED_CHARS = 1024;

/** `::ffff:1.2.3.4` is 1.2.3.4: a dual-stack socket reports IPv4 peers that way. */
function plain(address: string): string {
  return address.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1').toLowerCase();
}

/** The --trust-proxy list: IP addresses only (TypeError naming the first that is not one). */
export function parseTrustedProxies(values: readonly string[]): Set<string> {
  const list = values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
  for (const v of list) if (!isIP(v)) throw new TypeError(`trust-proxy "${v.slice(0, 64)}" is not an IP address (give the proxy's address, e.g. 127.0.0.1 or 10.0.0.5)`);
  return new Set(list.map(plain));
}

/** The address a session counts against: the peer, or the client a trusted proxy forwarded. */
export function clientAddress(req: IncomingMessage, trusted: ReadonlySet<string>): string | undefined {
  const peer = req.socket.remoteAddress;
  if (!peer || !trusted.has(plain(peer))) return peer;
  const header = req.headers['x-forwarded-for'];
  const value = Array.isArray(header) ? header.join(',') : header;
  if (!value || value.length > MAX_FORWARDED_CHARS) return peer;
  const hops = value.split(',').map((h) => plain(h.trim()));
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]!;
    if (!isIP(hop)) return peer;
    if (!trusted.has(hop)) return hop;
  }
  return peer;
}
