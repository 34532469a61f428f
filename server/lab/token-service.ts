// The lab's authorization server: discovery, JWKS, a token endpoint for every grant the harness
// tests (client_credentials, authorization_code with PKCE, refresh_token, RFC 7523 jwt-bearer)
// with every client authentication method, the form-encoded jwt_token exchange, an
// auto-approving authorization endpoint, a protected API and an API-key API.
//
// It refuses the way real servers do — one opaque invalid_client or invalid_grant — so the
// harness has to explain from its own checks; the real reason goes in an x-lab-reason header
// for trainers. Tenants under /t/<name> are issuers that fail on purpose (state dropped, no
// refresh token, refresh refused, tokens of two seconds).
import http from 'node:http';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import { createHash, createPublicKey, randomBytes, timingSafeEqual, webcrypto, type JsonWebKey as NodeJwk } from 'node:crypto';
import { calculateJwkThumbprint, createLocalJWKSet, decodeJwt, decodeProtectedHeader, EmbeddedJWK, exportJWK, generateKeyPair, importJWK, importX509, jwtVerify, SignJWT, UnsecuredJWT, type CryptoKey, type JWK, type JWTVerifyOptions } from 'jose';
import type { LabInfo, LabTarget } from '../../shared/protocol/index.ts';
import type { LabRegistration } from '../../shared/flows/flow-request.ts';
import type { Jwks, PublicJwk } from '../../shared/jwt/keys.ts';
import { useCrypto, generateKeyPair as pkiKeyPair, selfSign, exportPkcs8Pem } from '../../shared/pki/issue.ts';
import type { LabPki } from './lab-pki.ts';
import { readOrCreate } from './lab-dir.ts';
import { labJwkProblem } from './lab-jwk.ts';
import { listenStable } from './listen.ts';

export const LAB_API_KEY = 'lab-api-key';
export const LAB_API_USER = 'lab-user';
export const LAB_USER = 'lab-user';
export const LAB_SCOPES = ['openid', 'offline_access', 'orders:read', 'orders:write'];
/** How the ids of the clients register() makes begin. */
export const LAB_REGISTERED_PREFIX = 'lab-reg-';

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const SIGNING_ALGS = ['RS256', 'PS256', 'ES256', 'EdDSA'];

/** Lifetimes and limits of the lab server. */
export const LAB_TOKEN_DEFAULTS = {
  accessTokenSec: 300, // s
  shortAccessTokenSec: 2, // s, tenant short-tokens
  codeSec: 60, // s
  /** Longest assertion lifetime accepted (exp − iat); like many real servers, 5 minutes. */
  maxAssertionSec: 300, // s
  clockToleranceSec: 5, // s
  maxBodyBytes: 64 * 1024, // bytes
  /** Entries kept in the jti replay cache and the code and refresh-token stores. */
  maxEntries: 10_000,
} as const;

export type LabAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'client_secret_jwt' | 'private_key_jwt' | 'tls_client_auth' | 'self_signed_tls_client_auth' | 'none';

interface LabClient {
  clientId: string;
  method: LabAuthMethod;
  secret?: string;
  jwks?: Jwks;
  grants: Set<string>;
  /** Access tokens carry cnf x5t#S256 of the certificate used at the token endpoint. */
  boundTokens?: boolean;
}

/** What a flow may know about a lab client: how it authenticates and which keys it has. */
export interface LabClientInfo {
  method: LabAuthMethod;
  jwks?: Jwks;
}

export interface LabRegistered {
  clientId: string;
  clientSecret: string;
  kid: string;
  method: LabAuthMethod;
  issuer: string;
  tokenUrl: string;
}

/** Who registers, and the limits that apply (server/defaults.ts: labRegistrations*). */
export interface LabRegisterOptions {
  /** An opaque id of the registrant (one per session); each owner gets its own clients. */
  owner?: string;
  maxPerOwner?: number;
  maxTotal?: number;
  /** Forget the client this long after it was (last) registered. */
  ttlMs?: number;
}

/** A registration the lab refuses; `code` is the protocol's error code. */
export class LabRegistrationRefused extends Error {
  constructor(readonly code: 'jwk_invalid' | 'too_many_registrations', message: string) {
    super(message);
    this.name = 'LabRegistrationRefused';
  }
}

/** Credentials the lab made at start for its demo clients; the CLI uses them for lab scenarios. */
export interface LabDemoCredentials {
  /** PKCS#8 PEM of the RSA key registered for lab-pkjwt and lab-seed. */
  signingKeyPem: string;
  signingKid: string;
  /** The self-signed certificate registered for lab-selfsigned. */
  selfSigned: { certificatePem: string; privateKeyPem: string };
}

export interface LabTokenService {
  /** https://localhost:PORT, the default tenant's issuer. */
  issuer: string;
  /** http://localhost:PORT2, where the authorization endpoint listens (no certificate warning in the browser popup). */
  authorizeOrigin: string;
  targets: LabTarget[];
  /** What the welcome's lab info says about this service (its demo clients, issuers…), so the app copies none of it. */
  facts: Pick<LabInfo, 'clients' | 'issuers' | 'registeredClientPrefix' | 'apiKey'>;
  demo: LabDemoCredentials;
  knownClient(url: string, clientId: string): LabClientInfo | undefined;
  /** Throws LabRegistrationRefused for a key the lab will not hold, or past a count limit. */
  register(reg: LabRegistration, opts?: LabRegisterOptions): Promise<LabRegistered>;
  /** Forgets every client `owner` registered (its session closed). */
  forget(owner: string): void;
  /** Clients made by register() and not yet forgotten. */
  readonly registered: number;
  /** A refresh token for a client, as if it had been through the authorization code flow. */
  issueRefreshToken(clientId: string, scope?: string): string;
  close(): Promise<void>;
}

interface Tenant {
  name: string;
  prefix: string;
  title: string;
  expect: string;
  dropState?: boolean;
  noRefresh?: boolean;
  refuseRefresh?: boolean;
  shortTokens?: boolean;
  alterState?: boolean;
  /** The first access token of each authorization is revoked at the API (a 401 the client must recover from). */
  revokeFirstToken?: boolean;
  /** Training switches for the JWT check: each makes one weakness of assertion checking real. */
  jwt?: JwtWeakness;
  /** The tenant's API (/t/<name>/api/resource) reads the token's claims without verifying its signature. */
  apiSkipsSignature?: boolean;
  /** The tenant's API ignores the certificate binding (cnf x5t#S256) of the tokens it is shown. */
  apiIgnoresBinding?: boolean;
}

interface JwtWeakness {
  acceptAlgNone?: true;
  skipExp?: true;
  ignoreAud?: true;
  forgetJti?: true;
  /** HS256 verified with the registered public key's PEM as the HMAC secret (algorithm confusion). */
  acceptHmacWithPublicKey?: true;
  ignoreCrit?: true;
  trustEmbeddedJwk?: true;
}

