// The TLS tap turned around for a listener: the peer is the client, so bytes read from the
// socket are the client's and bytes written are ours. It shows the client's Certificate message
// exactly as sent (Node only offers a chain rebuilt from it and completed from the trust store)
// and the alerts a client sends when it gives up, including TLS 1.3's encrypted ones.
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { DeferredObserver } from '../tls/deferred-observer.ts';
import type { TlsObservation } from '../tls/observation.ts';
import { TlsHandshakeObserver } from '../tls/observer.ts';
import { createTappedSocket } from '../tls/tapped-socket.ts';

interface InboundTap {
  /** Give this to the TLS server in place of the socket. */
  duplex: Duplex;
  /** A line from the TLS server's `keylog` event for this connection (TLS 1.3 decryption needs it). */
  keylog(line: Buffer): void;
  /** Once the handshake is over, give the TLS socket the half-close behaviour of the plain socket. */
  adopt(tlsSocket: TLSSocket): void;
  observation(): TlsObservation;
  /** Bytes the client has sent so far. */
  clientBytes(): number;
}

export function tapInbound(socket: Socket): InboundTap {
  const queue = new DeferredObserver(new TlsHandshakeObserver());
  let received = 0;
  const { duplex, restoreHalfOpenPolicy } = createTappedSocket(socket, {
    inbound: (chunk) => {
      received += chunk.length;
      queue.add('client', chunk);
    },
    outbound: (chunk) => queue.add('server', chunk),
  });
  duplex.once('close', () => queue.flush());
  return {
    duplex,
    keylog: (line) => queue.add('keylog', line),
    adopt: (tlsSocket) => restoreHalfOpenPolicy(tlsSocket),
    observation: () => queue.observation(),
    clientBytes: () => received,
  };
}
