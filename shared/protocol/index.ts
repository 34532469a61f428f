// The whole WebSocket protocol between the browser (or any client) and the relay.
// Every frame is one JSON object keyed on `type`. Requests carry a client-chosen `id`;
// replies and run events echo it so a client can match them. See docs/protocol.md.

import { FLOW_LIMITS, parseFlowRequest, parseLabRegistration, type ClientAuthMethod, type FlowRequest, type LabRegistration } from '../flows/flow-request.ts';
import type { PublicJwk } from '../jwt/keys.ts';
import type { MtlsCheckRequest } from '../check/request.ts';
import type { ResourceCheckRequest, SignedJwtCheckRequest } from '../check/jwt-request.ts';
import type { CheckCaseInfo, CheckCaseResult, CheckReport, CheckInstallKit } from '../check/messages.ts';
import { HarnessError } from '../errors.ts';

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

// ---- shapes shared by events ----------------------------------------------------------

export type StepStatus = 'running' | 'ok' | 'warn' | 'fail' | 'skipped';
export type RunOutcome = 'pass' | 'fail' | 'error';
/** `inbound`: one client connection to an inbound listener (see inbound.start). */
export type RunKind = 'probe' | 'flow' | 'inbound';

/** Phases of an mTLS probe, in order. */
export const PROBE_PHASES = ['inputs', 'dns', 'tcp', 'tls', 'request', 'response', 'verdict'] as const;
/** Phases of token flows (each HTTP call of a flow is one step of phase `exchange`). */
export const FLOW_PHASES = ['inputs', 'discovery', 'authorize', 'callback', 'exchange', 'token', 'call', 'verdict'] as const;
/** Phases of an inbound run: a client connected to a listener the session opened. */
export const INBOUND_PHASES = ['tcp', 'tls', 'certificate', 'verify', 'rule', 'request', 'response', 'verdict'] as const;
export type ProbePhase = (typeof PROBE_PHASES)[number] | (typeof FLOW_PHASES)[number] | (typeof INBOUND_PHASES)[number];

export interface Fix {
  /** What the person running the harness changes: their certificate, key, request, URL. */
  client: string;
  /** What the operator of the target server changes (Apache/nginx directives, trust store). */
  server: string;
}

export interface Diagnosis {
  /** Stable code from shared/diagnoses.ts; support staff search for these. */
  code: string;
  /** One line in plain language: what happened and why. */
  summary: string;
  /** The signals that led to this diagnosis (alert number, error code, HTTP status, tap). */
  evidence: string[];
  fix: Fix;
  /**
   * The server did not say why; the harness singled the cause out from what it checked itself
   * (an evidence line starting "inferred by the harness" says from what).
   */
  inferred?: boolean;
}

export interface Step {
  /** Stable within a run; a later event with the same id replaces the earlier one. */
  id: string;
  phase: ProbePhase;
  status: StepStatus;
  title: string;
  /** One line shown beside the title, e.g. "localhost → 127.0.0.1". */
  summary?: string;
  /** Milliseconds since run start when the step began. */
  startMs: number;
  /** Milliseconds the step took; absent while running. */
  durationMs?: number;
  /** Structured evidence. Already redacted. */
  details?: Record<string, unknown>;
  diagnosis?: Diagnosis;
}

// ---- client → relay -------------------------------------------------------------------

export interface ClientCredentials {
  /** Leaf certificate first, then any intermediates to send, PEM. */
  certificatePem: string;
  /** PKCS#8 (or PKCS#1/SEC1) PEM. Lives in relay memory for this run only. */
  privateKeyPem: string;
}

export interface ProbeRequest {
  url: string;
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'HEAD' | 'PATCH';
  headers?: Record<string, string>;
  body?: string;
  client?: ClientCredentials;
  /** PEM bundle of CAs to trust for the server's certificate instead of the system store. */
  caPem?: string;
  /** When false the run continues past a server verification failure (reported as warn). Default true. */
  verifyServer?: boolean;
  /** Whether the built-in lab's CA is trusted for the server certificate. Default true. */
  trustLab?: boolean;
  /**
   * Header, form-field or query-parameter names whose values are secret beyond the built-in
   * list (e.g. `X-Partner-Key`, `pin`): masked in every event and scrubbed wherever echoed.
   */
  secretNames?: string[];
}

