// Every token flow end to end against the built-in lab's authorization server: the passing
// paths, and each refusal with the diagnosis the harness must give from its own checks.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { generateKeyPair, type CryptoKey } from 'jose';
import type { FlowRequest, ClientAuth } from '../../shared/flows/flow-request.ts';
import type { Step } from '../../shared/protocol/index.ts';
import { templateClaims, newJti, type JwtTemplate, type TemplateInput } from '../../shared/jwt/claims.ts';
import { signJwt, importSigningKey, publicJwkOf } from '../../shared/jwt/sign.ts';
import { generateKeyPair as pkiKeyPair, createCsr, exportPkcs8Pem, selfSign, issue } from '../../shared/pki/issue.ts';
import { validateLimits } from '../defaults.ts';
import { startLab, type RunningLab } from '../lab/lab.ts';
import { runFlow, type FlowResult } from './run.ts';
import { startCallbackListener, type CallbackListener } from './callback-listener.ts';
import { followRedirects } from './user-agent.ts';
import { signClientSecretJwt } from './client-secret-jwt.ts';

let lab: RunningLab;
let listener: CallbackListener;
let iss: string;
let demoKey: CryptoKey;
let demoKid: string;
let otherKey: CryptoKey;
let labClient: { certificatePem: string; privateKeyPem: string };
let strangerClient: { certificatePem: string; privateKeyPem: string };
const t = (id: string) => lab.info.targets.find((x) => x.id === id)!.url;

before(async () => {
  lab = await startLab({ dataDir: await mkdtemp(join(tmpdir(), 'flows-lab-')) });
  listener = await startCallbackListener();
  iss = lab.tokens!.issuer;
  demoKey = await importSigningKey(lab.tokens!.demo.signingKeyPem, 'RS256');
  demoKid = lab.tokens!.demo.signingKid;
  otherKey = (await generateKeyPair('RS256', { extractable: true })).privateKey;
  const keys = await pkiKeyPair('P-256', true);
  const signed = await lab.signCsr(await createCsr(keys, 'CN=lab-client, O=mTLS Harness Lab'));
  labClient = { certificatePem: signed.certificatePem, privateKeyPem: await exportPkcs8Pem(keys.privateKey) };
  const strangerKeys = await pkiKeyPair('P-256', true);
  strangerClient = { certificatePem: (await selfSign(strangerKeys, { subject: 'CN=stranger', profile: 'client' })).toString('pem'), privateKeyPem: await exportPkcs8Pem(strangerKeys.privateKey) };
});

after(async () => {
  await listener.close();
  await lab.close();
});

interface Run extends FlowResult {
  events: Step[];
  json: string;
  step(id: string): Step;
}

async function run(flow: FlowRequest, opts: { follow?: boolean } = {}): Promise<Run> {
  const events: Step[] = [];
  const result = await runFlow(flow, {
    limits: validateLimits(),
    relayOrigin: listener.origin,
    callbacks: listener.callbacks,
    lab,
    onStep: (s) => events.push(s),
    openAuthorizationUrl: (url) => {
      // As `harness run` does: once the lab's redirects are followed, a wait that saw only ignored ones ends.
      if (opts.follow !== false) followRedirects(url, { ca: [lab.serverCaPem] }).then(() => listener.callbacks.settle(url), () => {});
    },
  });
  const final = new Map(events.map((s) => [s.id, s]));
  return { ...result, events, json: JSON.stringify(events), step: (id) => final.get(id)! };
}

async function jwt(template: JwtTemplate, input: Omit<TemplateInput, 'now'> & { now?: number }, key = demoKey, kid = demoKid): Promise<string> {
  return signJwt(templateClaims(template, { now: Date.now(), jti: newJti(), ...input }), { alg: 'RS256', kid }, key);
}

const assertion = (o: Partial<TemplateInput> = {}, key?: CryptoKey, kid?: string) => jwt('client-assertion', { clientId: 'lab-pkjwt', audience: `${iss}/token`, ...o }, key, kid);
const basic: ClientAuth = { method: 'client_secret_basic', clientId: 'lab-basic', clientSecret: 'lab-basic-secret' };

function expectPass(r: Run, diagnoses: string[] = []) {
  assert.equal(r.outcome, 'pass', r.events.filter((s) => s.status === 'fail').map((s) => `${s.id}: ${s.summary} ${JSON.stringify(s.diagnosis?.evidence)}`).join('\n'));
  assert.deepEqual(r.diagnoses, diagnoses);
}

