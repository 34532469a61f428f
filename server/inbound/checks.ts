// What the listener concludes about one client: the certificate chain it presented, whether
// that chain verified against the bundle within the verify depth, whether the access rule lets
// it in, and why a handshake failed. Node does the verification (authorized /
// authorizationError); these functions explain it and add what Node does not check.
import type { InboundRule, PresentedCertificate } from '../../shared/protocol/index.ts';
import { INFERRED_PREFIX, type DiagnosisCode } from '../../shared/diagnoses.ts';
import { alertFromError, alertName } from '../../shared/tls/alerts.ts';
import { buildPath } from '../../shared/pki/chain.ts';
import type { InspectedCertificate } from '../../shared/pki/inspect.ts';
import type { TlsObservation } from '../tls/observation.ts';
import type { TrustBundle } from './trust-bundle.ts';

interface Finding {
  code: DiagnosisCode;
  summary: string;
  evidence: string[];
}

export function describePresented(c: InspectedCertificate, bundle: TrustBundle): PresentedCertificate {
  const { info } = c;
  return {
    subject: info.subject,
    issuer: info.issuer,
    serial: info.serial,
    notBefore: info.notBefore,
    notAfter: info.notAfter,
    validity: info.validity.status,
    sha256: info.fingerprints.sha256,
    key: info.key.text,
    subjectAltNames: info.subjectAltNames,
    extendedKeyUsage: info.extendedKeyUsage?.usages ?? null,
    isCa: info.isCa,
    selfSigned: info.selfSigned,
    inBundle: bundle.certificates.some((b) => b.info.fingerprints.sha256 === info.fingerprints.sha256),
  };
}

interface Verification {
  ok: boolean;
  /** Subjects from the client certificate up to the trust anchor, as far as the chain goes. */
  path: string[];
  /** CA certificates above the client certificate on that path, root included; null when it reaches no root. */
  depth: number | null;
  finding?: Finding;
}

/** Node's `authorizationError` for a client certificate, as a diagnosis code. */
export function classifyClientVerification(authorizationError: string): DiagnosisCode {
  switch (authorizationError) {
    case 'CERT_HAS_EXPIRED':
      return 'client_cert_expired';
    case 'CERT_NOT_YET_VALID':
      return 'client_cert_not_yet_valid';
    case 'UNABLE_TO_GET_ISSUER_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
      return 'client_cert_unknown_ca';
    case 'INVALID_PURPOSE':
      return 'client_cert_wrong_usage';
    case 'CERT_SIGNATURE_FAILURE':
      return 'client_cert_signature_invalid';
    case 'CERT_REVOKED':
      return 'client_cert_revoked';
    case 'CERT_CHAIN_TOO_LONG':
      return 'client_chain_too_deep';
    default:
      return 'client_cert_rejected';
  }
}

function day(iso: string): string {
  return iso.slice(0, 10);
}

/**
 * Explains Node's verdict on the chain and applies the verify depth, which Node does not
 * enforce for a server: the path is rebuilt from what the client sent plus the bundle.
 */
