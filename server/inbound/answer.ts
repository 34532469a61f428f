// What the listener answers the client, so the partner sees the verdict on their side too:
// the same findings the run shows, as JSON, with nginx's status codes and reason phrases (a
// client, or the harness's own probe, that knows nginx reads it the same way).
import type { Diagnosis, InboundRule, PresentedCertificate } from '../../shared/protocol/index.ts';
import type { RuleCheck } from './checks.ts';

const SEMANTICS =
  'Answers like nginx with ssl_verify_client optional plus an access rule: 400 "No required SSL certificate was sent" when no client certificate came, ' +
  '400 "The SSL certificate error" when it did not verify against the CA bundle (or its chain is deeper than the verify depth), ' +
  '403 when it verified but the access rule refused it, 200 when every check passed. Apache refuses the first two during the handshake instead (TLS alerts).';

const NO_CERTIFICATE = 'No required SSL certificate was sent';
const CERTIFICATE_ERROR = 'The SSL certificate error';

export type Refusal = 'no_certificate' | 'certificate_error' | 'forbidden' | null;

export function statusOf(refusal: Refusal): { status: number; reason: string } {
  switch (refusal) {
    case 'no_certificate':
      return { status: 400, reason: NO_CERTIFICATE };
    case 'certificate_error':
      return { status: 400, reason: CERTIFICATE_ERROR };
    case 'forbidden':
      return { status: 403, reason: 'Forbidden' };
    default:
      return { status: 200, reason: 'OK' };
  }
}

interface AnswerInput {
  runId: string;
  refusal: Refusal;
  diagnosis: Diagnosis | null;
  tls: { protocol: string | null; cipher: string | null };
  chain: PresentedCertificate[];
  verification: { verified: boolean; error: string | null; path: string[]; depth: number | null; verifyDepth: number | null } | null;
  rule: { rule: InboundRule | null; matched: boolean; checks: RuleCheck[] } | null;
  request: { method: string; path: string; headers: Record<string, string | string[]>; bodyBytes: number };
}

export function answerBody(a: AnswerInput): Record<string, unknown> {
  const { status, reason } = statusOf(a.refusal);
  const message = a.refusal === null
    ? 'Client certificate accepted: it verified against the CA bundle and the access rule let it in.'
    : `${status} ${reason}: ${a.diagnosis?.summary ?? ''}`.trim();
  return {
    verdict: a.refusal === null ? 'pass' : 'fail',
    status,
    reason,
    message,
    diagnosis: a.diagnosis ? { code: a.diagnosis.code, summary: a.diagnosis.summary, fix: a.diagnosis.fix.client } : null,
    semantics: SEMANTICS,
    runId: a.runId,
    tls: a.tls,
    clientCertificate: {
      presented: a.chain.length > 0,
      chain: a.chain.map((c) => ({ subject: c.subject, issuer: c.issuer, notBefore: c.notBefore, notAfter: c.notAfter, validity: c.validity, sha256: c.sha256 })),
    },
    verification: a.verification,
    accessRule: a.rule,
    request: a.request,
  };
}

/** nginx's answer to plain HTTP on a TLS port, so a client that forgot https:// is told so. */
export function plainHttpAnswer(): string {
  const body = JSON.stringify({
    verdict: 'fail',
    status: 400,
    reason: 'The plain HTTP request was sent to HTTPS port',
    message: 'This port speaks TLS: connect with https://.',
    diagnosis: { code: 'not_tls' },
  }, null, 2) + '\n';
  return `HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`;
}
