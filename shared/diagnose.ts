// Turns the signals a probe collected into a diagnosis code. Real servers reject in different
// ways (alerts before or after secureConnect, nginx's HTTP 400 pages, silent closes), so no
// single error code is enough: each rule below names the signals it relies on.
import { alertFromError, alertName } from './tls/alerts.ts';
import { INFERRED_PREFIX, type DiagnosisCode } from './diagnoses.ts';

export interface FailureSignals {
  /** Where the run stopped. */
  phase: 'dns' | 'tcp' | 'tls' | 'request' | 'response';
  errorCode?: string;
  errorMessage?: string;
  /** The fatal alert the server sent, as the wire tap read it; preferred to what the error's text says. */
  serverAlert?: number;
  /** True when the phase's own timer fired. */
  timedOut?: boolean;
  /** secureConnect fired before the failure (TLS 1.3 client-certificate alerts arrive after it). */
  handshakeComplete?: boolean;
  /** Whether the probe presented a client certificate. */
  clientCertSent?: boolean;
  /** Whether the server asked for one (from the wire tap; undefined when unknown). */
  certificateRequested?: boolean;
  /** Certificates the client sent (leaf + intermediates). */
  clientChainLength?: number;
  /** Client certificate validity, epoch ms, to tell "not yet valid" from other bad_certificate cases. */
  clientNotBefore?: number;
  clientNotAfter?: number;
  /** False when the client certificate has an Extended Key Usage without clientAuth. */
  clientCertClientAuth?: boolean;
  /** False when the server listed acceptable CA names and the client chain reaches none of them. */
  clientChainReachesAcceptableCA?: boolean;
  now?: number;
  httpStatus?: number;
  httpBody?: string;
  /** Response headers: some servers name the verification error in one (VERIFY_ERROR_HEADERS). */
  httpHeaders?: Record<string, string | string[] | undefined>;
  /** In the response phase: still waiting for headers, or reading the body. */
  stage?: 'headers' | 'body';
  /** The outbound guard refused the target (hosted mode); the code says why. */
  refusal?: 'target_address_refused' | 'target_port_refused' | 'target_scheme_refused' | 'target_userinfo_refused';
}

interface Classified {
  code: DiagnosisCode;
  evidence: string[];
}

const NGINX_NO_CERT = /No required SSL certificate was sent/i;
const NGINX_CERT_ERROR = /The SSL certificate error/i;

/**
 * Response headers in which a TLS terminator names the client certificate's verification error:
 * the lab's, and the names commonly given to nginx's $ssl_client_verify ("FAILED:reason") and
 * Apache's SSL_CLIENT_VERIFY when passed on.
 */
const VERIFY_ERROR_HEADERS = ['x-lab-verify-error', 'x-ssl-client-verify', 'x-client-verify', 'ssl-client-verify', 'x-client-cert-verify'] as const;

/** Verification errors as OpenSSL's text (nginx, Apache) or Node's code (the lab) spell them. */
const VERIFY_ERRORS: [RegExp, DiagnosisCode][] = [
  [/CERT_HAS_EXPIRED|has expired/i, 'client_cert_expired'],
  [/CERT_NOT_YET_VALID|not yet valid/i, 'client_cert_not_yet_valid'],
  [/CERT_REVOKED|revoked/i, 'client_cert_revoked'],
  [/INVALID_PURPOSE|unsuitable certificate purpose/i, 'client_cert_wrong_usage'],
  [/CHAIN_TOO_LONG|chain too long/i, 'client_chain_too_deep'],
  [/CERT_SIGNATURE_FAILURE|signature failure/i, 'client_cert_signature_invalid'],
  [/UNABLE_TO_GET_ISSUER_CERT|UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|unable to (get local issuer|verify the first|get issuer)|self[- ]signed/i, 'client_cert_unknown_ca'],
];

/** The verification error a server named in a response header, as a diagnosis. */
function headerCause(headers: FailureSignals['httpHeaders']): { code: DiagnosisCode; evidence: string } | null {
  if (!headers) return null;
  for (const name of VERIFY_ERROR_HEADERS) {
    const raw = headers[name];
    const value = (Array.isArray(raw) ? raw.join(', ') : raw ?? '').slice(0, 200);
    if (!value || /^SUCCESS|^NONE$/i.test(value)) continue;
    const found = VERIFY_ERRORS.find(([re]) => re.test(value));
    if (found) return { code: found[1], evidence: `response header ${name}: ${value}` };
  }
  return null;
}