function expectFail(r: Run, code: string, at?: string) {
  assert.equal(r.outcome, 'fail');
  assert.equal(r.diagnoses[0], code, JSON.stringify(r.events.filter((s) => s.diagnosis).map((s) => s.diagnosis)));
  if (at) assert.equal(r.step(at).diagnosis?.code, code);
  assert.equal(r.step('verdict').status, 'fail');
}

// ---- discovery

test('discovery: metadata and JWKS', async () => {
  const r = await run({ kind: 'discovery', issuer: iss });
  expectPass(r);
  assert.deepEqual(r.events.filter((s) => s.status !== 'running').map((s) => s.id), ['inputs', 'discovery', 'jwks', 'verdict']);
  const d = r.step('discovery').details as { metadata: { token_endpoint: string }; attempts: unknown[] };
  assert.equal(d.metadata.token_endpoint, `${iss}/token`);
  assert.equal(d.attempts.length, 1);
});

test('discovery: RFC 8414 path for a tenant issuer, and failures', async () => {
  expectPass(await run({ kind: 'discovery', issuer: t('no-state') }));
  expectFail(await run({ kind: 'discovery', issuer: `${iss}/` }), 'discovery_issuer_mismatch', 'discovery');
  const missing = await run({ kind: 'discovery', issuer: `${iss}/nothing-here` });
  expectFail(missing, 'discovery_not_found', 'discovery');
  assert.equal((missing.step('discovery').details as { attempts: unknown[] }).attempts.length, 2);
  expectFail(await run({ kind: 'discovery', issuer: 'https://localhost:1' }), 'connect_refused', 'discovery');
  expectFail(await run({ kind: 'discovery', issuer: 'not a url' }), 'input_invalid', 'inputs');
});

// ---- client credentials, every client authentication method

test('client_credentials: each client authentication method, token verified, API called', async () => {
  const call = { url: t('api') };
  const cases: [string, FlowRequest][] = [
    ['client_secret_basic', { kind: 'client-credentials', issuer: iss, clientAuth: basic, scope: 'orders:read', call }],
    ['client_secret_post', { kind: 'client-credentials', tokenUrl: t('token'), clientAuth: { method: 'client_secret_post', clientId: 'lab-post', clientSecret: 'lab-post-secret' }, jwksUrl: `${iss}/jwks`, call }],
    ['private_key_jwt', { kind: 'client-credentials', issuer: iss, clientAuth: { method: 'private_key_jwt', clientId: 'lab-pkjwt', clientAssertions: [await assertion()] }, call }],
    ['tls_client_auth', { kind: 'client-credentials', issuer: iss, clientAuth: { method: 'tls_client_auth', clientId: 'lab-mtls' }, tls: { client: labClient }, call }],
    ['self_signed_tls_client_auth', { kind: 'client-credentials', issuer: iss, clientAuth: { method: 'self_signed_tls_client_auth', clientId: 'lab-selfsigned' }, tls: { client: lab.tokens!.demo.selfSigned }, call }],
  ];
  for (const [name, flow] of cases) {
    const r = await run(flow);
    expectPass(r);
    const token = r.step('token').details as { accessToken: { verification: { verified: boolean }; binding?: { matches: boolean } } };
    assert.equal(token.accessToken.verification.verified, true, name);
    if (name.includes('tls')) assert.equal(token.accessToken.binding?.matches, true, `${name}: cnf x5t#S256 matches the certificate`);
    assert.equal(r.step('call').status, 'ok', name);
    assert.doesNotMatch(r.json, /lab-(basic|post)-secret/, `${name}: no secret in the events`);
  }
});

