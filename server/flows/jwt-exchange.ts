// The seed JWT exchange many partners ship: a form POST of client_id, client_secret and a
// signed JWT (iss = client id, sub = user id, short exp) in jwt_token — field names editable,
// since every provider names them differently.
import type { JwtExchangeFlow } from '../../shared/flows/flow-request.ts';
import { isSecretField } from '../../shared/redact.ts';
import { FlowRun } from './flow-steps.ts';
import { tokenRequest } from './token-request.ts';
import { inspectTokens } from './token-check.ts';
import { callApi } from './api-call.ts';
import { knowServer } from './server-ref.ts';

export const DEFAULT_FIELD_NAMES = { clientId: 'client_id', clientSecret: 'client_secret', jwt: 'jwt_token' } as const;

export async function runJwtExchange(flow: JwtExchangeFlow, run: FlowRun): Promise<string> {
  run.plan([
    ...(flow.issuer ? [['discovery', 'discovery', 'Discovery'] as const] : []),
    ['exchange', 'exchange', 'JWT exchange'],
    ['token', 'token', 'Access token'],
    ...(flow.call ? [['call', 'call', 'API call'] as const] : []),
  ]);
  const names = { ...DEFAULT_FIELD_NAMES, ...flow.fieldNames };
  await run.inputs({
    urls: [['tokenUrl', flow.tokenUrl], ['issuer', flow.issuer], ['jwksUrl', flow.jwksUrl], ['call.url', flow.call?.url]],
    ...(flow.tls ? { tls: flow.tls } : {}),
    jwts: [{ label: 'jwt_token', token: flow.jwt }],
    summary: `client ${flow.clientId} · fields ${names.clientId}, ${names.clientSecret}, ${names.jwt}`,
    details: { fieldNames: names, clientId: flow.clientId, clientSecretGiven: flow.clientSecret !== undefined },
  });
  const server = await knowServer(run, flow, { clientId: flow.clientId });
  const form: [string, string][] = [[names.clientId, flow.clientId]];
  if (flow.clientSecret !== undefined) form.push([names.clientSecret, flow.clientSecret]);
  form.push([names.jwt, flow.jwt], ...Object.entries(flow.extraParams ?? {}));
  // Renamed fields are secret under their new names too.
  const secretNames = [names.clientSecret, names.jwt].filter((n) => !isSecretField(n));
  const { token } = await tokenRequest(run, server, {
    id: 'exchange',
    title: 'JWT exchange',
    grant: 'jwt-exchange',
    params: form,
    ...(flow.clientSecret !== undefined ? { impliedMethod: 'client_secret_post' as const } : {}),
    secretNames,
    grantJwt: {
      label: 'jwt_token',
      token: flow.jwt,
      lint: { issuer: flow.clientId, ...(server.registeredJwks ? { jwks: server.registeredJwks } : {}) },
    },
  });
  const inspected = await inspectTokens(run, token, {
    ...(server.jwksUrl ? { jwksUrl: server.jwksUrl } : {}),
    ...(server.issuer ? { issuer: server.issuer } : {}),
    clientId: flow.clientId,
  });
  if (flow.call) await callApi(run, 'call', 'API call', flow.call, { bearer: { token: token.accessToken, ...inspected } }, { final: true });
  return `JWT accepted at ${new URL(flow.tokenUrl).pathname}, ${token.tokenType} token issued`;
}
