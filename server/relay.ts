// The relay: one HTTP server that serves the built app and the WebSocket endpoint, plus the
// built-in lab. The upgrade is checked (token, Origin, Host) before ws sees the request.
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { CLOSE_CODES, CLOSE_REASONS, WS_PATH } from '../shared/protocol/index.ts';
import { validateLimits, type Limits } from './defaults.ts';
import { checkUpgrade, loopbackNames, tokenMatches, type GuardConfig } from './upgrade-guard.ts';
import { staticHandler } from './static-files.ts';
import { Session, type RelayState } from './session.ts';
import { startLab, type RunningLab } from './lab/lab.ts';
import { createLogger, type LogFormat } from './log.ts';
import { CALLBACK_PREFIX, CallbackRegistry, checkRelayId } from './flows/callbacks.ts';
import { BASE_HEADERS, CALLBACK_PAGE_CSP, rawResponse } from './response-headers.ts';
import { trackPreAuthSockets } from './pre-auth.ts';
import { answerHealth } from './health.ts';
import { answerMetrics, RelayMetrics } from './metrics.ts';
import { hostedPolicy, LOCAL_POLICY } from './net/outbound-guard.ts';
import { defaultLabDir } from './lab/lab-dir.ts';
import { addressKey, RunRate, RunSlots, SessionCount } from './shares.ts';
import { clientAddress, parseTrustedProxies } from './client-address.ts';

export const VERSION = '0.1.0';

/** Node and OpenSSL versions and the platform: what shapes every handshake the relay makes. */
export function relayRuntime(): { node: string; openssl: string; platform: string } {
  return { node: process.versions.node, openssl: process.versions.openssl, platform: `${process.platform} ${process.arch}` };
}

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface RelayOptions {
  port?: number;
  host?: string;
  lab?: boolean;
  /** The lab's first port (mTLS target; token service and login page on the next two); 0 or absent: free ports. */
  labPort?: number;
  /** Where the lab keeps its CA and keys; default: defaultLabDir() (one lab per user and machine). */
  dataDir?: string;
  webRoot?: string;
  quiet?: boolean;
  /** Where log lines go (default stderr). */
  logWriter?: (line: string) => void;
  /** Log lines as text or JSON (pino); default: JSON in hosted mode (a collector reads it), text locally. */
  logFormat?: LogFormat;
  limits?: Partial<Limits>;
  /** Extra exact origins allowed to open the WebSocket (e.g. the Vite dev server, or the public origin in hosted mode). */
  allowOrigins?: string[];
  /** Hosted mode: the outbound guard refuses non-public targets. On by itself for a non-loopback bind. */
  hosted?: boolean;
  /** Hosted mode: private host names admitted anyway (operator's choice). */
  allowTargets?: string[];
  /** Hosted mode: ports targets may use (default 443, 8443, 9443). */
  allowPorts?: number[];
  /**
   * The access token (secret) the WebSocket requires; default: a new random one each start.
   * Given, restarts and replicas share it, so open pages reconnect (see server/access-secret.ts).
   */
  token?: string;
  /**
   * /metrics (Prometheus). Local mode: served, to anyone who can reach the loopback port.
   * Hosted mode: served only when `metricsToken` is set, and then only to a scrape that sends
   * it as a bearer token: the access secret is every learner's, so it cannot guard them.
   */
  metricsToken?: string;
  /**
   * Where learners reach this relay, e.g. https://class.example.org (a TLS-terminating proxy in
   * front): its origin is allowed as Origin and Host, the printed link and the redirect URIs of
   * authorization-code flows use it. Implies hosted mode.
   */
  publicUrl?: string;
  /**
   * This relay's name among several behind one load balancer: marks the state and callback keys
   * of its authorization-code flows so the balancer routes each redirect here (CallbackRegistry).
   */
  relayId?: string;
  /**
   * Addresses of the proxies in front (nginx, a load balancer): a session from one of them
   * counts against the address it names in X-Forwarded-For (client-address.ts), so per-address
   * limits see learners, not the proxy. Empty (the default): the TCP peer counts.
   */
  trustProxy?: string[];
}

