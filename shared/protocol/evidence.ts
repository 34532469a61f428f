// Step evidence: what a run reports, step by step, as types. A step's `details` is keyed on its
// phase (and, for the phases the probe and the inbound check share, on the run kind): narrowing
// on `step.phase` gives the details of that phase. docs/protocol.md ("Step evidence") documents
// every field here; shared/protocol/evidence-docs.test.ts holds the two together.

/**
 * Version of the evidence model. Bumped when a phase's details change incompatibly (a field
 * renamed, removed or retyped); a new optional field is compatible. Transcripts record it
 * (`evidenceVersion`; files without it are version 1).
 */
export const EVIDENCE_VERSION = 1;

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

// ---- shapes several phases share ----------------------------------------------------------

/** Why a step failed at the socket or TLS layer, as Node said it. */
export interface ErrorEvidence {
  error?: string;
  /** Node's or OpenSSL's code (e.g. ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED); null when it had none. */
  errorCode?: string | null;
}

/** A certificate the peer sent, in brief (a probe's server chain, a flow call's server certificate). */
export interface CertificateSummary {
  subject: string;
  issuer: string;
  serialNumber: string;
  notBefore: string;
  notAfter: string;
  fingerprint256: string;
  selfSigned: boolean;
}

/** What the wire tap read from the handshake itself, on either side of it. */
export interface WireEvidence {
  /** "none", or "N certificates": the client's Certificate message as it went over the wire. */
  clientCertificateMessage?: string;
  /** Alerts either side sent, e.g. "server fatal certificate_required". */
  alertsSeen?: string[];
  /** Why the tap could not read the encrypted part of a TLS 1.3 handshake. */
  tapNote?: string;
  /** The tap read a handshake message it could not parse (the connection itself went on). */
  tapProblem?: string;
}

/** Where an HTTP body's time went, in ms since the run (probe) or the call (flow) began. */
export interface ResponseTimings {
  requestSentMs: number;
  headersMs: number;
  firstByteMs: number | null;
  endMs: number;
}

/** Input checks' findings (code from shared/pki's checks, message for people). */
export interface InputProblem {
  code: string;
  message: string;
}

/** The client certificate a run sends, as the inputs step read it. */
export interface ClientCertificateSummary {
  subject: string;
  issuer: string;
  serialNumber: string;
  notBefore: string;
  notAfter: string;
  fingerprint256: string;
  /** Extended key usage OIDs, or "any (no EKU extension)". */
  extendedKeyUsage: string[] | string;
}

/** The client certificate a run sends, in its inputs step (probe and flows alike). */
export interface ClientInputEvidence {
  /** Null when the run sends none. */
  clientCertificate?: ClientCertificateSummary | null;
  /** Subjects of the chain sent, leaf first. */
  chainToSend?: string[];
  keyType?: string;
}

// ---- probe ---------------------------------------------------------------------------

export interface ProbeInputsDetails extends ClientInputEvidence {
  /** What the certificate checks noticed that is no problem. */
  notes?: string[];
  daysLeft?: number;
  problems: InputProblem[];
}

export interface DnsDetails extends ErrorEvidence {
  addresses?: string[];
}

export interface ProbeTcpDetails extends ErrorEvidence {
  localPort?: number;
  /** The address and port the connection went to (on failure; the summary says it on success). */
  endpoint?: string;
}

/** The negotiated session and the client-certificate request, as both ends of a handshake see them. */
export interface TlsSessionEvidence {
  protocol?: string | null;
  cipher?: string;
  /** The key exchange group, e.g. X25519; null when Node does not say. */
  group?: string | null;
  /** The ALPN protocol agreed; false or null when none. */
  alpn?: string | false | null;
  /** The SNI name: sent (probe; null for an IP address) or received (inbound). */
  servername?: string | null;
  certificateRequested?: boolean;
  /** The CA names of the CertificateRequest (RFC 4514). */
  acceptableCAs?: string[];
}

export interface ProbeTlsDetails extends TlsSessionEvidence, WireEvidence, ErrorEvidence {
  sessionReused?: boolean;
  signatureAlgorithms?: string[];
  ocspStapled?: boolean;
  /** Leaf first, as the server sent it. */
  serverChain?: CertificateSummary[];
  serverVerified?: boolean;
  serverVerifyError?: string | null;
  /** Which CAs were trusted for the server certificate. */
  trust?: string;
  clientCertificateSent?: boolean;
  /** Subjects of the client chain sent, leaf first. */
  sentChain?: string[];
  /** Whether the client chain reaches one of `acceptableCAs` (when the server named any). */
  chainReachesAcceptableCA?: boolean;
  /** The server accepted a client certificate it should not trust (server_accepts_untrusted_client_cert). */
  untrustedAccepted?: boolean;
}

