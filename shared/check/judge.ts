// Judging one case from its finished probe (the steps, outcome and diagnoses the relay emits):
// did the server accept or refuse the certificate, and was that what it must do? Only a signal
// that names the client certificate (a TLS alert, nginx's 400 pages, a 403 of the subject rule)
// counts as a refusal; anything else (timeouts, a 404, the server's own certificate failing) is
// inconclusive, with the reason.
import { detailsOf, type RunOutcome, type Step } from '../protocol/evidence.ts';
import type { Expectation } from './cases.ts';

export type CaseVerdict = 'enforced' | 'not_enforced' | 'inconclusive';
export type Observed = 'accepted' | 'refused' | 'unknown';

export interface FinishedProbe {
  outcome: RunOutcome;
  diagnoses: readonly string[];
  steps: readonly Step[];
}

export interface CaseJudgement {
  verdict: CaseVerdict;
  observed: Observed;
  /** One line: what the server did, in words. */
  reason: string;
  /** The signals: TLS alert, HTTP status, the error page's text, the diagnosis codes. */
  evidence: string[];
}

/** Diagnoses that mean the server refused the client's certificate (or its absence). */
const REFUSAL_CODES: ReadonlySet<string> = new Set([
  'client_cert_required', 'client_cert_unknown_ca', 'client_cert_expired', 'client_cert_not_yet_valid',
  'client_cert_revoked', 'client_cert_wrong_usage', 'client_cert_signature_invalid', 'client_chain_too_deep',
  'client_cert_rejected', 'access_denied', 'tls_handshake_failed',
]);
/** HTTP statuses that refuse the client: nginx's certificate pages (400, 495, 496), 401, 403. */
const REFUSAL_STATUSES: ReadonlySet<number> = new Set([400, 401, 403, 495, 496]);
const BODY_EVIDENCE_CHARS = 160;

function stepById(steps: readonly Step[], id: string): Step | undefined {
  let found: Step | undefined;
  for (const s of steps) if (s.id === id) found = s; // the last event of a step wins
  return found;
}

/** The signals of a finished probe worth quoting, most telling first. */
function probeEvidence(probe: FinishedProbe): string[] {
  const out: string[] = [];
  const tls = stepById(probe.steps, 'tls');
  const response = detailsOf(stepById(probe.steps, 'response'), 'response');
  for (const e of tls?.diagnosis?.evidence ?? []) if (/^TLS alert/.test(e)) out.push(e);
  const status = response?.status;
  if (typeof status === 'number') {
    out.push(`HTTP ${status}`);
    const body = response?.body;
    if (status >= 400 && typeof body === 'string' && body.trim()) {
      const title = /<title>([^<]*)<\/title>/i.exec(body)?.[1];
      const page = /No required SSL certificate was sent|The SSL certificate error|SSL certificate error/i.exec(body)?.[0];
      const text = (title && page && title.includes(page) ? title : [title, page].filter(Boolean).join(' · ')) || body.replace(/\s+/g, ' ').trim().slice(0, BODY_EVIDENCE_CHARS);
      out.push(`error page: ${text}`);
    }
  }
  if (probe.diagnoses.length) out.push(`diagnoses: ${probe.diagnoses.join(', ')}`);
  return out;
}

/** Accepted, refused, or neither, from the probe alone. */
function observe(probe: FinishedProbe): { observed: Observed; reason: string } {
  const inputs = stepById(probe.steps, 'inputs');
  if (inputs?.status === 'fail') return { observed: 'unknown', reason: `the harness could not use the case's inputs: ${inputs.summary ?? 'invalid input'}` };
  if (probe.outcome === 'pass') {
    const status = detailsOf(stepById(probe.steps, 'response'), 'response')?.status;
    return { observed: 'accepted', reason: `the server accepted it${typeof status === 'number' ? ` (HTTP ${status})` : ''}` };
  }
  if (probe.outcome === 'error') return { observed: 'unknown', reason: 'the run was cancelled or broke off' };
  const refusal = probe.diagnoses.find((d) => REFUSAL_CODES.has(d));
  if (refusal) return { observed: 'refused', reason: `the server refused it (${refusal})` };
  const status = detailsOf(stepById(probe.steps, 'response'), 'response')?.status;
  if (typeof status === 'number' && REFUSAL_STATUSES.has(status)) return { observed: 'refused', reason: `the server refused it (HTTP ${status})` };
  const verdict = stepById(probe.steps, 'verdict');
  return { observed: 'unknown', reason: `neither accepted nor refused for the certificate: ${verdict?.summary ?? probe.diagnoses.join(', ') ?? 'no verdict'}` };
}

export function judgeCase(expect: Expectation, probe: FinishedProbe): CaseJudgement {
  const { observed, reason } = observe(probe);
  const evidence = probeEvidence(probe);
  if (observed === 'unknown') return { verdict: 'inconclusive', observed, reason, evidence };
  const asRequired = (expect === 'accept') === (observed === 'accepted');
  return { verdict: asRequired ? 'enforced' : 'not_enforced', observed, reason, evidence };
}

/** A case judged without a probe (e.g. the harness's own TLS stack cannot send the certificate). */
export function inconclusive(reason: string): CaseJudgement {
  return { verdict: 'inconclusive', observed: 'unknown', reason, evidence: [] };
}