export async function verifyPresented(input: {
  chain: readonly InspectedCertificate[];
  authorized: boolean;
  authorizationError: string | null;
  bundle: TrustBundle;
  verifyDepth?: number;
}): Promise<Verification> {
  const { chain, bundle, verifyDepth } = input;
  const leaf = chain[0]!;
  const built = await buildPath(leaf, [...chain, ...bundle.certificates]);
  const path = built.certificates.map((c) => c.info.subject);
  const anchored = built.path.complete && bundle.certificates.some((b) => b.info.fingerprints.sha256 === built.certificates.at(-1)!.info.fingerprints.sha256);
  const depth = anchored ? built.certificates.length - 1 : null;
  const evidence = [`Node: authorized=${input.authorized}${input.authorizationError ? `, authorizationError=${input.authorizationError}` : ''}`];

  if (!input.authorized) {
    const error = input.authorizationError ?? 'unknown';
    const code = classifyClientVerification(error);
    let summary: string;
    switch (code) {
      case 'client_cert_expired': {
        const expired = built.certificates.find((c) => c.info.validity.status === 'expired') ?? leaf;
        summary = `The client certificate chain has expired: ${expired.info.subject} was valid until ${day(expired.info.notAfter)}.`;
        evidence.push(`${expired.info.subject}: notAfter ${expired.info.notAfter}`);
        break;
      }
      case 'client_cert_not_yet_valid': {
        const early = built.certificates.find((c) => c.info.validity.status === 'not_yet_valid') ?? leaf;
        summary = `The client certificate is not valid yet: ${early.info.subject} starts on ${early.info.notBefore}.`;
        evidence.push(`${early.info.subject}: notBefore ${early.info.notBefore}`);
        break;
      }
      case 'client_cert_unknown_ca': {
        const top = built.certificates.at(-1)!;
        const missing = built.path.complete ? top.info.subject : top.info.issuer;
        summary = built.path.complete
          ? `The client's chain ends at ${missing}, which is not in the listener's CA bundle.`
          : `The client's chain stops at ${top.info.subject}: its issuer ${missing} was neither sent by the client nor is it in the listener's CA bundle.`;
        evidence.push(`chain: ${path.join(' ← ')}`, `trusted: ${bundle.subjects.join(' · ')}`);
        break;
      }
      case 'client_cert_wrong_usage':
        summary = `The client certificate is not meant for client authentication: its Extended Key Usage is ${leaf.info.extendedKeyUsage?.usages.join(', ') ?? 'absent'}.`;
        break;
      default:
        summary = `The client certificate chain did not verify against the listener's CA bundle (${error}).`;
    }
    return { ok: false, path, depth, finding: { code, summary, evidence } };
  }

  if (verifyDepth !== undefined && depth !== null && depth > verifyDepth) {
    evidence.push(`chain: ${path.join(' ← ')}`, `${depth} CA certificate${depth === 1 ? '' : 's'} above the client certificate; verify depth ${verifyDepth}`);
    const summary = `The client's chain has ${depth} CA certificates above the client certificate, more than the listener's verify depth of ${verifyDepth}.`;
    return { ok: false, path, depth, finding: { code: 'client_chain_too_deep', summary, evidence } };
  }
  return { ok: true, path, depth };
}

export interface RuleCheck {
  field: 'subject CN' | 'SAN DNS';
  expected: string;
  /** What the certificate has: its CN, or its DNS names. */
  actual: string | string[] | null;
  matched: boolean;
}

interface RuleResult {
  matched: boolean;
  checks: RuleCheck[];
  finding?: Finding;
}

function dnsNamesOf(c: InspectedCertificate): string[] {
  return c.info.subjectAltNames.filter((n) => n.startsWith('DNS:')).map((n) => n.slice(4));
}

/** The access rule against the client certificate: every condition given must hold. No conditions: any verified certificate. */
export function evaluateRule(rule: InboundRule | undefined, leaf: InspectedCertificate): RuleResult {
  const checks: RuleCheck[] = [];
  if (rule?.cnEquals !== undefined) {
    // Exact, case-sensitive, like Apache's Require expr %{SSL_CLIENT_S_DN_CN} == "…".
    const cn = leaf.info.commonName ?? null;
    checks.push({ field: 'subject CN', expected: rule.cnEquals, actual: cn, matched: cn === rule.cnEquals });
  }
  if (rule?.sanDnsEquals !== undefined) {
    const names = dnsNamesOf(leaf);
    const want = rule.sanDnsEquals.toLowerCase();
    checks.push({ field: 'SAN DNS', expected: rule.sanDnsEquals, actual: names, matched: names.some((n) => n.toLowerCase() === want) });
  }
  const failed = checks.filter((c) => !c.matched);
  if (failed.length === 0) return { matched: true, checks };
  const said = (c: RuleCheck) => (c.field === 'subject CN' ? `CN ${c.actual === null ? '(none)' : `"${c.actual}"`}` : `DNS names ${(c.actual as string[]).length ? (c.actual as string[]).join(', ') : '(none)'}`);
  const summary = `The certificate verified, but the access rule refused it: ${failed.map((c) => `${said(c)} is not "${c.expected}"`).join('; ')}.`;
  const evidence = failed.map((c) => `${c.field}: expected "${c.expected}", the certificate has ${said(c)}`);
  return { matched: false, checks, finding: { code: 'access_denied', summary, evidence: [`subject: ${leaf.info.subject}`, ...evidence] } };
}

export interface HandshakeSignals {
  errorCode?: string;
  errorMessage?: string;
  observation: TlsObservation;
  /** Bytes the client sent before the failure. */
  clientBytes: number;
  handshakeTimeoutMs: number;
}