/**
 * What the probe knows about its own certificate that singles out why a server refused it
 * without saying why: its dates, its EKU, the acceptable CA names. Null when nothing does.
 */
function inferCertCause(s: FailureSignals): { code: DiagnosisCode; evidence: string[] } | null {
  const now = s.now ?? Date.now();
  if (s.clientCertSent === false) return null;
  if (s.clientNotAfter !== undefined && s.clientNotAfter < now) {
    return { code: 'client_cert_expired', evidence: [`the client certificate expired on ${new Date(s.clientNotAfter).toISOString()}`, `${INFERRED_PREFIX}the certificate is expired`] };
  }
  if (s.clientNotBefore !== undefined && s.clientNotBefore > now) {
    return { code: 'client_cert_not_yet_valid', evidence: [`the client certificate is valid only from ${new Date(s.clientNotBefore).toISOString()}`, `${INFERRED_PREFIX}the certificate is not valid yet`] };
  }
  if (s.clientCertClientAuth === false) {
    return { code: 'client_cert_wrong_usage', evidence: ['the client certificate\'s Extended Key Usage does not include clientAuth', `${INFERRED_PREFIX}the certificate is not meant for client authentication`] };
  }
  if (s.clientChainReachesAcceptableCA === false) {
    return { code: 'client_cert_unknown_ca', evidence: [`${INFERRED_PREFIX}the client chain reaches none of the CA names the server listed as acceptable`] };
  }
  return null;
}

/** `client_cert_rejected`, unless what the probe knows singles out the cause. */
function rejected(s: FailureSignals, evidence: string[]): Classified {
  const cause = inferCertCause(s);
  if (cause) return { code: cause.code, evidence: [...evidence, ...cause.evidence] };
  const checked = [
    ...(s.clientNotAfter !== undefined && s.clientNotBefore !== undefined ? ['valid now'] : []),
    ...(s.clientCertClientAuth === true ? ['clientAuth allowed by its EKU'] : []),
    ...(s.clientChainReachesAcceptableCA === true ? ['reaches a CA the server listed as acceptable'] : []),
  ];
  return {
    code: 'client_cert_rejected',
    evidence: [
      ...evidence,
      ...(checked.length ? [`the harness checked the certificate: ${checked.join(', ')}`] : []),
      'remaining candidates: revoked, a chain longer than the server\'s verify depth, a CA without a CRL where the server checks revocation, an untrusted CA the server did not list, or a rule on the subject',
    ],
  };
}

function errorEvidence(s: FailureSignals): string[] {
  const out: string[] = [];
  if (s.errorCode) out.push(`error code ${s.errorCode}`);
  if (s.errorMessage && !s.errorMessage.includes(s.errorCode ?? '\0')) out.push(`error: ${s.errorMessage}`);
  return out;
}

function fromAlert(alert: number, s: FailureSignals): DiagnosisCode {
  switch (alert) {
    case 116:
      return 'client_cert_required';
    case 40:
      // TLS 1.2 servers (Apache) answer a missing certificate with handshake_failure.
      return s.clientCertSent === false && s.certificateRequested !== false ? 'client_cert_required' : 'tls_handshake_failed';
    case 48:
      return 'client_cert_unknown_ca';
    case 45:
      return 'client_cert_expired';
    case 44:
      return 'client_cert_revoked';
    case 43:
      return 'client_cert_wrong_usage';
    case 42:
    case 46:
    case 49:
      return 'client_cert_rejected';
    case 51:
      return 'client_cert_signature_invalid';
    case 70:
      return 'tls_version_mismatch';
    case 80:
      // Apache answers a chain longer than SSLVerifyDepth with internal_error; only a client
      // that sent intermediates can have hit that limit.
      return s.clientCertSent && (s.clientChainLength ?? 1) > 1 ? 'client_chain_too_deep' : 'tls_handshake_failed';
    default:
      return 'tls_handshake_failed';
  }
}

