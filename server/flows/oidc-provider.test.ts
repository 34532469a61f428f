// Interop with a certified OpenID provider: oidc-provider 9, in-process on loopback over HTTPS
// with the test PKI's server certificate (a Node https server around provider.callback(), asking
// for client certificates as a deployment doing mTLS must). The provider refuses the way real
// servers do — one opaque invalid_client — and the harness must still name the cause.
import { rfc4514FromNodeDn } from '../../shared/pki/names.ts';
import { autoConsent } from './testing/oidc-consent.ts';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import { createLocalJWKSet, exportJWK, generateKeyPair, jwtVerify, type CryptoKey, type JWK } from 'jose';
import Provider from 'oidc-provider';
import type { ClientAuth, FlowRequest } from '../../shared/flows/flow-request.ts';
import type { Step } from '../../shared/protocol/index.ts';
import { newJti, templateClaims, type TemplateInput } from '../../shared/jwt/claims.ts';
import { publicJwkOf, signJwt } from '../../shared/jwt/sign.ts';
import type { PublicJwk } from '../../shared/jwt/keys.ts';
import { makeTestPki, type TestPki } from '../testing/test-pki.ts';
import { validateLimits } from '../defaults.ts';
import { runFlow, type FlowResult } from './run.ts';
import { startCallbackListener, type CallbackListener } from './callback-listener.ts';
import { followRedirects } from './user-agent.ts';

const API = 'https://api.harness.test/';
const REDIRECT_KEY = 'oidc-interop';
const SECRET_JWT_SECRET = 'secret-jwt-secret-1-of-a-length-fit-for-every-hmac-alg-0123456789';

let pki: TestPki;
let server: https.Server;
let listener: CallbackListener;
let issuer: string;
let signingKey: CryptoKey;
let signingJwk: PublicJwk;
let strangerKey: CryptoKey;
let providerKeys: JWK[];
let provider: Provider;

/** The subject DN as the deployment compares it: RFC 4514 (RFC 8705 section 2.1.2), most specific first. */
function subjectDn(socket: TLSSocket): string | undefined {
  const subject = socket.getPeerX509Certificate()?.subject;
  return subject === undefined ? undefined : rfc4514FromNodeDn(subject);
}


/** A resource server for the provider's JWT access tokens, checking certificate binding (RFC 8705). */
async function api(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const send = (status: number, body: object, headers: Record<string, string> = {}): void => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
  };
  const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
  if (!token) return send(401, { error: 'invalid_request' }, { 'www-authenticate': 'Bearer' });
  try {
    const { payload } = await jwtVerify(token, createLocalJWKSet({ keys: providerKeys }), { issuer, audience: API });
    const bound = (payload.cnf as Record<string, string> | undefined)?.['x5t#S256'];
    const cert = (req.socket as TLSSocket).getPeerX509Certificate();
    if (bound && bound !== (cert ? createHash('sha256').update(cert.raw).digest('base64url') : undefined)) throw new Error('binding');
    return send(200, { ok: true, sub: payload.sub });
  } catch {
    return send(401, { error: 'invalid_token' }, { 'www-authenticate': 'Bearer error="invalid_token"' });
  }
}

