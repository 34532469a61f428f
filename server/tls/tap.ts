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
  const observer = new TlsHandshakeObserver();
  const { duplex, restoreHalfOpenPolicy } = createTappedSocket(socket, {
    inbound: (chunk) => {
      if (!observer.done) observer.serverBytes(chunk);
    },
    outbound: (chunk) => {
      if (!observer.done) observer.clientBytes(chunk);
    },
  });
  const attached = new WeakSet<TLSSocket>();
  const tap: TlsTap = {
    duplex,
    attach(tlsSocket) {
      if (attached.has(tlsSocket)) return;
      attached.add(tlsSocket);
      restoreHalfOpenPolicy(tlsSocket);
      const onKeylog = (line: Buffer) => {
        observer.keylog(line);
        // Once the handshake is read, stop receiving secrets for the rest of the connection.
        if (observer.done) tlsSocket.off('keylog', onKeylog);
      };
      tlsSocket.on('keylog', onKeylog);
    },
    connect(options) {
      const tlsSocket = tlsConnect({ ...options, socket: duplex });
      tap.attach(tlsSocket);
      return tlsSocket;
    },
    observation: () => observer.observation(),
  };
  return tap;
}