export interface RunningRelay {
  /** The page to open; carries the access token. */
  url: string;
  origin: string;
  port: number;
  token: string;
  hosted: boolean;
  lab: RunningLab | null;
  /** Whether /metrics is served (hosted mode: only with a metrics token). */
  metricsServed: boolean;
  /** limits.shutdownGraceMs: what shutdown() gives runs in flight by default. */
  graceMs: number;
  /**
   * Graceful stop (SIGTERM): refuse new sessions, runs and requests (503), let runs in flight
   * finish for up to `graceMs` (default limits.shutdownGraceMs), cancel the rest with the
   * diagnosis relay_shutdown, close every session with 1001 "relay shutting down", then release
   * the port and the lab. Called again, it ends the grace period now (a second Ctrl+C).
   */
  shutdown(opts?: { graceMs?: number }): Promise<void>;
  /** shutdown() with no grace: runs in flight are cancelled at once. */
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

const STATUS_TEXT: Record<number, string> = { 400: 'bad request', 408: 'request timeout', 431: 'request headers too large' };

export async function startRelay(opts: RelayOptions = {}): Promise<RunningRelay> {
  const host = opts.host ?? '127.0.0.1';
  const publicOrigin = opts.publicUrl === undefined ? null : checkPublicUrl(opts.publicUrl);
  const hosted = opts.hosted === true || publicOrigin !== null || !LOOPBACK.has(host);
  const limits = validateLimits(opts.limits);
  const log = createLogger(opts.quiet, opts.logWriter, { linesPerWindow: limits.logLinesPerReason, windowMs: limits.logWindowMs }, opts.logFormat ?? (hosted ? 'json' : 'text'));
  const token = opts.token ?? randomBytes(32).toString('hex');
  if (opts.relayId !== undefined) checkRelayId(opts.relayId);
  const trustedProxies = parseTrustedProxies(opts.trustProxy ?? []);
  const lab = opts.lab === false ? null : await startLab({
    dataDir: opts.dataDir ?? defaultLabDir(),
    port: opts.labPort ?? 0,
    maxRevoked: limits.labRevokedCertificates,
    onPortTaken: (wanted, got) => log.info('lab port in use, took a free one', { wanted, got }),
  });

  const callbacks = new CallbackRegistry(opts.relayId);
  const policy = hosted
    ? hostedPolicy({ allowedPorts: opts.allowPorts, allowTargets: opts.allowTargets, allowEndpoints: lab?.info.targets.map((t) => new URL(t.url).host) ?? [] })
    : LOCAL_POLICY;
  const metrics = new RelayMetrics();
  // Hosted: off without a token of its own (see metricsToken). Local: on; a token, if given, is required.
  const metricsServed = !hosted || opts.metricsToken !== undefined;
  const state: RelayState = { metrics, limits, info: { mode: hosted ? 'hosted' : 'local', version: VERSION, lab: lab?.info ?? null, runtime: relayRuntime() }, lab, log, slots: new RunSlots(limits, hosted), rate: new RunRate(limits, hosted), origin: '', callbacks, policy };
  const serveStatic = staticHandler(opts.webRoot ?? join(ROOT, 'dist', 'web'));
  const server = http.createServer({
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    maxHeaderSize: limits.maxHeaderBytes,
    // How often Node looks for connections past headersTimeout/requestTimeout (slowloris).
    connectionsCheckingInterval: Math.min(1_000, limits.headersTimeoutMs),
  }, (req, res) => {
    // Every response gets these; the app's files and the callback page set their own CSP.
    for (const [name, value] of Object.entries(BASE_HEADERS)) res.setHeader(name, value);
    if (answerHealth(req, res, () => !draining)) return;
    if (metricsServed && answerMetrics(req, res, metrics, opts.metricsToken)) return;
    if (draining) {
      // The app asks the WebSocket path why it cannot connect: 503 tells it to try again soon.
      res.writeHead(503, { 'content-type': 'text/plain', 'cache-control': 'no-store', connection: 'close', 'retry-after': '2' });
      res.end(CLOSE_REASONS.shuttingDown);
      return;
    }
    if (req.url?.startsWith(CALLBACK_PREFIX)) res.setHeader('content-security-policy', CALLBACK_PAGE_CSP);
    // A plain GET of the WebSocket path lets the app tell "wrong token" from "relay down"
    // after a refused upgrade. It reveals only whether the token is right.
    if (req.url?.split('?')[0] === WS_PATH) {
      const ok = tokenMatches(new URL(req.url, 'http://relay.invalid').searchParams.get('token'), token);
      res.writeHead(ok ? 426 : 403, { 'content-type': 'text/plain', 'cache-control': 'no-store' });
      res.end(ok ? 'use a WebSocket upgrade' : 'missing or wrong access token');
      return;
    }
    if (callbacks.handle(req, res)) return;
    serveStatic(req, res).catch(() => {
      if (res.headersSent) res.destroy();
      else res.writeHead(500, { 'content-type': 'text/plain' }).end('internal error');
    });
  });
  const preAuth = trackPreAuthSockets(server, limits, log, (which) => metrics.refused(which === 'preAuthSockets' ? 'pre_auth_sockets' : 'pre_auth_sockets_per_address'));
  // What Node would answer a request it cannot parse (400, 408, 431), with the headers above.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    const response = (socket as { _httpMessage?: http.ServerResponse })._httpMessage;
    if (err.code !== 'ECONNRESET' && socket.writable && !response?.headersSent) {
      const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
      socket.end(rawResponse(status, STATUS_TEXT[status]!));
    }
    socket.destroy();
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: limits.maxFrameBytes, perMessageDeflate: false });
  // A handshake ws refuses (bad key, version, method) is answered here, with the headers above.
  wss.on('wsClientError', (err: Error, socket) => {
    log.throttled('websocket handshake invalid', 'websocket upgrade refused', { reason: err.message });
    metrics.refused('upgrade_invalid');
    socket.end(rawResponse(err.message === 'Invalid HTTP method' ? 405 : 400, err.message));
  });
  const sessions = new Set<Session>();
  /** Set by shutdown(): nothing new is accepted. */
  let draining = false;
  // Fair shares: per client address in hosted mode only (locally every session is one person).
  const sessionCount = new SessionCount(limits, hosted);

  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 0, host, () => { server.off('error', fail); ok(); });
  });
  const port = (server.address() as AddressInfo).port;
  const names = loopbackNames(port);
  const extraOrigins = [...(opts.allowOrigins ?? []), ...(publicOrigin ? [publicOrigin] : [])].map((o) => o.toLowerCase().replace(/\/+$/, ''));
  const guard: GuardConfig = {
    token,
    // A non-loopback bind is reached by its own address or by the public origins named.
    allowedHosts: new Set([...names.hosts, ...(LOOPBACK.has(host) ? [] : [`${host.includes(':') ? `[${host}]` : host}:${port}`]), ...extraOrigins.map((o) => new URL(o).host)]),
    allowedOrigins: new Set([...names.origins, ...(LOOPBACK.has(host) ? [] : [`http://${host.includes(':') ? `[${host}]` : host}:${port}`]), ...extraOrigins]),
  };

  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => socket.destroy());
    if (draining) {
      metrics.refused('upgrade_draining');
      socket.end(rawResponse(503, CLOSE_REASONS.shuttingDown));
      return;
    }
    const verdict = checkUpgrade(req, guard);
    if (!verdict.ok) {
      log.throttled(verdict.reason, 'websocket upgrade refused', { reason: verdict.reason, origin: req.headers.origin ?? null, host: req.headers.host ?? null });
      metrics.refused(`upgrade_${verdict.code}`);
      socket.end(rawResponse(verdict.status, verdict.reason));
      return;
    }
    const address = addressKey(clientAddress(req, trustedProxies));
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      preAuth.authorized(socket);
      if (draining) return ws.close(CLOSE_CODES.goingAway, CLOSE_REASONS.shuttingDown);
      // A browser never sees why an upgrade was refused; a close reason it does (the app shows it).
      const admitted = sessionCount.admit(address);
      if (typeof admitted !== 'function') {
        metrics.refused(admitted.code);
        return ws.close(CLOSE_CODES.tryAgainLater, `${admitted.code}: ${admitted.message}`.slice(0, 123));
      }
      const session = new Session(ws, state, socket, address);
      sessions.add(session);
      metrics.sessionOpened();
      // Hosted: who came and went, for the operator (a local relay serves one person, quietly).
      if (hosted) log.info('session opened', { session: session.id, client: address, sessions: sessions.size });
      ws.on('close', (code) => {
        sessions.delete(session);
        admitted();
        metrics.sessionClosed();
        if (hosted) log.info('session closed', { session: session.id, code, sessions: sessions.size });
      });
    });
  });

  const heartbeat = setInterval(() => {
    for (const s of sessions) if (!s.heartbeat()) sessions.delete(s);
  }, limits.heartbeatMs);
  heartbeat.unref();

  const displayHost = host.includes(':') ? `[${host}]` : host;
  const origin = publicOrigin ?? `http://${displayHost}:${port}`;
  state.origin = origin;

  let stopping: Promise<void> | null = null;
  let endGrace = () => {};
  const shutdown = ({ graceMs = limits.shutdownGraceMs }: { graceMs?: number } = {}): Promise<void> => {
    if (stopping) {
      endGrace();
      return stopping;
    }
    draining = true;
    metrics.draining();
    stopping = (async () => {
      log.info('shutdown started', { graceMs, sessions: sessions.size, runsInFlight: [...sessions].reduce((n, s) => n + s.runsInFlight, 0) });
      server.closeIdleConnections();
      for (const s of sessions) s.drain();
      const inFlight = () => [...sessions].some((s) => s.runsInFlight > 0);
      await until(() => !inFlight(), graceMs, (hurry) => { endGrace = hurry; });
      const cancelled = [...sessions].reduce((n, s) => n + s.runsInFlight, 0);
      if (cancelled > 0) log.info('shutdown: runs still in flight after the grace period were cancelled', { runs: cancelled, graceMs });
      for (const s of sessions) s.cancelForShutdown();
      // Their last events and the close frame reach the browsers; a peer that does not answer the close is cut.
      await until(() => sessions.size === 0, limits.shutdownCloseMs);
      for (const s of sessions) s.terminate();
      clearInterval(heartbeat);
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
      await lab?.close();
      metrics.close();
      log.info('shutdown finished: the port is released');
    })();
    return stopping;
  };
  return {
    url: `${origin}/?token=${token}`,
    origin,
    port,
    token,
    hosted,
    lab,
    graceMs: limits.shutdownGraceMs,
    metricsServed,
    shutdown,
    close: () => shutdown({ graceMs: 0 }),
  };
}

/** The origin of a --public-url: http(s), no credentials, path, query or fragment (TypeError otherwise). */
function checkPublicUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`publicUrl "${value}" is not a URL (e.g. https://class.example.org)`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TypeError(`publicUrl must be http:// or https://, got ${url.protocol}`);
  if (url.username || url.password) throw new TypeError('publicUrl must not carry a user name or password');
  if (url.pathname !== '/' || url.search || url.hash) throw new TypeError(`publicUrl must be an origin only (the relay serves from /), got path "${url.pathname}${url.search}${url.hash}"`);
  return url.origin;
}

/** Resolves when `done()` holds (checked every 20 ms) or after `ms`; `onHurry` gets a way to end the wait early. */
function until(done: () => boolean, ms: number, onHurry?: (hurry: () => void) => void): Promise<void> {
  return new Promise((resolve) => {
    const finish = () => {
      clearInterval(poll);
      clearTimeout(deadline);
      resolve();
    };
    const poll = setInterval(() => { if (done()) finish(); }, 20);
    const deadline = setTimeout(finish, ms);
    onHurry?.(finish);
    if (done()) finish();
  });
}

export { WS_PATH };