/** Which client certificates an inbound listener lets through, after the chain verified. */
export interface InboundRule {
  /** The subject's (most specific) CN must equal this, exactly (Apache %{SSL_CLIENT_S_DN_CN} == "…"). */
  cnEquals?: string;
  /** One DNS name in the subjectAltName must equal this (DNS names compare case-insensitively). */
  sanDnsEquals?: string;
}

export interface InboundRequest {
  /** Port to listen on; 0 (the default) picks a free one. */
  port?: number;
  /** Address to bind; default 127.0.0.1. An IP address or `localhost`. */
  host?: string;
  /** PEM bundle of the CAs client certificates must chain to. */
  caPem: string;
  rule?: InboundRule;
  /** Most CA certificates allowed above the client certificate, root included (Apache SSLVerifyDepth). Unset: no limit. */
  verifyDepth?: number;
}

export type ClientMessage =
  | { type: 'probe.start'; id: string; probe: ProbeRequest }
  | { type: 'inbound.start'; id: string; inbound: InboundRequest }
  | { type: 'inbound.stop'; id: string; listenerId: string }
  | { type: 'flow.start'; id: string; flow: FlowRequest }
  | { type: 'run.cancel'; id: string; runId: string }
  /**
   * The browser window this session sent to sign in is done (it shows the relay's "redirect
   * ignored" page): if the run has seen only ignored redirects, none other is coming — end it now.
   */
  | { type: 'run.settle'; id: string; runId: string }
  /**
   * Local mode only: one token a finished flow run of this session was issued, on the person's
   * explicit click (docs/protocol.md, "Revealing an issued token"). Answered by flow.token.
   */
  | { type: 'flow.reveal'; id: string; runId: string; which: IssuedTokenName }
  /** `profile` picks how the lab issues it (LAB_SIGN_PROFILES); without it, by the lab client CA for a year. */
  | { type: 'lab.sign'; id: string; csrPem: string; profile?: LabSignProfile }
  | ({ type: 'lab.register'; id: string } & LabRegistration)
  /** A JWKS fetched by the relay (https, or a lab endpoint), for verifying a token in the browser. */
  | { type: 'jwks.fetch'; id: string; url: string; caPem?: string }
  /** The server check (docs/server-check.md): what to install for a test CA, and the check itself. */
  | { type: 'check.kit'; id: string; check: MtlsCheckRequest }
  /** `kind` (default mtls) says which check and which field carries it: check, jwt or resource. */
  | { type: 'check.start'; id: string; kind?: 'mtls'; check: MtlsCheckRequest }
  /** The JWT check: the browser signed every case's assertion; its key never reaches the relay. */
  | { type: 'check.start'; id: string; kind: 'jwt'; jwt: SignedJwtCheckRequest }
  | { type: 'check.start'; id: string; kind: 'resource'; resource: ResourceCheckRequest }
  | { type: 'ping'; id: string };

/** The tokens flow.reveal can name: access token, refresh token, OpenID Connect ID token. */
export const ISSUED_TOKEN_NAMES = ['access', 'refresh', 'id'] as const;
export type IssuedTokenName = (typeof ISSUED_TOKEN_NAMES)[number];

/** The server checks check.start runs (docs/server-check.md). */
export const CHECK_KINDS = ['mtls', 'jwt', 'resource'] as const;
export type CheckKind = (typeof CHECK_KINDS)[number];

// ---- relay → client -------------------------------------------------------------------

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

export interface LabTarget {
  id: string;
  title: string;
  url: string;
  /** What a probe against it should show, for trainers. */
  expect: string;
}

export interface LabInfo {
  caCertificatePem: string;
  caSubject: string;
  /** The CA that issued the lab targets' server certificates (public): `ca.pem` for copied commands. */
  serverCaPem: string;
  targets: LabTarget[];
  /** The demo clients every lab issuer knows, in the lab's order (docs/scenarios.md). */
  clients: LabDemoClient[];
  /** Ids of the targets that are authorization servers (discovery and every token flow); the lab's own first. */
  issuers: string[];
  /** How the ids of the clients lab.register makes begin (they are forgotten when the lab restarts). */
  registeredClientPrefix: string;
  /** What the API-key target (`apikey`) accepts. */
  apiKey: { key: string; username: string };
}

