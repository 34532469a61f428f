// Judging one JWT case from its finished token flow: did the token endpoint accept or refuse the
// assertion? Only the token request's own answer counts — a 2xx with a token is acceptance; a
// 400, 401 or 403 is a refusal (RFC 6749 §5.2 answers invalid_grant / invalid_client there).
// Anything else (no answer, a 404 or 405 of a wrong URL, a 5xx, a 200 without a token, inputs the
// harness could not use) is inconclusive, with the reason. What happens after the token was
// issued (reading it, calling an API) does not change the verdict on the endpoint.
import type { Step } from '../protocol/evidence.ts';
import { parseOAuthError } from '../flows/oauth-errors.ts';
import type { Expectation } from './cases.ts';
import type { CaseJudgement, FinishedProbe, Observed } from './judge.ts';

/** The step every token flow sends its token request in. */
const TOKEN_STEP = 'exchange';
const REFUSAL_STATUSES: ReadonlySet<number> = new Set([400, 401, 403]);
const DESCRIPTION_CHARS = 160;

function lastStep(steps: readonly Step[], id: string): Step | undefined {
  let found: Step | undefined;
  for (const s of steps) if (s.id === id) found = s;
  return found;
}

function response(step: Step | undefined): { status?: number; body?: string } {
  const d = step?.details;
  const r = d && 'response' in d ? d.response : undefined;
  return { ...(typeof r?.status === 'number' ? { status: r.status } : {}), ...(typeof r?.body === 'string' ? { body: r.body } : {}) };
}

/** HTTP status, the OAuth error and its description, the diagnoses. */
function tokenEvidence(flow: FinishedProbe): string[] {
  const out: string[] = [];
  const { status, body } = response(lastStep(flow.steps, TOKEN_STEP));
  if (status !== undefined) out.push(`HTTP ${status}`);
  const error = status !== undefined && status >= 400 && body ? parseOAuthError(body) : null;
  if (error) out.push(`error: ${error.error}${error.description ? ` — ${error.description.slice(0, DESCRIPTION_CHARS)}` : ''}`);
  if (flow.diagnoses.length) out.push(`diagnoses: ${flow.diagnoses.join(', ')}`);
  return out;
}

function observeToken(flow: FinishedProbe): { observed: Observed; reason: string } {
  const inputs = lastStep(flow.steps, 'inputs');
  if (inputs?.status === 'fail') return { observed: 'unknown', reason: `the harness could not use the case's inputs: ${inputs.summary ?? 'invalid input'}` };
  if (flow.outcome === 'error') return { observed: 'unknown', reason: 'the run was cancelled or broke off' };
  const step = lastStep(flow.steps, TOKEN_STEP);
  const { status, body } = response(step);
  if (step && (step.status === 'ok' || step.status === 'warn')) return { observed: 'accepted', reason: `the server accepted it (HTTP ${status ?? '2xx'}, token issued)` };
  if (status !== undefined && REFUSAL_STATUSES.has(status)) {
    const error = body ? parseOAuthError(body)?.error : undefined;
    return { observed: 'refused', reason: `the server refused it (HTTP ${status}${error ? ` ${error}` : ''})` };
  }
  if (status !== undefined) return { observed: 'unknown', reason: `HTTP ${status} is neither a token nor a refusal of the assertion: ${step?.summary ?? ''}`.trim() };
  return { observed: 'unknown', reason: `no answer to the token request: ${step?.summary ?? lastStep(flow.steps, 'verdict')?.summary ?? 'not reached'}` };
}

export function judgeTokenCase(expect: Expectation, flow: FinishedProbe): CaseJudgement {
  const { observed, reason } = observeToken(flow);
  const evidence = tokenEvidence(flow);
  if (observed === 'unknown') return { verdict: 'inconclusive', observed, reason, evidence };
  const asRequired = (expect === 'accept') === (observed === 'accepted');
  return { verdict: asRequired ? 'enforced' : 'not_enforced', observed, reason, evidence };
}
