// refresh_token grant (RFC 6749 §6) on its own: a refresh token the user has, exchanged for a
// new access token (and, with rotation, a new refresh token).
import type { RefreshTokenFlow } from '../../shared/flows/flow-request.ts';
import { FlowRun } from './flow-run.ts';
import { tokenRequest } from './token-request.ts';
import { inspectTokens } from './token-check.ts';
import { callApi } from './api-call.ts';
import { assertionPool, clientAssertionInputs, clientAuthProblems, knowServer } from './server-ref.ts';
import { grantParams } from './client-credentials.ts';

export async function runRefreshToken(flow: RefreshTokenFlow, run: FlowRun): Promise<string> {
  run.plan([
    ...(flow.issuer ? [['discovery', 'discovery', 'Discovery'] as const] : []),
    ['exchange', 'exchange', 'Refresh'],
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
    details: { grant: 'refresh_token', clientId: auth.clientId, authMethod: auth.method, scope: flow.scope ?? null },
  });
  const server = await knowServer(run, flow, { method: auth.method, clientId: auth.clientId });
  const pool = assertionPool(auth);
  const { token } = await tokenRequest(run, server, {
    id: 'exchange',
    title: 'Refresh',
    grant: 'refresh_token',
    params: [['grant_type', 'refresh_token'], ['refresh_token', flow.refreshToken], ...grantParams('refresh_token', flow).slice(1)],
    clientAuth: auth,
    ...(pool ? { assertions: pool } : {}),
    ...(flow.scope !== undefined ? { requestedScope: flow.scope } : {}),
    okSummary: (t) => `new ${t.tokenType} token${t.expiresIn !== undefined ? `, expires in ${t.expiresIn} s` : ''}${t.refreshToken ? `, ${t.refreshToken === flow.refreshToken ? 'same' : 'rotated'} refresh token` : ', no new refresh token'}`,
  });
  const inspected = await inspectTokens(run, token, {
    ...(server.jwksUrl ? { jwksUrl: server.jwksUrl } : {}),
    ...(server.issuer ? { issuer: server.issuer } : {}),
    clientId: auth.clientId,
    ...(run.callTls.chain[0] ? { clientCertificateDer: run.callTls.chain[0].raw } : {}),
  });
  if (flow.call) await callApi(run, 'call', 'API call', flow.call, { bearer: { token: token.accessToken, ...inspected } }, { final: true });
  return `refresh token accepted, new ${token.tokenType} token issued${token.refreshToken && token.refreshToken !== flow.refreshToken ? ' (refresh token rotated: keep the new one)' : ''}`;
}