/** A lab demo client. `secret` is its published demo value (it opens only this lab), for methods that use one. */
export interface LabDemoClient {
  clientId: string;
  method: ClientAuthMethod;
  secret?: string;
}

export interface RelayInfo {
  mode: 'local' | 'hosted';
  version: string;
  lab: LabInfo | null;
  /** What makes the relay's connections, for transcripts: Node and OpenSSL versions, platform. */
  runtime: { node: string; openssl: string; platform: string };
}

export type ErrorCode =
  | 'bad_json'
  | 'bad_message'
  | 'unknown_type'
  | 'unsupported_version'
  /** This session holds its whole share (runs, waiting flows, lab requests, sessions). */
  | 'busy_session'
  /** Hosted mode: the sessions of this client address together hold their whole share. */
  | 'busy_address'
  /** The relay as a whole is full; try again in a moment. */
  | 'busy_relay'
  /** Hosted mode: this client address started its runsPerMinutePerAddress; the message says when to retry. */
  | 'rate_limited'
  /** The browser stopped reading while events piled up (sendBufferBytes): runs cancelled. */
  | 'slow_reader'
  /** The relay is shutting down: it starts no new runs; reconnect once it is back. */
  | 'shutting_down'
  /** lab.register: the key has members or sizes a public signing key does not have. */
  | 'jwk_invalid'
  /** lab.register: the session's or the lab's count of registered clients is reached. */
  | 'too_many_registrations'
  | 'unknown_run'
  | 'lab_unavailable'
  | 'csr_invalid'
  | 'inbound_refused'
  | 'too_many_listeners'
  | 'unknown_listener'
  | 'listen_failed'
  | 'ca_invalid'
  | 'jwks_fetch_failed'
  | 'check_invalid'
  /** flow.reveal on a hosted relay: issued tokens stay masked there. */
  | 'reveal_refused'
  /** flow.reveal: the run is not a finished flow run of this session whose token is still kept, or it was not issued that token. */
  | 'token_not_kept'
  | 'internal';

export type ServerMessage =
  /** `time`: the relay's clock (epoch ms) when it sent the welcome; transcripts record runs in it. */
  | { type: 'welcome'; version: typeof PROTOCOL_VERSION; relay: RelayInfo; time: number }
  | { type: 'run.started'; id: string; runId: string; kind: RunKind; target: string }
  | { type: 'step'; runId: string; step: Step }
  | {
      type: 'run.finished';
      runId: string;
      outcome: RunOutcome;
      diagnoses: string[];
      durationMs: number;
    }
  | { type: 'lab.signed'; id: string; certificatePem: string; chainPem: string }
  /** The answer to flow.reveal (local mode only): the one token asked for, unmasked. Never part of a run's events. */
  | { type: 'flow.token'; id: string; runId: string; which: IssuedTokenName; token: string }
  | { type: 'lab.registered'; id: string; clientId: string; clientSecret: string; kid: string; method: string; issuer: string; tokenUrl: string }
  | {
      type: 'inbound.started';
      id: string;
      listenerId: string;
      /** e.g. https://localhost:8443/ */
      url: string;
      port: number;
      host: string;
      /** The CA the connecting client must trust for the listener's certificate (save as server-ca.pem). */
      serverCaPem: string;
      /** `lab`: the lab's localhost certificate; `self-signed`: made for this listener. */
      serverCertificate: 'lab' | 'self-signed';
      /** Subjects of the CAs client certificates are verified against, in bundle order. */
      trustedCAs: string[];
      /** Things about the bundle that will make clients fail (expired CA, no root). */
      warnings: string[];
      /** Ready to copy: curl --cert client.pem --key client.key --cacert server-ca.pem URL */
      curl: string;
    }
  | { type: 'inbound.stopped'; id: string; listenerId: string }
  /** `keys` hold public members only; `fetchedAt` is epoch ms on the relay's clock. */
  | { type: 'jwks.fetched'; id: string; url: string; keys: PublicJwk[]; fetchedAt: number }
  | { type: 'pong'; id: string }
  | { type: 'check.kit.ready'; id: string; kit: CheckInstallKit }
  /** `checkId` is the run id to cancel (run.cancel); every case is known before the first probe. */
  | { type: 'check.started'; id: string; checkId: string; target: string; cases: CheckCaseInfo[] }
  | { type: 'check.step'; checkId: string; caseId: string; step: Step }
  | { type: 'check.case'; checkId: string; caseId: string; result: CheckCaseResult }
  | { type: 'check.finished'; checkId: string; report: CheckReport }
  | { type: 'error'; id?: string; code: ErrorCode; message: string };