test('client_credentials refusals are explained from the harness\'s own checks', async () => {
  const cc = (clientAuth: ClientAuth, extra: Partial<Extract<FlowRequest, { kind: 'client-credentials' }>> = {}): FlowRequest => ({ kind: 'client-credentials', issuer: iss, clientAuth, ...extra });
  const cases: [string, FlowRequest, string][] = [
    ['wrong secret', cc({ ...basic, clientSecret: 'nope' }), 'client_secret_rejected'],
    ['unknown client', cc({ ...basic, clientId: 'nobody' }), 'client_secret_rejected'],
    ['registered for another method', cc({ method: 'client_secret_basic', clientId: 'lab-pkjwt', clientSecret: 'x' }), 'auth_method_mismatch'],
    ['expired assertion', cc({ method: 'private_key_jwt', clientId: 'lab-pkjwt', clientAssertions: [await assertion({ now: Date.now() - 600_000 })] }), 'jwt_expired'],
    ['assertion for the issuer\'s wrong path', cc({ method: 'private_key_jwt', clientId: 'lab-pkjwt', clientAssertions: [await assertion({ audience: `${iss}/oauth/token` })] }), 'jwt_audience_mismatch'],
    ['unknown key', cc({ method: 'private_key_jwt', clientId: 'lab-pkjwt', clientAssertions: [await assertion({}, otherKey, 'not-registered')] }), 'jwt_key_unknown'],
    ['certificate from another CA', cc({ method: 'tls_client_auth', clientId: 'lab-mtls' }, { tls: { client: strangerClient } }), 'client_ca_not_acceptable'],
    ['unknown scope', cc(basic, { scope: 'admin' }), 'scope_rejected'],
  ];
  for (const [name, flow, code] of cases) {
    const r = await run(flow);
    expectFail(r, code, 'exchange');
    assert.equal(r.step('token').status, 'skipped', name);
    const response = (r.step('exchange').details as { response: { status: number; headers: Record<string, string> } }).response;
    assert.ok(response.headers['x-lab-reason'], `${name}: the lab's real reason is shown to trainers`);
  }
  const noCert = await run(cc({ method: 'tls_client_auth', clientId: 'lab-mtls' }));
  expectFail(noCert, 'input_invalid', 'inputs');
});

test('refusals whose cause the harness found itself name it (inferred), not the generic code', async () => {
  // An expired certificate from the lab's own CA: the Inputs step warns cert_expired, the lab says only invalid_client.
  const keys = await pkiKeyPair('P-256', true);
  const day = 86_400_000;
  const old = await issue(keys.publicKey, lab.pki.clientCa, { subject: 'CN=lab-client-expired', profile: 'client', notBefore: new Date(Date.now() - 30 * day), notAfter: new Date(Date.now() - day) });
  const expiredClient = { certificatePem: old.toString('pem'), privateKeyPem: await exportPkcs8Pem(keys.privateKey) };
  const r = await run({ kind: 'client-credentials', issuer: iss, clientAuth: { method: 'tls_client_auth', clientId: 'lab-mtls' }, tls: { client: expiredClient } });
  expectFail(r, 'client_cert_expired', 'exchange');
  assert.equal(r.step('inputs').status, 'warn');
  assert.match(JSON.stringify(r.step('inputs').details), /cert_expired/);
  const d = r.step('exchange').diagnosis!;
  assert.equal(d.inferred, true, 'the lab did not say why: the diagnosis is marked inferred');
  assert.ok(d.evidence.some((e) => /^Inputs step cert_expired:/.test(e)), d.evidence.join(' | '));
});

