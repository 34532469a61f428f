// A cap on the sockets of the relay's HTTP port that are not (yet) a WebSocket session: anyone
// who can reach the port can open them, each costs memory and a file descriptor, and without a
// cap a few thousand idle ones exhaust the process. Past the cap a new socket is closed at
// accept; one address may hold only a share, so a flood from one host leaves room for others.
// Idle sockets are cut by the HTTP server's headersTimeout, so held slots come back.
import type http from 'node:http';
import type net from 'node:net';
import type { Logger } from './log.ts';

interface PreAuthLimits {
  preAuthSockets: number;
  preAuthSocketsPerAddress: number;
}

interface PreAuthTracker {
  /** The socket became an authorized WebSocket session: it no longer counts. */
  authorized(socket: net.Socket | import('node:stream').Duplex): void;
  /** Sockets counted now (for tests and diagnostics). */
  count(): number;
}

export function trackPreAuthSockets(server: http.Server, limits: PreAuthLimits, log: Logger, onRefused: (limit: 'preAuthSockets' | 'preAuthSocketsPerAddress') => void = () => {}): PreAuthTracker {
  const open = new Map<object, string>();
  const perAddress = new Map<string, number>();
  const release = (socket: object) => {
    const address = open.get(socket);
    if (address === undefined) return;
    open.delete(socket);
    const n = (perAddress.get(address) ?? 1) - 1;
    if (n > 0) perAddress.set(address, n);
    else perAddress.delete(address);
  };
  server.on('connection', (socket: net.Socket) => {
    const address = socket.remoteAddress ?? '?';
    const fromAddress = perAddress.get(address) ?? 0;
    if (open.size >= limits.preAuthSockets || fromAddress >= limits.preAuthSocketsPerAddress) {
      const which = open.size >= limits.preAuthSockets ? 'preAuthSockets' : 'preAuthSocketsPerAddress';
      log.throttled(which, 'connection refused: too many sockets not yet a session', { limit: which, open: open.size, fromAddress });
      onRefused(which);
      socket.destroy();
      return;
    }
    open.set(socket, address);
    perAddress.set(address, fromAddress + 1);
    socket.once('close', () => release(socket));
  });
  return { authorized: release, count: () => open.size };
}
