// The `call` step: the protected resource called with what the flow obtained — a Bearer token,
// or an API key and user name in headers — and a refusal explained (WWW-Authenticate, expiry,
// certificate binding).
import type { ApiCall } from '../../shared/flows/flow-request.ts';
import { explainApiRefusal, type Explanation } from '../../shared/flows/explain.ts';
import { parseWwwAuthenticate } from '../../shared/flows/oauth-errors.ts';
import { FlowRun } from './flow-steps.ts';
import { certificatePage } from '../net/http-call.ts';

export interface CallAuth {
  bearer?: { token: string; expiresAt?: number; boundTo?: string };
  apiKey?: { headerName: string; key: string; userHeaderName: string; username: string };
}

export interface CallOutcome {
  status: number;
  ok: boolean;
  explanation?: Explanation;
}

/**
 * Calls the resource as step `id`. A 2xx passes the step; a refusal is returned with its
 * explanation so the flow can decide (refresh and retry, or stop) — `final` stops it here.
 */
export async function callApi(run: FlowRun, id: string, title: string, call: ApiCall, auth: CallAuth, opts: { final: boolean; expectRefusal?: boolean }): Promise<CallOutcome> {
  const method = call.method ?? 'GET';
  const url = new URL(call.url);
  const step = run.start(id, 'call', title, `${method} ${url.pathname}`);
  const headers: Record<string, string> = { accept: 'application/json', ...call.headers };
  const secretNames: string[] = [];
  if (auth.bearer) headers.authorization = `Bearer ${auth.bearer.token}`;
  if (auth.apiKey) {
    headers[auth.apiKey.headerName] = auth.apiKey.key;
    headers[auth.apiKey.userHeaderName] = auth.apiKey.username;
    secretNames.push(auth.apiKey.headerName);
  }
  const { res, details } = await run.http(step, { method, url, headers, ...(call.body !== undefined ? { body: call.body } : {}) }, { secretNames });
  const stepTitle = `${title}: HTTP ${res.status}`;
  if (opts.expectRefusal) {
    // A revoked token: a 401 is the proof, a 2xx means the API still takes it.
    if (res.status >= 200 && res.status < 300) run.stop(step, 'token_still_active', [`HTTP ${res.status}: the API accepted the token after the revocation request was accepted`, 'an API that validates JWT access tokens locally does not learn of revocations until they expire'], { details, title: stepTitle });
    if (res.status === 401) {
      step.finish('ok', { title: stepTitle, summary: 'refused: the revoked token no longer works', details });
      return { status: res.status, ok: false };
    }
  }
  if (res.status >= 200 && res.status < 300) {
    step.finish('ok', { title: stepTitle, summary: `${String(res.headers['content-type'] ?? 'no content type')} · ${res.bytes} bytes`, details });
    return { status: res.status, ok: true };
  }
  // nginx in front of the API refused the certificate itself: no token or key was judged.
  const page = certificatePage(res, run.callTls);
  if (page) run.stop(step, page.code, page.evidence, { details, title: stepTitle });
  const bearer = auth.bearer;
  const bindingProblem = bearer?.boundTo && run.callTls.chain.length === 0 ? 'the token is bound to a client certificate (cnf x5t#S256) and the call sent none' : undefined;
  const explanation = explainApiRefusal({
    status: res.status,
    mode: auth.apiKey ? 'api-key' : 'bearer',
    challenges: parseWwwAuthenticate(res.headers['www-authenticate']),
    tokenExpired: bearer?.expiresAt !== undefined && bearer.expiresAt <= Date.now(),
    ...(bindingProblem ? { bindingProblem } : {}),
  });
  if (opts.final) run.stop(step, explanation.code, explanation.evidence, { details, title: stepTitle, ...(explanation.summary ? { summary: explanation.summary } : {}) });
  run.warn(step, explanation.code, explanation.evidence, { details, title: stepTitle, summary: `refused (HTTP ${res.status}); the flow refreshes the token and retries once` });
  return { status: res.status, ok: false, explanation };
}
