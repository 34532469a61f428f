// Decides whether a WebSocket upgrade may proceed, before any frame is read: the access
// token, an exact Origin allowlist (cross-site WebSocket hijacking) and an exact Host
// allowlist (DNS rebinding). Fails closed: anything missing is a refusal.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { WS_PATH } from '../shared/protocol/index.ts';

export interface GuardConfig {
  token: string;
  /** Exact `Host` header values accepted, e.g. "127.0.0.1:8080". */
  allowedHosts: ReadonlySet<string>;
  /** Exact `Origin` values accepted, e.g. "http://127.0.0.1:8080". */
  allowedOrigins: ReadonlySet<string>;
}

/** `code`: which check refused, for the refusal metric (a fixed set, unlike `reason`). */
type GuardVerdict = { ok: true } | { ok: false; status: 403 | 404; reason: string; code: 'path' | 'host' | 'origin' | 'token' };

export function loopbackNames(port: number): { hosts: Set<string>; origins: Set<string> } {
  const hosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
  const origins = new Set([...hosts].map((h) => `http://${h}`));
  return { hosts, origins };
}

export function tokenMatches(given: string | null, expected: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function checkUpgrade(req: IncomingMessage, config: GuardConfig): GuardVerdict {
  let url: URL;
  try {
    url = new URL(req.url ?? '/', 'http://relay.invalid');
  } catch {
    return { ok: false, status: 404, reason: 'bad request target', code: 'path' };
  }
  if (url.pathname !== WS_PATH) return { ok: false, status: 404, reason: 'no WebSocket endpoint at this path', code: 'path' };
  const host = req.headers.host;
  if (!host || !config.allowedHosts.has(host.toLowerCase())) return { ok: false, status: 403, reason: 'Host not allowed', code: 'host' };
  const origin = req.headers.origin;
  if (!origin || !config.allowedOrigins.has(origin.toLowerCase())) return { ok: false, status: 403, reason: 'Origin not allowed', code: 'origin' };
  if (!tokenMatches(url.searchParams.get('token'), config.token)) return { ok: false, status: 403, reason: 'missing or wrong access token', code: 'token' };
  return { ok: true };
}
