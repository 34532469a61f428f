// Authorization code with PKCE S256 and state (RFC 6749 §4.1, RFC 7636, RFC 9700): the relay
// builds the authorization URL with its own redirect URI, the browser opens it, the redirect
// comes back to /callback/<key>; state is checked, the code exchanged, the resource called with
// the token — refreshing and retrying once on 401 or expiry — and the refresh token exercised,
// so a provider that issues none, or refuses its own, is caught.
import type { AuthorizationCodeFlow } from '../../shared/flows/flow-request.ts';
import { codeVerifier, randomState, s256 } from '../../shared/flows/pkce.ts';
import { redactForm } from '../../shared/redact.ts';
import { CALLBACK_PREFIX, type CallbackScreen } from './callbacks.ts';
import { CancelledError } from '../net/dial.ts';
import { FlowRun } from './flow-steps.ts';
import { tokenRequest, type TokenSet } from './token-request.ts';
import { inspectTokens, type Inspected } from './token-check.ts';
import { callApi } from './api-call.ts';
import { assertionPool, clientAssertionInputs, clientAuthProblems, knowServer } from './server-ref.ts';
import { parseLoopbackRedirect } from '../../shared/flows/redirect-uri.ts';

/** How long the relay waits for the browser to come back, unless the request says. */
export const DEFAULT_CALLBACK_TIMEOUT_MS = 120_000; // ms
/** A token expiring sooner than this is refreshed before the call rather than after a 401. */
export const REFRESH_MARGIN_SEC = 10; // s
/** Redirects with a wrong or missing state reported as steps each; later ones are only counted (anyone can send them). */
export const IGNORED_REDIRECTS_REPORTED = 5; // redirects
/** Time kept back from the run's own limit so a missing redirect ends as a diagnosis, not a cancel. */
const RUN_DEADLINE_RESERVE_MS = 5_000; // ms

