// One inbound listener: a TCP port that takes client connections, a bounded number at once,
// and serves each as its own run (see connection.ts). Closing it stops accepting, ends open
// connections and waits, briefly, for their runs to report.
import { constants as cryptoConstants } from 'node:crypto';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import type { InboundRule, RunEvent } from '../../shared/protocol/index.ts';
import type { Logger } from '../log.ts';
import { serveConnection, type ServedConnection } from './connection.ts';
import type { InboundLimits } from './limits.ts';
import type { ServerIdentity } from './server-identity.ts';
import type { TrustBundle } from './trust-bundle.ts';
import { HarnessError } from '../../shared/errors.ts';

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
export class ListenError extends HarnessError<'listen_failed'> {
  constructor(message: string) {
    super('listen_failed', message);
  }
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

/**
 * A listener on a port that is in use on another address of this machine would capture the
 * clients of what is there: the relay's or the lab's own port, another session's listener, or
 * another program. A client that resolves localhost to ::1 reaches a listener on ::1 first. So
 * a port is taken only when it is free on every address: binding a wildcard fails (EADDRINUSE)
 * when any address it covers holds the port. `::` covers both families unless the host has
 * bindv6only set, so `0.0.0.0` is tried as well. For port 0 the wildcard picks the number, so the
 * port the system chooses is free everywhere too.
 */
async function portFreeEverywhere(port: number): Promise<{ port: number } | { inUse: true } | { unknown: true }> {
  const probe = async (p: number, wildcard: string): Promise<number | NodeJS.ErrnoException> => {
    const server = net.createServer();
    const result = await new Promise<NodeJS.ErrnoException | number>((resolve) => {
      server.once('error', resolve);
      server.listen({ port: p, host: wildcard, exclusive: true }, () => resolve((server.address() as net.AddressInfo).port));
    });
    if (typeof result === 'number') await new Promise<void>((resolve) => server.close(() => resolve()));
    return result;
  };
  const noFamily = (e: NodeJS.ErrnoException) => e.code === 'EAFNOSUPPORT' || e.code === 'EADDRNOTAVAIL';
  // A port 0 pick can race another bind between the two probes: pick again.
  for (let attempt = 0; attempt < 5; attempt++) {
    const v6 = await probe(port, '::');
    if (typeof v6 !== 'number' && v6.code === 'EADDRINUSE') {
      if (port !== 0) return { inUse: true };
      continue;
    }
    // Anything else (EACCES for a privileged port): the real bind will say what is wrong.
    if (typeof v6 !== 'number' && !noFamily(v6)) return { unknown: true };
    const v4 = await probe(typeof v6 === 'number' ? v6 : port, '0.0.0.0');
    if (typeof v4 === 'number') return { port: v4 };
    if (v4.code === 'EADDRINUSE') {
      if (port !== 0) return { inUse: true };
      continue;
    }
    return typeof v6 === 'number' ? { port: v6 } : { unknown: true };
  }
  return { unknown: true };
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

  // Connections closed at accept are not runs each: a flood of them would bury the session in
  // events (1,500 connect/close cycles made 19,500). They are counted, by the limit that closed
  // them, and reported once a second as one summary run.
  const perAddress = new Map<string, number>();
  let window = { startedAt: performance.now(), runs: 0 };
  const closedAtAccept = { connectionsPerListener: 0, connectionsPerAddress: 0, runsPerSecond: 0 };
  let summaryTimer: NodeJS.Timeout | undefined;
  let stopping = false;
  const reportClosedAtAccept = () => {
    summaryTimer = undefined;
    const counts = { ...closedAtAccept };
    const total = counts.connectionsPerListener + counts.connectionsPerAddress + counts.runsPerSecond;
    closedAtAccept.connectionsPerListener = closedAtAccept.connectionsPerAddress = closedAtAccept.runsPerSecond = 0;
    if (total === 0 || stopping) return;
    for (const event of summaryRun(opts.requestId, url, counts, limits)) opts.emit(event);
  };
  const closeAtAccept = (socket: net.Socket, limit: keyof typeof closedAtAccept) => {
    log.throttled(`inbound ${limit}`, 'inbound connection closed at accept', { listenerId: opts.listenerId, limit });
    socket.destroy();
    closedAtAccept[limit]++;
    summaryTimer ??= setTimeout(reportClosedAtAccept, 1_000);
  };

  const server = net.createServer((socket) => {
    socket.on('error', () => {}); // the run reports resets through the TLS socket
    const address = socket.remoteAddress ?? '?';
    const fromAddress = perAddress.get(address) ?? 0;
    if (connections.size >= limits.connectionsPerListener) return closeAtAccept(socket, 'connectionsPerListener');
    if (fromAddress >= limits.connectionsPerAddress) return closeAtAccept(socket, 'connectionsPerAddress');
    const now = performance.now();
    if (now - window.startedAt >= 1_000) window = { startedAt: now, runs: 0 };
    if (window.runs >= limits.runsPerSecond) return closeAtAccept(socket, 'runsPerSecond');
    window.runs++;
    perAddress.set(address, fromAddress + 1);
    socket.once('close', () => {
      const n = (perAddress.get(address) ?? 1) - 1;
      if (n > 0) perAddress.set(address, n);
      else perAddress.delete(address);
    });
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

  const free = await portFreeEverywhere(opts.port);
  if ('inUse' in free) {
    throw new ListenError(`port ${opts.port} is already in use on this machine (by the relay, its lab, another listener or another program, on some address); a listener on ${opts.host} would take clients meant for it, e.g. those that resolve localhost to ::1. Choose another port, or 0 for any free one`);
  }
  const port0 = 'port' in free ? free.port : opts.port;
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => reject(new ListenError(listenProblem(err, opts.host, opts.port)));
    server.once('error', onError);
    server.listen(port0, opts.host, () => {
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
        stopping = true;
        clearTimeout(summaryTimer);
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

/** One run that stands for every connection closed at accept in the last second. */
function summaryRun(requestId: string, url: string, counts: Record<'connectionsPerListener' | 'connectionsPerAddress' | 'runsPerSecond', number>, limits: InboundLimits): RunEvent[] {
  const runId = `r${randomBytes(6).toString('hex')}`;
  const total = counts.connectionsPerListener + counts.connectionsPerAddress + counts.runsPerSecond;
  const why = [
    counts.runsPerSecond ? `${counts.runsPerSecond} past ${limits.runsPerSecond} runs a second` : '',
    counts.connectionsPerAddress ? `${counts.connectionsPerAddress} past ${limits.connectionsPerAddress} at once from one address` : '',
    counts.connectionsPerListener ? `${counts.connectionsPerListener} past ${limits.connectionsPerListener} at once` : '',
  ].filter(Boolean).join(', ');
  const summary = `${total} more connection${total === 1 ? ' was' : 's were'} closed at accept in the last second, without a run each (${why})`;
  return [
    { type: 'run.started', id: requestId, runId, kind: 'inbound', target: `${total} connection${total === 1 ? '' : 's'} → ${url}` },
    { type: 'step', runId, step: { id: 'tcp', phase: 'tcp', status: 'warn', title: 'Connections closed at accept', summary, startMs: 0, durationMs: 0, details: { closedAtAccept: counts, limits: { runsPerSecond: limits.runsPerSecond, connectionsPerAddress: limits.connectionsPerAddress, connectionsPerListener: limits.connectionsPerListener } } } },
    { type: 'step', runId, step: { id: 'verdict', phase: 'verdict', status: 'skipped', title: 'Verdict: not reached', summary, startMs: 0, durationMs: 0 } },
    { type: 'run.finished', runId, outcome: 'error', diagnoses: [], durationMs: 0 },
  ];
}
