// TLS contexts shared by the connections that are open with the same credentials and trust.
// Building one (parsing the key, the certificates, the trusted CAs) costs about as much CPU as
// the client's half of an RSA handshake; partners and load tests run the same probe many times
// at once. A context is shared only while a connection that was given those credentials is
// open: when the last one closes, it is dropped, so a key lives no longer than the runs that
// carry it (or the cache that holds it, see ContextHold). Sharing a context does not share sessions: Node keeps no client session cache, so
// every connection still makes a full handshake and sends its certificate.
import tls from 'node:tls';
import { createHash } from 'node:crypto';

interface ContextOptions {
  certificatePem?: string;
  privateKeyPem?: string;
  /** Trusted CAs; undefined = Node's built-in root store. */
  ca?: string[];
}

const MIN_VERSION = 'TLSv1.2';

interface Entry {
  context: tls.SecureContext;
  users: number;
}

const open = new Map<string, Entry>();

function idOf(opts: ContextOptions): string {
  const h = createHash('sha256');
  for (const part of [opts.certificatePem ?? '', opts.privateKeyPem ?? '', ...(opts.ca ?? ['<system>'])]) h.update(part).update('\0');
  return h.digest('base64');
}

/**
 * The context for these options, shared with the open connections that use the same ones.
 * Call `release` once, when the connection that uses it has closed (or was never made).
 * Throws what tls.createSecureContext throws (a key OpenSSL cannot read, a key that does not
 * match the certificate).
 */
export function acquireContext(opts: ContextOptions): { context: tls.SecureContext; release(): void } {
  const id = idOf(opts);
  let entry = open.get(id);
  if (!entry) {
    const context = tls.createSecureContext({
      minVersion: MIN_VERSION,
      ...(opts.ca ? { ca: opts.ca } : {}),
      ...(opts.certificatePem && opts.privateKeyPem ? { cert: opts.certificatePem, key: opts.privateKeyPem } : {}),
    });
    entry = { context, users: 0 };
    open.set(id, entry);
  }
  entry.users++;
  const held = entry;
  let released = false;
  return {
    context: held.context,
    release: () => {
      if (released) return;
      released = true;
      held.users--;
      if (held.users === 0 && open.get(id) === held) open.delete(id);
    },
  };
}

/**
 * Contexts kept past their connections for as long as the owner of the hold wants them:
 * - a server check's cache of case certificates (run-check.ts) holds the contexts its cases were
 *   sent with until the cache drops those certificates, so a check run again does not build them
 *   again;
 * - a WebSocket session holds the contexts of its last few runs for `idleMs` after each was last
 *   used (session.ts), so a probe repeated with the same credentials does not parse the same key
 *   again (about 1 ms of CPU with OpenSSL 3.0, the largest single cost of a probe's own work).
 * The keys in them are the owner's own, kept no longer than it keeps them; a hold keeps at most
 * one reference per distinct context.
 */
/** A context a hold keeps: how to let it go, and when it will if idle. */
interface Kept {
  release(): void;
  timer?: NodeJS.Timeout;
}

export class ContextHold {
  readonly #releases = new Map<string, Kept>();
  readonly #max: number;
  readonly #idleMs: number | undefined;
  #released = false;

  /**
   * `max`: contexts kept at most (a check's cases: one each, whatever trust later runs use).
   * `idleMs`: each is dropped this long after it was last kept, and the least recently kept
   * makes room for a new one; without it, contexts stay until release() and a full hold keeps
   * no more.
   */
  constructor(max: number, opts: { idleMs?: number } = {}) {
    this.#max = max;
    this.#idleMs = opts.idleMs;
  }

  /** Keeps the context of these options (already built by the connection that used them). */
  keep(opts: ContextOptions): void {
    if (this.#released) return;
    const id = idOf(opts);
    const kept = this.#releases.get(id);
    if (kept && this.#idleMs === undefined) return;
    if (kept) {
      // Most recently kept last: the first entry is the one to make room.
      this.#releases.delete(id);
      this.#releases.set(id, kept);
      this.#arm(id, kept);
      return;
    }
    if (this.#releases.size >= this.#max) {
      if (this.#idleMs === undefined) return;
      this.#drop(this.#releases.keys().next().value!);
    }
    const entry: Kept = { release: acquireContext(opts).release };
    this.#arm(id, entry);
    this.#releases.set(id, entry);
  }

  /** (Re)starts the idle time of a kept context; it never holds the process open. */
  #arm(id: string, entry: Kept): void {
    if (this.#idleMs === undefined) return;
    clearTimeout(entry.timer);
    entry.timer = setTimeout(() => this.#drop(id), this.#idleMs);
    entry.timer.unref();
  }

  #drop(id: string): void {
    const entry = this.#releases.get(id);
    if (!entry) return;
    clearTimeout(entry.timer);
    entry.release();
    this.#releases.delete(id);
  }

  /** How many contexts this hold keeps now. */
  get size(): number {
    return this.#releases.size;
  }

  /** Drops every context kept; later keep() calls keep nothing. */
  release(): void {
    this.#released = true;
    for (const id of [...this.#releases.keys()]) this.#drop(id);
  }
}

/** How many distinct contexts are held now (for tests: none once every connection closed). */
export function openContexts(): number {
  return open.size;
}
