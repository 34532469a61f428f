// Headers on every response the relay writes itself, not only on the app's files: a 403 on the
// WebSocket path, a callback page, a 404, a 500, a refused upgrade. Nothing the relay answers is
// to be sniffed into HTML, framed, or given the power to load anything.
import { createHash } from 'node:crypto';
import { STATUS_CODES } from 'node:http';

/** For every non-app response: nothing may load, run, frame it or be posted from it. */
const STRICT_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

export const BASE_HEADERS = {
  'content-security-policy': STRICT_CSP,
  'x-content-type-options': 'nosniff',
  // Pages of this relay carry the access token or an authorization code in their URL.
  'referrer-policy': 'no-referrer',
} as const;

/**
 * The OAuth callback page (server/flows/callbacks.ts) is static HTML with one inline script that
 * closes the window and an inline style attribute: exactly that script is allowed, by its hash.
 * relay.test.ts checks every script the served page holds against this policy.
 */
const CALLBACK_PAGE_SCRIPT = 'setTimeout(() => window.close(), 800)';

/**
 * The "redirect ignored" page tells the app (same origin, another browsing context group: the
 * app's Cross-Origin-Opener-Policy severs its handle on the popup) which callback it showed, so
 * the app can end a wait its own sign-in will never answer (run.settle).
 */
export const CALLBACK_IGNORED_SCRIPT = "new BroadcastChannel('harness-callback').postMessage(location.pathname)";

function scriptHash(source: string): string {
  return `'sha256-${createHash('sha256').update(source).digest('base64')}'`;
}

export const CALLBACK_PAGE_CSP = `default-src 'none'; script-src ${scriptHash(CALLBACK_PAGE_SCRIPT)} ${scriptHash(CALLBACK_IGNORED_SCRIPT)}; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'`;

/** A whole HTTP/1.1 response for a raw socket (a refused upgrade, a request Node could not parse). */
export function rawResponse(status: number, body: string): string {
  const head = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    'Connection: close',
    'Content-Type: text/plain; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Cache-Control: no-store',
    ...Object.entries(BASE_HEADERS).map(([k, v]) => `${k}: ${v}`),
  ];
  return `${head.join('\r\n')}\r\n\r\n${body}`;
}
