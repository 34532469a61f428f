// One inbound listener: a TCP port that takes client connections, a bounded number at once,
// and serves each as its own run (see connection.ts). Closing it stops accepting, ends open
// connections and waits, briefly, for their runs to report.
import { constants as cryptoConstants } from 'node:crypto';
import net from 'node:net';
import type { InboundRule, RunEvent } from '../../shared/protocol.ts';
import type { Logger } from '../log.ts';
import { serveConnection, type ServedConnection } from './connection.ts';
import type { InboundLimits } from './limits.ts';
import type { ServerIdentity } from './server-identity.ts';
import type { TrustBundle } from './trust-bundle.ts';

export interface InboundListenerOptions {
  listenerId: string;
  /** The inbound.start id; the listener's runs echo it in run.started. */
  requestId: string;
  host: string;
  port: number;
  identity: ServerIdentity;
  bundle: TrustBundle;
  rule?: InboundRule;
  verifyDepth?: number;
  limits: InboundLimits;
  emit(event: RunEvent): void;
  log: Logger;
}

export interface InboundListener {
  listenerId: string;
  host: string;
  port: number;
  url: string;
  curl: string;
  close(): Promise<void>;
}

/** Why a listener could not start, in words the user can act on. */
export class ListenError extends Error {
  readonly code = 'listen_failed';
}

/** The URL a client uses: the certificate is for localhost, so loopback and wildcard binds use that name. */
export function listenerUrl(host: string, port: number): string {
  const local = ['127.0.0.1', '::1', '0.0.0.0', '::', 'localhost'].includes(host);
  const name = local ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return `https://${name}:${port}/`;
}

export function curlCommand(url: string): string {
  return `curl --cert client.pem --key client.key --cacert server-ca.pem ${url}`;
}

function listenProblem(err: NodeJS.ErrnoException, host: string, port: number): string {
  switch (err.code) {
    case 'EADDRINUSE':
      return `port ${port} on ${host} is already in use; choose another port, or 0 for any free one`;
    case 'EACCES':
      return `port ${port} needs privileges this relay does not have (EACCES); choose a port above 1023, or 0 for any free one`;
    case 'EADDRNOTAVAIL':
      return `${host} is not an address of this machine (EADDRNOTAVAIL)`;
    default:
      return `cannot listen on ${host}:${port} (${err.code ?? err.message})`;
  }
}

export async function startInboundListener(opts: InboundListenerOptions): Promise<InboundListener> {
  const { limits, log } = opts;
  const connections = new Set<ServedConnection>();
  let url = '';
  let curl = '';
  const tlsOptions = {
    cert: opts.identity.certPem,
    key: opts.identity.keyPem,
    ca: opts.bundle.pems,
    requestCert: true,
    rejectUnauthorized: false,
    minVersion: 'TLSv1.2' as const,
    handshakeTimeout: limits.handshakeTimeoutMs,
    // Every connection a full handshake: a resumed session carries no Certificate message to show.
    secureOptions: cryptoConstants.SSL_OP_NO_TICKET,
  };

  const server = net.createServer((socket) => {
    socket.on('error', () => {}); // the run reports resets through the TLS socket
    if (connections.size >= limits.connectionsPerListener) {
      log.info('inbound connection refused: listener busy', { listenerId: opts.listenerId, open: connections.size });
      socket.destroy();
      return;
    }
    const served = serveConnection(socket, {
      requestId: opts.requestId,
      listenerUrl: url,
      tlsOptions,
      bundle: opts.bundle,
      ...(opts.rule ? { rule: opts.rule } : {}),
      ...(opts.verifyDepth !== undefined ? { verifyDepth: opts.verifyDepth } : {}),
      limits,
      curl,
      emit: opts.emit,
    });
    connections.add(served);
    socket.once('close', () => connections.delete(served));
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => reject(new ListenError(listenProblem(err, opts.host, opts.port)));
    server.once('error', onError);
    server.listen(opts.port, opts.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (err) => log.error('inbound listener error', { listenerId: opts.listenerId, error: String(err) }));
  const port = (server.address() as net.AddressInfo).port;
  url = listenerUrl(opts.host, port);
  curl = curlCommand(url);
  log.info('inbound listener started', { listenerId: opts.listenerId, host: opts.host, port });

  let closing: Promise<void> | undefined;
  return {
    listenerId: opts.listenerId,
    host: opts.host,
    port,
    url,
    curl,
    close: () => {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        const runs = [...connections];
        for (const c of runs) c.stop();
        let timer: NodeJS.Timeout | undefined;
        const grace = new Promise<void>((resolve) => { timer = setTimeout(resolve, limits.closeGraceMs); });
        await Promise.race([Promise.all(runs.map((c) => c.done)), grace]);
        clearTimeout(timer);
        await closed;
        log.info('inbound listener closed', { listenerId: opts.listenerId, port });
      })();
      return closing;
    },
  };
}
