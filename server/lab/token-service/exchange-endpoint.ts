// POST /exchange: the form-encoded jwt_token exchange some partners run instead of RFC 7523 —
// client_id and client_secret in the form, a jwt_token the client signed with its registered key.
import type http from 'node:http';
import { equalSecret, invalidClient, invalidGrant, invalidRequest, readForm, send } from './http.ts';
import { replayCheck, verifyClientJwt } from './jwt-checks.ts';
import type { LabState } from './state.ts';
import type { Tenant } from './tenants.ts';
import { issueTokens } from './tokens.ts';

export async function exchangeEndpoint(lab: LabState, req: http.IncomingMessage, res: http.ServerResponse, t: Tenant): Promise<void> {
  const form = await readForm(req);
  const clientId = form.get('client_id');
  const client = clientId ? lab.clients.get(clientId) : undefined;
  if (!client?.secret || !client.grants.has('jwt-exchange')) throw invalidClient(`client ${String(clientId)} may not use the JWT exchange`);
  if (!equalSecret(form.get('client_secret') ?? '', client.secret)) throw invalidClient('wrong client secret');
  const jwt = form.get('jwt_token');
  if (!jwt) throw invalidRequest("missing required parameter 'jwt_token'", 'no jwt_token');
  // The seed's jwt_token carries no aud; one that does must name this server.
  const issuer = lab.issuerOf(t);
  const payload = await verifyClientJwt(jwt, client, t, { audiences: [`${issuer}/exchange`, `${issuer}/token`, issuer], kind: 'jwt_token', fail: invalidGrant, optionalAud: true });
  if (payload.iss !== client.clientId) throw invalidGrant('jwt_token iss is not the client_id');
  if (typeof payload.sub !== 'string') throw invalidGrant('jwt_token has no sub');
  replayCheck(lab, client.clientId, payload.jti, false, invalidGrant, t);
  send(res, 200, await issueTokens(lab, t, client, { sub: payload.sub, scope: '', refresh: 'none' }));
}