before(async () => {
  pki = await makeTestPki();
  listener = await startCallbackListener();
  const harness = await generateKeyPair('RS256', { extractable: true });
  signingKey = harness.privateKey;
  signingJwk = await publicJwkOf(harness.publicKey, 'harness-key-1');
  strangerKey = (await generateKeyPair('RS256', { extractable: true })).privateKey;
  const opKey = await generateKeyPair('RS256', { extractable: true });
  const opPrivate = { ...(await exportJWK(opKey.privateKey)), kid: 'op-1', alg: 'RS256', use: 'sig' };
  providerKeys = [{ ...(await exportJWK(opKey.publicKey)), kid: 'op-1', alg: 'RS256', use: 'sig' }];

  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.writeHead(503).end();
  server = https.createServer({ cert: pki.server.cert, key: pki.server.key, ca: pki.clientCa.cert, requestCert: true, rejectUnauthorized: false }, (req, res) => handler(req, res));
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  issuer = `https://localhost:${(server.address() as AddressInfo).port}`;

  provider = new Provider(issuer, {
    clients: [
      { client_id: 'cc-basic', client_secret: 'basic-secret-1', token_endpoint_auth_method: 'client_secret_basic', grant_types: ['client_credentials'], response_types: [], redirect_uris: [] },
      { client_id: 'cc-post', client_secret: 'post-secret-1', token_endpoint_auth_method: 'client_secret_post', grant_types: ['client_credentials'], response_types: [], redirect_uris: [] },
      { client_id: 'cc-secretjwt', client_secret: SECRET_JWT_SECRET, token_endpoint_auth_method: 'client_secret_jwt', grant_types: ['client_credentials'], response_types: [], redirect_uris: [] },
      { client_id: 'cc-pkjwt', token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [signingJwk] }, grant_types: ['client_credentials'], response_types: [], redirect_uris: [] },
      {
        client_id: 'cc-mtls', token_endpoint_auth_method: 'tls_client_auth', tls_client_auth_subject_dn: 'CN=test-client, O=Harness Tests',
        tls_client_certificate_bound_access_tokens: true, grant_types: ['client_credentials'], response_types: [], redirect_uris: [],
      },
      { client_id: 'web', client_secret: 'web-secret-1', token_endpoint_auth_method: 'client_secret_basic', grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], redirect_uris: [`${listener.origin}/callback/${REDIRECT_KEY}`] },
    ],
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt', 'tls_client_auth', 'none'],
    jwks: { keys: [opPrivate] },
    cookies: { keys: ['harness-interop-cookie-key'] },
    scopes: ['openid', 'offline_access', 'api:read'],
    findAccount: async (_ctx: unknown, id: string) => ({ accountId: id, claims: async () => ({ sub: id }) }),
    issueRefreshToken: async (_ctx: unknown, client: { grantTypeAllowed(g: string): boolean }) => client.grantTypeAllowed('refresh_token'),
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => API,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({ scope: 'api:read', audience: API, accessTokenFormat: 'jwt', accessTokenTTL: 300, jwt: { sign: { alg: 'RS256' } } }),
      },
      mTLS: {
        enabled: true,
        certificateBoundAccessTokens: true,
        tlsClientAuth: true,
        getCertificate: (ctx: { socket: TLSSocket }) => ctx.socket.getPeerX509Certificate() ?? undefined,
        certificateAuthorized: (ctx: { socket: TLSSocket }) => ctx.socket.authorized,
        certificateSubjectMatches: (ctx: { socket: TLSSocket }, property: string, expected: string) => property === 'tls_client_auth_subject_dn' && subjectDn(ctx.socket) === expected,
      },
    },
  });
  const callback = provider.callback();
  handler = (req, res) => {
    const path = (req.url ?? '').split('?')[0]!;
    if (path.startsWith('/interaction/')) autoConsent(provider, req, res).catch(() => res.writeHead(500).end());
    else if (path === '/api') api(req, res).catch(() => res.writeHead(500).end());
    else callback(req, res);
  };
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((ok) => server.close(() => ok()));
  await listener.close();
});

interface Run extends FlowResult {
  step(id: string): Step;
}

async function run(flow: FlowRequest): Promise<Run> {
  const events: Step[] = [];
  const result = await runFlow(flow, {
    limits: validateLimits(),
    relayOrigin: listener.origin,
    callbacks: listener.callbacks,
    lab: null,
    onStep: (s) => events.push(s),
    openAuthorizationUrl: (url) => { followRedirects(url, { ca: [pki.serverCa.cert] }).catch(() => {}); },
  });
  const final = new Map(events.map((s) => [s.id, s]));
  return { ...result, step: (id) => final.get(id)! };
}