export type RunEvent = Extract<ServerMessage, { type: 'run.started' | 'step' | 'run.finished' }>;

// ---- validation at the edge -----------------------------------------------------------

export class ProtocolError extends HarnessError<ErrorCode> {
  readonly id: string | undefined;
  constructor(code: ErrorCode, message: string, id?: string) {
    super(code, message);
    this.id = id;
  }
}

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

/** An HTTP token (RFC 9110 §5.6.2): what a header, form-field or query-parameter name may be here. */
const SECRET_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Validates a request's `secretNames` (probe and flows): at most 32 tokens of at most 64 characters. */
export function parseSecretNames(v: unknown, path: string, id?: string): string[] {
  if (!Array.isArray(v)) throw new ProtocolError('bad_message', `${path} must be an array of header, field or parameter names`, id);
  if (v.length > FIELD_LIMITS.secretNames) throw new ProtocolError('bad_message', `${path} has more than ${FIELD_LIMITS.secretNames} names`, id);
  return v.map((name, i) => {
    if (typeof name !== 'string' || name.length === 0 || name.length > FIELD_LIMITS.secretName) throw new ProtocolError('bad_message', `${path}[${i}] must be a name of 1 to ${FIELD_LIMITS.secretName} characters`, id);
    if (!SECRET_NAME.test(name)) throw new ProtocolError('bad_message', `${path}[${i}] "${name.slice(0, 40)}" is not a valid name (letters, digits and !#$%&'*+.^_\`|~-)`, id);
    return name;
  });
}

const METHODS = new Set(['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'PATCH']);

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(o: Obj, key: string, max: number, path: string, id?: string): string {
  const v = o[key];
  if (typeof v !== 'string') throw new ProtocolError('bad_message', `${path}${key} must be a string`, id);
  if (v.length > max) throw new ProtocolError('bad_message', `${path}${key} is longer than ${max} characters`, id);
  return v;
}

function optStr(o: Obj, key: string, max: number, path: string, id?: string): string | undefined {
  return o[key] === undefined ? undefined : str(o, key, max, path, id);
}

function optBool(o: Obj, key: string, path: string, id?: string): boolean | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw new ProtocolError('bad_message', `${path}${key} must be true or false`, id);
  return v;
}

/** A client certificate and its key (PEM), as a probe and the resource check take them. */
function optClient(o: Obj, path: string, id: string): ClientCredentials | undefined {
  if (o.client === undefined) return undefined;
  if (!isObj(o.client)) throw new ProtocolError('bad_message', `${path}client must be an object with certificatePem and privateKeyPem`, id);
  return {
    certificatePem: str(o.client, 'certificatePem', FIELD_LIMITS.pem, `${path}client.`, id),
    privateKeyPem: str(o.client, 'privateKeyPem', FIELD_LIMITS.pem, `${path}client.`, id),
  };
}

function parseProbe(v: unknown, id: string): ProbeRequest {
  if (!isObj(v)) throw new ProtocolError('bad_message', 'probe must be an object', id);
  const p = 'probe.';
  const probe: ProbeRequest = { url: str(v, 'url', FIELD_LIMITS.url, p, id) };
  const method = optStr(v, 'method', 8, p, id);
  if (method !== undefined) {
    if (!METHODS.has(method)) throw new ProtocolError('bad_message', `probe.method must be one of ${[...METHODS].join(', ')}`, id);
    probe.method = method as ProbeRequest['method'];
  }
  if (v.headers !== undefined) {
    if (!isObj(v.headers)) throw new ProtocolError('bad_message', 'probe.headers must be an object of strings', id);
    const entries = Object.entries(v.headers);
    if (entries.length > FIELD_LIMITS.headers) throw new ProtocolError('bad_message', `probe.headers has more than ${FIELD_LIMITS.headers} entries`, id);
    const headers: Record<string, string> = Object.create(null);
    for (const [name, value] of entries) {
      if (name === '__proto__' || name === 'constructor' || name === 'prototype') throw new ProtocolError('bad_message', `probe.headers: "${name}" is not an acceptable header name`, id);
      if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/.test(name)) throw new ProtocolError('bad_message', `probe.headers: "${name.slice(0, 40)}" is not a valid header name`, id);
      if (typeof value !== 'string' || value.length > FIELD_LIMITS.headerValue || /[\r\n\0]/.test(value)) {
        throw new ProtocolError('bad_message', `probe.headers.${name} must be a single-line string`, id);
      }
      headers[name] = value;
    }
    probe.headers = headers;
  }
  const body = optStr(v, 'body', FIELD_LIMITS.body, p, id);
  if (body !== undefined) probe.body = body;
  const client = optClient(v, p, id);
  if (client) probe.client = client;
  const caPem = optStr(v, 'caPem', FIELD_LIMITS.pem, p, id);
  if (caPem !== undefined) probe.caPem = caPem;
  const verifyServer = optBool(v, 'verifyServer', p, id);
  if (verifyServer !== undefined) probe.verifyServer = verifyServer;
  const trustLab = optBool(v, 'trustLab', p, id);
  if (trustLab !== undefined) probe.trustLab = trustLab;
  if (v.secretNames !== undefined) probe.secretNames = parseSecretNames(v.secretNames, 'probe.secretNames', id);
  return probe;
}

