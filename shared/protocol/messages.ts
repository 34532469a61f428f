// The whole WebSocket protocol between the browser (or any client) and the relay, as types.
// Every frame is one JSON object keyed on `type`. Requests carry a client-chosen `id`;
// replies and run events echo it so a client can match them. See docs/protocol.md.

import type { PROTOCOL_VERSION, IssuedTokenName, LabSignProfile } from './constants.ts';
import type { RunKind, RunOutcome, Step } from './evidence.ts';
import type { ClientAuthMethod, ClientCredentials, FlowRequest, LabRegistration } from './flows.ts';
import type { PublicJwk } from '../jwt/keys.ts';
import type { MtlsCheckRequest } from '../check/request.ts';
import type { ResourceCheckRequest, SignedJwtCheckRequest } from '../check/jwt-request.ts';
import type { CheckCaseInfo, CheckCaseResult, CheckReport, CheckInstallKit } from '../check/messages.ts';

// ---- client → relay -------------------------------------------------------------------

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

// ---- relay → client -------------------------------------------------------------------

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