const tls = () => ({ caPem: pki.serverCa.cert });
const assertion = (o: Partial<TemplateInput> = {}, key = signingKey, kid = 'harness-key-1') =>
  signJwt(templateClaims('client-assertion', { now: Date.now(), clientId: 'cc-pkjwt', audience: `${issuer}/token`, jti: newJti(), ...o }), { alg: 'RS256', kid }, key);
const cc = (clientAuth: ClientAuth, extra: object = {}): FlowRequest => ({ kind: 'client-credentials', issuer, clientAuth, tls: tls(), ...extra });

function explain(r: Run): string {
  return JSON.stringify([...['inputs', 'discovery', 'authorize', 'callback', 'exchange', 'token', 'call', 'refresh'].map((id) => r.step(id)).filter((s) => s?.diagnosis).map((s) => ({ id: s.id, d: s.diagnosis, details: s.details && 'response' in s.details ? s.details.response : undefined }))]);
}

test('oidc-provider: client_credentials with each client authentication method', async () => {
  const cases: [string, FlowRequest][] = [
    ['client_secret_basic', cc({ method: 'client_secret_basic', clientId: 'cc-basic', clientSecret: 'basic-secret-1' })],
    ['client_secret_post', cc({ method: 'client_secret_post', clientId: 'cc-post', clientSecret: 'post-secret-1' })],
    ['private_key_jwt', cc({ method: 'private_key_jwt', clientId: 'cc-pkjwt', clientAssertions: [await assertion()] })],
    ['client_secret_jwt', cc({ method: 'client_secret_jwt', clientId: 'cc-secretjwt', clientSecret: SECRET_JWT_SECRET })],
    ['tls_client_auth', cc({ method: 'tls_client_auth', clientId: 'cc-mtls' }, { tls: { ...tls(), client: { certificatePem: pki.client.cert, privateKeyPem: pki.client.key } }, call: { url: `${issuer}/api` } })],
  ];
  for (const [name, flow] of cases) {
    const r = await run(flow);
    assert.equal(r.outcome, 'pass', `${name}: ${explain(r)}`);
    const at = r.step('token').details as { accessToken: { format: string; claims: { aud: string }; verification: { verified: boolean }; binding?: { matches: boolean } } };
    assert.equal(at.accessToken.format, 'jwt', name);
    assert.equal(at.accessToken.claims.aud, API, name);
    assert.equal(at.accessToken.verification.verified, true, `${name}: verified against the provider's JWKS`);
    if (name === 'tls_client_auth') {
      assert.equal(at.accessToken.binding?.matches, true, 'certificate-bound token: cnf x5t#S256 is the client certificate');
      assert.equal(r.step('call').status, 'ok');
    }
  }
});

