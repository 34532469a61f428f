// Every limit of the inbound check, with its unit. Listeners take connections from anyone who
// can reach the port, so each one is bounded in count, time and bytes.

export const INBOUND_LIMITS = {
  /** Listeners one WebSocket session may have open. */
  listenersPerSession: 2, // listeners
  /** Client connections one listener serves at once; more are closed at accept. */
  connectionsPerListener: 32, // connections
  /** Of those, from one client IP address: one host cannot hold every slot. */
  connectionsPerAddress: 16, // connections
  /** Runs one listener starts per second; more connections in that second are closed at accept and reported as one summary run. */
  runsPerSecond: 20, // runs
  /** TCP accept → the client's first byte: a silent connection gives its slot back early. */
  firstByteTimeoutMs: 3_000, // ms
  /** TCP accept → TLS handshake finished. */
  handshakeTimeoutMs: 10_000, // ms
  /** Handshake finished → request headers complete. */
  headersTimeoutMs: 10_000, // ms
  /** Handshake finished → request body complete. */
  requestTimeoutMs: 30_000, // ms
  /** Request header block accepted from a client. */
  maxHeaderBytes: 16 * 1024, // bytes
  /** Request body read and counted (never kept); past it the listener answers and closes. */
  maxRequestBodyBytes: 1024 * 1024, // bytes
  /** How long a stop waits for the runs of open connections to report their end. */
  closeGraceMs: 2_000, // ms
} as const;

export type InboundLimits = { -readonly [K in keyof typeof INBOUND_LIMITS]: number };
