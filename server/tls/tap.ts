// The public face of the TLS tap: put it between a connected socket and TLS, and read what the
// handshake said that Node's API does not (nodejs/node#40008).
//
//   const tap = tapConnection(socket);                 // socket: a connected net.Socket
//   const tlsSocket = tap.connect({ servername, cert, key, ... });
//   ... once the handshake is over (or failed): tap.observation().acceptableCAs
//
// or, to call tls.connect() yourself: tls.connect({ socket: tap.duplex, ... }), then at once
// tap.attach(tlsSocket), before the handshake gets going.
//
// Set socket options and read addresses on the net.Socket: through a JavaScript stream the TLS
// socket cannot reach them (its remoteAddress is undefined).
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import type { TlsObservation } from './observation.ts';
import { DeferredObserver } from './deferred-observer.ts';
import { TlsHandshakeObserver } from './observer.ts';
import { createTappedSocket, type Deliver } from './tapped-socket.ts';

export type { Peer, TlsObservation } from './observation.ts';
export type { DistinguishedName } from './distinguished-name.ts';
export { TLS_ALERTS, alertName } from './alerts.ts';
export { certificateNames } from './certificate-names.ts';
export { parseDistinguishedName } from './distinguished-name.ts';

interface TlsTap {
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

/** `deliver`: how the socket's events reach TLS (default: at once); see createTappedSocket. */
export function tapConnection(socket: Socket, deliver?: Deliver): TlsTap {
  const queue = new DeferredObserver(new TlsHandshakeObserver());
  const { duplex, restoreHalfOpenPolicy } = createTappedSocket(socket, {
    inbound: (chunk) => queue.add('server', chunk),
    outbound: (chunk) => queue.add('client', chunk),
  }, deliver);
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