export interface ProbeRequestDetails extends ErrorEvidence {
  method?: string;
  /** Path and query, secrets masked. */
  path?: string;
  headers?: Record<string, string | string[]>;
  bodyBytes?: number;
}

export interface ProbeResponseDetails extends ErrorEvidence {
  status?: number;
  headers?: Record<string, string | string[]>;
  /** The body as shown (formatted, within maxResponseBodyBytes). */
  body?: string;
  /** Why the body is shown as received, or cut. */
  bodyNote?: string;
  bodyBytes?: number;
  truncated?: boolean;
  timings?: ResponseTimings;
}

export interface ProbeReproduce {
  curl: string;
  openssl: string;
}

export interface ProbeVerdictDetails {
  /** The failing diagnosis code. */
  diagnosis?: string;
  reproduce: ProbeReproduce;
  totalMs: number;
}

/** Each probe phase's details. */
export interface ProbeEvidence {
  inputs: ProbeInputsDetails;
  dns: DnsDetails;
  tcp: ProbeTcpDetails;
  tls: ProbeTlsDetails;
  request: ProbeRequestDetails;
  response: ProbeResponseDetails;
  verdict: ProbeVerdictDetails;
}

// ---- token flows -----------------------------------------------------------------------

/** A request as it went on the wire, secrets masked. */
export interface ShownHttpRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[]>;
  body?: string;
}

/** A response as received, token values masked. */
export interface ShownHttpResponse {
  status: number;
  headers: Record<string, string | string[]>;
  body: string;
  bodyNote?: string;
  bytes: number;
  truncated: boolean;
}

/** The connection one HTTP call of a flow went over. */
export interface CallConnection {
  endpoint: string;
  tls: boolean;
  /** Which CAs verified the server: "system store", "lab CA (lab target)", "CA bundle given…". */
  trust?: string;
  protocol?: string | null;
  cipher?: string;
  serverCertificate?: CertificateSummary;
  serverVerified?: boolean;
  serverVerifyError?: string | null;
  certificateRequested?: boolean;
  acceptableCAs?: string[];
  /** What the tap saw in our Certificate message. */
  clientCertificateSent?: boolean;
  clientCertificateSubject?: string;
  /** Does the client chain reach one of the acceptable CA names (when the server named any)? */
  chainReachesAcceptableCA?: boolean;
}

/** ms since the call began; `tlsMs` is null for plain HTTP. */
export interface CallTimings {
  dnsMs: number;
  connectMs: number;
  tlsMs: number | null;
  requestSentMs: number;
  headersMs: number;
  endMs: number;
}

/** Every flow step that makes an HTTP call. */
export interface HttpCallEvidence {
  request?: ShownHttpRequest;
  response?: ShownHttpResponse;
  connection?: CallConnection;
  timings?: CallTimings;
  /** The call as a command, secrets as shell variables. */
  curl?: string;
  /** Why the call got no HTTP answer. */
  error?: string;
}

/** A lint finding on a JWT the run sent (codes in shared/jwt/lint.ts). */
export interface JwtLintFinding {
  code: string;
  severity: 'error' | 'warning';
  message: string;
  claim?: string;
}

export interface JwtVerification {
  verified: boolean;
  keyId?: string | null;
  code?: string;
  message?: string;
  /** Why it could not be verified at all (no JWKS). */
  reason?: string;
}

/** RFC 8705 certificate binding of an access token. */
export interface TokenBinding {
  'x5t#S256': string;
  clientCertificate: string | null;
  matches: boolean;
}

/** A JWT decoded for display: its value and signature stay masked. */
export interface ShownJwt {
  /** "jwt" on an access token (an opaque one is OpaqueToken). */
  format?: 'jwt';
  header?: Record<string, unknown>;
  claims?: Record<string, unknown>;
  /** iat, nbf, exp as ISO 8601 times. */
  times?: Record<string, string>;
  signature?: string;
  /** Findings on a JWT the run sent (null-free: absent on tokens it received). */
  lint?: JwtLintFinding[];
  /** The registered key the kid named, when the client's keys are known. */
  registeredKey?: unknown;
  verification?: JwtVerification;
  binding?: TokenBinding;
  /** A JWT that could not be decoded: the decode problem's code and message. */
  problem?: string;
  message?: string;
}

export interface OpaqueToken {
  format: 'opaque';
  length: number;
}

/** Assertions and JWTs a token, introspection or revocation request sent, decoded and linted. */
export interface SentJwtEvidence {
  clientAssertion?: ShownJwt;
  grantAssertion?: ShownJwt;
  jwtToken?: ShownJwt;
}

