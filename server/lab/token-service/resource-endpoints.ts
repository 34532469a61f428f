// The lab's APIs: /api/resource takes a lab access token as Bearer (a certificate-bound one
// needs the same client certificate; two tenants skip a check on purpose), /api/key-resource
// takes an API key and a username header.
import type http from 'node:http';
import type { TLSSocket } from 'node:tls';
import { decodeJwt, errors as joseErrors, type JWTPayload } from 'jose';
import { LAB_API_KEY, LAB_API_USER } from './constants.ts';
import { equalSecret, peerThumbprint, send } from './http.ts';
import type { LabState } from './state.ts';
import { TENANTS, type Tenant } from './tenants.ts';
import { verifyAccessToken } from './tokens.ts';

export async function resourceEndpoint(lab: LabState, req: http.IncomingMessage, res: http.ServerResponse, t: Tenant): Promise<void> {
  const challenge = (error: string, description: string) => send(res, 401, { error, error_description: description }, { 'www-authenticate': `Bearer realm="harness-lab", error="${error}", error_description="${description}"` });
  const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  if (!m) return send(res, 401, { error: 'invalid_request', error_description: 'no Bearer token' }, { 'www-authenticate': 'Bearer realm="harness-lab"' });
  let payload: JWTPayload;
  try {
    if (t.apiSkipsSignature) payload = decodeJwt(m[1]!); // the weakness: claims read, never verified
    else ({ payload } = await verifyAccessToken(lab, m[1]!, { audience: `${lab.origin}/api` }));
  } catch (err) {
    return challenge('invalid_token', err instanceof joseErrors.JWTExpired ? 'the access token expired' : 'the access token is not valid here');
  }
  if (typeof payload.iss !== 'string' || !TENANTS.some((t) => lab.issuerOf(t) === payload.iss)) return challenge('invalid_token', 'unknown issuer');
  if (typeof payload.jti === 'string' && lab.revokedJti.has(payload.jti)) return challenge('invalid_token', 'the access token was revoked');
  const bound = (payload.cnf as Record<string, unknown> | undefined)?.['x5t#S256'];
  if (bound !== undefined && !t.apiIgnoresBinding && bound !== peerThumbprint(req.socket as TLSSocket)) return challenge('invalid_token', 'the token is bound to another client certificate');
  return send(res, 200, { ok: true, message: 'Access token accepted by the harness lab.', sub: payload.sub, client_id: payload.client_id, scope: payload.scope ?? null, certificateBound: bound !== undefined });
}

export function keyResourceEndpoint(req: http.IncomingMessage, res: http.ServerResponse): void {
  const key = req.headers.apikey;
  const user = req.headers.username;
  if (typeof key !== 'string' || typeof user !== 'string') return send(res, 401, { error: 'missing_credentials', message: 'send the apiKey and username headers' });
  if (!equalSecret(key, LAB_API_KEY) || user !== LAB_API_USER) return send(res, 403, { error: 'forbidden', message: 'API key not valid for this user' }, { 'x-lab-reason': !equalSecret(key, LAB_API_KEY) ? 'unknown API key' : 'the key belongs to another user' });
  return send(res, 200, { ok: true, message: 'API key accepted by the harness lab.', username: user });
}
