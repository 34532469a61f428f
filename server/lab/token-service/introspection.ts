// POST /introspect (RFC 7662) and POST /revoke (RFC 7009): a client learns about, or revokes,
// only the tokens issued to it.
import type http from 'node:http';
import { LAB_USER } from './constants.ts';
import { authenticateAt } from './client-auth.ts';
import { invalidRequest, readForm, send } from './http.ts';
import type { LabClient, LabState } from './state.ts';
import type { Tenant } from './tenants.ts';
import { lookUpToken, type KnownToken } from './tokens.ts';

/** Both endpoints take an authenticated client and a `token`, which the lab may or may not know. */
async function tokenRequest(lab: LabState, req: http.IncomingMessage, t: Tenant, endpoint: string): Promise<{ client: LabClient; found: KnownToken | null }> {
  const form = await readForm(req);
  const client = await authenticateAt(lab, req, form, t, endpoint);
  const token = form.get('token');
  if (!token) throw invalidRequest("missing required parameter 'token'", 'no token');
  return { client, found: await lookUpToken(lab, token, t) };
}

// RFC 7662: only the client a token was issued to learns about it; anything else is inactive.
export async function introspectionEndpoint(lab: LabState, req: http.IncomingMessage, res: http.ServerResponse, t: Tenant): Promise<void> {
  const { client, found } = await tokenRequest(lab, req, t, '/introspect');
  const inactive = (reason: string) => send(res, 200, { active: false }, { 'x-lab-reason': reason, 'cache-control': 'no-store' });
  if (!found) return inactive('unknown, expired or malformed token');
  if (found.kind === 'refresh_token') {
    const e = found.entry;
    if (e.clientId !== client.clientId) return inactive('the token was issued to another client');
    if (!e.active) return inactive('the refresh token was used, rotated out or revoked');
    return send(res, 200, { active: true, token_type: 'refresh_token', client_id: e.clientId, sub: LAB_USER, iss: lab.issuerOf(t), ...(e.scope ? { scope: e.scope } : {}), ...(e.cnf ? { cnf: { 'x5t#S256': e.cnf } } : {}) }, { 'cache-control': 'no-store' });
  }
  const c = found.claims;
  if (c.client_id !== client.clientId) return inactive('the token was issued to another client');
  if (typeof c.jti === 'string' && lab.revokedJti.has(c.jti)) return inactive('the access token was revoked');
  return send(res, 200, { active: true, token_type: 'Bearer', ...c }, { 'cache-control': 'no-store' });
}

// RFC 7009: 200 whether or not the token was known (§2.2); a refresh token takes its grant with it.
export async function revocationEndpoint(lab: LabState, req: http.IncomingMessage, res: http.ServerResponse, t: Tenant): Promise<void> {
  const { client, found } = await tokenRequest(lab, req, t, '/revoke');
  let reason = 'unknown token: nothing to revoke';
  if (found?.kind === 'refresh_token' && found.entry.clientId === client.clientId) {
    lab.revokeFamily(found.entry.family);
    reason = 'refresh token revoked with its grant';
  } else if (found?.kind === 'access_token' && found.claims.client_id === client.clientId && typeof found.claims.jti === 'string') {
    lab.revokedJti.set(found.claims.jti, Date.now());
    reason = 'access token revoked';
  } else if (found) {
    reason = 'the token was issued to another client: not revoked';
  }
  send(res, 200, '', { 'x-lab-reason': reason, 'content-type': 'text/plain' });
}
