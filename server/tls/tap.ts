// The public face of the TLS tap: put it between a connected socket and tls.connect(), attach
// the TLS socket, and read what the handshake said that Node's API does not (nodejs/node#40008).
//
//   const tap = tapConnection(socket);
//   const tlsSocket = tls.connect({ socket: tap.duplex, servername, cert, key, ... });
//   tap.attach(tlsSocket);            // at once: the keylog lines come during the handshake
//   ... later: tap.observation().acceptableCAs
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { TlsObservation } from './observation.ts';
import { TlsHandshakeObserver } from './observer.ts';
import { createTappedSocket } from './tapped-socket.ts';

export type { ObservedAlert, ObservedMessage, Peer, TlsObservation } from './observation.ts';
export type { DistinguishedName } from './distinguished-name.ts';
export { TLS_ALERTS, alertName } from './alerts.ts';

export interface TlsTap {
  /** Hand this to tls.connect({ socket }). */
  duplex: Duplex;
  /**
   * Subscribes to the TLS socket's `keylog` event, which TLS 1.3 decryption needs. Call it right
   * after tls.connect() returns, before the handshake gets going; calling it twice is harmless.
   */
  attach(tlsSocket: TLSSocket): void;
  /** A snapshot of what has been seen so far; safe to call at any time, never throws. */
  observation(): TlsObservation;
}

export function tapConnection(socket: Socket): TlsTap {
  const observer = new TlsHandshakeObserver();
  const duplex = createTappedSocket(socket, {
    inbound: (chunk) => {
      if (!observer.done) observer.serverBytes(chunk);
    },
    outbound: (chunk) => {
      if (!observer.done) observer.clientBytes(chunk);
    },
  });
  const attached = new WeakSet<TLSSocket>();
  return {
    duplex,
    attach(tlsSocket) {
      if (attached.has(tlsSocket)) return;
      attached.add(tlsSocket);
      const onKeylog = (line: Buffer) => {
        observer.keylog(line);
        // Once the handshake is read, stop receiving secrets for the rest of the connection.
        if (observer.done) tlsSocket.off('keylog', onKeylog);
      };
      tlsSocket.on('keylog', onKeylog);
    },
    observation: () => observer.observation(),
  };
}