test('oidc-provider: refusals explained although the provider says only invalid_client', async () => {
  const cases: [string, FlowRequest, string][] = [
    ['wrong secret', cc({ method: 'client_secret_basic', clientId: 'cc-basic', clientSecret: 'basic-secret-0' }), 'client_secret_rejected'],
    ['client_secret_jwt, wrong secret', cc({ method: 'client_secret_jwt', clientId: 'cc-secretjwt', clientSecret: 'secret-jwt-secret-0' }), 'client_secret_jwt_rejected'],
    ['client_secret_jwt, client registered for client_secret_basic', cc({ method: 'client_secret_jwt', clientId: 'cc-basic', clientSecret: 'basic-secret-1' }), 'client_secret_jwt_rejected'],
    ['expired assertion', cc({ method: 'private_key_jwt', clientId: 'cc-pkjwt', clientAssertions: [await assertion({ now: Date.now() - 600_000 })] }), 'jwt_expired'],
    ['wrong aud', cc({ method: 'private_key_jwt', clientId: 'cc-pkjwt', clientAssertions: [await assertion({ audience: 'https://other.example/token' })] }), 'jwt_audience_mismatch'],
    ['unknown key, registration given', cc({ method: 'private_key_jwt', clientId: 'cc-pkjwt', clientAssertions: [await assertion({}, strangerKey, 'stranger')] }, { registeredJwks: { keys: [signingJwk] } }), 'jwt_key_unknown'],
    ['unknown key, registration not known', cc({ method: 'private_key_jwt', clientId: 'cc-pkjwt', clientAssertions: [await assertion({}, strangerKey, 'stranger')] }), 'client_assertion_rejected'],
    ['auth method the provider does not offer', cc({ method: 'self_signed_tls_client_auth', clientId: 'cc-basic' }, { tls: { ...tls(), client: { certificatePem: pki.client.cert, privateKeyPem: pki.client.key } } }), 'auth_method_not_supported'],
    ['tls_client_auth, subject not the registered one', cc({ method: 'tls_client_auth', clientId: 'cc-mtls' }, { tls: { ...tls(), client: { certificatePem: pki.clientWrongCn.cert, privateKeyPem: pki.clientWrongCn.key } } }), 'tls_client_auth_rejected'],
    ['tls_client_auth, certificate from another CA', cc({ method: 'tls_client_auth', clientId: 'cc-mtls' }, { tls: { ...tls(), client: { certificatePem: pki.clientFromOtherCa.cert, privateKeyPem: pki.clientFromOtherCa.key } } }), 'client_ca_not_acceptable'],
  ];
  for (const [name, flow, code] of cases) {
    const r = await run(flow);
    assert.equal(r.outcome, 'fail', name);
    assert.equal(r.diagnoses[0], code, `${name}: ${explain(r)}`);
    const response = (r.step('exchange').details as { response: { status: number; body: string } }).response;
    assert.equal(response.status, 401, name);
    assert.match(response.body, /"invalid_client"/, `${name}: the provider said only invalid_client`);
  }
});

test('oidc-provider: a tls_client_auth refusal lists "registered for another method"; a registration at hand checks the signature; invalid_target keeps its name', async () => {
  const good = { certificatePem: pki.client.cert, privateKeyPem: pki.client.key };
  const mismatch = await run(cc({ method: 'tls_client_auth', clientId: 'cc-basic' }, { tls: { ...tls(), client: good } }));
  assert.equal(mismatch.diagnoses[0], 'tls_client_auth_rejected', explain(mismatch));
  assert.match(mismatch.step('exchange').diagnosis!.evidence.join('\n'), /remaining candidates:.*registered for another authentication method than tls_client_auth/);

  const otherKey = await run(cc({ method: 'private_key_jwt', clientId: 'cc-pkjwt', clientAssertions: [await assertion({}, strangerKey, 'harness-key-1')] }, { registeredJwks: { keys: [signingJwk] } }));
  assert.equal(otherKey.diagnoses[0], 'jwt_signature_mismatch', explain(otherKey));
  assert.match((otherKey.step('exchange').details as { response: { body: string } }).response.body, /"invalid_client"/);

  const target = await run(cc({ method: 'client_secret_basic', clientId: 'cc-basic', clientSecret: 'basic-secret-1' }, { extraParams: { resource: 'https://api.harness.test/#fragment' } }));
  const body = (target.step('exchange').details as { response: { body: string } }).response.body;
  assert.match(body, /"invalid_target"/, 'the provider answered invalid_target');
  assert.equal(target.diagnoses[0], 'resource_target_rejected', explain(target));
  assert.match(target.step('exchange').summary!, /invalid_target/);
});