/** Bounds of inbound.start fields. */
export const INBOUND_FIELD_LIMITS = {
  ruleValue: 256, // characters
  maxVerifyDepth: 16, // CA certificates
  host: 64, // characters
} as const;

const RULE_FIELDS = new Set(['cnEquals', 'sanDnsEquals']);

function parseInbound(v: unknown, id: string): InboundRequest {
  if (!isObj(v)) throw new ProtocolError('bad_message', 'inbound must be an object', id);
  const p = 'inbound.';
  const inbound: InboundRequest = { caPem: str(v, 'caPem', FIELD_LIMITS.pem, p, id) };
  if (!inbound.caPem.includes('-----BEGIN CERTIFICATE-----')) throw new ProtocolError('bad_message', 'inbound.caPem must be a PEM bundle with at least one -----BEGIN CERTIFICATE----- block', id);
  if (v.port !== undefined) {
    if (typeof v.port !== 'number' || !Number.isInteger(v.port) || v.port < 0 || v.port > 65535) throw new ProtocolError('bad_message', 'inbound.port must be an integer from 0 to 65535 (0 picks a free port)', id);
    inbound.port = v.port;
  }
  const host = optStr(v, 'host', INBOUND_FIELD_LIMITS.host, p, id);
  if (host !== undefined) {
    const ipv4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/.test(host);
    const ipv6 = /^[0-9A-Fa-f:.]+$/.test(host) && host.includes(':');
    if (!ipv4 && !ipv6 && host !== 'localhost') throw new ProtocolError('bad_message', 'inbound.host must be an IP address or localhost (default 127.0.0.1)', id);
    inbound.host = host;
  }
  if (v.rule !== undefined) {
    if (!isObj(v.rule)) throw new ProtocolError('bad_message', 'inbound.rule must be an object', id);
    // A misspelt condition must not quietly let every certificate through.
    for (const key of Object.keys(v.rule)) {
      if (!RULE_FIELDS.has(key)) throw new ProtocolError('bad_message', `inbound.rule.${key.slice(0, 40)} is not a rule field; use cnEquals or sanDnsEquals`, id);
    }
    const rule: InboundRule = {};
    for (const key of ['cnEquals', 'sanDnsEquals'] as const) {
      const value = optStr(v.rule, key, INBOUND_FIELD_LIMITS.ruleValue, 'inbound.rule.', id);
      if (value === undefined) continue;
      if (value === '' || /[\0-\x1f\x7f]/.test(value)) throw new ProtocolError('bad_message', `inbound.rule.${key} must be a non-empty single-line string`, id);
      rule[key] = value;
    }
    inbound.rule = rule;
  }
  if (v.verifyDepth !== undefined) {
    const d = v.verifyDepth;
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0 || d > INBOUND_FIELD_LIMITS.maxVerifyDepth) {
      throw new ProtocolError('bad_message', `inbound.verifyDepth must be an integer from 0 to ${INBOUND_FIELD_LIMITS.maxVerifyDepth} (CA certificates above the client certificate, root included)`, id);
    }
    inbound.verifyDepth = d;
  }
  return inbound;
}