export async function runAuthorizationCode(flow: AuthorizationCodeFlow, run: FlowRun): Promise<string> {
  const ctx = run.ctx;
  const auth = flow.clientAuth;
  const pkce = flow.pkce !== false;
  const fixed = flow.redirectUri !== undefined ? parseLoopbackRedirect(flow.redirectUri) : undefined;
  const key = (typeof fixed === 'object' ? fixed.key : undefined) ?? flow.redirectKey ?? randomState().replace(/[^A-Za-z0-9]/g, '').slice(0, 16);
  const redirectUri = `${ctx.relayOrigin}${CALLBACK_PREFIX}${key}`;
  run.plan([
    ...(flow.issuer ? [['discovery', 'discovery', 'Discovery'] as const] : []),
    ['authorize', 'authorize', 'Authorization request'],
    ['callback', 'callback', 'Redirect back'],
    ['exchange', 'exchange', 'Code exchange'],
    ['token', 'token', 'Access token'],
    ...(flow.call ? [['call', 'call', 'API call'] as const] : []),
    ['refresh', 'exchange', 'Refresh'],
  ]);
  const problems = clientAuthProblems(auth, flow.tls);
  // A fixed URI is honoured where this run listens on it (`harness run` binds its port); the
  // relay listens on its own origin only, so sending the fixed URI there would strand the redirect.
  if (flow.redirectUri !== undefined && flow.redirectUri !== redirectUri) problems.push(`redirectUri ${flow.redirectUri} is not where this run listens (${redirectUri}): a fixed redirect URI is served by \`harness run\`; here register ${redirectUri} and use redirectKey "${key}"`);
  if (ctx.callbacks.isWaiting(key)) problems.push(`another run is already waiting for a redirect on ${redirectUri}; wait for it or use another redirectKey`);
  await run.inputs({
    urls: [['issuer', flow.issuer], ['authorizationUrl', flow.authorizationUrl], ['tokenUrl', flow.tokenUrl], ['jwksUrl', flow.jwksUrl], ['call.url', flow.call?.url]],
    ...(flow.tls ? { tls: flow.tls } : {}),
    jwts: clientAssertionInputs(auth),
    problems,
    summary: `client ${auth.clientId} · ${auth.method}${pkce ? ' · PKCE S256' : ' · no PKCE'}`,
    details: { grant: 'authorization_code', clientId: auth.clientId, authMethod: auth.method, scope: flow.scope ?? null, redirectUri, pkce },
  });
  const server = await knowServer(run, flow, { method: auth.method, clientId: auth.clientId, needs: ['authorization_endpoint', 'token_endpoint'] });
  const pool = assertionPool(auth);

  // ---- authorization request
  const authorize = run.start('authorize', 'authorize', 'Authorization request');
  if (!server.authorizationUrl) run.stop(authorize, 'discovery_invalid', ['no authorization endpoint: give authorizationUrl or an issuer whose discovery names one']);
  const state = randomState();
  const verifier = codeVerifier();
  run.secret(verifier);
  const url = new URL(server.authorizationUrl);
  const params: [string, string][] = [['response_type', 'code'], ['client_id', auth.clientId], ['redirect_uri', redirectUri]];
  if (flow.scope) params.push(['scope', flow.scope]);
  params.push(['state', state]);
  const nonce = flow.scope?.split(/\s+/).includes('openid') ? randomState() : undefined;
  if (nonce) params.push(['nonce', nonce]);
  if (pkce) params.push(['code_challenge', await s256(verifier)], ['code_challenge_method', 'S256']);
  params.push(...Object.entries(flow.extraAuthParams ?? {}));
  for (const [k, v] of params) url.searchParams.set(k, v);
  const authorizationUrl = url.toString();
  const remarks: string[] = [];
  const methods = server.metadata?.code_challenge_methods_supported;
  if (pkce && methods && !methods.includes('S256')) remarks.push(`discovery code_challenge_methods_supported is ${methods.join(', ') || 'empty'}: the server may ignore PKCE`);
  if (!pkce && auth.method === 'none') remarks.push('a public client without PKCE: anyone who intercepts the code can redeem it');

  const budget = ctx.limits.runTimeoutMs - run.rec.elapsed() - RUN_DEADLINE_RESERVE_MS;
  const waitMs = Math.max(1_000, Math.min(flow.callbackTimeoutMs ?? DEFAULT_CALLBACK_TIMEOUT_MS, budget));
  // Listen before anyone can be sent to the URL: a provider that auto-approves redirects at once.
  const ignored: { stateReturned: string | null; error: string | null }[] = [];
  const redirect = ctx.callbacks.expect(key, waitMs, ctx.signal, screenRedirects(run, state, ignored));
  redirect.catch(() => {});
  authorize.finish(remarks.length ? 'warn' : 'ok', {
    summary: `open the authorization URL to sign in; the redirect comes back to ${redirectUri}`,
    details: { authorizationUrl, redirectUri, state, codeChallengeMethod: pkce ? 'S256' : null, ...(nonce ? { nonce } : {}), scope: flow.scope ?? null, waitMs: Math.round(waitMs), remarks },
  });
  ctx.openAuthorizationUrl?.(authorizationUrl);

  // ---- callback
  const callback = run.start('callback', 'callback', 'Redirect back', `waiting up to ${Math.round(waitMs / 1000)} s for ${redirectUri}`);
  let query: URLSearchParams;
  // A person signs in meanwhile: the run gives its work slot back while it only waits.
  ctx.onWaiting?.(true);
  try {
    query = await redirect;
  } catch (err) {
    if (err instanceof CancelledError) throw err;
    // Only redirects that were not this request's answer arrived: now that no other is coming,
    // they are the finding (the provider drops or alters state, or someone forges redirects).
    const wrong = ignored.filter((r) => r.stateReturned !== null);
    if (wrong.length) {
      run.stop(callback, 'state_mismatch', [`sent state ${state}`, `returned state ${wrong[0]!.stateReturned}`, ignoredSummary(ignored, redirectUri)], { details: { stateSent: state, ignored: ignored.slice(0, IGNORED_REDIRECTS_REPORTED), ignoredCount: ignored.length } });
    }
    if (ignored.length) {
      run.stop(callback, 'state_missing', ['the redirect carried no state parameter', `sent state ${state}`, ignoredSummary(ignored, redirectUri)], { details: { stateSent: state, ignored: ignored.slice(0, IGNORED_REDIRECTS_REPORTED), ignoredCount: ignored.length } });
    }
    run.stop(callback, 'callback_timeout', [`no request reached ${redirectUri} within ${Math.round(waitMs / 1000)} s`]);
  } finally {
    ctx.onWaiting?.(false);
  }
  // The screen took it: its state is the one sent.
  const code = query.get('code') ?? undefined;
  run.secret(code);
  const cbDetails = { query: redactForm(query.toString()), stateSent: state, stateReturned: query.get('state'), iss: query.get('iss'), ...(ignored.length ? { ignoredBefore: ignored.length } : {}) };
  const error = query.get('error');
  if (error) {
    run.stop(callback, 'authorization_error', [`error ${error}${query.get('error_description') ? `: ${query.get('error_description')}` : ''}`], { details: cbDetails });
  }
  if (!code) run.stop(callback, 'authorization_error', ['the redirect carried neither code nor error'], { details: cbDetails });
  // RFC 9207: an iss in the response must be the issuer the request went to.
  const iss = query.get('iss');
  if (iss && server.issuer && iss !== server.issuer) {
    run.stop(callback, 'authorization_error', [`the response's iss is ${iss}, the request went to ${server.issuer} (mix-up attack defence, RFC 9207)`], { details: cbDetails });
  }
  callback.finish('ok', { summary: 'code received · state matches', details: cbDetails });

  // ---- code exchange
  const { token } = await tokenRequest(run, server, {
    id: 'exchange',
    title: 'Code exchange',
    grant: 'authorization_code',
    params: [['grant_type', 'authorization_code'], ['code', code], ['redirect_uri', redirectUri], ...(pkce ? [['code_verifier', verifier] as [string, string]] : [])],
    clientAuth: auth,
    ...(pool ? { assertions: pool } : {}),
  });
  const inspectOpts = {
    ...(server.jwksUrl ? { jwksUrl: server.jwksUrl } : {}),
    ...(server.issuer ? { issuer: server.issuer } : {}),
    clientId: auth.clientId,
    ...(run.callTls.chain[0] ? { clientCertificateDer: run.callTls.chain[0].raw } : {}),
  };
  let current: TokenSet = token;
  let inspected: Inspected = await inspectTokens(run, token, inspectOpts);
  const subject = inspected.claims?.sub;
  let refreshed = false;

  const refresh = async (why: string): Promise<void> => {
    const rt = current.refreshToken;
    if (!rt) return;
    const next = await tokenRequest(run, server, {
      id: 'refresh',
      title: 'Refresh',
      grant: 'refresh_token',
      params: [['grant_type', 'refresh_token'], ['refresh_token', rt]],
      clientAuth: auth,
      ...(pool ? { assertions: pool } : {}),
      refusalSummary: { refresh_token_rejected: 'The provider refused the refresh token it had just issued.' },
      okSummary: (t) => `${why}: new ${t.tokenType} token${t.expiresIn !== undefined ? ` (${t.expiresIn} s)` : ''}${t.refreshToken ? (t.refreshToken === rt ? ', same refresh token' : ', refresh token rotated') : ', no new refresh token (keep the old one)'}`,
    });
    refreshed = true;
    // Without rotation the old refresh token stays valid; with it, only the newest works.
    current = { ...next.token, ...(next.token.refreshToken ? {} : { refreshToken: rt }) };
    inspected = { ...(next.token.expiresIn !== undefined ? { expiresAt: next.token.receivedAt + next.token.expiresIn * 1000 } : {}), ...(inspected.boundTo ? { boundTo: inspected.boundTo } : {}) };
  };

  const missingRefresh = () => {
    const step = run.start('refresh', 'exchange', 'Refresh');
    const evidence = ['the token response had no refresh_token', `scope requested: ${flow.scope ?? '(none)'}`];
    if (flow.requireRefreshToken === false) run.warn(step, 'refresh_token_missing', evidence);
    else run.stop(step, 'refresh_token_missing', evidence);
  };

  // ---- call, refreshing first when the token is about to expire, and once more on a 401
  if (flow.call) {
    const soon = inspected.expiresAt !== undefined && inspected.expiresAt - Date.now() < REFRESH_MARGIN_SEC * 1000;
    if (soon && current.refreshToken) await refresh(`the access token expires within ${REFRESH_MARGIN_SEC} s: refreshed before the call`);
    const bearer = () => ({ token: current.accessToken, ...inspected });
    const first = await callApi(run, 'call', 'API call', flow.call, { bearer: bearer() }, { final: !current.refreshToken || refreshed });
    if (!first.ok) {
      await refresh(`the API answered ${first.status}: refreshed to retry`);
      await callApi(run, 'call-retry', 'API call (retry)', flow.call, { bearer: bearer() }, { final: true });
    }
  }
  // ---- the refresh token must work, or the partner loses access when the token expires
  if (!refreshed) {
    if (current.refreshToken) await refresh('refresh token works');
    else missingRefresh();
  }
  // The newest refresh token: with rotation, the only one that still works.
  if (current.refreshToken) ctx.keepRefreshToken?.(current.refreshToken);
  return `signed in${typeof subject === 'string' ? ` as ${subject}` : ''}: code exchanged${flow.call ? ', API called' : ''}${current.refreshToken || refreshed ? ', refresh works' : ''}`;
}

