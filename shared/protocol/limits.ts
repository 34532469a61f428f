// Bounds the edge checks a request against while parsing it (parse.ts). Each in the unit its
// comment names; see docs/protocol.md and README.md's list of limits.

/** Limits on field sizes checked while parsing, in characters. */
export const FIELD_LIMITS = {
  id: 64,
  url: 2048,
  headerName: 256,
  headerValue: 8192,
  headers: 64, // count
  body: 256 * 1024,
  pem: 64 * 1024,
  /** Names in a request's `secretNames`. */
  secretNames: 32, // count
  /** Longest name in `secretNames`. */
  secretName: 64,
} as const;

/** Bounds of inbound.start fields. */
export const INBOUND_FIELD_LIMITS = {
  ruleValue: 256, // characters
  maxVerifyDepth: 16, // CA certificates
  host: 64, // characters
} as const;

/** Bounds of a server check request; the relay checks the rest (CheckInputError, by field). */
export const CHECK_FIELD_LIMITS = {
  customCases: 8, // cases
  text: 256, // characters: rule values, case titles, kid
  /** Signed assertions of one JWT check: one per case (16 cases at most). */
  assertions: 16, // count
} as const;

/** Limits specific to flows, in characters unless noted. */
export const FLOW_LIMITS = {
  jwt: 16 * 1024,
  secret: 4096,
  clientId: 512,
  scope: 2048,
  /** Pre-signed client assertions per run (one per token request). */
  clientAssertions: 8, // count
  params: 32, // count
  paramName: 128,
  paramValue: 4096,
  jwksKeys: 32, // count
  jwkMember: 8192,
  redirectKey: 64,
  /**
   * Longest the relay waits for the authorization redirect: enough to sign in with a second
   * factor, short enough that an abandoned flow soon frees its waiting slot.
   */
  callbackTimeoutMs: 5 * 60_000, // ms
} as const;
