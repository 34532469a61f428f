// The public face of the TLS tap: put it between a connected socket and tls.connect(), attach
// the TLS socket, and read what the handshake said that Node's API does not (nodejs/node#40008).
//
//   const tap = tapConnection(socket);
//   const tlsSocket = tls.connect({ socket: tap.duplex, servername, cert, key, ... });
//   tap.attach(tlsSocket);            // at once: the keylog lines come during the handshake
//   ... later: tap.observation().acceptableCAs
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import type { TlsObservation } from './observation.ts';
import { TlsHandshakeObserver } from './observer.ts';
import { createTappedSocket } from './tapped-socket.ts';

export type { ObservedAlert, ObservedMessage, Peer, TlsObservation } from './observation.ts';
export type { DistinguishedName } from './distinguished-name.ts';
export { TLS_ALERTS, alertName } from './alerts.ts';

export interface TlsTap {
  /** Hand this to tls.connect({ socket }), then call attach() at once. */
  duplex: Duplex;
  /**
   * Subscribes to the TLS socket's `keylog` event, which TLS 1.3 decryption needs, and gives it
   * the half-close behaviour it would have had over the plain socket. Call it right after
   * tls.connect() returns, before the handshake gets going; calling it twice is harmless.
   */
  attach(tlsSocket: TLSSocket): void;
  /** tls.connect() over the tap with attach() done: the simplest correct use. `socket` is ignored. */
  connect(options: ConnectionOptions): TLSSocket;
  /** A snapshot of what has been seen so far; safe to call at any time, never throws. */
  observation(): TlsObservation;
}

export function tapConnection(socket: Socket): TlsTap {
  const queue = new DeferredObserver(new TlsHandshakeObserver());
  const { duplex, restoreHalfOpenPolicy } = createTappedSocket(socket, {
    inbound: (chunk) => queue.add('server', chunk),
    outbound: (chunk) => queue.add('client', chunk),
  });
  // Read what is queued while it is still the handshake's, and let go of it.
  duplex.once('close', () => queue.flush());
  const attached = new WeakSet<TLSSocket>();
  const tap: TlsTap = {
    duplex,
    attach(tlsSocket) {
      if (attached.has(tlsSocket)) return;
      attached.add(tlsSocket);
      restoreHalfOpenPolicy(tlsSocket);
      const onKeylog = (line: Buffer) => {
        queue.add('keylog', line);
        // Once the handshake is read, stop receiving secrets for the rest of the connection.
        if (queue.done) tlsSocket.off('keylog', onKeylog);
      };
      tlsSocket.on('keylog', onKeylog);
    },
    connect(options) {
      const tlsSocket = tlsConnect({ ...options, socket: duplex });
      tap.attach(tlsSocket);
      return tlsSocket;
    },
    observation: () => queue.observation(),
  };
  return tap;
}

/** Queued bytes that force a read even before anyone asks: bounds memory on long connections. */
const READ_AT_LEAST_EVERY_BYTES = 64 * 1024;

/**
 * Parsing and decrypting cost a few hundred microseconds per handshake. Done as bytes pass, that
 * time would sit on the handshake's critical path (the keylog event even fires inside OpenSSL's
 * processing of the server's flight, before the client's reply goes out). So events are only
 * queued, in the order they happen, and read when someone asks for the observation, when the
 * connection closes, or when enough has queued up to be worth bounding.
 */
class DeferredObserver {
  private readonly pending: { kind: 'client' | 'server' | 'keylog'; bytes: Buffer }[] = [];
  private pendingBytes = 0;

  constructor(private readonly observer: TlsHandshakeObserver) {}

  get done(): boolean {
    return this.observer.done;
  }

  add(kind: 'client' | 'server' | 'keylog', bytes: Buffer): void {
    if (this.observer.done) return;
    this.pending.push({ kind, bytes });
    this.pendingBytes += bytes.length;
    if (this.pendingBytes >= READ_AT_LEAST_EVERY_BYTES) this.flush();
  }

  observation(): TlsObservation {
    this.flush();
    return this.observer.observation();
  }

  flush(): void {
    this.pendingBytes = 0;
    for (const { kind, bytes } of this.pending.splice(0)) {
      if (this.observer.done) return;
      if (kind === 'client') this.observer.clientBytes(bytes);
      else if (kind === 'server') this.observer.serverBytes(bytes);
      else this.observer.keylog(bytes);
    }
  }
}
