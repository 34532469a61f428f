// A fixed redirect URI for the authorization code flow run from the command line. Providers
// compare redirect URIs exactly (RFC 6749 §3.1.2.2, OAuth 2.1), so a partner registers one URI
// and `harness run` must listen on exactly that origin and path. Only loopback over plain HTTP
// (RFC 8252 §7.3, native apps) with an explicit port, in the harness's `/callback/<key>` form.

interface LoopbackRedirect {
  /** `http://127.0.0.1:8765`: the origin the CLI's callback listener serves. */
  origin: string;
  port: number;
  /** The redirect key: the last path segment. */
  key: string;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost']);
const KEY = /^[A-Za-z0-9_-]{1,64}$/;

/** Parses a fixed redirect URI; a string is the reason it cannot be one. */
export function parseLoopbackRedirect(uri: string): LoopbackRedirect | string {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return `${uri} is not a URL`;
  }
  const form = 'http://127.0.0.1:PORT/callback/KEY (or localhost for 127.0.0.1)';
  if (url.protocol !== 'http:' || !LOOPBACK_HOSTS.has(url.hostname)) return `${uri} is not a loopback HTTP URI: the command line listens on ${form}`;
  if (url.port === '') return `${uri} has no port: give the one registered with the provider, as in ${form}`;
  const key = url.pathname.startsWith('/callback/') ? url.pathname.slice('/callback/'.length) : '';
  if (!KEY.test(key)) return `${uri}: the path must be /callback/KEY, KEY of letters, digits, "-" and "_" (at most 64)`;
  if (url.search || url.hash || url.username || url.password) return `${uri}: no query, fragment or credentials in a redirect URI`;
  // Compared as written by the provider: the URI this run sends must be the very string given.
  if (url.href !== uri) return `${uri} is not in normal form; register and give ${url.href}`;
  return { origin: url.origin, port: Number(url.port), key };
}