/**
 * A jwks.fetch URL: absolute http(s) without credentials. Whether plain http:// is allowed
 * depends on the lab's endpoints, which only the relay knows; it refuses the rest.
 */
function parseJwksFetch(raw: Obj, id: string): Extract<ClientMessage, { type: 'jwks.fetch' }> {
  const url = str(raw, 'url', FIELD_LIMITS.url, '', id);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ProtocolError('bad_message', 'url must be an absolute https:// URL', id);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new ProtocolError('bad_message', `url: ${parsed.protocol}// is not HTTP; use https://`, id);
  if (parsed.username || parsed.password) throw new ProtocolError('bad_message', 'url must not contain a user name or password', id);
  const caPem = optStr(raw, 'caPem', FIELD_LIMITS.pem, '', id);
  if (caPem !== undefined && !caPem.includes('-----BEGIN CERTIFICATE-----')) throw new ProtocolError('bad_message', 'caPem must be a PEM bundle with at least one -----BEGIN CERTIFICATE----- block', id);
  return { type: 'jwks.fetch', id, url, ...(caPem !== undefined ? { caPem } : {}) };
}

/** Bounds of a server check request; the relay checks the rest (CheckInputError, by field). */
export const CHECK_FIELD_LIMITS = {
  customCases: 8, // cases
  text: 256, // characters: rule values, case titles, kid
  /** Signed assertions of one JWT check: one per case (16 cases at most). */
  assertions: 16, // count
} as const;

/** How a check trusts the server's own certificate: an extra CA bundle, and whether the lab's CA counts. */
function serverTrust(v: Obj, path: string, id: string): { caPem?: string; trustLab?: boolean } {
  const caPem = optStr(v, 'caPem', FIELD_LIMITS.pem, path, id);
  const trustLab = optBool(v, 'trustLab', path, id);
  return { ...(caPem !== undefined ? { caPem } : {}), ...(trustLab !== undefined ? { trustLab } : {}) };
}

/** The JWT check's shape at the edge: strings and sizes. The key never comes: a request carrying one is refused. */
function parseJwtCheck(v: unknown, id: string): SignedJwtCheckRequest {
  if (!isObj(v)) throw new ProtocolError('bad_message', 'jwt must be an object (the JWT check: kind, tokenUrl, clientId, assertions, …)', id);
  const p = 'jwt.';
  if (v.privateKeyPem !== undefined) throw new ProtocolError('bad_message', 'jwt.privateKeyPem: the key stays in the browser; send the signed assertions instead', id);
  if (!isObj(v.assertions)) throw new ProtocolError('bad_message', 'jwt.assertions must be an object of one signed assertion per case id', id);
  const entries = Object.entries(v.assertions);
  if (entries.length > CHECK_FIELD_LIMITS.assertions) throw new ProtocolError('bad_message', `jwt.assertions has more than ${CHECK_FIELD_LIMITS.assertions} entries`, id);
  const assertions: Record<string, string> = Object.create(null);
  for (const [caseId, token] of entries) {
    if (caseId.length > 40 || !/^[a-z0-9_]+$/.test(caseId)) throw new ProtocolError('bad_message', `jwt.assertions: "${caseId.slice(0, 40)}" is not a case id`, id);
    assertions[caseId] = str(v.assertions, caseId, FLOW_LIMITS.jwt, 'jwt.assertions.', id);
  }
  const jwt: SignedJwtCheckRequest = {
    kind: str(v, 'kind', 32, p, id) as SignedJwtCheckRequest['kind'],
    tokenUrl: str(v, 'tokenUrl', FIELD_LIMITS.url, p, id),
    clientId: str(v, 'clientId', FLOW_LIMITS.clientId, p, id),
    assertions,
  };
  for (const [key, max] of [['clientSecret', FLOW_LIMITS.secret], ['kid', CHECK_FIELD_LIMITS.text], ['audience', FIELD_LIMITS.url], ['issuer', FLOW_LIMITS.clientId], ['subject', FLOW_LIMITS.clientId]] as const) {
    const value = optStr(v, key, max, p, id);
    if (value !== undefined) jwt[key] = value;
  }
  return { ...jwt, ...serverTrust(v, p, id) };
}

