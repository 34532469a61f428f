// refresh_token grant (RFC 6749 §6) on its own: a refresh token the user has, exchanged for a
// new access token (and, with rotation, a new refresh token).
import type { RefreshTokenFlow } from '../../shared/flows/flow-request.ts';
import { FlowRun } from './flow-steps.ts';
import { tokenRequest } from './token-request.ts';
import { beginClientGrant, inspectAndCall } from './grant-steps.ts';
import { grantParams } from './client-credentials.ts';

export async function runRefreshToken(flow: RefreshTokenFlow, run: FlowRun): Promise<string> {
  const auth = flow.clientAuth;
  // The session fills refreshTokenFromRun in before the run; a bare one here is a bug, not input.
  const refreshToken = flow.refreshToken;
  if (!refreshToken) throw new Error('refresh-token flow without a refresh token');
  const { server, pool } = await beginClientGrant(run, flow, 'refresh_token', 'Refresh');
  const { token } = await tokenRequest(run, server, {
    id: 'exchange',
    title: 'Refresh',
    grant: 'refresh_token',
    params: [['grant_type', 'refresh_token'], ['refresh_token', refreshToken], ...grantParams('refresh_token', flow).slice(1)],
    clientAuth: auth,
    ...(pool ? { assertions: pool } : {}),
    ...(flow.scope !== undefined ? { requestedScope: flow.scope } : {}),
    okSummary: (t) => `new ${t.tokenType} token${t.expiresIn !== undefined ? `, expires in ${t.expiresIn} s` : ''}${t.refreshToken ? `, ${t.refreshToken === refreshToken ? 'same' : 'rotated'} refresh token` : ', no new refresh token'}`,
  });
  // The old one is spent: a caller that keeps refresh tokens needs the new one now, whatever
  // the API call below does.
  if (token.refreshToken && token.refreshToken !== refreshToken) run.ctx.onRotatedRefreshToken?.(token.refreshToken);
  if (token.refreshToken) run.ctx.keepRefreshToken?.(token.refreshToken);
  await inspectAndCall(run, flow, server, token, auth.clientId);
  return `refresh token accepted, new ${token.tokenType} token issued${token.refreshToken && token.refreshToken !== refreshToken ? ' (refresh token rotated: keep the new one)' : ''}`;
}
