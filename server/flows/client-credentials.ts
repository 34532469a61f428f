// client_credentials (RFC 6749 §4.4) with any client authentication: client_secret_basic,
// client_secret_post, private_key_jwt (assertions signed in the browser), tls_client_auth and
// self_signed_tls_client_auth (RFC 8705, the certificate in tls.client). Then the token is
// read and, when asked, a protected resource called with it.
import type { ClientCredentialsFlow } from '../../shared/flows/flow-request.ts';
import { FlowRun } from './flow-steps.ts';
import { tokenRequest } from './token-request.ts';
import { beginClientGrant, inspectAndCall } from './grant-steps.ts';

export function grantParams(grantType: string, flow: { scope?: string; extraParams?: Record<string, string> }): [string, string][] {
  return [['grant_type', grantType], ...(flow.scope ? [['scope', flow.scope] as [string, string]] : []), ...Object.entries(flow.extraParams ?? {})];
}

export async function runClientCredentials(flow: ClientCredentialsFlow, run: FlowRun): Promise<string> {
  const auth = flow.clientAuth;
  const { server, pool } = await beginClientGrant(run, flow, 'client_credentials', 'Token request');
  const { token } = await tokenRequest(run, server, {
    id: 'exchange',
    title: 'Token request',
    grant: 'client_credentials',
    params: grantParams('client_credentials', flow),
    clientAuth: auth,
    ...(pool ? { assertions: pool } : {}),
    ...(flow.scope !== undefined ? { requestedScope: flow.scope } : {}),
  });
  if (await inspectAndCall(run, flow, server, token, auth.clientId)) {
    return `${auth.method} accepted, ${token.tokenType} token issued and accepted by the API`;
  }
  return `${auth.method} accepted, ${token.tokenType} token issued`;
}
