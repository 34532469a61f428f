// RFC 7523 §2.1 JWT authorization grant: grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer
// with the signed assertion (iss, sub, aud = token endpoint, exp, iat, jti), optionally with
// client authentication as well.
import type { JwtBearerFlow } from '../../shared/flows/flow-request.ts';
import { FlowRun } from './flow-steps.ts';
import { JWT_BEARER_GRANT, tokenRequest } from './token-request.ts';
import { inspectAndCall, planGrant } from './grant-steps.ts';
import { assertionPool, clientAssertionInputs, clientAuthProblems, issuerOf, knowServer, labClient } from './server-ref.ts';

export async function runJwtBearer(flow: JwtBearerFlow, run: FlowRun): Promise<string> {
  planGrant(run, flow, 'Token request');
  const auth = flow.clientAuth;
  await run.inputs({
    urls: [['issuer', flow.issuer], ['tokenUrl', flow.tokenUrl], ['jwksUrl', flow.jwksUrl], ['call.url', flow.call?.url]],
    ...(flow.tls ? { tls: flow.tls } : {}),
    jwts: [{ label: 'assertion', token: flow.assertion }, ...clientAssertionInputs(auth)],
    problems: clientAuthProblems(auth, flow.tls),
    summary: auth ? `client ${auth.clientId} · ${auth.method}` : 'no client authentication',
    details: { grant: JWT_BEARER_GRANT, ...(auth ? { clientId: auth.clientId, authMethod: auth.method } : {}), scope: flow.scope ?? null },
  });
  const server = await knowServer(run, flow, { ...(auth ? { method: auth.method, clientId: auth.clientId } : {}) });
  // The assertion's keys are the ones registered for its issuer.
  const assertionIssuer = issuerOf(flow.assertion);
  const issuerKeys = flow.registeredJwks ?? labClient(run, server.tokenUrl, assertionIssuer)?.jwks;
  const pool = assertionPool(auth);
  const { token } = await tokenRequest(run, server, {
    id: 'exchange',
    title: 'Token request',
    grant: 'jwt-bearer',
    params: [['grant_type', JWT_BEARER_GRANT], ['assertion', flow.assertion], ...(flow.scope ? [['scope', flow.scope] as [string, string]] : []), ...Object.entries(flow.extraParams ?? {})],
    ...(auth ? { clientAuth: auth } : {}),
    ...(pool ? { assertions: pool } : {}),
    grantJwt: {
      label: 'assertion',
      token: flow.assertion,
      lint: { audience: [server.tokenUrl, ...(server.issuer ? [server.issuer] : [])], ...(issuerKeys ? { jwks: issuerKeys } : {}) },
    },
    ...(flow.scope !== undefined ? { requestedScope: flow.scope } : {}),
  });
  await inspectAndCall(run, flow, server, token, auth?.clientId);
  return `JWT grant accepted for ${assertionIssuer ?? 'the issuer'}, ${token.tokenType} token issued`;
}