/**
 * Takes only the redirect carrying the state this request sent. Any other (another state, or
 * none) may be forged by anyone who can make a browser load the redirect URI, so it must not end
 * the flow: it is reported as a warning step and the flow keeps waiting for the real one.
 */
function screenRedirects(run: FlowRun, state: string, ignored: { stateReturned: string | null; error: string | null }[]): CallbackScreen {
  return {
    check: (q) => (q.get('state') === state ? null : q.get('state') === null ? 'no state' : 'another state'),
    onIgnored: (q, why) => {
      run.secret(q.get('code') ?? undefined);
      // Shown, so cut: whoever sent it chose its length.
      const clip = (v: string | null) => (v !== null && v.length > 80 ? `${v.slice(0, 80)}…` : v);
      const entry = { stateReturned: clip(q.get('state')), error: clip(q.get('error')) };
      ignored.push(entry);
      if (ignored.length > IGNORED_REDIRECTS_REPORTED) return;
      const step = run.start(`callback-ignored-${ignored.length}`, 'callback', 'Redirect ignored');
      step.finish('warn', {
        summary: `a redirect with ${why === 'no state' ? 'no state' : `state ${entry.stateReturned}`} arrived (the provider, or someone else, sent it): not this request's answer, ignored; still waiting${ignored.length === IGNORED_REDIRECTS_REPORTED ? ' (further ones are only counted)' : ''}`,
        details: { query: redactForm(q.toString()), stateSent: state, stateReturned: entry.stateReturned },
      });
    },
  };
}

function ignoredSummary(ignored: { error: string | null }[], redirectUri: string): string {
  const errors = [...new Set(ignored.map((r) => r.error).filter((e): e is string => !!e))];
  return `${ignored.length} redirect${ignored.length === 1 ? '' : 's'} to ${redirectUri} arrived without the state sent and ${ignored.length === 1 ? 'was' : 'were'} ignored; none carried it${errors.length ? ` (error ${errors.join(', ')})` : ''}`;
}
