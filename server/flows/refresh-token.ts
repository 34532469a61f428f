// refresh_token grant (RFC 6749 §6) on its own: a refresh token the user has, exchanged for a
// new access token (and, with rotation, a new refresh token).
import type { RefreshTokenFlow } from '../../shared/flows/flow-request.ts';
import { FlowRun } from './flow-run.ts';
import { tokenRequest } from './token-request.ts';
import { inspectAndCall, planGrant } from './grant-steps.ts';
import { assertionPool, clientAssertionInputs, clientAuthProblems, knowServer } from './server-ref.ts';
import { grantParams } from './client-credentials.ts';

export async function runRefreshToken(flow: RefreshTokenFlow, run: FlowRun): Promise<string> {
  planGrant(run, flow, 'Refresh');
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
  await inspectAndCall(run, flow, server, token, auth.clientId);
  return `refresh token accepted, new ${token.tokenType} token issued${token.refreshToken && token.refreshToken !== flow.refreshToken ? ' (refresh token rotated: keep the new one)' : ''}`;
}
