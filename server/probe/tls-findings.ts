// What the probe concludes from the TLS handshake it watched: the wire's evidence for the TLS
// step, the pre-flight (does our chain reach a CA the server named?) and the finding that a
// server accepted a certificate it should not trust.
import type { X509Certificate } from 'node:crypto';
import type { Diagnosis, ProbeTlsDetails } from '../../shared/protocol/index.ts';
import { diagnosis } from '../../shared/diagnoses.ts';
import { oneLineDn } from '../net/dial.ts';
import { describeAcceptance } from '../net/acceptable-cas.ts';
import type { TlsObservation } from '../tls/tap.ts';

export function wireDetails(wire: TlsObservation | undefined): ProbeTlsDetails {
  if (!wire) return {};
  return {
    certificateRequested: wire.certificateRequested,
    acceptableCAs: wire.acceptableCAs,
    signatureAlgorithms: wire.signatureAlgorithms,
    ocspStapled: wire.ocspStapled,
    clientCertificateMessage: wire.clientChainDer === null ? 'none' : `${wire.clientChainDer.length} certificate${wire.clientChainDer.length === 1 ? '' : 's'}`,
    ...(wire.decryptionFailed ? { tapNote: wire.decryptionFailed } : {}),
    ...(wire.alerts.length ? { alertsSeen: wire.alerts.map((a) => `${a.from} ${a.description} ${a.name}`) } : {}),
    ...(wire.parseProblem ? { tapProblem: wire.parseProblem.message } : {}),
  };
}

/** `client_ca_not_acceptable` when the server listed CA names and the client chain reaches none. */
export function preflightAcceptance(chain: X509Certificate[], wire: TlsObservation): Diagnosis | undefined {
  if (!wire.certificateRequested || wire.acceptableCAs.length === 0) return undefined;
  const acceptance = describeAcceptance(chain, wire.acceptableCAs);
  if (acceptance.reaches) return undefined;
  return diagnosis('client_ca_not_acceptable', [`acceptable CA names: ${wire.acceptableCAs.join(' · ')}`, `client chain: ${acceptance.chainNames.join(' ← ')}`]);
}

/** Input problems that say the server should have refused the certificate. */
const SHOULD_REFUSE = new Set(['cert_expired', 'cert_not_yet_valid']);

/**
 * The security finding of a probe that passed with a certificate the harness knows the server
 * should not have trusted: its chain reaches none of the CA names the server sent, it is
 * self-signed, or it is expired or not yet valid. Replaces the pre-flight warning, which
 * predicted a refusal that did not come.
 */
export function untrustedAcceptance(chain: X509Certificate[], problems: { code: string; message: string }[], preflight: Diagnosis | undefined): Diagnosis | undefined {
  const leaf = chain[0];
  if (!leaf) return undefined;
  const evidence: string[] = [];
  if (preflight) evidence.push(...preflight.evidence.map((e) => `not among the acceptable CAs: ${e}`));
  if (leaf.subject === leaf.issuer && leaf.verify(leaf.publicKey)) evidence.push(`the client certificate is self-signed (${oneLineDn(leaf.subject)})`);
  for (const p of problems) if (SHOULD_REFUSE.has(p.code)) evidence.push(`${p.code}: ${p.message}`);
  if (!evidence.length) return undefined;
  return diagnosis('server_accepts_untrusted_client_cert', evidence);
}
