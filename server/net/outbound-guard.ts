// The outbound guard: in hosted mode the relay must not become an open proxy into the network
// it runs in (SSRF). Every address a name resolves to is checked — and the connection goes to
// the address that was checked, so a second DNS answer cannot swap it (rebinding).
import ipaddr from 'ipaddr.js';

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

export class OutboundRefused extends Error {
  readonly code: RefusalCode;
  constructor(code: RefusalCode, message: string) {
    super(message);
    this.name = 'OutboundRefused';
    this.code = code;
  }
}

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
  const range = parsed.range();
  if (!PUBLIC.has(range)) {
    throw new OutboundRefused('target_address_refused', `${hostname} resolves to ${parsed.toString()} (${range}), which this relay does not connect to`);
  }
}

/** All answers must pass: a name with one public and one private address is refused whole. */
export function checkAllAddresses(hostname: string, addresses: string[], policy: OutboundPolicy, port?: number): void {
  for (const a of addresses) checkAddressAllowed(hostname, a, policy, port);
}
