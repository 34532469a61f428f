// Client authentication at the token, introspection and revocation endpoints: which method the
// request used (Basic, client_secret_post, a client assertion, a certificate or none), whether
// that is the client's registered method, and whether its credential holds.
import type http from 'node:http';
import type { TLSSocket } from 'node:tls';
import { decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify } from 'jose';
import { CLIENT_ASSERTION_TYPE, LAB_TOKEN_DEFAULTS } from './constants.ts';
import { equalSecret, formDecode, invalidClient, invalidRequest, peerThumbprint } from './http.ts';
import { replayCheck, verifyClientJwt } from './jwt-checks.ts';
import type { LabAuthMethod, LabClient, LabState } from './state.ts';
import type { Tenant } from './tenants.ts';

const CERT_METHODS: LabAuthMethod[] = ['none', 'tls_client_auth', 'self_signed_tls_client_auth'];
// The secret sent as such: either way is taken for either method, as most servers do (not client_secret_jwt).
const SECRET_METHODS: LabAuthMethod[] = ['client_secret_basic', 'client_secret_post'];

/** The client the request names and the method it used to authenticate, before any credential is checked. */
function claimedClient(req: http.IncomingMessage, form: URLSearchParams, lab: LabState): { clientId: string | undefined; secret: string | undefined; method: LabAuthMethod } {
  const header = req.headers.authorization;
  const clientId = form.get('client_id') ?? undefined;
  if (header) {
    const m = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header);
    if (!m) throw invalidRequest('invalid authorization header value format', 'Authorization is not Basic');
    const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    if (i < 0) throw invalidRequest('invalid authorization header value format', 'Basic credential without ":"');
    const basicId = formDecode(decoded.slice(0, i));
    if (clientId && clientId !== basicId) throw invalidRequest('client_id mismatch', 'client_id differs from the Basic user');
    return { clientId: basicId, secret: formDecode(decoded.slice(i + 1)), method: 'client_secret_basic' };
  }
  if (form.has('client_assertion')) {
    if (form.get('client_assertion_type') !== CLIENT_ASSERTION_TYPE) throw invalidRequest(`client_assertion_type must have value ${CLIENT_ASSERTION_TYPE}`, 'wrong client_assertion_type');
    let sub: unknown;
    let alg: unknown;
    try {
      sub = decodeJwt(form.get('client_assertion')!).sub;
      alg = decodeProtectedHeader(form.get('client_assertion')!).alg;
    } catch {
      throw invalidRequest('invalid client_assertion format', 'client_assertion is not a JWT');
    }
    if (typeof sub !== 'string') throw invalidClient('client_assertion has no sub');
    if (clientId && clientId !== sub) throw invalidRequest('client_id mismatch', 'client_id differs from the assertion sub');
    // An HMAC assertion from a client_secret_jwt client is signed with its secret; any other
    // is judged as private_key_jwt (so the jwt-hmac-confusion tenant still shows its weakness).
    const method = typeof alg === 'string' && alg.startsWith('HS') && lab.clients.get(sub)?.method === 'client_secret_jwt' ? 'client_secret_jwt' : 'private_key_jwt';
    return { clientId: sub, secret: undefined, method };
  }
  if (form.has('client_secret')) return { clientId, secret: form.get('client_secret')!, method: 'client_secret_post' };
  return { clientId, secret: undefined, method: 'none' };
}

/** Checks an HMAC client assertion (client_secret_jwt) signed with the client's secret. */
async function checkSecretJwt(lab: LabState, client: LabClient, assertion: string, audiences: string[], t: Tenant): Promise<void> {
  const clientId = client.clientId;
  let payload;
  try {
    ({ payload } = await jwtVerify(assertion, new TextEncoder().encode(client.secret), {
      algorithms: ['HS256'],
      audience: audiences,
      requiredClaims: ['exp'],
      clockTolerance: LAB_TOKEN_DEFAULTS.clockToleranceSec,
    }));
  } catch (err) {
    throw invalidClient(`client assertion: ${err instanceof joseErrors.JWSSignatureVerificationFailed ? 'HMAC signature mismatch (wrong client secret)' : (err as Error).message}`);
  }
  if (payload.iss !== clientId) throw invalidClient('client assertion iss is not the client_id');
  const iat = typeof payload.iat === 'number' ? payload.iat : Date.now() / 1000;
  if (payload.exp! - iat > LAB_TOKEN_DEFAULTS.maxAssertionSec + LAB_TOKEN_DEFAULTS.clockToleranceSec) throw invalidClient(`client assertion lives ${Math.round(payload.exp! - iat)} s, over ${LAB_TOKEN_DEFAULTS.maxAssertionSec} s`);
  replayCheck(lab, clientId, payload.jti, true, invalidClient, t);
}

/**
 * The authenticated client, or null when the request names none. `endpointUrl`: the endpoint
 * called, when not the token endpoint; assertions may name it as aud too.
 */
export async function authenticate(lab: LabState, req: http.IncomingMessage, form: URLSearchParams, t: Tenant, tokenUrl: string, endpointUrl?: string): Promise<LabClient | null> {
  const audiences = [tokenUrl, lab.issuerOf(t), ...(endpointUrl ? [endpointUrl] : [])];
  const { clientId, secret, method } = claimedClient(req, form, lab);
  if (!clientId) return null;
  const client = lab.clients.get(clientId);
  if (!client) throw invalidClient(`client ${clientId} is not registered`);
  const matches = method === 'none' ? CERT_METHODS.includes(client.method) : method === client.method || (secret !== undefined && SECRET_METHODS.includes(client.method) && SECRET_METHODS.includes(method));
  if (!matches) throw invalidClient(`${clientId} is registered for ${client.method}, the request used ${method}`);
  const socket = req.socket as TLSSocket;
  switch (client.method) {
    case 'client_secret_basic':
    case 'client_secret_post':
      if (!secret || !client.secret || !equalSecret(secret, client.secret)) throw invalidClient('wrong client secret');
      break;
    case 'client_secret_jwt':
      await checkSecretJwt(lab, client, form.get('client_assertion')!, audiences, t);
      break;
    case 'private_key_jwt': {
      const payload = await verifyClientJwt(form.get('client_assertion')!, client, t, { audiences, kind: 'client assertion', fail: invalidClient });
      if (payload.iss !== clientId) throw invalidClient('client assertion iss is not the client_id');
      replayCheck(lab, clientId, payload.jti, true, invalidClient, t);
      break;
    }
    case 'tls_client_auth':
      if (!socket.getPeerX509Certificate?.()) throw invalidClient('no client certificate');
      if (!socket.authorized) throw invalidClient(`client certificate not verified: ${String(socket.authorizationError)}`);
      break;
    case 'self_signed_tls_client_auth': {
      const thumb = peerThumbprint(socket);
      if (!thumb) throw invalidClient('no client certificate');
      if (!client.jwks?.keys.some((k) => k['x5t#S256'] === thumb)) throw invalidClient('the certificate is not registered for this client');
      break;
    }
    case 'none':
      break;
  }
  return client;
}

/** Client authentication at an endpoint other than /token (introspection, revocation): a client is required. */
export async function authenticateAt(lab: LabState, req: http.IncomingMessage, form: URLSearchParams, t: Tenant, endpoint: string): Promise<LabClient> {
  const client = await authenticate(lab, req, form, t, `${lab.issuerOf(t)}/token`, `${lab.issuerOf(t)}${endpoint}`);
  if (!client) throw invalidClient('no client authentication');
  return client;
}
