// The outbound guard: in hosted mode the relay must not become an open proxy into the network
// it runs in (SSRF). Every address a name resolves to is checked — and the connection goes to
// the address that was checked, so a second DNS answer cannot swap it (rebinding).
import ipaddr from 'ipaddr.js';
import { HarnessError } from '../../shared/errors.ts';

export interface OutboundPolicy {
  /** Off in local mode: partners test servers on their own network and loopback. */
  enforce: boolean;
  /** Ports a target may use. */
  allowedPorts: ReadonlySet<number>;
  /** Plain http:// targets (token flows, API-key calls) are refused unless allowed. */
  allowHttp: boolean;
  /** Host names (lower case, no trailing dot) admitted even on private addresses. */
  allowTargets: ReadonlySet<string>;
  /** Exact `host:port` endpoints admitted whatever their address and port (the built-in lab). */
  allowEndpoints: ReadonlySet<string>;
}

export const LOCAL_POLICY: OutboundPolicy = { enforce: false, allowedPorts: new Set(), allowHttp: true, allowTargets: new Set(), allowEndpoints: new Set() };

export const DEFAULT_HOSTED_PORTS = [443, 8443, 9443] as const;

export function hostedPolicy(opts: { allowedPorts?: number[]; allowHttp?: boolean; allowTargets?: string[]; allowEndpoints?: string[] } = {}): OutboundPolicy {
  return {
    enforce: true,
    allowedPorts: new Set(opts.allowedPorts ?? DEFAULT_HOSTED_PORTS),
    allowHttp: opts.allowHttp ?? false,
    allowTargets: new Set((opts.allowTargets ?? []).map(normaliseHost)),
    allowEndpoints: new Set((opts.allowEndpoints ?? []).map((e) => e.toLowerCase())),
  };
}

function endpointOf(url: URL): string {
  return `${normaliseHost(url.hostname)}:${url.port || (url.protocol === 'https:' ? 443 : 80)}`;
}

/** True when the URL names an endpoint the operator admitted as a whole (the lab). */
export function isAdmittedEndpoint(url: URL, policy: OutboundPolicy): boolean {
  return policy.allowEndpoints.has(endpointOf(url));
}

export type RefusalCode = 'target_scheme_refused' | 'target_userinfo_refused' | 'target_port_refused' | 'target_address_refused';

export class OutboundRefused extends HarnessError<RefusalCode> {}

function normaliseHost(host: string): string {
  return host.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
}

/** Checks the URL itself: scheme, credentials, port. Throws OutboundRefused. */
export function checkUrlAllowed(url: URL, policy: OutboundPolicy): void {
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new OutboundRefused('target_scheme_refused', `${url.protocol}// URLs are not allowed; use https://`);
  }
  if (url.username || url.password) {
    throw new OutboundRefused('target_userinfo_refused', 'URLs with a user name or password are not allowed');
  }
  if (!policy.enforce || isAdmittedEndpoint(url, policy)) return;
  if (url.protocol === 'http:' && !policy.allowHttp) {
    throw new OutboundRefused('target_scheme_refused', 'plain http:// targets are not allowed on this relay; use https://');
  }
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  if (!policy.allowedPorts.has(port)) {
    throw new OutboundRefused('target_port_refused', `port ${port} is not allowed on this relay (allowed: ${[...policy.allowedPorts].join(', ')})`);
  }
}

/** Range names ipaddr.js gives that are reachable public unicast. */
const PUBLIC = new Set(['unicast']);

/**
 * IPv6 forms that carry an IPv4 address: a packet to one of them can end up at that IPv4
 * address (the kernel's automatic tunnel, a NAT64 gateway, a 6to4 or Teredo relay), so the
 * IPv4 address is judged by the IPv4 rules. IPv4-mapped (::ffff:0:0/96) is not listed:
 * ipaddr.process() turns it into the IPv4 address itself. Only the well-known NAT64 prefix is
 * admitted when what it embeds is public (an IPv6-only host reaches the IPv4 internet through
 * it); the other forms are deprecated or site-local and never a partner's server.
 */