export function classifyFailure(s: FailureSignals): Classified {
  const evidence = errorEvidence(s);
  const code = s.errorCode ?? '';
  if (s.refusal) return { code: s.refusal, evidence: s.errorMessage ? [s.errorMessage] : [] };

  if (s.phase === 'dns') {
    return { code: s.timedOut ? 'connect_timeout' : 'dns_not_found', evidence };
  }
  if (s.phase === 'tcp') {
    if (s.timedOut || code === 'ETIMEDOUT') return { code: 'connect_timeout', evidence };
    if (code === 'ECONNREFUSED') return { code: 'connect_refused', evidence };
    return { code: 'connect_refused', evidence };
  }

  const alert = s.serverAlert ?? alertFromError(s.errorCode, s.errorMessage);
  if (alert !== undefined) {
    evidence.unshift(`TLS alert ${alert} (${alertName(alert)}) received from the server${s.handshakeComplete ? ' after the handshake completed' : ''}`);
    const code = fromAlert(alert, s);
    // bad_certificate, certificate_unknown, access_denied: the alert does not say which check failed.
    return code === 'client_cert_rejected' ? rejected(s, evidence) : { code, evidence };
  }

  if (s.phase === 'tls') {
    if (s.timedOut) return { code: 'tls_timeout', evidence };
    if (/WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG|HTTP_REQUEST|UNKNOWN_PROTOCOL|RECORD_LAYER_FAILURE/.test(code)) {
      return { code: 'not_tls', evidence };
    }
    // A protocol_version alert was read above, however OpenSSL spelled it; these are refusals on this side.
    if (/UNSUPPORTED_PROTOCOL|NO_PROTOCOLS_AVAILABLE/.test(code)) {
      return { code: 'tls_version_mismatch', evidence };
    }
  }

  if (s.httpStatus !== undefined) {
    evidence.unshift(`HTTP ${s.httpStatus}`);
    const body = s.httpBody ?? '';
    if (s.httpStatus === 400 && NGINX_NO_CERT.test(body)) {
      evidence.push('response body: "No required SSL certificate was sent"');
      return { code: 'client_cert_required', evidence };
    }
    if (s.httpStatus === 400 && NGINX_CERT_ERROR.test(body)) {
      evidence.push('response body: "The SSL certificate error"');
      // A header that names the verification error is the server's own word.
      const said = headerCause(s.httpHeaders);
      if (said) return { code: said.code, evidence: [...evidence, said.evidence] };
      // nginx gives one page for every verification failure; what the probe knows about its
      // own certificate (dates, EKU, the acceptable CA names) tells most of them apart.
      return rejected(s, evidence);
    }
    if (s.httpStatus === 403) return { code: 'access_denied', evidence };
    return { code: 'http_error', evidence };
  }

  if (s.stage === 'body') {
    if (code === 'BODY_TOO_LARGE') return { code: 'response_too_large', evidence };
    if (s.timedOut) return { code: 'body_timeout', evidence };
    return { code: 'response_incomplete', evidence };
  }
  if (code === 'HPE_HEADER_OVERFLOW') return { code: 'response_headers_too_large', evidence };
  if (/^HPE_/.test(code)) return { code: 'response_malformed', evidence };
  if (s.timedOut) return { code: s.phase === 'tls' ? 'tls_timeout' : 'response_timeout', evidence };

  // A closed or reset connection with no alert: a Node tls.Server (and some proxies) reject
  // a client certificate this way. Whether we sent one tells which case it is.
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'ERR_SSL_CLOSED' || code === 'closed' || /socket hang up|closed/i.test(s.errorMessage ?? '')) {
    if (s.certificateRequested || s.phase === 'tls' || s.handshakeComplete) {
      evidence.push('the server closed the connection without a TLS alert or HTTP response');
      if (s.clientCertSent === false && s.certificateRequested !== false) return { code: 'client_cert_required', evidence };
      return rejected(s, evidence);
    }
    return { code: 'connection_closed', evidence };
  }

  return { code: s.phase === 'tls' ? 'tls_handshake_failed' : 'connection_closed', evidence };
}

/** Node's `authorizationError` codes for the server's certificate, mapped to diagnoses. */
export function classifyServerVerification(authorizationError: string): DiagnosisCode {
  switch (authorizationError) {
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
      return 'server_cert_self_signed';
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT':
      return 'server_chain_incomplete';
    case 'CERT_HAS_EXPIRED':
      return 'server_cert_expired';
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
    case 'HOSTNAME_MISMATCH':
      return 'server_hostname_mismatch';
    default:
      return 'server_cert_untrusted';
  }
}