export interface FlowInputsDetails extends ClientInputEvidence {
  /** The URLs the flow was given, by field, query secrets masked. */
  urls: Record<string, string>;
  trust: string;
  verifyServer: boolean;
  /** Every JWT the flow sends, decoded, by label. */
  jwts?: Record<string, ShownJwt>;
  problems: string[];
  warnings: string[];
  grant?: string;
  clientId?: string;
  authMethod?: string;
  scope?: string | null;
  redirectUri?: string;
  pkce?: boolean;
  fieldNames?: Record<string, string>;
  clientSecretGiven?: boolean;
  headerNames?: Record<string, string>;
  username?: string;
  tokenTypeHint?: string | null;
}

export interface JwksKeySummary {
  kid: string | null;
  kty: string;
  alg: string | null;
  use: string | null;
}

export interface DiscoveryAttempt {
  url: string;
  status: number;
}

export interface DiscoveryDetails extends HttpCallEvidence {
  /** The well-known URLs tried, in order. */
  attempts?: DiscoveryAttempt[];
  /** The metadata members the harness uses. */
  metadata?: Record<string, unknown>;
  /** The `jwks` step: the keys found. */
  keys?: JwksKeySummary[];
}

/** An authorize or token step's findings that are worth saying but not a failure. */
export interface Remark {
  code: string;
  evidence: string[];
}

export interface AuthorizeDetails {
  authorizationUrl: string;
  redirectUri: string;
  state: string;
  codeChallengeMethod: string | null;
  nonce?: string;
  scope: string | null;
  waitMs: number;
  /** Why the request may not do what it should (PKCE the server ignores, a public client without it). */
  remarks: string[];
}

export interface IgnoredRedirect {
  stateReturned: string | null;
  error: string | null;
}

export interface CallbackDetails {
  /** The redirect's query, code masked. */
  query?: string;
  stateSent: string;
  stateReturned?: string | null;
  iss?: string | null;
  /** Redirects with another state that arrived first. */
  ignoredBefore?: number;
  ignored?: IgnoredRedirect[];
  ignoredCount?: number;
}

export type ExchangeDetails = HttpCallEvidence & SentJwtEvidence;

export interface TokenJwks {
  url: string;
  keys?: JwksKeySummary[];
  problem?: string;
}

export interface TokenDetails extends HttpCallEvidence, SentJwtEvidence {
  tokenType?: string;
  expiresIn?: number;
  expiresAt?: string;
  scope?: string;
  refreshTokenIssued?: boolean;
  idTokenIssued?: boolean;
  /** Members of the token response beyond the standard ones. */
  otherMembers?: Record<string, unknown>;
  jwks?: TokenJwks;
  accessToken?: OpaqueToken | ShownJwt;
  idToken?: ShownJwt;
  remarks?: Remark[];
  /** Introspection: the answer (`active` and its claims). */
  answer?: Record<string, unknown>;
}

export type CallDetails = HttpCallEvidence;

export interface ReproduceCall {
  step: string;
  command: string;
}

export interface FlowVerdictDetails {
  diagnosis?: string;
  reproduce: { curl: ReproduceCall[] };
  totalMs: number;
}

/** Each flow phase's details. */
export interface FlowEvidence {
  inputs: FlowInputsDetails;
  discovery: DiscoveryDetails;
  authorize: AuthorizeDetails;
  callback: CallbackDetails;
  exchange: ExchangeDetails;
  token: TokenDetails;
  call: CallDetails;
  verdict: FlowVerdictDetails;
}

// ---- inbound check --------------------------------------------------------------------

export interface ClosedAtAccept {
  runsPerSecond: number;
  connectionsPerAddress: number;
  connectionsPerListener: number;
}

export interface InboundTcpDetails {
  remoteAddress?: string | null;
  remotePort?: number | null;
  localAddress?: string | null;
  localPort?: number | null;
  /** The once-a-second summary run: connections closed at accept, by the limit that closed them. */
  closedAtAccept?: ClosedAtAccept;
  limits?: ClosedAtAccept;
}

export interface InboundTlsDetails extends TlsSessionEvidence, WireEvidence, ErrorEvidence {
  /** Bytes the client sent before the handshake failed. */
  clientBytes?: number;
}

/** A certificate the client presented, as the inbound check read it (the UI and the client's answer show it). */
export interface PresentedCertificate {
  subject: string;
  issuer: string;
  serial: string;
  notBefore: string;
  notAfter: string;
  validity: 'valid' | 'expired' | 'not_yet_valid';
  sha256: string;
  key: string;
  subjectAltNames: string[];
  extendedKeyUsage: string[] | null;
  isCa: boolean;
  selfSigned: boolean;
  /** The certificate is itself in the listener's CA bundle. */
  inBundle: boolean;
}

