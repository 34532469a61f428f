// Constants of the protocol: its version, the WebSocket path, close codes, and the names some
// message fields take. See docs/protocol.md.

export const PROTOCOL_VERSION = 1;

/** WebSocket path on the relay's HTTP server. The access token goes in `?token=`. */
export const WS_PATH = '/ws';

export const CLOSE_CODES = {
  normal: 1000,
  /** The relay is shutting down or restarting (SIGTERM, Ctrl+C): reconnect in a moment. */
  goingAway: 1001,
  policyViolation: 1008,
  messageTooBig: 1009,
  internalError: 1011,
  /** The relay is full (sessionsTotal, sessionsPerAddress): the reason says which; retry later. */
  tryAgainLater: 1013,
} as const;

/** Close reasons the app explains in its own words (see web/src/lib/relay/connection.svelte.ts). */
export const CLOSE_REASONS = {
  shuttingDown: 'relay shutting down',
} as const;

/** The tokens flow.reveal can name: access token, refresh token, OpenID Connect ID token. */
export const ISSUED_TOKEN_NAMES = ['access', 'refresh', 'id'] as const;
export type IssuedTokenName = (typeof ISSUED_TOKEN_NAMES)[number];

/** The server checks check.start runs (docs/server-check.md). */
export const CHECK_KINDS = ['mtls', 'jwt', 'resource'] as const;
export type CheckKind = (typeof CHECK_KINDS)[number];

/**
 * How lab.sign issues a certificate, for the lab targets and lessons that need a particular one:
 * - `client`: by the lab client CA, valid for a year (the default);
 * - `intermediate`: by the lab intermediate CA, the chain returned with the intermediate;
 * - `intermediate-no-chain`: the same, the chain returned without it (the missing-intermediate mistake);
 * - `expired`: by the lab client CA, already past its end;
 * - `regional`: by the lab's regional private CA (target `rotation`);
 * - `revoked`: by the regional CA, and listed in its CRL at once.
 */
export const LAB_SIGN_PROFILES = ['client', 'intermediate', 'intermediate-no-chain', 'expired', 'regional', 'revoked'] as const;
export type LabSignProfile = typeof LAB_SIGN_PROFILES[number];
