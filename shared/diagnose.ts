// Turns the signals a probe collected into a diagnosis code. Real servers reject in different
// ways (alerts before or after secureConnect, nginx's HTTP 400 pages, silent closes), so no
// single error code is enough: each rule below names the signals it relies on.
import { alertFromError, alertName } from './tls/alerts.ts';
import type { DiagnosisCode } from './diagnoses.ts';

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
  now?: number;
  httpStatus?: number;
  httpBody?: string;
  /** In the response phase: still waiting for headers, or reading the body. */
  stage?: 'headers' | 'body';
  /** The outbound guard refused the target (hosted mode); the code says why. */
  refusal?: 'target_address_refused' | 'target_port_refused' | 'target_scheme_refused' | 'target_userinfo_refused';
}

export interface Classified {
  code: DiagnosisCode;
  evidence: string[];
}

const NGINX_NO_CERT = /No required SSL certificate was sent/i;
const NGINX_CERT_ERROR = /The SSL certificate error/i;

function errorEvidence(s: FailureSignals): string[] {
  const out: string[] = [];
  if (s.errorCode) out.push(`error code ${s.errorCode}`);
  if (s.errorMessage && !s.errorMessage.includes(s.errorCode ?? '\0')) out.push(`error: ${s.errorMessage}`);
  return out;
}

function fromAlert(alert: number, s: FailureSignals): DiagnosisCode {
  const now = s.now ?? Date.now();
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
      if (s.clientNotBefore !== undefined && s.clientNotBefore > now) return 'client_cert_not_yet_valid';
      if (s.clientNotAfter !== undefined && s.clientNotAfter < now) return 'client_cert_expired';
      return 'client_cert_rejected';
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
    return { code: fromAlert(alert, s), evidence };
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
      // nginx gives one page for every verification failure; the certificate's own dates,
      // which the probe knows, tell the two time-related ones apart.
      const now = s.now ?? Date.now();
      if (s.clientNotAfter !== undefined && s.clientNotAfter < now) {
        evidence.push(`the client certificate expired on ${new Date(s.clientNotAfter).toISOString()}`);
        return { code: 'client_cert_expired', evidence };
      }
      if (s.clientNotBefore !== undefined && s.clientNotBefore > now) {
        evidence.push(`the client certificate is valid only from ${new Date(s.clientNotBefore).toISOString()}`);
        return { code: 'client_cert_not_yet_valid', evidence };
      }
      if (s.clientCertClientAuth === false) {
        evidence.push('the client certificate\'s Extended Key Usage does not include clientAuth');
        return { code: 'client_cert_wrong_usage', evidence };
      }
      return { code: 'client_cert_rejected', evidence };
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
      return { code: 'client_cert_rejected', evidence };
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