/** Why a client's handshake with the listener failed, from Node's error and what the tap saw. */
export function classifyHandshakeFailure(s: HandshakeSignals): Finding & { plainHttp?: boolean } {
  const code = s.errorCode ?? '';
  const evidence: string[] = [];
  if (s.errorCode) evidence.push(`error code ${s.errorCode}`);
  const seconds = s.handshakeTimeoutMs / 1000;

  if (code === 'ERR_TLS_HANDSHAKE_TIMEOUT') {
    evidence.push(`${s.clientBytes} bytes received from the client in ${seconds} s`);
    return {
      code: 'tls_timeout',
      summary: s.clientBytes === 0
        ? `The client connected but sent nothing for ${seconds} s: it is not a TLS client, or it waits for the server to speak first.`
        : `The client did not finish the TLS handshake within ${seconds} s.`,
      evidence,
    };
  }

  const problem = s.observation.parseProblem;
  if (problem?.code === 'not_tls' || /HTTP_REQUEST|HTTPS_PROXY_REQUEST|WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG|UNKNOWN_PROTOCOL/.test(code)) {
    if (problem) evidence.push(`tap: ${problem.message}`);
    const plainHttp = /HTTP_REQUEST/.test(code) || (problem !== undefined && /"(GET|POST|PUT|DELETE|HEAD|OPTIONS|PATCH) /.test(problem.message));
    return {
      code: 'not_tls',
      plainHttp,
      summary: plainHttp
        ? 'The client sent a plain HTTP request to the TLS listener: it must connect with https://.'
        : 'The client did not speak TLS: its first bytes are not a TLS record.',
      evidence,
    };
  }

  const fromClient = s.observation.alerts.find((a) => a.from === 'client' && a.level === 2);
  const alert = fromClient?.description ?? alertFromError(s.errorCode, s.errorMessage);
  if (alert !== undefined) {
    evidence.unshift(`TLS alert ${alert} (${alertName(alert)}) sent by the client${fromClient?.encrypted ? ' (read from the encrypted TLS 1.3 record)' : ''}`);
    switch (alert) {
      case 42:
      case 43:
      case 45:
      case 46:
      case 48:
        return {
          code: 'listener_cert_untrusted',
          summary: `The client refused the listener's certificate (alert ${alertName(alert)}): it does not trust the CA that issued it, or it connected under a name the certificate does not cover.`,
          evidence,
        };
      case 70:
        return { code: 'tls_version_mismatch', summary: 'The client and the listener have no TLS version in common (alert protocol_version).', evidence };
      default:
        return { code: 'tls_handshake_failed', summary: `The client stopped the handshake with alert ${alertName(alert)}.`, evidence };
    }
  }
  if (/UNSUPPORTED_PROTOCOL|VERSION_TOO_LOW|NO_PROTOCOLS_AVAILABLE/.test(code)) {
    return { code: 'tls_version_mismatch', summary: 'The client offered only TLS versions the listener does not accept (it accepts TLS 1.2 and 1.3).', evidence };
  }
  if (/NO_SHARED_CIPHER/.test(code)) {
    return { code: 'tls_handshake_failed', summary: 'The client offered no cipher suite the listener accepts.', evidence };
  }
  if (code === 'ECONNRESET' || code === 'EPIPE' || /socket hang up|closed/i.test(s.errorMessage ?? '')) {
    evidence.push(`${s.clientBytes} bytes received from the client, no TLS alert`);
    // The listener's certificate reached the client, which then left before its Finished: the
    // one check a client makes at that point is whether it trusts that certificate (Node.js
    // clients make it and close without an alert).
    const certificateSeen = s.observation.serverChainDer.length > 0;
    const clientFinished = s.observation.messages.some((m) => m.from === 'client' && m.type === 'finished');
    if (certificateSeen && !clientFinished) {
      evidence.push('the listener\'s certificate was sent; the client closed before its Finished message', `${INFERRED_PREFIX}the client does not trust the listener's certificate (or the name it connected to is not in it)`);
      return {
        code: 'listener_cert_untrusted',
        summary: 'The client closed the connection right after receiving the listener\'s certificate, without a TLS alert: most likely it does not trust the certificate (Node.js clients refuse this way), or it connected under a name the certificate does not cover.',
        evidence,
      };
    }
    return {
      code: 'client_aborted_handshake',
      summary: s.clientBytes === 0
        ? 'The client opened the connection and closed it without sending anything (a port check, or a client that gave up at once).'
        : 'The client closed the connection during the TLS handshake without a TLS alert.',
      evidence,
    };
  }
  if (s.errorMessage && !evidence.some((e) => e.includes(s.errorMessage!))) evidence.push(`error: ${s.errorMessage}`);
  return { code: 'tls_handshake_failed', summary: 'The TLS handshake with the client failed.', evidence };
}
