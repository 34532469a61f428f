// Every limit the relay enforces, with its unit. CLI flags override these; validateLimits()
// checks the result at start so a typo fails loudly instead of disabling a limit.

export const DEFAULT_LIMITS = {
  /** Largest WebSocket frame accepted from a client. */
  maxFrameBytes: 1024 * 1024, // bytes
  /** Runs one WebSocket connection may have in flight. */
  runsPerConnection: 8, // runs
  /** Runs in flight across all connections. */
  runsTotal: 64, // runs
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
