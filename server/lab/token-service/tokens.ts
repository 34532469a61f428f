// The tokens the lab issues (RS256 access tokens, refresh tokens in rotating families, ID tokens)
// and how it recognises one it is shown again (introspection, revocation).
import { randomBytes } from 'node:crypto';
import { createLocalJWKSet, jwtVerify, SignJWT, type JWK } from 'jose';
import { LAB_TOKEN_DEFAULTS } from './constants.ts';
import type { LabClient, LabState, RefreshEntry } from './state.ts';
import { DEFAULT_TENANT, type Tenant } from './tenants.ts';

function signToken(lab: LabState, claims: Record<string, unknown>, lifetime: number): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ ...claims, jti: randomBytes(12).toString('base64url') })
    .setProtectedHeader({ alg: 'RS256', kid: lab.keys.serverKid, typ: 'at+jwt' })
    .setIssuedAt(now)
    .setExpirationTime(now + lifetime)
    .sign(lab.keys.serverPrivate);
}

export interface IssueOptions {
  sub: string;
  scope: string;
  /** x5t#S256 the access token is bound to. */
  cnf?: string;
  /** A new refresh token family (default), the family of the one being rotated, or none at all. */
  refresh?: RefreshEntry | 'new' | 'none';
  nonce?: string;
}

/** The token response: an access token, a refresh token when the client and tenant get one, an ID token for openid. */
export async function issueTokens(lab: LabState, t: Tenant, client: LabClient, opts: IssueOptions): Promise<Record<string, unknown>> {
  const issuer = lab.issuerOf(t);
  const lifetime = t.shortTokens ? LAB_TOKEN_DEFAULTS.shortAccessTokenSec : LAB_TOKEN_DEFAULTS.accessTokenSec;
  const body: Record<string, unknown> = {
    access_token: await signToken(lab, { iss: issuer, sub: opts.sub, aud: `${lab.origin}/api`, client_id: client.clientId, ...(opts.scope ? { scope: opts.scope } : {}), ...(opts.cnf ? { cnf: { 'x5t#S256': opts.cnf } } : {}) }, lifetime),
    token_type: 'Bearer',
    expires_in: lifetime,
    ...(opts.scope ? { scope: opts.scope } : {}),
  };
  const wantsRefresh = opts.refresh !== 'none' && client.grants.has('refresh_token') && !t.noRefresh;
  if (wantsRefresh) {
    const rt = randomBytes(32).toString('base64url');
    const family = opts.refresh && typeof opts.refresh === 'object' ? opts.refresh.family : randomBytes(8).toString('hex');
    lab.refreshTokens.set(rt, { clientId: client.clientId, tenant: t, scope: opts.scope, family, ...(opts.cnf ? { cnf: opts.cnf } : {}), active: true });
    body.refresh_token = rt;
  }
  if (opts.scope.split(' ').includes('openid')) {
    const now = Math.floor(Date.now() / 1000);
    body.id_token = await new SignJWT({ ...(opts.nonce ? { nonce: opts.nonce } : {}) })
      .setProtectedHeader({ alg: 'RS256', kid: lab.keys.serverKid })
      .setIssuer(issuer).setSubject(opts.sub).setAudience(client.clientId).setIssuedAt(now).setExpirationTime(now + 300)
      .sign(lab.keys.serverPrivate);
  }
  return body;
}

/** A refresh token for a client, as if it had been through the authorization code flow. */
export function issueRefreshToken(lab: LabState, clientId: string, scope = 'offline_access'): string {
  const client = lab.clients.get(clientId);
  if (!client) throw new TypeError(`no lab client ${clientId}`);
  const rt = randomBytes(32).toString('base64url');
  lab.refreshTokens.set(rt, { clientId, tenant: DEFAULT_TENANT, scope, family: randomBytes(8).toString('hex'), active: true });
  return rt;
}

/** Verifies an access token the lab signed; `issuer` when the tenant must match. */
export async function verifyAccessToken(lab: LabState, token: string, check: { issuer?: string; audience?: string }) {
  return jwtVerify(token, createLocalJWKSet({ keys: [lab.keys.serverPublic as JWK] }), { algorithms: ['RS256'], ...check });
}

export type KnownToken = { kind: 'refresh_token'; entry: RefreshEntry } | { kind: 'access_token'; claims: Record<string, unknown> };

/** The token as the lab holds it: a refresh token of its store or an access token it signed (and did not revoke). */
export async function lookUpToken(lab: LabState, token: string, t: Tenant): Promise<KnownToken | null> {
  const entry = lab.refreshTokens.get(token);
  if (entry && entry.tenant === t) return { kind: 'refresh_token', entry };
  try {
    const { payload } = await verifyAccessToken(lab, token, { issuer: lab.issuerOf(t) });
    return { kind: 'access_token', claims: payload };
  } catch {
    return null;
  }
}