test('oidc-provider: authorization code + PKCE + state, then refresh, driven headless', async () => {
  const r = await run({
    kind: 'authorization-code', issuer, tls: tls(), redirectKey: REDIRECT_KEY,
    clientAuth: { method: 'client_secret_basic', clientId: 'web', clientSecret: 'web-secret-1' },
    scope: 'openid offline_access api:read',
    extraAuthParams: { prompt: 'consent' },
    call: { url: `${issuer}/api` },
  });
  assert.equal(r.outcome, 'pass', explain(r));
  assert.deepEqual(r.diagnoses, []);
  const url = new URL((r.step('authorize').details as { authorizationUrl: string }).authorizationUrl);
  assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
  assert.equal((r.step('callback').details as { iss: string }).iss, issuer, 'RFC 9207 iss in the response');
  const token = r.step('token').details as { refreshTokenIssued: boolean; idToken: { verification: { verified: boolean } } };
  assert.equal(token.refreshTokenIssued, true);
  assert.equal(token.idToken.verification.verified, true);
  assert.equal(r.step('call').status, 'ok');
  assert.match(r.step('refresh').summary!, /refresh token works/);
});

/** An opaque client_credentials access token the provider stores (its JWT ones cannot be introspected or revoked). */
async function storedToken(clientId: string): Promise<string> {
  // The provider's own models (not in its type declarations): a token it issued and holds.
  const models = provider as unknown as { Client: { find(id: string): Promise<unknown> }; ClientCredentials: new (o: { client: unknown; scope: string }) => { save(): Promise<string> } };
  const token = new models.ClientCredentials({ client: await models.Client.find(clientId), scope: 'api:read' });
  return token.save();
}

test('oidc-provider: introspection (RFC 7662) by discovery, with client_secret_jwt and client_secret_basic', async () => {
  const discovery = await run({ kind: 'discovery', issuer, tls: tls() });
  assert.equal((discovery.step('discovery').details as { metadata: { introspection_endpoint: string } }).metadata.introspection_endpoint, `${issuer}/token/introspection`);
  const at = await storedToken('cc-secretjwt');
  const r = await run({ kind: 'introspect', issuer, tls: tls(), token: at, tokenTypeHint: 'access_token', clientAuth: { method: 'client_secret_jwt', clientId: 'cc-secretjwt', clientSecret: SECRET_JWT_SECRET } });
  assert.equal(r.outcome, 'pass', explain(r));
  const answer = (r.step('introspect').details as { answer: Record<string, unknown> }).answer;
  assert.equal(answer.active, true);
  assert.equal(answer.client_id, 'cc-secretjwt');
  assert.equal(answer.scope, 'api:read');
  const unknown = await run({ kind: 'introspect', issuer, tls: tls(), token: 'not-a-token-of-this-provider', clientAuth: { method: 'client_secret_basic', clientId: 'cc-basic', clientSecret: 'basic-secret-1' } });
  assert.equal(unknown.diagnoses[0], 'token_inactive', explain(unknown));
  const wrong = await run({ kind: 'introspect', issuer, tls: tls(), token: at, clientAuth: { method: 'client_secret_jwt', clientId: 'cc-secretjwt', clientSecret: 'secret-jwt-secret-0' } });
  assert.equal(wrong.diagnoses[0], 'client_secret_jwt_rejected', JSON.stringify(wrong.step('introspect')));
});

test('oidc-provider: revocation (RFC 7009) proven by introspection', async () => {
  const at = await storedToken('cc-basic');
  const basicAuth: ClientAuth = { method: 'client_secret_basic', clientId: 'cc-basic', clientSecret: 'basic-secret-1' };
  const r = await run({ kind: 'revoke', issuer, tls: tls(), token: at, tokenTypeHint: 'access_token', clientAuth: basicAuth, introspectAfter: true });
  assert.equal(r.outcome, 'pass', JSON.stringify([r.step('revoke'), r.step('introspect')]));
  assert.match(r.step('introspect').summary!, /not active: the revoked token is gone/);
  const again = await run({ kind: 'introspect', issuer, tls: tls(), token: at, clientAuth: basicAuth });
  assert.equal(again.diagnoses[0], 'token_inactive');
  const wrong = await run({ kind: 'revoke', issuer, tls: tls(), token: await storedToken('cc-basic'), clientAuth: { ...basicAuth, clientSecret: 'basic-secret-0' } });
  assert.equal(wrong.diagnoses[0], 'client_secret_rejected');
});