const TENANTS: Tenant[] = [
  { name: '', prefix: '', title: 'Lab authorization server', expect: 'Discovery, JWKS and every token flow; clients lab-basic, lab-post, lab-pkjwt, lab-mtls, lab-selfsigned, lab-seed, lab-public (see docs/scenarios.md).' },
  { name: 'no-state', prefix: '/t/no-state', title: 'Lab issuer that drops state', dropState: true, expect: 'Authorization code: the redirect comes back without state → state_missing.' },
  { name: 'no-refresh', prefix: '/t/no-refresh', title: 'Lab issuer without refresh tokens', noRefresh: true, expect: 'Authorization code: no refresh token is issued → refresh_token_missing.' },
  { name: 'bad-refresh', prefix: '/t/bad-refresh', title: 'Lab issuer that refuses its refresh tokens', refuseRefresh: true, expect: 'Authorization code: the refresh token it issued is refused → refresh_token_rejected.' },
  { name: 'short-tokens', prefix: '/t/short-tokens', title: 'Lab issuer with 2-second access tokens', shortTokens: true, expect: 'Access tokens live 2 s → access_token_short_lived; the flow refreshes before calling.' },
  { name: 'altered-state', prefix: '/t/altered-state', title: 'Lab issuer that alters state', alterState: true, expect: 'Authorization code: the redirect comes back with another state → state_mismatch.' },
  { name: 'revoked-token', prefix: '/t/revoked-token', title: 'Lab issuer whose first access token is revoked', revokeFirstToken: true, expect: 'Authorization code: the API answers 401 to the first access token; the flow refreshes and retries once → passes, noting api_token_rejected.' },
  // Each JWT weakness, for the JWT check (docs/server-check.md): /token and /exchange of the tenant.
  { name: 'jwt-alg-none', prefix: '/t/jwt-alg-none', title: 'Lab issuer that accepts alg none', jwt: { acceptAlgNone: true }, expect: 'JWT check: accepts unsigned assertions → alg_none not enforced.' },
  { name: 'jwt-no-exp', prefix: '/t/jwt-no-exp', title: 'Lab issuer that skips exp', jwt: { skipExp: true }, expect: 'JWT check: neither requires nor checks exp, nor the lifetime → expired, long_lifetime, missing_exp not enforced.' },
  { name: 'jwt-any-aud', prefix: '/t/jwt-any-aud', title: 'Lab issuer that ignores aud', jwt: { ignoreAud: true }, expect: 'JWT check: any audience → wrong_aud not enforced.' },
  { name: 'jwt-no-jti', prefix: '/t/jwt-no-jti', title: 'Lab issuer that never remembers jti', jwt: { forgetJti: true }, expect: 'JWT check: the same assertion works twice → replayed_jti not enforced.' },
  { name: 'jwt-hmac-confusion', prefix: '/t/jwt-hmac-confusion', title: 'Lab issuer open to algorithm confusion', jwt: { acceptHmacWithPublicKey: true }, expect: 'JWT check: HS256 keyed with the registered public key → hs256_public_key not enforced.' },
  { name: 'jwt-ignore-crit', prefix: '/t/jwt-ignore-crit', title: 'Lab issuer that ignores crit', jwt: { ignoreCrit: true }, expect: 'JWT check: unknown critical headers pass → unknown_crit not enforced.' },
  { name: 'jwt-embedded-jwk', prefix: '/t/jwt-embedded-jwk', title: 'Lab issuer that trusts an embedded jwk', jwt: { trustEmbeddedJwk: true }, expect: 'JWT check: verifies with the key in the jwk header → embedded_jwk not enforced.' },
  { name: 'api-unverified', prefix: '/t/api-unverified', title: 'Lab API that does not verify signatures', apiSkipsSignature: true, expect: 'Resource check of /t/api-unverified/api/resource: tampered and alg none tokens pass → tampered, alg_none not enforced.' },
  { name: 'api-unbound', prefix: '/t/api-unbound', title: 'Lab API that ignores certificate binding', apiIgnoresBinding: true, expect: 'Resource check of /t/api-unbound/api/resource with a bound token: no or another certificate passes → bound_without_certificate, bound_other_certificate not enforced.' },
];

// ---- persisted keys ---------------------------------------------------------------------------

interface KeyFile {
  serverKey: JWK;
  demoKey: JWK;
  selfSignedCertPem: string;
  selfSignedKeyPem: string;
}

function usableKeys(text: string): boolean {
  try {
    const k = JSON.parse(text) as Partial<KeyFile>;
    return Boolean(k.serverKey?.d && k.demoKey?.d && k.selfSignedCertPem && k.selfSignedKeyPem);
  } catch {
    return false;
  }
}

async function makeKeys(): Promise<string> {
  const server = await generateKeyPair('RS256', { extractable: true });
  const demo = await generateKeyPair('RS256', { extractable: true });
  useCrypto(webcrypto as unknown as Crypto);
  const selfKeys = await pkiKeyPair('P-256', true);
  const cert = await selfSign(selfKeys, { subject: 'CN=lab-selfsigned, O=mTLS Harness Lab', profile: 'client' });
  const k: KeyFile = {
    serverKey: await exportJWK(server.privateKey),
    demoKey: await exportJWK(demo.privateKey),
    selfSignedCertPem: cert.toString('pem') + '\n',
    selfSignedKeyPem: await exportPkcs8Pem(selfKeys.privateKey),
  };
  return JSON.stringify(k);
}

async function loadOrCreateKeys(dir: string): Promise<KeyFile> {
  return JSON.parse(await readOrCreate(dir, 'token-service-keys.json', makeKeys, usableKeys)) as KeyFile;
}

function publicOf(jwk: JWK, kid: string): PublicJwk {
  const { kty, n, e, crv, x, y } = jwk as Record<string, string>;
  return { kty: kty!, kid, use: 'sig', ...(n ? { n, e } : {}), ...(crv ? { crv, x, y } : {}) } as PublicJwk;
}

function pemBody(pem: string): string {
  return pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
}

// ---- small HTTP helpers -----------------------------------------------------------------------

class Refusal extends Error {
  constructor(readonly status: number, readonly error: string, readonly description: string, readonly reason: string) {
    super(reason);
  }
}

/** oidc-provider's wording: the same answer whatever went wrong; the reason stays in a header. */
const invalidClient = (reason: string) => new Refusal(401, 'invalid_client', 'client authentication failed', reason);
const invalidGrant = (reason: string) => new Refusal(400, 'invalid_grant', 'grant request is invalid', reason);