/** The resource check's shape at the edge. A bound token's certificate key goes to the relay for this check, as a probe's does. */
function parseResourceCheck(v: unknown, id: string): ResourceCheckRequest {
  if (!isObj(v)) throw new ProtocolError('bad_message', 'resource must be an object (the resource check: url, accessToken, …)', id);
  const p = 'resource.';
  const resource: ResourceCheckRequest = { url: str(v, 'url', FIELD_LIMITS.url, p, id), accessToken: str(v, 'accessToken', FLOW_LIMITS.jwt, p, id) };
  const client = optClient(v, p, id);
  if (client) resource.client = client;
  return { ...resource, ...serverTrust(v, p, id) };
}

function parseCheckStart(raw: Obj, id: string): Extract<ClientMessage, { type: 'check.start' }> {
  const kind = raw.kind ?? 'mtls';
  switch (kind) {
    case 'mtls':
      return { type: 'check.start', id, check: parseCheck(raw.check, id) };
    case 'jwt':
      return { type: 'check.start', id, kind: 'jwt', jwt: parseJwtCheck(raw.jwt, id) };
    case 'resource':
      return { type: 'check.start', id, kind: 'resource', resource: parseResourceCheck(raw.resource, id) };
    default:
      throw new ProtocolError('bad_message', `kind must be one of ${CHECK_KINDS.join(', ')} (default mtls)`, id);
  }
}

/** The shape of a check request at the edge: strings and sizes. Meaning is checked by the relay. */
function parseCheck(v: unknown, id: string): MtlsCheckRequest {
  if (!isObj(v)) throw new ProtocolError('bad_message', 'check must be an object', id);
  const p = 'check.';
  if (!isObj(v.ca)) throw new ProtocolError('bad_message', 'check.ca must be an object with the test CA\'s PEMs', id);
  const ca = {
    rootCertificatePem: str(v.ca, 'rootCertificatePem', FIELD_LIMITS.pem, 'check.ca.', id),
    rootPrivateKeyPem: str(v.ca, 'rootPrivateKeyPem', FIELD_LIMITS.pem, 'check.ca.', id),
    intermediateCertificatePem: str(v.ca, 'intermediateCertificatePem', FIELD_LIMITS.pem, 'check.ca.', id),
    intermediatePrivateKeyPem: str(v.ca, 'intermediatePrivateKeyPem', FIELD_LIMITS.pem, 'check.ca.', id),
  };
  if (!isObj(v.rule)) throw new ProtocolError('bad_message', 'check.rule must be {cnEquals: "…"} or {sanDnsEquals: "…"}', id);
  const rule: Record<string, string> = {};
  for (const key of Object.keys(v.rule)) rule[key.slice(0, 40)] = str(v.rule, key, CHECK_FIELD_LIMITS.text, 'check.rule.', id);
  if (typeof v.verifyDepth !== 'number') throw new ProtocolError('bad_message', 'check.verifyDepth must be a number', id);
  const check: MtlsCheckRequest = { url: str(v, 'url', FIELD_LIMITS.url, p, id), ca, rule: rule as unknown as MtlsCheckRequest['rule'], verifyDepth: v.verifyDepth };
  Object.assign(check, serverTrust(v, p, id));
  if (v.custom !== undefined) {
    if (!Array.isArray(v.custom) || v.custom.length > CHECK_FIELD_LIMITS.customCases) throw new ProtocolError('bad_message', `check.custom must be a list of at most ${CHECK_FIELD_LIMITS.customCases} cases`, id);
    check.custom = v.custom.map((c, i) => {
      const path = `check.custom[${i}].`;
      if (!isObj(c)) throw new ProtocolError('bad_message', `${path.slice(0, -1)} must be an object`, id);
      if (c.expect !== 'accept' && c.expect !== 'refuse') throw new ProtocolError('bad_message', `${path}expect must be "accept" or "refuse"`, id);
      const cap = optStr(c, 'capIfNotEnforced', 1, path, id);
      return {
        title: str(c, 'title', CHECK_FIELD_LIMITS.text, path, id),
        expect: c.expect,
        certificatePem: str(c, 'certificatePem', FIELD_LIMITS.pem, path, id),
        privateKeyPem: str(c, 'privateKeyPem', FIELD_LIMITS.pem, path, id),
        ...(cap !== undefined ? { capIfNotEnforced: cap as 'A' } : {}),
      };
    });
  }
  return check;
}

