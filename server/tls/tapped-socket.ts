// A Duplex that stands between a connected net.Socket and tls.connect({ socket }), forwarding
// bytes both ways unchanged and showing each chunk to a tee on the way. Node reads and writes a
// net.Socket's handle natively, so without this stand-in no JavaScript ever sees the handshake.
// The TLS socket wraps it (JSStreamSocket) and learns of its errors, end and close; this class
// carries those over from the net.Socket faithfully, and closes the net.Socket when TLS is done.
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';

interface ByteTee {
  /** A chunk read from the socket (sent by the peer). */
  inbound(chunk: Buffer): void;
  /** A chunk about to be written to the socket (sent by us). */
  outbound(chunk: Buffer): void;
}

/**
 * Wraps a connected socket for `tls.connect({ socket: tapped })`. Set socket options (noDelay,
 * keepAlive, timeouts) and read addresses on `socket` itself: the TLS socket cannot reach them
 * through a JavaScript stream.
 *
 * Half-close: when TLS owns a socket's handle natively, a peer's FIN reaches TLS, which answers
 * with close_notify and only then sends its own FIN. To keep that order here, neither the
 * net.Socket nor this Duplex may end its writing side by itself when the peer ends, so both are
 * made half-open and the FIN is sent when TLS shuts down. The TLS socket copies allowHalfOpen
 * from this Duplex, which is therefore true: give the TLS socket the policy it would have had
 * with `restoreHalfOpenPolicy` (the tap's attach() does).
 */
export function createTappedSocket(socket: Socket, tee: ByteTee, deliver: Deliver = now): { duplex: Duplex; restoreHalfOpenPolicy(tlsSocket: Socket): void } {
  const allowHalfOpen = socket.allowHalfOpen;
  socket.allowHalfOpen = true;
  return {
    duplex: new TappedSocket(socket, tee, deliver),
    restoreHalfOpenPolicy: (tlsSocket) => {
      tlsSocket.allowHalfOpen = allowHalfOpen;
    },
  };
}

/**
 * How what the socket says (data, end, error, close) is handed on: at once by default, or
 * through a scheduler that may run it later, in order (server/net/fair-share.ts). Returns
 * whether the task ran at once.
 */
export type Deliver = (task: () => void) => boolean;

const now: Deliver = (task) => {
  task();
  return true;
};

class TappedSocket extends Duplex {
  private peerEnded = false;

  constructor(
    private readonly socket: Socket,
    private readonly tee: ByteTee,
    deliver: Deliver,
  ) {
    super({ allowHalfOpen: true });
    // A chunk that waits its turn holds the socket paused, so nothing piles up behind it.
    let waiting = false;
    socket.on('data', (chunk: Buffer) => {
      const ranNow = deliver(() => {
        const resume = waiting;
        waiting = false;
        if (this.destroyed) return;
        this.show('inbound', chunk);
        if (!this.push(chunk)) socket.pause();
        else if (resume) socket.resume();
      });
      if (!ranNow) {
        waiting = true;
        socket.pause();
      }
    });
    socket.on('end', () => deliver(() => {
      this.peerEnded = true;
      this.push(null);
    }));
    // Destroying with the socket's own error makes the TLS socket emit that very error
    // (same object, same `code`, e.g. ECONNRESET), as it would over a plain socket.
    socket.on('error', (error) => deliver(() => this.destroy(error)));
    socket.on('close', () => deliver(() => {
      if (this.destroyed) return;
      // After a clean end, let the reader take what is still buffered before closing.
      if (this.peerEnded && !this.readableEnded) this.once('end', () => this.destroy());
      else this.destroy();
    }));
  }

  override _read(): void {
    if (this.socket.isPaused()) this.socket.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.show('outbound', chunk);
    this.socket.write(chunk, done);
  }

  override _writev(chunks: { chunk: Buffer }[], done: (error?: Error | null) => void): void {
    // TLS hands over a whole flight at once; keep it one write on the wire.
    this.socket.cork();
    for (let i = 0; i < chunks.length; i++) {
      const { chunk } = chunks[i]!;
      this.show('outbound', chunk);
      this.socket.write(chunk, i === chunks.length - 1 ? done : undefined);
    }
    this.socket.uncork();
  }

  override _final(done: (error?: Error | null) => void): void {
    // Any failure to send the FIN also arrives as the socket's 'error', handled above.
    this.socket.end(() => done());
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    this.socket.destroy();
    done(error);
  }

  /** The tee only watches; a fault in it must not break the connection it is watching. */
  private show(direction: keyof ByteTee, chunk: Buffer): void {
    try {
      this.tee[direction](chunk);
    } catch {
      // Deliberately ignored: see above. The tap records its own problems in its observation.
    }
  }
}