function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': typeof body === 'string' ? 'text/html; charset=utf-8' : 'application/json',
    'cache-control': 'no-store',
    connection: 'close',
    ...headers,
  });
  res.end(text);
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > LAB_TOKEN_DEFAULTS.maxBodyBytes) {
        reject(new Refusal(413, 'invalid_request', 'request body too large', 'body over the lab limit'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function equalSecret(a: string, b: string): boolean {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y);
}

function formDecode(s: string): string {
  return decodeURIComponent(s.replace(/\+/g, '%20'));
}

/** A bounded map that forgets its oldest entries. */
class Store<V> extends Map<string, V> {
  override set(key: string, value: V): this {
    if (this.size >= LAB_TOKEN_DEFAULTS.maxEntries) this.delete(this.keys().next().value as string);
    return super.set(key, value);
  }
}

interface CodeEntry {
  clientId: string;
  tenant: Tenant;
  redirectUri: string;
  challenge?: string;
  scope: string;
  nonce?: string;
  expiresAt: number;
  used: boolean;
}

interface RefreshEntry {
  clientId: string;
  tenant: Tenant;
  scope: string;
  family: string;
  cnf?: string;
  active: boolean;
}

const LOOPBACK_CALLBACK = /^http:\/\/(127\.0\.0\.1|localhost|\[::1\]):\d{1,5}\/callback\/[A-Za-z0-9_-]{1,64}$/;

export async function startTokenService(opts: {
  pki: LabPki;
  dataDir: string;
  host: string;
  hostForUrl: string;
  /** The token endpoint's port; the login page takes the next one. 0: free ones. */
  port?: number;
  onPortTaken?(wanted: number, got: number): void;
}): Promise<LabTokenService> {
  const keys = await loadOrCreateKeys(opts.dataDir);
  const serverKid = await calculateJwkThumbprint(keys.serverKey);
  const serverPrivate = (await importJWK(keys.serverKey, 'RS256')) as CryptoKey;
  const serverPublic = publicOf(keys.serverKey, serverKid);
  const demoKid = await calculateJwkThumbprint(keys.demoKey);
  const demoPublic = publicOf(keys.demoKey, demoKid);
  const selfSignedDer = Buffer.from(pemBody(keys.selfSignedCertPem), 'base64');
  const selfSignedJwk = publicOf(await exportJWK(await importX509(keys.selfSignedCertPem, 'ES256', { extractable: true })), 'lab-selfsigned');
  selfSignedJwk.x5c = [selfSignedDer.toString('base64')];
  selfSignedJwk['x5t#S256'] = createHash('sha256').update(selfSignedDer).digest('base64url');

  const clients = new Map<string, LabClient>();
  const all = ['client_credentials', 'authorization_code', 'refresh_token', JWT_BEARER];
  const add = (c: LabClient) => clients.set(c.clientId, c);
  add({ clientId: 'lab-basic', method: 'client_secret_basic', secret: 'lab-basic-secret', grants: new Set(all) });
  add({ clientId: 'lab-post', method: 'client_secret_post', secret: 'lab-post-secret', grants: new Set(all) });
  add({ clientId: 'lab-secretjwt', method: 'client_secret_jwt', secret: 'lab-secretjwt-secret', grants: new Set(all) });
  add({ clientId: 'lab-pkjwt', method: 'private_key_jwt', jwks: { keys: [demoPublic] }, grants: new Set(all) });
  add({ clientId: 'lab-mtls', method: 'tls_client_auth', grants: new Set(all), boundTokens: true });
  add({ clientId: 'lab-selfsigned', method: 'self_signed_tls_client_auth', jwks: { keys: [selfSignedJwk] }, grants: new Set(all), boundTokens: true });
  add({ clientId: 'lab-seed', method: 'client_secret_post', secret: 'lab-seed-secret', jwks: { keys: [demoPublic] }, grants: new Set([...all, 'jwt-exchange']) });
  add({ clientId: 'lab-public', method: 'none', grants: new Set(['authorization_code', 'refresh_token']) });

  const codes = new Store<CodeEntry>();
  const refreshTokens = new Store<RefreshEntry>();
  /** Clients made by register(): who registered each, and the timer that forgets it. */
  const registrations = new Map<string, { owner: string; timer: NodeJS.Timeout | undefined }>();
  const owned = new Map<string, Set<string>>();
  const forgetClient = (clientId: string) => {
    const r = registrations.get(clientId);
    if (!r) return;
    clearTimeout(r.timer);
    registrations.delete(clientId);
    clients.delete(clientId);
    const mine = owned.get(r.owner);
    mine?.delete(clientId);
    if (mine?.size === 0) owned.delete(r.owner);
  };
  const seenJti = new Store<number>();
  const revokedJti = new Store<number>();

  const tokenServer = https.createServer({
    cert: opts.pki.serverCertPem,
    key: opts.pki.serverKeyPem,
    ca: opts.pki.clientCaPem,
    // Ask for a certificate on every connection (tls_client_auth); judge it per client.
    requestCert: true,
    rejectUnauthorized: false,
    minVersion: 'TLSv1.2',
  });
  const authorizeServer = http.createServer();
  for (const s of [tokenServer, authorizeServer]) {
    s.headersTimeout = 10_000;
    s.requestTimeout = 30_000;
    s.keepAliveTimeout = 1_000;
  }
  const port = await listenStable(tokenServer, opts.port ?? 0, opts.host, opts.onPortTaken);
  const authorizePort = await listenStable(authorizeServer, opts.port ? opts.port + 1 : 0, opts.host, opts.onPortTaken);
  const origin = `https://${opts.hostForUrl}:${port}`;
  const authorizeOrigin = `http://${opts.hostForUrl}:${authorizePort}`;
  const issuerOf = (t: Tenant) => `${origin}${t.prefix}`;

  const metadata = (t: Tenant) => ({
    issuer: issuerOf(t),
    authorization_endpoint: `${authorizeOrigin}${t.prefix}/authorize`,
    token_endpoint: `${issuerOf(t)}/token`,
    introspection_endpoint: `${issuerOf(t)}/introspect`,
    revocation_endpoint: `${issuerOf(t)}/revoke`,
    jwks_uri: `${issuerOf(t)}/jwks`,
    response_types_supported: ['code'],
    grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials', JWT_BEARER],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt', 'tls_client_auth', 'self_signed_tls_client_auth', 'none'],
    token_endpoint_auth_signing_alg_values_supported: [...SIGNING_ALGS, 'HS256'],
    code_challenge_methods_supported: ['S256'],
    scopes_supported: LAB_SCOPES,
    tls_client_certificate_bound_access_tokens: true,
    authorization_response_iss_parameter_supported: true,
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
  });

  // ---- tokens

  const signToken = (claims: Record<string, unknown>, lifetime: number) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ ...claims, jti: randomBytes(12).toString('base64url') })
      .setProtectedHeader({ alg: 'RS256', kid: serverKid, typ: 'at+jwt' })
      .setIssuedAt(now)
      .setExpirationTime(now + lifetime)
      .sign(serverPrivate);
  };

  const peerThumbprint = (socket: TLSSocket): string | undefined => {
    const cert = socket.getPeerX509Certificate?.();
    return cert ? createHash('sha256').update(cert.raw).digest('base64url') : undefined;
  };

  const issueTokens = async (t: Tenant, client: LabClient, opts2: { sub: string; scope: string; cnf?: string; refresh?: RefreshEntry | 'new' | 'none'; nonce?: string }) => {
    const lifetime = t.shortTokens ? LAB_TOKEN_DEFAULTS.shortAccessTokenSec : LAB_TOKEN_DEFAULTS.accessTokenSec;
    const body: Record<string, unknown> = {
      access_token: await signToken({ iss: issuerOf(t), sub: opts2.sub, aud: `${origin}/api`, client_id: client.clientId, ...(opts2.scope ? { scope: opts2.scope } : {}), ...(opts2.cnf ? { cnf: { 'x5t#S256': opts2.cnf } } : {}) }, lifetime),
      token_type: 'Bearer',
      expires_in: lifetime,
      ...(opts2.scope ? { scope: opts2.scope } : {}),
    };
    const wantsRefresh = opts2.refresh !== 'none' && client.grants.has('refresh_token') && !t.noRefresh;
    if (wantsRefresh) {
      const rt = randomBytes(32).toString('base64url');
      const family = opts2.refresh && typeof opts2.refresh === 'object' ? opts2.refresh.family : randomBytes(8).toString('hex');
      refreshTokens.set(rt, { clientId: client.clientId, tenant: t, scope: opts2.scope, family, ...(opts2.cnf ? { cnf: opts2.cnf } : {}), active: true });
      body.refresh_token = rt;
    }
    if (opts2.scope.split(' ').includes('openid')) {
      const now = Math.floor(Date.now() / 1000);
      body.id_token = await new SignJWT({ ...(opts2.nonce ? { nonce: opts2.nonce } : {}) })
        .setProtectedHeader({ alg: 'RS256', kid: serverKid })
        .setIssuer(issuerOf(t)).setSubject(opts2.sub).setAudience(client.clientId).setIssuedAt(now).setExpirationTime(now + 300)
        .sign(serverPrivate);
    }
    return body;
  };

  // ---- JWT checks (assertions and jwt_token)

  /**
   * Verifies an assertion or jwt_token with the client's registered keys: alg allow-list, kid,
   * signature, exp required, nbf, iat, aud, crit, lifetime. A tenant's `jwt` switches loosen one
   * check each. `audiences` null: no audience check; `optionalAud`: checked only when present
   * (the seed's jwt_token carries none).
   */
  const verifyClientJwt = async (token: string, client: LabClient, audiences: string[] | null, kind: string, fail: (reason: string) => Refusal, t: Tenant, optionalAud = false) => {
    if (!client.jwks?.keys.length) throw fail(`${client.clientId} has no registered keys`);
    const weak = t.jwt ?? {};
    let header;
    let claims;
    try {
      header = decodeProtectedHeader(token);
      claims = decodeJwt(token);
    } catch {
      throw fail(`the ${kind} is not a JWT`);
    }
    const alg = String(header.alg);
    const algOk = SIGNING_ALGS.includes(alg) || (weak.acceptAlgNone && alg === 'none') || (weak.acceptHmacWithPublicKey && alg === 'HS256');
    if (!algOk) throw fail(`${kind} alg ${alg} is not accepted`);
    const checkAud = audiences && !weak.ignoreAud && !(optionalAud && claims.aud === undefined);
    // Skipping exp: judge the other claims at a moment before an exp that passed.
    const expPast = weak.skipExp && typeof claims.exp === 'number' && claims.exp * 1000 <= Date.now();
    const options: JWTVerifyOptions = {
      algorithms: SIGNING_ALGS,
      clockTolerance: LAB_TOKEN_DEFAULTS.clockToleranceSec,
      requiredClaims: weak.skipExp ? [] : ['exp'],
      ...(checkAud ? { audience: audiences } : {}),
      ...(weak.ignoreCrit && Array.isArray(header.crit) ? { crit: Object.fromEntries(header.crit.map((name) => [name, true])) } : {}),
      ...(expPast ? { currentDate: new Date((claims.exp! - 1) * 1000) } : {}),
    };
    let payload;
    try {
      if (alg === 'none') {
        ({ payload } = UnsecuredJWT.decode(token, options));
      } else if (alg === 'HS256') {
        const jwk = client.jwks.keys.find((k) => !header.kid || k.kid === header.kid) ?? client.jwks.keys[0]!;
        const pem = createPublicKey({ key: jwk as unknown as NodeJwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
        ({ payload } = await jwtVerify(token, new TextEncoder().encode(pem), { ...options, algorithms: ['HS256'] }));
      } else if (weak.trustEmbeddedJwk && header.jwk) {
        ({ payload } = await jwtVerify(token, EmbeddedJWK, options));
      } else {
        ({ payload } = await jwtVerify(token, createLocalJWKSet(client.jwks as { keys: JWK[] }), options));
      }
    } catch (err) {
      const code = (err as { code?: string }).code;
      throw fail(`${kind}: ${code === 'ERR_JWKS_NO_MATCHING_KEY' ? `kid ${String(header.kid)} is not a registered key` : (err as Error).message}`);
    }
    const now = Date.now() / 1000;
    const iat = typeof payload.iat === 'number' ? payload.iat : now;
    if (!weak.skipExp && payload.exp! - iat > LAB_TOKEN_DEFAULTS.maxAssertionSec + LAB_TOKEN_DEFAULTS.clockToleranceSec) throw fail(`${kind} lives ${Math.round(payload.exp! - iat)} s, over ${LAB_TOKEN_DEFAULTS.maxAssertionSec} s`);
    if (iat > now + 60) throw fail(`${kind} iat is in the future`);
    return payload;
  };

  const replayCheck = (iss: string, jti: unknown, required: boolean, fail: (reason: string) => Refusal, t: Tenant) => {
    if (typeof jti !== 'string' || !jti) {
      if (required) throw fail('jti is required');
      return;
    }
    if (t.jwt?.forgetJti) return;
    const key = `${iss} ${jti}`;
    if (seenJti.has(key)) throw fail(`jti ${jti} was used before`);
    seenJti.set(key, Date.now());
  };

  // ---- client authentication

  /** `endpointUrl`: the endpoint called, when not the token endpoint; assertions may name it as aud too. */
  const authenticate = async (req: http.IncomingMessage, form: URLSearchParams, t: Tenant, tokenUrl: string, endpointUrl?: string): Promise<LabClient | null> => {
    const audiences = [tokenUrl, issuerOf(t), ...(endpointUrl ? [endpointUrl] : [])];
    const header = req.headers.authorization;
    let clientId = form.get('client_id') ?? undefined;
    let secret: string | undefined;
    let method: LabAuthMethod;
    if (header) {
      const m = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header);
      if (!m) throw new Refusal(400, 'invalid_request', 'invalid authorization header value format', 'Authorization is not Basic');
      const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
      const i = decoded.indexOf(':');
      if (i < 0) throw new Refusal(400, 'invalid_request', 'invalid authorization header value format', 'Basic credential without ":"');
      const basicId = formDecode(decoded.slice(0, i));
      if (clientId && clientId !== basicId) throw new Refusal(400, 'invalid_request', 'client_id mismatch', 'client_id differs from the Basic user');
      clientId = basicId;
      secret = formDecode(decoded.slice(i + 1));
      method = 'client_secret_basic';
    } else if (form.has('client_assertion')) {
      if (form.get('client_assertion_type') !== CLIENT_ASSERTION_TYPE) throw new Refusal(400, 'invalid_request', `client_assertion_type must have value ${CLIENT_ASSERTION_TYPE}`, 'wrong client_assertion_type');
      let sub: unknown;
      let alg: unknown;
      try {
        sub = decodeJwt(form.get('client_assertion')!).sub;
        alg = decodeProtectedHeader(form.get('client_assertion')!).alg;
      } catch {
        throw new Refusal(400, 'invalid_request', 'invalid client_assertion format', 'client_assertion is not a JWT');
      }
      if (typeof sub !== 'string') throw invalidClient('client_assertion has no sub');
      if (clientId && clientId !== sub) throw new Refusal(400, 'invalid_request', 'client_id mismatch', 'client_id differs from the assertion sub');
      clientId = sub;
      // An HMAC assertion from a client_secret_jwt client is signed with its secret; any other
      // is judged as private_key_jwt (so the jwt-hmac-confusion tenant still shows its weakness).
      method = typeof alg === 'string' && alg.startsWith('HS') && clients.get(sub)?.method === 'client_secret_jwt' ? 'client_secret_jwt' : 'private_key_jwt';
    } else if (form.has('client_secret')) {
      secret = form.get('client_secret')!;
      method = 'client_secret_post';
    } else {
      method = 'none';
    }
    if (!clientId) return null;
    const client = clients.get(clientId);
    if (!client) throw invalidClient(`client ${clientId} is not registered`);
    const certMethods: LabAuthMethod[] = ['none', 'tls_client_auth', 'self_signed_tls_client_auth'];
    // The secret sent as such: either way is taken for either method, as most servers do (not client_secret_jwt).
    const SECRET_METHODS: LabAuthMethod[] = ['client_secret_basic', 'client_secret_post'];
    const matches = method === 'none' ? certMethods.includes(client.method) : method === client.method || (secret !== undefined && SECRET_METHODS.includes(client.method) && SECRET_METHODS.includes(method));
    if (!matches) throw invalidClient(`${clientId} is registered for ${client.method}, the request used ${method}`);
    const socket = req.socket as TLSSocket;
    switch (client.method) {
      case 'client_secret_basic':
      case 'client_secret_post':
        if (!secret || !client.secret || !equalSecret(secret, client.secret)) throw invalidClient('wrong client secret');
        break;
      case 'client_secret_jwt': {
        const assertion = form.get('client_assertion')!;
        let payload;
        try {
          ({ payload } = await jwtVerify(assertion, new TextEncoder().encode(client.secret), {
            algorithms: ['HS256'],
            audience: audiences,
            requiredClaims: ['exp'],
            clockTolerance: LAB_TOKEN_DEFAULTS.clockToleranceSec,
          }));
        } catch (err) {
          const code = (err as { code?: string }).code;
          throw invalidClient(`client assertion: ${code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' ? 'HMAC signature mismatch (wrong client secret)' : (err as Error).message}`);
        }
        if (payload.iss !== clientId) throw invalidClient('client assertion iss is not the client_id');
        const iat = typeof payload.iat === 'number' ? payload.iat : Date.now() / 1000;
        if (payload.exp! - iat > LAB_TOKEN_DEFAULTS.maxAssertionSec + LAB_TOKEN_DEFAULTS.clockToleranceSec) throw invalidClient(`client assertion lives ${Math.round(payload.exp! - iat)} s, over ${LAB_TOKEN_DEFAULTS.maxAssertionSec} s`);
        replayCheck(clientId, payload.jti, true, invalidClient, t);
        break;
      }
      case 'private_key_jwt': {
        const assertion = form.get('client_assertion')!;
        const payload = await verifyClientJwt(assertion, client, audiences, 'client assertion', invalidClient, t);
        if (payload.iss !== clientId) throw invalidClient('client assertion iss is not the client_id');
        replayCheck(clientId, payload.jti, true, invalidClient, t);
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
  };

  // ---- endpoints

  const tokenEndpoint = async (req: http.IncomingMessage, res: http.ServerResponse, t: Tenant) => {
    const form = new URLSearchParams(await readBody(req));
    const tokenUrl = `${issuerOf(t)}/token`;
    const grant = form.get('grant_type');
    const cnfOf = (client: LabClient) => (client.boundTokens ? peerThumbprint(req.socket as TLSSocket) : undefined);
    const scopeOf = (requested: string | null, fallback = '') => {
      const scope = (requested ?? fallback).split(/\s+/).filter(Boolean);
      const unknown = scope.filter((s) => !LAB_SCOPES.includes(s));
      if (unknown.length) throw new Refusal(400, 'invalid_scope', `requested scope ${unknown.join(' ')} is not allowed`, `unknown scope ${unknown.join(' ')}`);
      return scope.join(' ');
    };
    if (!grant) throw new Refusal(400, 'invalid_request', "missing required parameter 'grant_type'", 'no grant_type');
    if (grant === JWT_BEARER) {
      const client = await authenticate(req, form, t, tokenUrl);
      const assertion = form.get('assertion');
      if (!assertion) throw new Refusal(400, 'invalid_request', "missing required parameter 'assertion'", 'no assertion');
      let iss: unknown;
      try {
        iss = decodeJwt(assertion).iss;
      } catch {
        throw invalidGrant('the assertion is not a JWT');
      }
      const issuerClient = typeof iss === 'string' ? clients.get(iss) : undefined;
      if (!issuerClient?.jwks) throw invalidGrant(`iss ${String(iss)} is not a trusted issuer`);
      if (client && client.clientId !== issuerClient.clientId) throw invalidGrant('the assertion was issued by another client');
      const payload = await verifyClientJwt(assertion, issuerClient, [tokenUrl, issuerOf(t)], 'assertion', invalidGrant, t);
      if (typeof payload.sub !== 'string') throw invalidGrant('the assertion has no sub');
      replayCheck(issuerClient.clientId, payload.jti, false, invalidGrant, t);
      return send(res, 200, await issueTokens(t, issuerClient, { sub: payload.sub, scope: scopeOf(form.get('scope')), refresh: 'none' }));
    }
    const client = await authenticate(req, form, t, tokenUrl);
    if (!client) throw new Refusal(400, 'invalid_request', 'no client authentication mechanism provided', 'no client_id');
    if (!['client_credentials', 'authorization_code', 'refresh_token'].includes(grant)) {
      throw new Refusal(400, 'unsupported_grant_type', `unsupported grant_type requested (${grant})`, `grant ${grant} is not supported`);
    }
    if (!client.grants.has(grant)) throw new Refusal(400, 'unauthorized_client', 'requested grant type is not allowed for this client', `${client.clientId} may not use ${grant}`);
    switch (grant) {
      case 'client_credentials': {
        if (client.method === 'none') throw invalidClient('public clients cannot use client_credentials');
        const scope = scopeOf(form.get('scope'));
        return send(res, 200, await issueTokens(t, client, { sub: client.clientId, scope, refresh: 'none', ...(cnfOf(client) ? { cnf: cnfOf(client)! } : {}) }));
      }
      case 'authorization_code': {
        const code = codes.get(form.get('code') ?? '');
        if (!code || code.tenant !== t) throw invalidGrant('unknown authorization code');
        if (code.used) {
          // A replayed code revokes what it issued, as RFC 6749 §4.1.2 suggests.
          for (const [k, v] of refreshTokens) if (v.family === form.get('code')) refreshTokens.set(k, { ...v, active: false });
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
        const cnf = cnfOf(client);
        const issued = await issueTokens(t, client, { sub: LAB_USER, scope: code.scope, ...(cnf ? { cnf } : {}), ...(code.nonce ? { nonce: code.nonce } : {}) });
        if (t.revokeFirstToken) revokedJti.set(String(decodeJwt(String(issued.access_token)).jti), Date.now());
        return send(res, 200, issued);
      }
      case 'refresh_token': {
        const rt = form.get('refresh_token') ?? '';
        const entry = refreshTokens.get(rt);
        if (!entry || entry.tenant !== t) throw invalidGrant('unknown refresh token');
        if (t.refuseRefresh) throw invalidGrant('this tenant refuses every refresh token (training switch)');
        if (entry.clientId !== client.clientId) throw invalidGrant('refresh token issued to another client');
        if (!entry.active) {
          // Replaying a rotated-out token revokes the whole grant, like oidc-provider.
          for (const [k, v] of refreshTokens) if (v.family === entry.family) refreshTokens.set(k, { ...v, active: false });
          throw invalidGrant('refresh token already used: the grant is revoked');
        }
        entry.active = false;
        return send(res, 200, await issueTokens(t, client, { sub: LAB_USER, scope: entry.scope, refresh: entry, ...(entry.cnf ? { cnf: entry.cnf } : {}) }));
      }
    }
  };

  /** The token as the lab holds it: a refresh token of its store or an access token it signed (and did not revoke). */
  const lookUpToken = async (token: string, t: Tenant): Promise<{ kind: 'refresh_token'; entry: RefreshEntry } | { kind: 'access_token'; claims: Record<string, unknown> } | null> => {
    const entry = refreshTokens.get(token);
    if (entry && entry.tenant === t) return { kind: 'refresh_token', entry };
    try {
      const { payload } = await jwtVerify(token, createLocalJWKSet({ keys: [serverPublic as JWK] }), { algorithms: ['RS256'], issuer: issuerOf(t) });
      return { kind: 'access_token', claims: payload };
    } catch {
      return null;
    }
  };

  const clientAuthAt = async (req: http.IncomingMessage, form: URLSearchParams, t: Tenant, endpoint: string) => {
    const client = await authenticate(req, form, t, `${issuerOf(t)}/token`, `${issuerOf(t)}${endpoint}`);
    if (!client) throw invalidClient('no client authentication');
    return client;
  };

  // RFC 7662: only the client a token was issued to learns about it; anything else is inactive.
  const introspectionEndpoint = async (req: http.IncomingMessage, res: http.ServerResponse, t: Tenant) => {
    const form = new URLSearchParams(await readBody(req));
    const client = await clientAuthAt(req, form, t, '/introspect');
    const token = form.get('token');
    if (!token) throw new Refusal(400, 'invalid_request', "missing required parameter 'token'", 'no token');
    const found = await lookUpToken(token, t);
    const inactive = (reason: string) => send(res, 200, { active: false }, { 'x-lab-reason': reason, 'cache-control': 'no-store' });
    if (!found) return inactive('unknown, expired or malformed token');
    if (found.kind === 'refresh_token') {
      const e = found.entry;
      if (e.clientId !== client.clientId) return inactive('the token was issued to another client');
      if (!e.active) return inactive('the refresh token was used, rotated out or revoked');
      return send(res, 200, { active: true, token_type: 'refresh_token', client_id: e.clientId, sub: LAB_USER, iss: issuerOf(t), ...(e.scope ? { scope: e.scope } : {}), ...(e.cnf ? { cnf: { 'x5t#S256': e.cnf } } : {}) }, { 'cache-control': 'no-store' });
    }
    const c = found.claims;
    if (c.client_id !== client.clientId) return inactive('the token was issued to another client');
    if (typeof c.jti === 'string' && revokedJti.has(c.jti)) return inactive('the access token was revoked');
    return send(res, 200, { active: true, token_type: 'Bearer', ...c }, { 'cache-control': 'no-store' });
  };

  // RFC 7009: 200 whether or not the token was known (§2.2); a refresh token takes its grant with it.
  const revocationEndpoint = async (req: http.IncomingMessage, res: http.ServerResponse, t: Tenant) => {
    const form = new URLSearchParams(await readBody(req));
    const client = await clientAuthAt(req, form, t, '/revoke');
    const token = form.get('token');
    if (!token) throw new Refusal(400, 'invalid_request', "missing required parameter 'token'", 'no token');
    const found = await lookUpToken(token, t);
    let reason = 'unknown token: nothing to revoke';
    if (found?.kind === 'refresh_token' && found.entry.clientId === client.clientId) {
      for (const [k, v] of refreshTokens) if (v.family === found.entry.family) refreshTokens.set(k, { ...v, active: false });
      reason = 'refresh token revoked with its grant';
    } else if (found?.kind === 'access_token' && found.claims.client_id === client.clientId && typeof found.claims.jti === 'string') {
      revokedJti.set(found.claims.jti, Date.now());
      reason = 'access token revoked';
    } else if (found) {
      reason = 'the token was issued to another client: not revoked';
    }
    send(res, 200, '', { 'x-lab-reason': reason, 'content-type': 'text/plain' });
  };

  const exchangeEndpoint = async (req: http.IncomingMessage, res: http.ServerResponse, t: Tenant) => {
    const form = new URLSearchParams(await readBody(req));
    const clientId = form.get('client_id');
    const client = clientId ? clients.get(clientId) : undefined;
    if (!client?.secret || !client.grants.has('jwt-exchange')) throw invalidClient(`client ${String(clientId)} may not use the JWT exchange`);
    if (!equalSecret(form.get('client_secret') ?? '', client.secret)) throw invalidClient('wrong client secret');
    const jwt = form.get('jwt_token');
    if (!jwt) throw new Refusal(400, 'invalid_request', "missing required parameter 'jwt_token'", 'no jwt_token');
    // The seed's jwt_token carries no aud; one that does must name this server.
    const payload = await verifyClientJwt(jwt, client, [`${issuerOf(t)}/exchange`, `${issuerOf(t)}/token`, issuerOf(t)], 'jwt_token', invalidGrant, t, true);
    if (payload.iss !== client.clientId) throw invalidGrant('jwt_token iss is not the client_id');
    if (typeof payload.sub !== 'string') throw invalidGrant('jwt_token has no sub');
    replayCheck(client.clientId, payload.jti, false, invalidGrant, t);
    return send(res, 200, await issueTokens(t, client, { sub: payload.sub, scope: '', refresh: 'none' }));
  };

  const resourceEndpoint = async (req: http.IncomingMessage, res: http.ServerResponse, t: Tenant) => {
    const challenge = (error: string, description: string) => send(res, 401, { error, error_description: description }, { 'www-authenticate': `Bearer realm="harness-lab", error="${error}", error_description="${description}"` });
    const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (!m) return send(res, 401, { error: 'invalid_request', error_description: 'no Bearer token' }, { 'www-authenticate': 'Bearer realm="harness-lab"' });
    let payload;
    try {
      if (t.apiSkipsSignature) payload = decodeJwt(m[1]!); // the weakness: claims read, never verified
      else ({ payload } = await jwtVerify(m[1]!, createLocalJWKSet({ keys: [serverPublic as JWK] }), { algorithms: ['RS256'], audience: `${origin}/api` }));
    } catch (err) {
      return challenge('invalid_token', (err as { code?: string }).code === 'ERR_JWT_EXPIRED' ? 'the access token expired' : 'the access token is not valid here');
    }
    if (typeof payload.iss !== 'string' || !TENANTS.some((t) => issuerOf(t) === payload.iss)) return challenge('invalid_token', 'unknown issuer');
    if (typeof payload.jti === 'string' && revokedJti.has(payload.jti)) return challenge('invalid_token', 'the access token was revoked');
    const bound = (payload.cnf as Record<string, unknown> | undefined)?.['x5t#S256'];
    if (bound !== undefined && !t.apiIgnoresBinding && bound !== peerThumbprint(req.socket as TLSSocket)) return challenge('invalid_token', 'the token is bound to another client certificate');
    return send(res, 200, { ok: true, message: 'Access token accepted by the harness lab.', sub: payload.sub, client_id: payload.client_id, scope: payload.scope ?? null, certificateBound: bound !== undefined });
  };

  const keyResourceEndpoint = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const key = req.headers.apikey;
    const user = req.headers.username;
    if (typeof key !== 'string' || typeof user !== 'string') return send(res, 401, { error: 'missing_credentials', message: 'send the apiKey and username headers' });
    if (!equalSecret(key, LAB_API_KEY) || user !== LAB_API_USER) return send(res, 403, { error: 'forbidden', message: 'API key not valid for this user' }, { 'x-lab-reason': !equalSecret(key, LAB_API_KEY) ? 'unknown API key' : 'the key belongs to another user' });
    return send(res, 200, { ok: true, message: 'API key accepted by the harness lab.', username: user });
  };

  const authorizeEndpoint = (req: http.IncomingMessage, res: http.ServerResponse, t: Tenant) => {
    const q = new URL(req.url ?? '/', authorizeOrigin).searchParams;
    const page = (status: number, text: string) => send(res, status, `<!doctype html><meta charset="utf-8"><title>Lab authorization error</title><h1>Authorization request refused</h1><p>${text.replace(/[<>&"]/g, '')}</p>`);
    const client = clients.get(q.get('client_id') ?? '');
    const redirectUri = q.get('redirect_uri') ?? '';
    // Unregistered redirect URIs get a page, never a redirect (RFC 6749 §4.1.2.1).
    if (!client) return page(400, `unknown client_id ${q.get('client_id') ?? '(none)'}`);
    if (!LOOPBACK_CALLBACK.test(redirectUri)) return page(400, `redirect_uri ${redirectUri || '(none)'} is not registered: the lab accepts the harness's loopback /callback/<key> URIs`);
    const back = (params: Record<string, string>) => {
      const u = new URL(redirectUri);
      for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
      if (!t.dropState && q.get('state') !== null) u.searchParams.set('state', t.alterState ? `${q.get('state')!}x` : q.get('state')!);
      u.searchParams.set('iss', issuerOf(t));
      res.writeHead(302, { location: u.toString(), 'cache-control': 'no-store', connection: 'close' }).end();
    };
    if (q.get('response_type') !== 'code') return back({ error: 'unsupported_response_type', error_description: 'only response_type=code is supported' });
    if (!client.grants.has('authorization_code')) return back({ error: 'unauthorized_client', error_description: 'this client may not use the authorization code flow' });
    const challenge = q.get('code_challenge') ?? undefined;
    if (challenge && (q.get('code_challenge_method') ?? 'plain') !== 'S256') return back({ error: 'invalid_request', error_description: 'code_challenge_method must be S256' });
    if (!challenge && client.method === 'none') return back({ error: 'invalid_request', error_description: 'PKCE is required for public clients' });
    const scope = (q.get('scope') ?? '').split(/\s+/).filter(Boolean);
    const unknown = scope.filter((s) => !LAB_SCOPES.includes(s));
    if (unknown.length) return back({ error: 'invalid_scope', error_description: `unknown scope ${unknown.join(' ')}` });
    const code = randomBytes(24).toString('base64url');
    codes.set(code, { clientId: client.clientId, tenant: t, redirectUri, ...(challenge ? { challenge } : {}), scope: scope.join(' '), ...(q.get('nonce') ? { nonce: q.get('nonce')! } : {}), expiresAt: Date.now() + LAB_TOKEN_DEFAULTS.codeSec * 1000, used: false });
    return back({ code });
  };

  const tenantOf = (path: string): { t: Tenant; rest: string } => {
    const t = TENANTS.find((x) => x.prefix && path.startsWith(`${x.prefix}/`));
    return t ? { t, rest: path.slice(t.prefix.length) } : { t: TENANTS[0]!, rest: path };
  };

  const handle = (listener: 'token' | 'authorize') => async (req: http.IncomingMessage, res: http.ServerResponse) => {
    try {
      const path = new URL(req.url ?? '/', 'https://lab.invalid').pathname;
      // RFC 8414 puts the issuer's path after the well-known name.
      const wk = /^\/\.well-known\/oauth-authorization-server(\/t\/[a-z-]+)?$/.exec(path);
      const wkTenant = wk ? TENANTS.find((t) => t.prefix === (wk[1] ?? '')) : undefined;
      if (wk && !wkTenant) return send(res, 404, { error: 'not_found' });
      const { t, rest } = wkTenant ? { t: wkTenant, rest: '/.well-known/oauth-authorization-server' } : tenantOf(path);
      const route = `${req.method} ${rest}`;
      if (listener === 'authorize') {
        if (route === 'GET /authorize') return authorizeEndpoint(req, res, t);
        return send(res, 404, { error: 'not_found', message: 'this port serves only /authorize' });
      }
      switch (route) {
        case 'GET /.well-known/openid-configuration':
        case 'GET /.well-known/oauth-authorization-server':
          return send(res, 200, metadata(t));
        case 'GET /jwks':
          return send(res, 200, { keys: [serverPublic] }, { 'content-type': 'application/jwk-set+json' });
        case 'POST /token':
          return await tokenEndpoint(req, res, t);
        case 'POST /exchange':
          return await exchangeEndpoint(req, res, t);
        case 'POST /introspect':
          return await introspectionEndpoint(req, res, t);
        case 'POST /revoke':
          return await revocationEndpoint(req, res, t);
        case 'GET /api/resource':
        case 'POST /api/resource':
          req.resume();
          return await resourceEndpoint(req, res, t);
        case 'GET /api/key-resource':
        case 'POST /api/key-resource':
          req.resume();
          return keyResourceEndpoint(req, res);
        default:
          req.resume();
          return send(res, rest === '/token' || rest === '/exchange' ? 405 : 404, { error: 'not_found' });
      }
    } catch (err) {
      if (err instanceof Refusal) {
        const headers: Record<string, string> = { 'x-lab-reason': err.reason.replace(/[^\x20-\x7e]/g, '?').slice(0, 300) };
        if (err.status === 401 && req.headers.authorization) headers['www-authenticate'] = `Basic realm="${origin}", error="${err.error}"`;
        return send(res, err.status, { error: err.error, error_description: err.description }, headers);
      }
      return send(res, 500, { error: 'server_error', error_description: 'the lab failed to handle this request' });
    }
  };
  tokenServer.on('request', handle('token'));
  authorizeServer.on('request', handle('authorize'));

  const targets: LabTarget[] = [
    ...TENANTS.map((t) => ({ id: t.name || 'issuer', title: t.title, url: issuerOf(t), expect: t.expect })),
    { id: 'token', title: 'Lab token endpoint', url: `${origin}/token`, expect: 'client_credentials, authorization_code, refresh_token and RFC 7523 jwt-bearer with every client authentication method; refuses like real servers (one opaque invalid_client).' },
    { id: 'jwt-exchange', title: 'Lab JWT exchange', url: `${origin}/exchange`, expect: 'POST client_id=lab-seed, client_secret=lab-seed-secret and jwt_token (iss=lab-seed, sub, exp within 5 min, aud if any this server, each jti once, signed with the lab demo key or a registered one).' },
    { id: 'api', title: 'Lab protected API', url: `${origin}/api/resource`, expect: 'Accepts a lab access token as Bearer; a certificate-bound token needs the same client certificate.' },
    { id: 'apikey', title: 'Lab API-key API', url: `${origin}/api/key-resource`, expect: `apiKey: ${LAB_API_KEY} and username: ${LAB_API_USER} → 200; a wrong key → 403; missing headers → 401.` },
  ];

  const service: LabTokenService = {
    issuer: origin,
    authorizeOrigin,
    targets,
    facts: {
      // The demo clients only: a client register() makes is its session's, not the lab's.
      clients: [...clients.values()].map((c) => ({ clientId: c.clientId, method: c.method, ...(c.secret ? { secret: c.secret } : {}) })),
      issuers: TENANTS.map((t) => t.name || 'issuer'),
      registeredClientPrefix: LAB_REGISTERED_PREFIX,
      apiKey: { key: LAB_API_KEY, username: LAB_API_USER },
    },
    demo: {
      signingKeyPem: await exportPkcs8Pem((await importJWK(keys.demoKey, 'RS256', { extractable: true })) as CryptoKey),
      signingKid: demoKid,
      selfSigned: { certificatePem: keys.selfSignedCertPem, privateKeyPem: keys.selfSignedKeyPem },
    },
    knownClient(url, clientId) {
      let u: URL;
      try {
        u = new URL(url);
      } catch {
        return undefined;
      }
      if (u.origin !== origin) return undefined;
      const c = clients.get(clientId);
      return c ? { method: c.method, ...(c.jwks ? { jwks: c.jwks } : {}) } : undefined;
    },
    async register(reg, opts = {}) {
      const method: LabAuthMethod = reg.method ?? 'private_key_jwt';
      const problem = labJwkProblem(reg.publicJwk, { selfSigned: method === 'self_signed_tls_client_auth' });
      if (problem) throw new LabRegistrationRefused('jwk_invalid', problem);
      const owner = opts.owner ?? '';
      const thumb = await calculateJwkThumbprint(reg.publicJwk as JWK);
      const kid = reg.publicJwk.kid ?? thumb;
      const jwk: PublicJwk = { ...reg.publicJwk, kid };
      if (reg.publicJwk.x5c?.[0]) jwk['x5t#S256'] = createHash('sha256').update(Buffer.from(reg.publicJwk.x5c[0], 'base64')).digest('base64url');
      // One client per (registrant, key): the same key registered by another session is another
      // client, so nobody can change the method of, or be handed the secret of, someone else's.
      const clientId = `${LAB_REGISTERED_PREFIX}${createHash('sha256').update(`${owner}\0${thumb}`).digest('base64url').slice(0, 12)}`;
      const existing = registrations.get(clientId);
      const mine = owned.get(owner) ?? new Set<string>();
      if (!existing) {
        const perOwner = opts.maxPerOwner ?? Infinity;
        if (mine.size >= perOwner) throw new LabRegistrationRefused('too_many_registrations', `at most ${perOwner} lab clients per session; they are forgotten when the session closes`);
        if (registrations.size >= (opts.maxTotal ?? Infinity)) throw new LabRegistrationRefused('too_many_registrations', 'the lab holds as many registered clients as it accepts; try again later');
      }
      clearTimeout(existing?.timer);
      const secret = clients.get(clientId)?.secret ?? randomBytes(18).toString('base64url');
      add({ clientId, method, secret, jwks: { keys: [jwk] }, grants: new Set([...all, 'jwt-exchange']), boundTokens: method === 'self_signed_tls_client_auth' });
      const timer = opts.ttlMs ? setTimeout(() => forgetClient(clientId), opts.ttlMs) : undefined;
      timer?.unref();
      registrations.set(clientId, { owner, timer });
      mine.add(clientId);
      owned.set(owner, mine);
      return { clientId, clientSecret: secret, kid, method, issuer: origin, tokenUrl: `${origin}/token` };
    },
    forget(owner) {
      for (const clientId of owned.get(owner) ?? []) forgetClient(clientId);
    },
    get registered() {
      return registrations.size;
    },
    issueRefreshToken(clientId, scope = 'offline_access') {
      const client = clients.get(clientId);
      if (!client) throw new TypeError(`no lab client ${clientId}`);
      const rt = randomBytes(32).toString('base64url');
      refreshTokens.set(rt, { clientId, tenant: TENANTS[0]!, scope, family: randomBytes(8).toString('hex'), active: true });
      return rt;
    },
    close: async () => {
      await Promise.all([tokenServer, authorizeServer].map((s) => new Promise<void>((ok) => {
        s.close(() => ok());
        s.closeAllConnections();
      })));
    },
  };
  return service;
}
