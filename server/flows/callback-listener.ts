// The OAuth redirect endpoint on its own loopback port, for headless runs: the CLI and tests
// have no relay HTTP server, but an authorization code flow still needs somewhere to come back to.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CallbackRegistry } from './callbacks.ts';

export interface CallbackListener {
  /** e.g. http://127.0.0.1:41234 — the relayOrigin of a headless flow. */
  origin: string;
  callbacks: CallbackRegistry;
  close(): Promise<void>;
}

export async function startCallbackListener(port = 0): Promise<CallbackListener> {
  const callbacks = new CallbackRegistry();
  const server = http.createServer((req, res) => {
    if (!callbacks.handle(req, res)) res.writeHead(404, { 'content-type': 'text/plain' }).end('not a callback');
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => { server.off('error', fail); ok(); });
  });
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    callbacks,
    close: () => new Promise<void>((ok) => {
      server.close(() => ok());
      server.closeAllConnections();
    }),
  };
}
