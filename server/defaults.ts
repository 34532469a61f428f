// The relay's limits, with their units: `harness serve --limit NAME=VALUE` overrides any of
// these, and validateLimits() checks the result at start so a typo fails loudly instead of
// disabling a limit. The inbound listeners', the server check's, the JWKS fetch's and the message
// fields' limits live beside their code (inbound/limits.ts, check/limits.ts, jwks/fetch-jwks.ts,
// shared/protocol/) and are not reached by --limit.

export const DEFAULT_LIMITS = {
  /** Largest WebSocket frame accepted from a client. */
  maxFrameBytes: 1024 * 1024, // bytes
  /** Runs one WebSocket connection may have in flight. */
  runsPerConnection: 8, // runs
  /** Runs in flight across all connections. */
  runsTotal: 64, // runs
  /** Hosted mode: runs in flight from all the sessions of one client address together. */
  runsPerAddress: 16, // runs
  /**
   * Hosted mode: runs (probes, flows, server checks, JWKS fetches) all the sessions of one
   * client address may start in any 60 s. A class behind one NAT address shares it: raise it.
   */
  runsPerMinutePerAddress: 120, // runs per minute
  /**
   * Authorization-code flows waiting for the browser's redirect. A waiting flow gives its run
   * slot back (it does no work) and holds one of these instead, so waits cannot starve probes.
   */
  waitingRunsPerConnection: 4, // runs
  /** Hosted mode: waiting flows from all the sessions of one client address together. */
  waitingRunsPerAddress: 8, // runs
  waitingRunsTotal: 32, // runs
  /** WebSocket sessions open at once. */
  sessionsTotal: 256, // sessions
  /** Hosted mode: sessions open at once from one client address. */
  sessionsPerAddress: 16, // sessions
  /**
   * Events waiting to reach one browser (ws.bufferedAmount, which includes the socket's
   * writableLength). Past it the session's runs are cancelled and new ones refused.
   */
  sendBufferBytes: 8 * 1024 * 1024, // bytes
  /** A session whose send buffer stays past sendBufferBytes this long is closed. */
  sendBufferStallMs: 10_000, // ms
  /**
   * Share of the relay's event loop one session's incoming frames may take (parsing, checking,
   * answering). Past it, after a burst, the relay stops reading that session for a moment, so a
   * flood of frames slows its sender, not everyone else.
   */
  frameCpuPercent: 50, // percent
  frameCpuBurstMs: 50, // ms
  /** Time one session's frames may take in one turn of the event loop before the rest wait for the next. */
  frameTurnMs: 2, // ms
  /**
   * Bytes of frames per second one session may send, past a burst of two full frames: parsing
   * big frames costs the relay collection pauses its handlers do not see.
   */
  frameBytesPerSecond: 4 * 1024 * 1024, // bytes per second
  /** Server checks (check.start) one session may start in a minute: each sends a dozen handshakes. */
  checksPerMinute: 6, // checks
  /** lab.sign / lab.register requests one session may have in flight; more are refused. */
  labRequestsPerConnection: 4, // requests
  /** Lab clients one session may register (lab.register); they end with the session. */
  labRegistrationsPerConnection: 16, // clients
  /** Certificates the lab's regional CRL lists (lab.sign profile `revoked`); past it the oldest entry goes. */
  labRevokedCertificates: 1024, // certificates
  /** Lab clients registered across all sessions. */
  labRegistrationsTotal: 1024, // clients
  /** A registered lab client is forgotten this long after registration even if its session lives. */
  labRegistrationTtlMs: 60 * 60_000, // ms
  dnsTimeoutMs: 5_000, // ms
  connectTimeoutMs: 10_000, // ms
  tlsTimeoutMs: 10_000, // ms
  responseTimeoutMs: 15_000, // ms, request sent → response headers
  bodyTimeoutMs: 15_000, // ms, headers → end of body
  runTimeoutMs: 60_000, // ms, whole run
  /** Response body kept for display; the rest is read and counted, not kept. */
  maxResponseBodyBytes: 256 * 1024, // bytes
  /** Response body read at most; past it the run stops (an endless body). */
  maxResponseReadBytes: 16 * 1024 * 1024, // bytes
  /** Response header block accepted from a target. */
  maxResponseHeaderBytes: 32 * 1024, // bytes
  /** HTTP server hardening for the relay's own port. */
  headersTimeoutMs: 10_000, // ms
  requestTimeoutMs: 30_000, // ms
  maxHeaderBytes: 16 * 1024, // bytes
  /** Sockets on the relay's port that are not (yet) a WebSocket session; more are closed at accept. */
  preAuthSockets: 256, // sockets, relay-wide
  preAuthSocketsPerAddress: 64, // sockets, per client IP address
  /** Log lines anyone can cause (refused upgrades, refused sockets), per reason per window; the rest are summed up in one line. */
  logLinesPerReason: 20, // lines
  logWindowMs: 60_000, // ms
  /** WebSocket ping interval; a client that misses two is dropped and its runs cancelled. */
  heartbeatMs: 30_000, // ms
  /**
   * On SIGTERM/SIGINT, runs in flight may finish this long; the rest are cancelled with the
   * diagnosis relay_shutdown. Below a container's stop timeout (Docker 10 s, Kubernetes 30 s).
   */
  shutdownGraceMs: 8_000, // ms
  /** After the grace period: time for the last events and close frames to reach the browsers. */
  shutdownCloseMs: 2_000, // ms
} as const;

export type Limits = { -readonly [K in keyof typeof DEFAULT_LIMITS]: number };

export function validateLimits(overrides: Partial<Limits> = {}): Limits {
  const limits: Limits = { ...DEFAULT_LIMITS };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    if (!Object.hasOwn(DEFAULT_LIMITS, key)) throw new TypeError(`limits.${key} is not a known limit`);
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw new TypeError(`limits.${key} must be a positive number, got ${String(value)}`);
    }
    limits[key as keyof Limits] = value;
  }
  return limits;
}
