// The relay's OAuth redirect endpoint. A flow registers the key in its redirect_uri
// (`/callback/<key>`) and waits; the browser's redirect from the authorization server lands
// here, the query is handed to that flow, and the page tells the user to go back to the app.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CancelledError } from '../net/dial.ts';

export const CALLBACK_PREFIX = '/callback/';

const PAGE = `<!doctype html><meta charset="utf-8"><title>Harness: redirect received</title>
<body style="font:16px system-ui;margin:3rem"><h1>Redirect received</h1>
<p>The harness has the authorization response. You can close this window and return to the app.</p>
<script>setTimeout(() => window.close(), 800)</script>`;

export class CallbackRegistry {
  readonly #waiting = new Map<string, (query: URLSearchParams) => void>();

  /** True while a flow waits on `key`: a second flow on the same key would steal its redirect. */
  isWaiting(key: string): boolean {
    return this.#waiting.has(key);
  }

  /** Resolves with the redirect's query parameters, or rejects on timeout/abort. */
  expect(key: string, timeoutMs: number, signal?: AbortSignal): Promise<URLSearchParams> {
    return new Promise((resolve, reject) => {
      const done = () => { clearTimeout(timer); this.#waiting.delete(key); signal?.removeEventListener('abort', onAbort); };
      const timer = setTimeout(() => { done(); reject(Object.assign(new Error(`no redirect within ${timeoutMs} ms`), { code: 'CALLBACK_TIMEOUT' })); }, timeoutMs);
      const onAbort = () => { done(); reject(new CancelledError()); };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiting.set(key, (query) => { done(); resolve(query); });
    });
  }

  /** Handles GET /callback/<key>; returns false when the path is not a callback. */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const url = new URL(req.url ?? '/', 'http://relay.invalid');
    if (!url.pathname.startsWith(CALLBACK_PREFIX)) return false;
    const deliver = this.#waiting.get(url.pathname.slice(CALLBACK_PREFIX.length));
    if (!deliver) {
      res.writeHead(404, { 'content-type': 'text/plain', 'cache-control': 'no-store' }).end('No flow is waiting for this redirect (it may have timed out).');
      return true;
    }
    deliver(url.searchParams);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' }).end(PAGE);
    return true;
  }
}
