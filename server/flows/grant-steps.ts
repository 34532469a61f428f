// What the single-grant flows (client_credentials, refresh_token, RFC 7523) share around their
// token request: the steps they plan, and after the token, its inspection and the API call.
import type { FlowRequest } from '../../shared/flows/flow-request.ts';
import type { FlowRun } from './flow-steps.ts';
import { assertionPool, clientAssertionInputs, clientAuthProblems, knowServer, type KnownServer } from './server-ref.ts';
import type { TokenSet } from './token-request.ts';
import { inspectTokens } from './token-check.ts';
import { callApi } from './api-call.ts';

type GrantFlow = Extract<FlowRequest, { kind: 'client-credentials' | 'refresh-token' | 'jwt-bearer' }>;

/** Discovery (when an issuer is given), the token request, the token, and the API call (when asked). */
export function planGrant(run: FlowRun, flow: GrantFlow, exchangeTitle: string): void {
  run.plan([
    ...(flow.issuer ? [['discovery', 'discovery', 'Discovery'] as const] : []),
    ['exchange', 'exchange', exchangeTitle],
    ['token', 'token', 'Access token'],
    ...(flow.call ? [['call', 'call', 'API call'] as const] : []),
  ]);
}

type ClientGrantFlow = Extract<FlowRequest, { kind: 'client-credentials' | 'refresh-token' }>;

/**
 * How client_credentials and refresh_token begin: the planned steps, the inputs step (URLs,
 * client TLS, assertions, client-authentication problems), then the server (discovery when an
 * issuer is given). Returns the server and the pool of signed client assertions, if any.
 */
export async function beginClientGrant(run: FlowRun, flow: ClientGrantFlow, grant: string, exchangeTitle: string): Promise<{ server: KnownServer; pool: ReturnType<typeof assertionPool> }> {
  planGrant(run, flow, exchangeTitle);
  const auth = flow.clientAuth;
  await run.inputs({
    urls: [['issuer', flow.issuer], ['tokenUrl', flow.tokenUrl], ['jwksUrl', flow.jwksUrl], ['call.url', flow.call?.url]],
    ...(flow.tls ? { tls: flow.tls } : {}),
    jwts: clientAssertionInputs(auth),
    problems: clientAuthProblems(auth, flow.tls),
    summary: `client ${auth.clientId} · ${auth.method}`,
    details: { grant, clientId: auth.clientId, authMethod: auth.method, scope: flow.scope ?? null },
  });
  const server = await knowServer(run, flow, { method: auth.method, clientId: auth.clientId });
  return { server, pool: assertionPool(auth) };
}

/** Inspects the issued token and, when the flow names an API, calls it. Returns whether it did. */
export async function inspectAndCall(run: FlowRun, flow: GrantFlow, server: KnownServer, token: TokenSet, clientId: string | undefined): Promise<boolean> {
  const inspected = await inspectTokens(run, token, {
    ...(server.jwksUrl ? { jwksUrl: server.jwksUrl } : {}),
    ...(server.issuer ? { issuer: server.issuer } : {}),
    ...(clientId !== undefined ? { clientId } : {}),
    ...(run.callTls.chain[0] ? { clientCertificateDer: run.callTls.chain[0].raw } : {}),
  });
  if (!flow.call) return false;
  await callApi(run, 'call', 'API call', flow.call, { bearer: { token: token.accessToken, ...inspected } }, { final: true });
  return true;
}