export interface CertificateDetails {
  presented: boolean;
  /** Normally "the Certificate message as sent", read by the TLS tap. */
  chainSource: string;
  chain: PresentedCertificate[];
  /** Set when no certificate came: the names the listener asked for. */
  acceptableCAs?: string[];
}

export interface VerifyDetails {
  verified: boolean;
  error: string | null;
  /** Subjects from the client certificate to the anchor. */
  path: string[];
  depth: number | null;
  verifyDepth: number | null;
  /** Node's verdict with requestCert: true, rejectUnauthorized: false. */
  authorized: boolean;
  authorizationError: string | null;
  trustedCAs: string[];
}

export interface InboundRuleShown {
  cnEquals?: string;
  sanDnsEquals?: string;
}

export interface RuleCheck {
  field: 'subject CN' | 'SAN DNS';
  expected: string;
  actual: string | string[] | null;
  matched: boolean;
}

export interface RuleDetails {
  rule: InboundRuleShown | null;
  matched: boolean;
  checks: RuleCheck[];
}

export interface InboundRequestDetails {
  method: string;
  /** Query secrets masked. */
  path: string;
  httpVersion: string;
  /** Secrets masked. */
  headers: Record<string, string | string[]>;
  bodyBytes: number;
  bodyTruncated: boolean;
}

export interface InboundResponseDetails {
  status: number;
  reason: string;
  headers: Record<string, string>;
  /** The JSON sent to the client, as an object. */
  body: Record<string, unknown>;
}

export interface InboundVerdictDetails {
  diagnosis?: string;
  /** The HTTP status answered, or null. */
  status: number | null;
  reproduce: { curl: string };
  totalMs: number;
}

/** Each inbound phase's details. */
export interface InboundEvidence {
  tcp: InboundTcpDetails;
  tls: InboundTlsDetails;
  certificate: CertificateDetails;
  verify: VerifyDetails;
  rule: RuleDetails;
  request: InboundRequestDetails;
  response: InboundResponseDetails;
  verdict: InboundVerdictDetails;
}

// ---- the step ------------------------------------------------------------------------

interface StepBase {
  /** Stable within a run; a later event with the same id replaces the earlier one. */
  id: string;
  status: StepStatus;
  title: string;
  /** One line shown beside the title, e.g. "localhost → 127.0.0.1". */
  summary?: string;
  /** Milliseconds since run start when the step began. */
  startMs: number;
  /** Milliseconds the step took; absent while running. */
  durationMs?: number;
  diagnosis?: Diagnosis;
}

/** One step of phase P: its details are that phase's evidence (absent while running or skipped). */
export type StepOf<E, P extends keyof E> = StepBase & { phase: P; details?: E[P] };
type StepsOf<E> = { [P in keyof E]: StepOf<E, P> }[keyof E];

export type ProbeStep = StepsOf<ProbeEvidence>;
export type FlowStep = StepsOf<FlowEvidence>;
export type InboundStep = StepsOf<InboundEvidence>;
/**
 * Any step. `if (step.phase === 'tls')` narrows `details` to the TLS evidence of a probe or an
 * inbound run; code that knows the run kind narrows further with ProbeStep, FlowStep, InboundStep.
 */
export type Step = ProbeStep | FlowStep | InboundStep;

/** Each phase's details, whichever kind of run the step belongs to. */
export type PhaseDetails = { [P in ProbePhase]: NonNullable<Extract<Step, { phase: P }>['details']> };
/** The details a step of phase P may carry. */
export type DetailsOf<P extends ProbePhase> = PhaseDetails[P];
/** The name of a field of phase P's details, of any kind of run (default: of any phase). */
export type EvidenceField<P extends ProbePhase = ProbePhase> = DetailsOf<P> extends infer D ? (D extends unknown ? keyof D & string : never) : never;

/** The step of `phase` with id `id` (by default the phase's own name, as most steps are called). */
export function findStep<S extends Step, P extends S['phase']>(steps: Iterable<S>, phase: P, id: string = phase): Extract<S, { phase: P }> | undefined {
  for (const s of steps) if (s.phase === phase && s.id === id) return s as Extract<S, { phase: P }>;
  return undefined;
}

/** The details of `step` when it is of `phase`: for code that finds a step by its id. */
export function detailsOf<P extends ProbePhase>(step: Step | undefined, phase: P): DetailsOf<P> | undefined {
  return step?.phase === phase ? (step.details as DetailsOf<P> | undefined) : undefined;
}