/**
 * Parses one text frame into a ClientMessage or throws ProtocolError.
 * Unknown extra fields are ignored; missing or mistyped ones are named in the message.
 */
export function parseClientMessage(text: string): ClientMessage {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new ProtocolError('bad_json', 'frame is not valid JSON');
  }
  if (!isObj(raw)) throw new ProtocolError('bad_message', 'frame must be a JSON object');
  const id = typeof raw.id === 'string' && raw.id.length <= FIELD_LIMITS.id ? raw.id : undefined;
  if (typeof raw.type !== 'string') throw new ProtocolError('bad_message', 'frame has no "type"', id);
  if (id === undefined) throw new ProtocolError('bad_message', `"id" must be a string of at most ${FIELD_LIMITS.id} characters`);
  switch (raw.type) {
    case 'probe.start':
      return { type: 'probe.start', id, probe: parseProbe(raw.probe, id) };
    case 'flow.start':
      return { type: 'flow.start', id, flow: parseFlowRequest(raw.flow, id) };
    case 'run.cancel':
    case 'run.settle':
      return { type: raw.type, id, runId: str(raw, 'runId', FIELD_LIMITS.id, '', id) };
    case 'flow.reveal': {
      const which = raw.which;
      if (typeof which !== 'string' || !(ISSUED_TOKEN_NAMES as readonly string[]).includes(which)) throw new ProtocolError('bad_message', `"which" must be one of ${ISSUED_TOKEN_NAMES.join(', ')}`, id);
      return { type: 'flow.reveal', id, runId: str(raw, 'runId', FIELD_LIMITS.id, '', id), which: which as IssuedTokenName };
    }
    case 'lab.sign': {
      const csrPem = str(raw, 'csrPem', FIELD_LIMITS.pem, '', id);
      if (raw.profile === undefined) return { type: 'lab.sign', id, csrPem };
      const profile = raw.profile;
      if (typeof profile !== 'string' || !(LAB_SIGN_PROFILES as readonly string[]).includes(profile)) {
        throw new ProtocolError('bad_message', `profile must be one of ${LAB_SIGN_PROFILES.join(', ')}`, id);
      }
      return { type: 'lab.sign', id, csrPem, profile: profile as LabSignProfile };
    }
    case 'lab.register':
      return { type: 'lab.register', id, ...parseLabRegistration(raw, id) };
    case 'inbound.start':
      return { type: 'inbound.start', id, inbound: parseInbound(raw.inbound, id) };
    case 'inbound.stop':
      return { type: 'inbound.stop', id, listenerId: str(raw, 'listenerId', FIELD_LIMITS.id, '', id) };
    case 'jwks.fetch':
      return parseJwksFetch(raw, id);
    case 'check.kit':
      return { type: 'check.kit', id, check: parseCheck(raw.check, id) };
    case 'check.start':
      return parseCheckStart(raw, id);
    case 'ping':
      return { type: 'ping', id };
    default:
      throw new ProtocolError('unknown_type', `unknown message type "${raw.type.slice(0, 40)}"`, id);
  }
}

/** Parses a relay frame on the client side; throws on anything that is not a ServerMessage. */
export function parseServerMessage(text: string): ServerMessage {
  const raw: unknown = JSON.parse(text);
  if (!isObj(raw) || typeof raw.type !== 'string') throw new Error('relay sent a frame without a type');
  return raw as ServerMessage;
}
