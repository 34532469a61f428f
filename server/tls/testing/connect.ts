// Connects through the tap the way the relay's probe will, and waits for the connection to end
// completely, so a test sees everything: the handshake, any alert after it, and the close.
import net from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type tls from 'node:tls';
import { tapConnection, type TlsObservation } from '../tap.ts';

interface TappedConnection {
  observation: TlsObservation;
  secureConnect: boolean;
  /** getProtocol() at secureConnect (it is null once closed). */
  protocol: string | null;
  /** The TLS socket's error, if any. */
  error?: NodeJS.ErrnoException;
  /** The underlying net.Socket was destroyed by the time the TLS socket closed. */
  netSocketDestroyed: boolean;
}

/**
 * Connects to 127.0.0.1:port through the tap, sends `request` once secure (so servers that
 * answer, like s_server -www, answer and close), and resolves when the TLS socket closes.
 */
export async function connectThroughTap(port: number, options: tls.ConnectionOptions, request = 'GET / HTTP/1.0\r\n\r\n'): Promise<TappedConnection> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const tap = tapConnection(socket);
  const tlsSocket = tap.connect({ servername: 'localhost', ...options });
  let secureConnect = false;
  let protocol: string | null = null;
  let error: NodeJS.ErrnoException | undefined;
  tlsSocket.on('secureConnect', () => {
    secureConnect = true;
    protocol = tlsSocket.getProtocol();
    tlsSocket.write(request);
  });
  tlsSocket.on('error', (e) => (error ??= e));
  tlsSocket.resume();
  const timeout = giveUpAfter(5000, tlsSocket, socket);
  await new Promise((resolve) => tlsSocket.once('close', resolve));
  clearTimeout(timeout);
  return {
    observation: tap.observation(),
    secureConnect,
    protocol,
    ...(error && { error }),
    netSocketDestroyed: socket.destroyed,
  };
}

interface ConnectionOutcome {
  secureConnect: boolean;
  errorCode?: string;
  /** Bytes the server sent after the handshake. */
  received: string;
}

/** What the application sees, through the tap or over the plain socket: must be the same. */
export async function connectionOutcome(port: number, options: tls.ConnectionOptions, through: 'tap' | 'plain'): Promise<ConnectionOutcome> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const connectOptions = { servername: 'localhost', ...options };
  const tlsSocket = through === 'tap' ? tapConnection(socket).connect(connectOptions) : tlsConnect({ ...connectOptions, socket });
  let secureConnect = false;
  let errorCode: string | undefined;
  let received = '';
  tlsSocket.on('secureConnect', () => (secureConnect = true));
  tlsSocket.on('error', (e: NodeJS.ErrnoException) => (errorCode ??= e.code ?? e.message));
  tlsSocket.on('data', (chunk: Buffer) => (received += chunk.toString('utf8')));
  const timeout = giveUpAfter(5000, tlsSocket, socket);
  await new Promise((resolve) => tlsSocket.once('close', resolve));
  clearTimeout(timeout);
  return { secureConnect, received, ...(errorCode && { errorCode }) };
}

/** Closes both sockets if the connection has not closed by itself, so a broken tap fails a test instead of hanging it. */
function giveUpAfter(ms: number, tlsSocket: tls.TLSSocket, socket: net.Socket): NodeJS.Timeout {
  return setTimeout(() => {
    tlsSocket.destroy(new Error(`test connection did not close within ${ms} ms`));
    socket.destroy();
  }, ms);
}
