// POST /token: one function per grant (RFC 7523 jwt-bearer, client_credentials,
// authorization_code with PKCE, refresh_token with rotation), after client authentication.
import { createHash } from 'node:crypto';
import type http from 'node:http';
import type { TLSSocket } from 'node:tls';
import { decodeJwt } from 'jose';
import { JWT_BEARER, LAB_SCOPES, LAB_USER } from './constants.ts';
import { authenticate } from './client-auth.ts';
import { invalidClient, invalidGrant, invalidRequest, peerThumbprint, readForm, Refusal, send } from './http.ts';
import { replayCheck, verifyClientJwt } from './jwt-checks.ts';
import type { LabClient, LabState } from './state.ts';
import type { Tenant } from './tenants.ts';
import { issueTokens } from './tokens.ts';

/** What every grant gets: the form, the tenant and its token URL, and the request (for its certificate). */
interface GrantRequest {
  lab: LabState;
  req: http.IncomingMessage;
  form: URLSearchParams;
  t: Tenant;
  tokenUrl: string;
}

type TokenResponse = Record<string, unknown>;

const CLIENT_GRANTS = ['client_credentials', 'authorization_code', 'refresh_token'];

/** The requested scope, refused when it names one the lab does not have. */
function scopeOf(requested: string | null, fallback = ''): string {
  const scope = (requested ?? fallback).split(/\s+/).filter(Boolean);
  const unknown = scope.filter((s) => !LAB_SCOPES.includes(s));
  if (unknown.length) throw new Refusal(400, 'invalid_scope', `requested scope ${unknown.join(' ')} is not allowed`, `unknown scope ${unknown.join(' ')}`);
  return scope.join(' ');
}

/** The certificate thumbprint a bound client's tokens carry. */
function cnfOf(g: GrantRequest, client: LabClient): string | undefined {
  return client.boundTokens ? peerThumbprint(g.req.socket as TLSSocket) : undefined;
}

/** RFC 7523: an assertion signed by a client the lab trusts as an issuer; the authenticating client, if any, must be that one. */
async function jwtBearerGrant(g: GrantRequest): Promise<TokenResponse> {
  const { lab, form, t } = g;
  const client = await authenticate(lab, g.req, form, t, g.tokenUrl);
  const assertion = form.get('assertion');
  if (!assertion) throw invalidRequest("missing required parameter 'assertion'", 'no assertion');
  let iss: unknown;
  try {
    iss = decodeJwt(assertion).iss;
  } catch {
    throw invalidGrant('the assertion is not a JWT');
  }
  const issuerClient = typeof iss === 'string' ? lab.clients.get(iss) : undefined;
  if (!issuerClient?.jwks) throw invalidGrant(`iss ${String(iss)} is not a trusted issuer`);
  if (client && client.clientId !== issuerClient.clientId) throw invalidGrant('the assertion was issued by another client');
  const payload = await verifyClientJwt(assertion, issuerClient, t, { audiences: [g.tokenUrl, lab.issuerOf(t)], kind: 'assertion', fail: invalidGrant });
  if (typeof payload.sub !== 'string') throw invalidGrant('the assertion has no sub');
  replayCheck(lab, issuerClient.clientId, payload.jti, false, invalidGrant, t);
  return issueTokens(lab, t, issuerClient, { sub: payload.sub, scope: scopeOf(form.get('scope')), refresh: 'none' });
}

async function clientCredentialsGrant(g: GrantRequest, client: LabClient): Promise<TokenResponse> {
  if (client.method === 'none') throw invalidClient('public clients cannot use client_credentials');
  const scope = scopeOf(g.form.get('scope'));
  const cnf = cnfOf(g, client);
  return issueTokens(g.lab, g.t, client, { sub: client.clientId, scope, refresh: 'none', ...(cnf ? { cnf } : {}) });
}

async function authorizationCodeGrant(g: GrantRequest, client: LabClient): Promise<TokenResponse> {
  const { lab, form, t } = g;
  const code = lab.codes.get(form.get('code') ?? '');
  if (!code || code.tenant !== t) throw invalidGrant('unknown authorization code');
  if (code.used) {
    // A replayed code revokes what it issued, as RFC 6749 §4.1.2 suggests.
    lab.revokeFamily(form.get('code')!);
    throw invalidGrant('authorization code already used');
  }
  code.used = true;
  if (code.expiresAt < Date.now()) throw invalidGrant('authorization code expired');
  if (code.clientId !== client.clientId) throw invalidGrant('code issued to another client');
  if (form.get('redirect_uri') !== code.redirectUri) throw invalidGrant('redirect_uri differs from the authorization request');
  if (code.challenge) {
    const verifier = form.get('code_verifier');
    if (!verifier) throw invalidGrant('code_verifier missing');
    if (createHash('sha256').update(verifier).digest('base64url') !== code.challenge) throw invalidGrant('code_verifier does not match the code_challenge');
  }
  const cnf = cnfOf(g, client);
  const issued = await issueTokens(lab, t, client, { sub: LAB_USER, scope: code.scope, ...(cnf ? { cnf } : {}), ...(code.nonce ? { nonce: code.nonce } : {}) });
  if (t.revokeFirstToken) lab.revokedJti.set(String(decodeJwt(String(issued.access_token)).jti), Date.now());
  return issued;
}

async function refreshTokenGrant(g: GrantRequest, client: LabClient): Promise<TokenResponse> {
  const { lab, form, t } = g;
  const entry = lab.refreshTokens.get(form.get('refresh_token') ?? '');
  if (!entry || entry.tenant !== t) throw invalidGrant('unknown refresh token');
  if (t.refuseRefresh) throw invalidGrant('this tenant refuses every refresh token (training switch)');
  if (entry.clientId !== client.clientId) throw invalidGrant('refresh token issued to another client');
  if (!entry.active) {
    // Replaying a rotated-out token revokes the whole grant, like oidc-provider.
    lab.revokeFamily(entry.family);
    throw invalidGrant('refresh token already used: the grant is revoked');
  }
  entry.active = false;
  return issueTokens(lab, t, client, { sub: LAB_USER, scope: entry.scope, refresh: entry, ...(entry.cnf ? { cnf: entry.cnf } : {}) });
}

export async function tokenEndpoint(lab: LabState, req: http.IncomingMessage, res: http.ServerResponse, t: Tenant): Promise<void> {
  send(res, 200, await grantTokens(lab, req, t));
}

async function grantTokens(lab: LabState, req: http.IncomingMessage, t: Tenant): Promise<TokenResponse> {
  const g: GrantRequest = { lab, req, form: await readForm(req), t, tokenUrl: `${lab.issuerOf(t)}/token` };
  const grant = g.form.get('grant_type');
  if (!grant) throw invalidRequest("missing required parameter 'grant_type'", 'no grant_type');
  if (grant === JWT_BEARER) return jwtBearerGrant(g);
  const client = await authenticate(lab, req, g.form, t, g.tokenUrl);
  if (!client) throw invalidRequest('no client authentication mechanism provided', 'no client_id');
  if (!CLIENT_GRANTS.includes(grant)) throw new Refusal(400, 'unsupported_grant_type', `unsupported grant_type requested (${grant})`, `grant ${grant} is not supported`);
  if (!client.grants.has(grant)) throw new Refusal(400, 'unauthorized_client', 'requested grant type is not allowed for this client', `${client.clientId} may not use ${grant}`);
  switch (grant) {
    case 'client_credentials':
      return clientCredentialsGrant(g, client);
    case 'authorization_code':
      return authorizationCodeGrant(g, client);
    default:
      return refreshTokenGrant(g, client);
  }
}
