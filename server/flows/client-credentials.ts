// client_credentials (RFC 6749 §4.4) with any client authentication: client_secret_basic,
// client_secret_post, private_key_jwt (assertions signed in the browser), tls_client_auth and
// self_signed_tls_client_auth (RFC 8705, the certificate in tls.client). Then the token is
// read and, when asked, a protected resource called with it.
import type { ClientCredentialsFlow } from '../../shared/flows/flow-request.ts';
import { FlowRun } from './flow-run.ts';
import { tokenRequest } from './token-request.ts';
import { inspectTokens } from './token-check.ts';
import { callApi } from './api-call.ts';
import { assertionPool, clientAssertionInputs, clientAuthProblems, knowServer } from './server-ref.ts';

export function grantParams(grantType: string, flow: { scope?: string; extraParams?: Record<string, string> }): [string, string][] {
  return [['grant_type', grantType], ...(flow.scope ? [['scope', flow.scope] as [string, string]] : []), ...Object.entries(flow.extraParams ?? {})];
}

export async function runClientCredentials(flow: ClientCredentialsFlow, run: FlowRun): Promise<string> {
  run.plan([
    ...(flow.issuer ? [['discovery', 'discovery', 'Discovery'] as const] : []),
    ['exchange', 'exchange', 'Token request'],
    ['token', 'token', 'Access token'],
    ...(flow.call ? [['call', 'call', 'API call'] as const] : []),
  ]);
  const auth = flow.clientAuth;
  await run.inputs({
    urls: [['issuer', flow.issuer], ['tokenUrl', flow.tokenUrl], ['jwksUrl', flow.jwksUrl], ['call.url', flow.call?.url]],
    ...(flow.tls ? { tls: flow.tls } : {}),
    jwts: clientAssertionInputs(auth),
    problems: clientAuthProblems(auth, flow.tls),
    summary: `client ${auth.clientId} · ${auth.method}`,
    details: { grant: 'client_credentials', clientId: auth.clientId, authMethod: auth.method, scope: flow.scope ?? null },
  });
  const server = await knowServer(run, flow, { method: auth.method, clientId: auth.clientId });
  const pool = assertionPool(auth);
  const { token } = await tokenRequest(run, server, {
    id: 'exchange',
    title: 'Token request',
    grant: 'client_credentials',
    params: grantParams('client_credentials', flow),
    clientAuth: auth,
    ...(pool ? { assertions: pool } : {}),
    ...(flow.scope !== undefined ? { requestedScope: flow.scope } : {}),
  });
  const inspected = await inspectTokens(run, token, {
    ...(server.jwksUrl ? { jwksUrl: server.jwksUrl } : {}),
    ...(server.issuer ? { issuer: server.issuer } : {}),
    clientId: auth.clientId,
    ...(run.callTls.chain[0] ? { clientCertificateDer: run.callTls.chain[0].raw } : {}),
  });
  if (flow.call) {
    await callApi(run, 'call', 'API call', flow.call, { bearer: { token: token.accessToken, ...inspected } }, { final: true });
    return `${auth.method} accepted, ${token.tokenType} token issued and accepted by the API`;
  }
  return `${auth.method} accepted, ${token.tokenType} token issued`;
}