const EMBEDDING_FORMS = [
  // RFC 4291 §2.5.5.1, deprecated; Linux routes it through sit0 to the embedded address.
  { name: 'an IPv4-compatible address', cidr: '::/96', admitWhenPublic: false, embedded: (p: number[]) => [v4(p[6]!, p[7]!)] },
  // RFC 6145 IPv4-translated.
  { name: 'an IPv4-translated address', cidr: '::ffff:0:0:0/96', admitWhenPublic: false, embedded: (p: number[]) => [v4(p[6]!, p[7]!)] },
  // RFC 6052 well-known NAT64 prefix.
  { name: 'a NAT64 address', cidr: '64:ff9b::/96', admitWhenPublic: true, embedded: (p: number[]) => [v4(p[6]!, p[7]!)] },
  // RFC 8215 local-use NAT64: where the IPv4 address sits depends on the operator's prefix length.
  { name: 'a local-use NAT64 address', cidr: '64:ff9b:1::/48', admitWhenPublic: false, embedded: () => [] },
  // RFC 3056 6to4: 2002:AABB:CCDD::/48 embeds AA.BB.CC.DD.
  { name: 'a 6to4 address', cidr: '2002::/16', admitWhenPublic: false, embedded: (p: number[]) => [v4(p[1]!, p[2]!)] },
  // RFC 4380 Teredo: the server's address in clear, the client's inverted in the last 32 bits.
  { name: 'a Teredo address', cidr: '2001::/32', admitWhenPublic: false, embedded: (p: number[]) => [v4(p[2]!, p[3]!), v4(~p[6]! & 0xffff, ~p[7]! & 0xffff)] },
] as const;

const EMBEDDING_RANGES = EMBEDDING_FORMS.map((f) => ({ ...f, range: ipaddr.parseCIDR(f.cidr) as [ipaddr.IPv6, number] }));

function v4(high: number, low: number): ipaddr.IPv4 {
  return new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
}

/** Why an IPv6 address that embeds an IPv4 address is refused (the end of a sentence), or null. */
function embeddedProblem(address: ipaddr.IPv6): string | null {
  // :: and ::1 are judged as what they are (unspecified, loopback), not as embedding 0.0.0.x.
  const range = address.range();
  if (range === 'unspecified' || range === 'loopback') return null;
  const form = EMBEDDING_RANGES.find((f) => address.match(f.range));
  if (!form) return null;
  const inner = form.embedded(address.parts);
  const refusedInner = inner.find((a) => !PUBLIC.has(a.range()));
  if (refusedInner) return `${form.name} embedding ${refusedInner.toString()} (${refusedInner.range()}), which this relay does not connect to`;
  if (form.admitWhenPublic && inner.length > 0) return null;
  const shown = inner.length ? ` embedding ${inner.map((a) => a.toString()).join(' and ')}` : '';
  return `${form.name}${shown}: a transition form this relay does not connect through`;
}

/** Checks one resolved or literal address. Throws OutboundRefused. */
export function checkAddressAllowed(hostname: string, address: string, policy: OutboundPolicy, port?: number): void {
  if (!policy.enforce || policy.allowTargets.has(normaliseHost(hostname))) return;
  if (port !== undefined && policy.allowEndpoints.has(`${normaliseHost(hostname)}:${port}`)) return;
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    // process() turns IPv4-mapped IPv6 (::ffff:127.0.0.1) back into IPv4 before judging.
    parsed = ipaddr.process(address);
  } catch {
    throw new OutboundRefused('target_address_refused', `"${address}" is not an IP address`);
  }
  const v6 = parsed.kind() === 'ipv6' ? (parsed as ipaddr.IPv6) : null;
  const embedded = v6 ? embeddedProblem(v6) : null;
  if (embedded) {
    throw new OutboundRefused('target_address_refused', `${hostname} resolves to ${parsed.toString()}, ${embedded}`);
  }
  const range = parsed.range();
  const admittedNat64 = v6 !== null && EMBEDDING_RANGES.some((f) => f.admitWhenPublic && v6.match(f.range));
  if (!PUBLIC.has(range) && !admittedNat64) {
    throw new OutboundRefused('target_address_refused', `${hostname} resolves to ${parsed.toString()} (${range}), which this relay does not connect to`);
  }
}

/** All answers must pass: a name with one public and one private address is refused whole. */
export function checkAllAddresses(hostname: string, addresses: string[], policy: OutboundPolicy, port?: number): void {
  for (const a of addresses) checkAddressAllowed(hostname, a, policy, port);
}
