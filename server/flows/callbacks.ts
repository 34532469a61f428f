// The relay's OAuth redirect endpoint. A flow registers the key in its redirect_uri
// (`/callback/<key>`) and waits; the browser's redirect from the authorization server lands
// here, the query is handed to that flow, and the page tells the user to go back to the app.
// Anyone can send a request to that URL (a cross-site image, a guess), so the flow screens each
// one: a redirect that is not the answer to its request (another state, or none) is reported and
// ignored, and the flow keeps waiting for the real one.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CancelledError } from '../net/dial.ts';
import { CALLBACK_IGNORED_SCRIPT } from '../response-headers.ts';
import { randomState } from '../../shared/flows/pkce.ts';

export const CALLBACK_PREFIX = '/callback/';

const PAGE = `<!doctype html><meta charset="utf-8"><title>Harness: redirect received</title>
<body style="font:16px system-ui;margin:3rem"><h1>Redirect received</h1>
<p>The harness has the authorization response. You can close this window and return to the app.</p>
<script>setTimeout(() => window.close(), 800)</script>`;

const IGNORED_PAGE = `<!doctype html><meta charset="utf-8"><title>Harness: redirect ignored</title>
<body style="font:16px system-ui;margin:3rem"><h1>Redirect ignored</h1>
<p>This redirect does not answer the request the harness is waiting for (its state differs), so
it was ignored. If you started this sign-in, return to the app: the run shows what arrived.</p>
<script>${CALLBACK_IGNORED_SCRIPT}</script>`;

/** How a waiting flow tells its own redirect from anything else sent to its URL. */
export interface CallbackScreen {
  /** Null to take the redirect; otherwise why it is not the answer to this request. */
  check(query: URLSearchParams): string | null;
  /** A redirect that was not taken: the flow reports it and keeps waiting. */
  onIgnored(query: URLSearchParams, why: string): void;
}

/** The wait ended early: the only user agent sent to sign in is done and brought nothing usable. */
const CALLBACK_SETTLED = 'CALLBACK_SETTLED';

interface Waiter {
  /** True when the redirect was taken. */
  deliver(query: URLSearchParams): boolean;
  ignored: number;
  settle(): void;
}

/**
 * A relay's name among several behind one load balancer (`--relay-id`): lower-case letters,
 * digits and inner hyphens, so it is safe in a path, a query value and an nginx map pattern.
 */
const RELAY_ID_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;

/** The relay id, or a TypeError that says what is wrong with it (never echoes more than 40 characters). */
export function checkRelayId(value: string): string {
  if (!RELAY_ID_PATTERN.test(value)) throw new TypeError(`relay id "${value.slice(0, 40)}" must be 1-32 characters of a-z, 0-9 and inner hyphens (e.g. harness-0)`);
  return value;
}

/**
 * Several relays behind one balancer: a redirect must reach the relay whose flow waits for it.
 * The relay marks what it mints with its id, and the balancer routes on the mark
 * (docs/deployment.md): the state as `<relayId>.<random>` (providers return it unchanged, and
 * the redirect URI a person registered stays the same on every relay), and a generated callback
 * key as `<relayId>-<random>` (for a provider that drops state). Without an id, both are plain.
 */
export class CallbackRegistry {
  readonly #waiting = new Map<string, Waiter>();

  constructor(readonly relayId?: string) {
    if (relayId !== undefined) checkRelayId(relayId);
  }

  /** A fresh state for an authorization request, marked with the relay id. */
  newState(): string {
    return this.relayId === undefined ? randomState() : `${this.relayId}.${randomState()}`;
  }

  /** A fresh callback key (alphanumeric), marked with the relay id. */
  newKey(): string {
    const random = randomState().replace(/[^A-Za-z0-9]/g, '').slice(0, 16);
    return this.relayId === undefined ? random : `${this.relayId}-${random}`;
  }

  /** The relay a state or generated key names, when it is not this one (a balancer routed it wrong). */
  #otherRelay(key: string, state: string | null): string | null {
    if (this.relayId === undefined) return null;
    const named = state?.match(/^([a-z0-9-]+)\./)?.[1] ?? key.match(/^([a-z0-9-]+)-[A-Za-z0-9]+$/)?.[1];
    return named && named !== this.relayId && RELAY_ID_PATTERN.test(named) ? named : null;
  }

  /** True while a flow waits on `key`: a second flow on the same key would steal its redirect. */
  isWaiting(key: string): boolean {
    return this.#waiting.has(key);
  }

  /**
   * Resolves with the query of the first redirect `screen` takes (without a screen, the first
   * one), or rejects on timeout/abort, or when `settle` says no usable redirect is coming.
   */
  expect(key: string, timeoutMs: number, signal?: AbortSignal, screen?: CallbackScreen): Promise<URLSearchParams> {
    return new Promise((resolve, reject) => {
      const done = () => { clearTimeout(timer); this.#waiting.delete(key); signal?.removeEventListener('abort', onAbort); };
      const timer = setTimeout(() => { done(); reject(Object.assign(new Error(`no redirect within ${timeoutMs} ms`), { code: 'CALLBACK_TIMEOUT' })); }, timeoutMs);
      const onAbort = () => { done(); reject(new CancelledError()); };
      signal?.addEventListener('abort', onAbort, { once: true });
      const waiter: Waiter = {
        ignored: 0,
        deliver: (query) => {
          const why = screen?.check(query) ?? null;
          if (why !== null) {
            waiter.ignored++;
            screen!.onIgnored(query, why);
            return false;
          }
          done();
          resolve(query);
          return true;
        },
        settle: () => { done(); reject(Object.assign(new Error('the user agent finished without a usable redirect'), { code: CALLBACK_SETTLED })); },
      };
      this.#waiting.set(key, waiter);
    });
  }

  /**
   * The user agent a headless run sent to `authorizationUrl` has followed every redirect (the
   * lab approves by itself). If the flow waiting on its redirect URI has seen only redirects it
   * ignored, none other is coming: end the wait now instead of at the timeout.
   */
  settle(authorizationUrl: string): void {
    let path: string;
    try {
      path = new URL(new URL(authorizationUrl).searchParams.get('redirect_uri') ?? '').pathname;
    } catch {
      return;
    }
    if (!path.startsWith(CALLBACK_PREFIX)) return;
    const waiter = this.#waiting.get(path.slice(CALLBACK_PREFIX.length));
    if (waiter && waiter.ignored > 0) waiter.settle();
  }

  /** Handles GET /callback/<key>; returns false when the path is not a callback. */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const url = new URL(req.url ?? '/', 'http://relay.invalid');
    if (!url.pathname.startsWith(CALLBACK_PREFIX)) return false;
    const waiter = this.#waiting.get(url.pathname.slice(CALLBACK_PREFIX.length));
    if (!waiter) {
      const other = this.#otherRelay(url.pathname.slice(CALLBACK_PREFIX.length), url.searchParams.get('state'));
      // Only ids fit RELAY_ID_PATTERN reach the page, so nothing a sender chose beyond that is echoed.
      const text = other === null
        ? 'No flow is waiting for this redirect (it may have timed out).'
        : `No flow is waiting for this redirect here: it belongs to relay ${other}, and this is relay ${this.relayId}. The load balancer must route /callback/ by the relay id in the state or key (docs/deployment.md, "Several relays behind nginx").`;
      res.writeHead(404, { 'content-type': 'text/plain', 'cache-control': 'no-store' }).end(text);
      return true;
    }
    const taken = waiter.deliver(url.searchParams);
    res.writeHead(taken ? 200 : 400, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' }).end(taken ? PAGE : IGNORED_PAGE);
    return true;
  }
}