test('registered keys at hand: the assertion\'s kid and signature are checked against them', async () => {
  // A client registered with its own kid, as partners register keys.
  const pair = await generateKeyPair('ES256', { extractable: true });
  const publicJwk = await publicJwkOf(pair.publicKey, 'partner-2026');
  const reg = await lab.tokens!.register({ publicJwk });
  assert.equal(reg.kid, 'partner-2026');
  const sign = (kid: string, key = pair.privateKey) => signJwt(templateClaims('client-assertion', { now: Date.now(), clientId: reg.clientId, audience: reg.tokenUrl, jti: newJti() }), { alg: 'ES256', kid }, key);
  const cc = async (a: string, registeredJwks?: { keys: (typeof publicJwk)[] }) => run({ kind: 'client-credentials', issuer: iss, clientAuth: { method: 'private_key_jwt', clientId: reg.clientId, clientAssertions: [a] }, ...(registeredJwks ? { registeredJwks } : {}) });
  expectPass(await cc(await sign('partner-2026')));
  // The default kid, the key's thumbprint: the registered key verifies, under another kid.
  const thumb = (await publicJwkOf(pair.publicKey)).kid!;
  const byThumb = await cc(await sign(thumb), { keys: [publicJwk] });
  expectFail(byThumb, 'jwt_key_unknown', 'exchange');
  assert.match(byThumb.step('exchange').summary ?? '', /verifies with the registered key "partner-2026".*RFC 7638 thumbprint/);
  // The registered kid on another key's signature.
  const other = (await generateKeyPair('ES256', { extractable: true })).privateKey;
  const wrongKey = await cc(await sign('partner-2026', other), { keys: [publicJwk] });
  expectFail(wrongKey, 'jwt_signature_mismatch', 'exchange');
  assert.doesNotMatch(JSON.stringify(wrongKey.step('exchange').diagnosis), /cannot see the server's registration/);
});

test('a browser-made key registered with the lab authenticates with private_key_jwt', async () => {
  const pair = await generateKeyPair('ES256', { extractable: true });
  const publicJwk = await publicJwkOf(pair.publicKey);
  const reg = await lab.tokens!.register({ publicJwk });
  assert.match(reg.clientId, /^lab-reg-/);
  const a = await signJwt(templateClaims('client-assertion', { now: Date.now(), clientId: reg.clientId, audience: reg.tokenUrl, jti: newJti() }), { alg: 'ES256', kid: reg.kid }, pair.privateKey);
  expectPass(await run({ kind: 'client-credentials', issuer: iss, clientAuth: { method: 'private_key_jwt', clientId: reg.clientId, clientAssertions: [a] } }));
  assert.equal((await lab.tokens!.register({ publicJwk })).clientId, reg.clientId, 'registering the same key again gives the same client');
});

// ---- JWT exchange and RFC 7523

test('jwt-exchange: the form-encoded jwt_token exchange', async () => {
  const flow = (jwtToken: string, extra: Partial<Extract<FlowRequest, { kind: 'jwt-exchange' }>> = {}): FlowRequest => ({ kind: 'jwt-exchange', tokenUrl: t('jwt-exchange'), clientId: 'lab-seed', clientSecret: 'lab-seed-secret', jwt: jwtToken, jwksUrl: `${iss}/jwks`, call: { url: t('api') }, ...extra });
  const ok = await run(flow(await jwt('seed', { clientId: 'lab-seed', subject: 'user-7' })));
  expectPass(ok);
  const body = (ok.step('exchange').details as { request: { body: string } }).request.body;
  assert.match(body, /^client_id=lab-seed&client_secret=••••••&jwt_token=••••••$/);
  expectFail(await run(flow(await jwt('seed', { clientId: 'lab-seed', subject: 'u', now: Date.now() - 300_000 }))), 'jwt_expired', 'exchange');
  expectFail(await run(flow(await jwt('seed', { clientId: 'lab-seed', subject: 'u' }), { clientSecret: 'wrong' })), 'client_secret_rejected', 'exchange');
  expectFail(await run(flow(await jwt('seed', { clientId: 'lab-seed', subject: 'u' }, otherKey, 'mine'))), 'jwt_key_unknown', 'exchange');
  expectFail(await run(flow(await jwt('seed', { clientId: 'lab-seed', subject: 'u', lifetimeSec: 3600 }))), 'jwt_lifetime_too_long', 'exchange');
  expectFail(await run(flow('not-a-jwt')), 'jwt_malformed', 'inputs');
  // A renamed field is masked under its new name, in the display and in the curl command.
  const renamed = await run(flow(await jwt('seed', { clientId: 'lab-seed', subject: 'u' }), { fieldNames: { jwt: 'seed_token', clientSecret: 'key' } }));
  const d = renamed.step('exchange').details as { request: { body: string }; curl: string };
  assert.match(d.request.body, /key=••••••&seed_token=••••••/);
  assert.match(d.curl, /"key=\$\{KEY\}".*"seed_token=\$\{SEED_TOKEN\}"/);
  // The lab reads only the standard names, so it sees no secret at all.
  expectFail(renamed, 'client_secret_rejected', 'exchange');
});

test('jwt-bearer: RFC 7523 grant, and its refusals', async () => {
  const grant = (a: string): FlowRequest => ({ kind: 'jwt-bearer', issuer: iss, assertion: a, scope: 'orders:read', call: { url: t('api') } });
  const bearer = (o: Partial<TemplateInput> = {}, key?: CryptoKey, kid?: string) => jwt('jwt-bearer', { clientId: 'lab-seed', subject: 'user-9', audience: `${iss}/token`, ...o }, key, kid);
  expectPass(await run(grant(await bearer())));
  expectFail(await run(grant(await bearer({ audience: 'https://wrong.example/token' }))), 'jwt_audience_mismatch', 'exchange');
  expectFail(await run(grant(await bearer({ now: Date.now() - 900_000 }))), 'jwt_expired', 'exchange');
  expectFail(await run(grant(await bearer({}, otherKey, 'other')))   , 'jwt_key_unknown', 'exchange');
  expectFail(await run(grant(await bearer({ claims: { sub: undefined } as never }))), 'grant_assertion_rejected', 'exchange');
});

// ---- refresh

test('refresh-token: rotation, and a rotated-out token refused', async () => {
  const rt = lab.tokens!.issueRefreshToken('lab-basic');
  const flow: FlowRequest = { kind: 'refresh-token', issuer: iss, refreshToken: rt, clientAuth: basic };
  const r = await run(flow);
  expectPass(r);
  assert.match(r.step('exchange').summary!, /rotated refresh token/);
  expectFail(await run(flow), 'refresh_token_rejected', 'exchange');
  expectFail(await run({ ...flow, refreshToken: 'made-up-token' }), 'refresh_token_rejected', 'exchange');
});

// ---- authorization code

test('authorization code + PKCE + state: redirect, exchange, call, refresh', async () => {
  const r = await run({ kind: 'authorization-code', issuer: iss, clientAuth: basic, scope: 'openid offline_access orders:read', redirectKey: 'lab-test', call: { url: t('api') } });
  expectPass(r);
  assert.deepEqual(r.events.filter((s) => s.status !== 'running').map((s) => s.id), ['inputs', 'discovery', 'authorize', 'callback', 'exchange', 'token', 'call', 'refresh', 'verdict']);
  const authorize = r.step('authorize').details as { authorizationUrl: string; redirectUri: string; state: string };
  const url = new URL(authorize.authorizationUrl);
  assert.equal(url.origin, lab.tokens!.authorizeOrigin);
  assert.equal(url.searchParams.get('redirect_uri'), `${listener.origin}/callback/lab-test`);
  assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
  assert.equal(url.searchParams.get('state'), authorize.state);
  assert.match((r.step('callback').details as { query: string }).query, /code=••••••/);
  assert.equal((r.step('token').details as { idToken: { verification: { verified: boolean } } }).idToken.verification.verified, true);
  assert.match(r.step('refresh').summary!, /refresh token works/);
});

test('authorization code: a fixed redirect URI where this run does not listen stops at the inputs, nothing sent', async () => {
  const r = await run({ kind: 'authorization-code', issuer: iss, clientAuth: basic, redirectUri: 'http://127.0.0.1:1/callback/fixed' });
  assert.equal(r.outcome, 'fail');
  assert.equal(r.step('inputs').status, 'fail');
  assert.match(JSON.stringify(r.step('inputs')), /redirectUri http:\/\/127\.0\.0\.1:1\/callback\/fixed is not where this run listens/);
  assert.equal(r.step('authorize')?.status ?? 'skipped', 'skipped');
});

test('authorization code: public client with PKCE, and private_key_jwt with one assertion per token request', async () => {
  expectPass(await run({ kind: 'authorization-code', issuer: iss, clientAuth: { method: 'none', clientId: 'lab-public' }, scope: 'offline_access' }));
  const pk = (n: number) => Promise.all(Array.from({ length: n }, () => assertion()));
  expectPass(await run({ kind: 'authorization-code', issuer: iss, clientAuth: { method: 'private_key_jwt', clientId: 'lab-pkjwt', clientAssertions: await pk(2) } }));
  const short = await run({ kind: 'authorization-code', issuer: iss, clientAuth: { method: 'private_key_jwt', clientId: 'lab-pkjwt', clientAssertions: await pk(1) } });
  expectFail(short, 'input_invalid', 'refresh');
});

test('authorization code against the failing tenants', async () => {
  const flow = (issuer: string, extra: object = {}): FlowRequest => ({ kind: 'authorization-code', issuer, clientAuth: basic, scope: 'offline_access', call: { url: t('api') }, ...extra });
  expectFail(await run(flow(t('no-state'))), 'state_missing', 'callback');
  expectFail(await run(flow(t('altered-state'))), 'state_mismatch', 'callback');
  const revoked = await run(flow(t('revoked-token')));
  expectPass(revoked, ['api_token_rejected']);
  const tail = revoked.events.filter((s) => s.status !== 'running').map((s) => `${s.id}:${s.status}`).slice(-4);
  assert.deepEqual(tail, ['call:warn', 'refresh:ok', 'call-retry:ok', 'verdict:warn'], 'a 401, one refresh, one retry');
  expectFail(await run(flow(t('no-refresh'))), 'refresh_token_missing', 'refresh');
  const optional = await run(flow(t('no-refresh'), { requireRefreshToken: false }));
  expectPass(optional, ['refresh_token_missing']);
  const bad = await run(flow(t('bad-refresh')));
  expectFail(bad, 'refresh_token_rejected', 'refresh');
  assert.equal(bad.step('refresh').summary, 'The provider refused the refresh token it had just issued.');
  const short = await run(flow(t('short-tokens')));
  expectPass(short, ['access_token_short_lived']);
  assert.match(short.step('refresh').summary!, /expires within 10 s: refreshed before the call/);
  const ids = short.events.filter((s) => s.status !== 'running').map((s) => s.id);
  assert.ok(ids.indexOf('refresh') < ids.indexOf('call'), 'refreshed before calling');
});

test('authorization code: nobody comes back', async () => {
  const r = await run({ kind: 'authorization-code', issuer: iss, clientAuth: basic, callbackTimeoutMs: 1000 }, { follow: false });
  expectFail(r, 'callback_timeout', 'callback');
  assert.equal(r.step('exchange').status, 'skipped');
});

// ---- API key

test('api-key: accepted, refused, and custom header names masked', async () => {
  expectPass(await run({ kind: 'api-key', url: t('apikey'), apiKey: 'lab-api-key', username: 'lab-user' }));
  expectFail(await run({ kind: 'api-key', url: t('apikey'), apiKey: 'wrong-key-123', username: 'lab-user' }), 'api_key_rejected', 'call');
  const renamed = await run({ kind: 'api-key', url: t('apikey'), apiKey: 'lab-api-key', username: 'lab-user', headerNames: { apiKey: 'X-Partner-Key', username: 'X-Partner-User' } });
  expectFail(renamed, 'api_key_rejected', 'call');
  const req = (renamed.step('call').details as { request: { headers: Record<string, string> }; curl: string });
  assert.equal(req.request.headers['X-Partner-Key'], '••••••');
  assert.equal(req.request.headers['X-Partner-User'], 'lab-user');
  assert.match(req.curl, /"X-Partner-Key: \$\{X_PARTNER_KEY\}"/);
  assert.doesNotMatch(renamed.json, /lab-api-key/);
});

// ---- client_secret_jwt (RFC 7523 §2.2): the relay signs an HS256 assertion with the secret

const secretJwt: ClientAuth = { method: 'client_secret_jwt', clientId: 'lab-secretjwt', clientSecret: 'lab-secretjwt-secret' };

test('client_secret_jwt: every grant that authenticates the client, a fresh assertion each time, secret and assertion masked', async () => {
  const cc = await run({ kind: 'client-credentials', issuer: iss, clientAuth: secretJwt, scope: 'orders:read', call: { url: t('api') } });
  expectPass(cc);
  const shown = (cc.step('exchange').details as { clientAssertion: { header: { alg: string }; claims: Record<string, unknown>; signature: string } }).clientAssertion;
  assert.equal(shown.header.alg, 'HS256');
  assert.equal(shown.claims.iss, 'lab-secretjwt');
  assert.equal(shown.claims.sub, 'lab-secretjwt');
  assert.equal(shown.claims.aud, `${iss}/token`);
  assert.equal(typeof shown.claims.jti, 'string');
  assert.ok((shown.claims.exp as number) > (shown.claims.iat as number));
  const code = await run({ kind: 'authorization-code', issuer: iss, clientAuth: secretJwt, scope: 'openid offline_access orders:read', redirectKey: 'lab-secretjwt' });
  expectPass(code);
  assert.equal(code.step('refresh').status, 'ok', 'the refresh request carried its own assertion (the lab refuses a replayed jti)');
  const refresh = await run({ kind: 'refresh-token', issuer: iss, clientAuth: secretJwt, refreshToken: lab.tokens!.issueRefreshToken('lab-secretjwt') });
  expectPass(refresh);
  for (const r of [cc, code, refresh]) {
    assert.doesNotMatch(r.json, /lab-secretjwt-secret/, 'no secret in the events');
    // No signed HS256 JWT (header {"alg":"HS256","typ":"JWT"}) appears whole anywhere.
    assert.doesNotMatch(r.json, /eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9\.[\w-]+\.[\w-]{20,}/, 'no assertion in the events');
  }
});

test('client_secret_jwt refusals: a wrong secret is a signature mismatch, another registration a method mismatch', async () => {
  const wrong = await run({ kind: 'client-credentials', issuer: iss, clientAuth: { ...secretJwt, clientSecret: 'not-the-secret' } });
  expectFail(wrong, 'client_secret_jwt_rejected', 'exchange');
  assert.match(wrong.step('exchange').summary!, /signature mismatch/);
  assert.match((wrong.step('exchange').details as { response: { headers: Record<string, string> } }).response.headers['x-lab-reason']!, /HMAC signature mismatch/);
  assert.doesNotMatch(wrong.json, /not-the-secret/);
  expectFail(await run({ kind: 'client-credentials', issuer: iss, clientAuth: { ...secretJwt, clientId: 'lab-basic', clientSecret: 'lab-basic-secret' } }), 'auth_method_mismatch', 'exchange');
  expectFail(await run({ kind: 'client-credentials', issuer: iss, clientAuth: { ...basic, clientId: 'lab-secretjwt', clientSecret: 'lab-secretjwt-secret' } }), 'auth_method_mismatch', 'exchange');
});

// ---- introspection (RFC 7662) and revocation (RFC 7009)

/** A client_credentials access token straight from the lab (the flows never hand tokens out). */
async function labAccessToken(clientId = 'lab-basic', secret = 'lab-basic-secret'): Promise<string> {
  const form: Record<string, string> = { grant_type: 'client_credentials', scope: 'orders:read' };
  // lab-secretjwt takes only an HS256 assertion.
  if (clientId === 'lab-secretjwt') Object.assign(form, { client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: await signClientSecretJwt(clientId, secret, `${iss}/token`) });
  const body = new URLSearchParams(form).toString();
  const text = await new Promise<string>((resolve, reject) => {
    const req = https.request(`${iss}/token`, { method: 'POST', ca: lab.serverCaPem, headers: { 'content-type': 'application/x-www-form-urlencoded', ...(clientId === 'lab-secretjwt' ? {} : { authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}` }) } }, (res) => {
      let data = '';
      res.on('data', (c) => (data += c)).on('end', () => resolve(data));
    });
    req.on('error', reject).end(body);
  });
  return (JSON.parse(text) as { access_token: string }).access_token;
}

test('introspect: the lab advertises its endpoint; active tokens show their claims, any client authentication works', async () => {
  const discovery = await run({ kind: 'discovery', issuer: iss });
  assert.equal((discovery.step('discovery').details as { metadata: { introspection_endpoint: string } }).metadata.introspection_endpoint, `${iss}/introspect`);
  const rt = lab.tokens!.issueRefreshToken('lab-basic', 'offline_access');
  const r = await run({ kind: 'introspect', issuer: iss, token: rt, tokenTypeHint: 'refresh_token', clientAuth: basic });
  expectPass(r);
  assert.deepEqual(r.events.filter((s) => s.status !== 'running').map((s) => s.id), ['inputs', 'discovery', 'introspect', 'verdict']);
  const answer = (r.step('introspect').details as { answer: Record<string, unknown> }).answer;
  assert.equal(answer.active, true);
  assert.equal(answer.client_id, 'lab-basic');
  assert.match(r.step('introspect').summary!, /^active · token_type refresh_token · client_id lab-basic/);
  assert.ok(!r.json.includes(rt), 'the token is masked');
  const at = await labAccessToken('lab-secretjwt', 'lab-secretjwt-secret');
  const jwtAuth = await run({ kind: 'introspect', introspectionUrl: `${iss}/introspect`, token: at, clientAuth: secretJwt });
  expectPass(jwtAuth);
  assert.equal((jwtAuth.step('introspect').details as { answer: { scope: string } }).answer.scope, 'orders:read');
  assert.ok(!jwtAuth.json.includes(at) && !jwtAuth.json.includes('lab-secretjwt-secret'));
  const pkjwt = await run({ kind: 'introspect', issuer: iss, token: at, clientAuth: { method: 'private_key_jwt', clientId: 'lab-pkjwt', clientAssertions: [await assertion()] } });
  expectFail(pkjwt, 'token_inactive', 'introspect');
  assert.equal((pkjwt.step('introspect').details as { response: { headers: Record<string, string> } }).response.headers['x-lab-reason'], 'the token was issued to another client');
});

test('introspect: an inactive token, expectActive false, and refusals', async () => {
  expectFail(await run({ kind: 'introspect', issuer: iss, token: 'made-up-token', clientAuth: basic }), 'token_inactive', 'introspect');
  expectPass(await run({ kind: 'introspect', issuer: iss, token: 'made-up-token', clientAuth: basic, expectActive: false }));
  expectFail(await run({ kind: 'introspect', issuer: iss, token: 't', clientAuth: { ...basic, clientSecret: 'nope' } }), 'client_secret_rejected', 'introspect');
  expectFail(await run({ kind: 'introspect', issuer: iss, token: 't', clientAuth: { ...secretJwt, clientSecret: 'nope' } }), 'client_secret_jwt_rejected', 'introspect');
  const notFound = await run({ kind: 'introspect', introspectionUrl: `${iss}/introspection`, token: 't', clientAuth: basic });
  expectFail(notFound, 'endpoint_not_found', 'introspect');
  assert.match(notFound.step('introspect').summary!, /introspection endpoint answered HTTP 404/);
});

test('revoke: a refresh token and an access token, each proven gone', async () => {
  const rt = lab.tokens!.issueRefreshToken('lab-basic');
  const r = await run({ kind: 'revoke', issuer: iss, token: rt, tokenTypeHint: 'refresh_token', clientAuth: basic, introspectAfter: true });
  expectPass(r);
  assert.deepEqual(r.events.filter((s) => s.status !== 'running').map((s) => s.id), ['inputs', 'discovery', 'revoke', 'introspect', 'verdict']);
  assert.match(r.step('introspect').summary!, /not active: the revoked token is gone/);
  expectFail(await run({ kind: 'refresh-token', issuer: iss, refreshToken: rt, clientAuth: basic }), 'refresh_token_rejected', 'exchange');
  const at = await labAccessToken('lab-secretjwt', 'lab-secretjwt-secret');
  const byJwt = await run({ kind: 'revoke', issuer: iss, token: at, clientAuth: secretJwt, introspectAfter: true, call: { url: t('api') } });
  expectPass(byJwt);
  assert.equal(byJwt.step('call').summary, 'refused: the revoked token no longer works');
  assert.ok(!byJwt.json.includes(at));
  // Without a proof, the answer says that a 200 proves nothing.
  const bare = await run({ kind: 'revoke', revocationUrl: `${iss}/revoke`, token: 'made-up', clientAuth: basic });
  expectPass(bare);
  assert.match(bare.step('revoke').summary!, /answers 200 for an unknown token too/);
  expectFail(await run({ kind: 'revoke', issuer: iss, token: 'x', clientAuth: { ...basic, clientSecret: 'nope' } }), 'client_secret_rejected', 'revoke');
});

test('revoke and introspect against a server that accepts revocations and ignores them', async () => {
  // A real hostile server on loopback: revocation answers 200, introspection always "active", the API takes anything.
  const hostile = http.createServer((req, res) => {
    req.resume();
    const json = (body: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (req.url === '/revoke') return res.writeHead(200).end();
    if (req.url === '/introspect') return json({ active: true, client_id: 'lab-basic' });
    if (req.url === '/not-introspection') return json({ ok: true });
    return json({ ok: true });
  });
  await new Promise<void>((ok) => hostile.listen(0, '127.0.0.1', ok));
  const base = `http://127.0.0.1:${(hostile.address() as AddressInfo).port}`;
  try {
    const flow = { kind: 'revoke', revocationUrl: `${base}/revoke`, token: 'tok-123456', clientAuth: basic } as const;
    expectFail(await run({ ...flow, introspectAfter: true, introspectionUrl: `${base}/introspect` }), 'token_still_active', 'introspect');
    expectFail(await run({ ...flow, call: { url: `${base}/api` } }), 'token_still_active', 'call');
    expectFail(await run({ kind: 'introspect', introspectionUrl: `${base}/not-introspection`, token: 'tok-123456', clientAuth: basic }), 'introspection_response_invalid', 'introspect');
  } finally {
    await new Promise<void>((ok) => hostile.close(() => ok()));
  }
});
