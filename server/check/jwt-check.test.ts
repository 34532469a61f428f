// The JWT check against real token endpoints: the lab's strict tenant grades A for every kind,
// each lab weakness tenant is caught by exactly its cases, and oidc-provider 9 (a certified
// OpenID provider) is graded for private_key_jwt as it is configured out of the box and with a
// lifetime policy. Bad input is refused before a packet is sent; no key or secret gets out.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import net from 'node:net';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';
import * as oidcProvider from 'oidc-provider';
import type { CheckReport } from '../../shared/check/messages.ts';
import { CheckInputError } from '../../shared/check/request.ts';
import type { JwtCheckRequest } from '../../shared/check/jwt-request.ts';
import type { PublicJwk } from '../../shared/jwt/keys.ts';
import { jwtCasesFor, type JwtCheckKind } from '../../shared/check/jwt-cases.ts';
import { validateLimits } from '../defaults.ts';
import { startLab, type RunningLab } from '../lab/lab.ts';
import { hostedPolicy } from '../net/outbound-guard.ts';
import { runJwtCheck } from './jwt-check.ts';

let lab: RunningLab;
let op: https.Server;
let opIssuer: string;
const opKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
const OP_KEY_PEM = opKey.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
// oidc-provider 9 exports its errors by name (its typings still say Provider.errors).
const opErrors = (oidcProvider as unknown as { errors: { InvalidClientAuth: new (description: string) => Error } }).errors;
/** Longest client assertion the policy client accepts (exp − iat), like the lab. */
const POLICY_MAX_SEC = 300;

before(async () => {
  lab = await startLab({ dataDir: await mkdtemp(join(tmpdir(), 'harness-jwt-check-')) });
  const jwk = { ...opKey.publicKey.export({ format: 'jwk' }), kid: 'check-key-1', use: 'sig', alg: 'RS256' };
  op = https.createServer({ cert: lab.pki.serverCertPem, key: lab.pki.serverKeyPem });
  await new Promise<void>((ok) => op.listen(0, '127.0.0.1', ok));
  opIssuer = `https://localhost:${(op.address() as AddressInfo).port}`;
  const client = (id: string) => ({ client_id: id, token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [jwk] }, grant_types: ['client_credentials'], response_types: [], redirect_uris: [] });
  const provider = new Provider(opIssuer, {
    clients: [client('pkjwt-default'), client('pkjwt-policy')],
    clientAuthMethods: ['private_key_jwt'],
    features: { devInteractions: { enabled: false }, clientCredentials: { enabled: true } },
    // oidc-provider's documented hook for extra assertion rules: a lifetime and iat policy,
    // for one client only, to show what the default leaves to the deployment.
    async assertJwtClientAuthClaimsAndHeader(_ctx: unknown, claims: { iat?: number; exp: number }, _header: unknown, c: { clientId: string }) {
      if (c.clientId !== 'pkjwt-policy') return;
      const now = Math.floor(Date.now() / 1000);
      if (typeof claims.iat !== 'number' || claims.iat > now + 15) throw new opErrors.InvalidClientAuth('iat missing or in the future');
      if (claims.exp - claims.iat > POLICY_MAX_SEC) throw new opErrors.InvalidClientAuth('client assertion lives too long');
    },
  });
  op.on('request', provider.callback());
});

after(async () => {
  op.closeAllConnections();
  await new Promise<void>((ok) => op.close(() => ok()));
  await lab.close();
});

function labRequest(kind: JwtCheckKind, tenant = ''): JwtCheckRequest {
  const t = lab.tokens!;
  const key = { privateKeyPem: t.demo.signingKeyPem, kid: t.demo.signingKid };
  const base = `${t.issuer}${tenant ? `/t/${tenant}` : ''}`;
  switch (kind) {
    case 'private_key_jwt':
      return { kind, tokenUrl: `${base}/token`, clientId: 'lab-pkjwt', ...key };
    case 'jwt-bearer':
      return { kind, tokenUrl: `${base}/token`, clientId: 'lab-pkjwt', subject: 'lab-user', ...key };
    case 'exchange':
      return { kind, tokenUrl: `${base}/exchange`, clientId: 'lab-seed', clientSecret: 'lab-seed-secret', subject: 'lab-user', ...key };
  }
}

const check = (req: JwtCheckRequest) => runJwtCheck(req, { limits: validateLimits(), lab });

function byVerdict(report: CheckReport, verdict: string): string[] {
  return report.cases.filter((c) => c.verdict === verdict).map((c) => c.caseId).sort();
}

const KINDS: JwtCheckKind[] = ['private_key_jwt', 'jwt-bearer', 'exchange'];

test('the lab\'s strict tenant refuses every negative assertion: grade A for all three kinds', async () => {
  for (const kind of KINDS) {
    const report = await check(labRequest(kind));
    assert.equal(report.grade, 'A', `${kind}: ${report.summary}`);
    assert.deepEqual(report.cases.map((c) => c.caseId), jwtCasesFor(kind), kind);
    for (const c of report.cases) {
      assert.equal(c.observed, c.caseId === 'valid' ? 'accepted' : 'refused', `${kind} ${c.caseId}: ${c.reason}`);
      assert.ok(c.steps.some((s) => s.id === 'exchange'), `${kind} ${c.caseId} has its token request in its timeline`);
    }
    // Each refusal is the server's own answer, quoted.
    assert.match(report.cases.find((c) => c.caseId === 'alg_none')!.evidence.join(' '), /HTTP 40[01] .*|error: invalid_(grant|client)/);
    assert.match(report.summary, new RegExp(`^JWT check of https://localhost:\\d+/(token|exchange) \\(${kind}\\): grade A — ${report.cases.length}/${report.cases.length} cases as required$`));
  }
});

const WEAKNESSES: [tenant: string, notEnforced: string[], grade: string][] = [
  ['jwt-alg-none', ['alg_none'], 'F'],
  ['jwt-no-exp', ['expired', 'long_lifetime', 'missing_exp'], 'F'],
  ['jwt-any-aud', ['wrong_aud'], 'D'],
  ['jwt-no-jti', ['replayed_jti'], 'B'],
  ['jwt-hmac-confusion', ['hs256_public_key'], 'F'],
  ['jwt-ignore-crit', ['unknown_crit'], 'B'],
  ['jwt-embedded-jwk', ['embedded_jwk'], 'F'],
];

test('each lab weakness tenant is caught by exactly the cases it should, for every kind', async () => {
  for (const [tenant, notEnforced, grade] of WEAKNESSES) {
    for (const kind of KINDS) {
      const report = await check(labRequest(kind, tenant));
      assert.deepEqual(byVerdict(report, 'not_enforced'), notEnforced, `${tenant} ${kind}: ${report.summary}`);
      assert.deepEqual(byVerdict(report, 'inconclusive'), [], `${tenant} ${kind}`);
      assert.equal(report.grade, grade, `${tenant} ${kind}: ${report.summary}`);
      for (const id of notEnforced) assert.match(report.summary, new RegExp(`NOT enforced: .*${id} \\(`), `${tenant} ${kind}`);
    }
  }
});

test('EC P-256 and Ed25519 keys sign every case too (ES256, EdDSA; the confusion and jwk cases with the key\'s own type)', async () => {
  for (const [type, opts] of [['ec', { namedCurve: 'P-256' }], ['ed25519', {}]] as const) {
    const kp = generateKeyPairSync(type as 'ec', opts as { namedCurve: string });
    const reg = await lab.tokens!.register({ publicJwk: { ...(kp.publicKey.export({ format: 'jwk' }) as Record<string, string>), kid: `check-${type}` } as unknown as PublicJwk });
    const req = (tenant: string): JwtCheckRequest => ({ kind: 'private_key_jwt', tokenUrl: `${lab.tokens!.issuer}${tenant}/token`, clientId: reg.clientId, privateKeyPem: kp.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), kid: reg.kid });
    const strict = await check(req(''));
    assert.equal(strict.grade, 'A', `${type}: ${strict.summary}`);
    assert.equal(strict.cases[0]!.assertion?.header.alg, type === 'ec' ? 'ES256' : 'EdDSA');
    for (const [tenant, id] of [['/t/jwt-hmac-confusion', 'hs256_public_key'], ['/t/jwt-embedded-jwk', 'embedded_jwk']] as const) {
      assert.deepEqual(byVerdict(await check(req(tenant)), 'not_enforced'), [id], `${type} ${tenant}`);
    }
  }
});

test('oidc-provider, private_key_jwt: out of the box it checks everything but iat and the lifetime; with a lifetime policy it grades A', async () => {
  const opReq = (clientId: string): JwtCheckRequest => ({ kind: 'private_key_jwt', tokenUrl: `${opIssuer}/token`, clientId, privateKeyPem: OP_KEY_PEM, kid: 'check-key-1', caPem: lab.serverCaPem });
  const plain = await check(opReq('pkjwt-default'));
  assert.deepEqual(byVerdict(plain, 'not_enforced'), ['iat_future', 'long_lifetime'], plain.summary);
  assert.equal(plain.grade, 'B');
  for (const c of plain.cases.filter((x) => x.verdict === 'enforced' && x.caseId !== 'valid')) {
    assert.match(c.evidence.join(' '), /HTTP 40[01] error: invalid_(client|request)/, `${c.caseId}: oidc-provider's refusal`);
  }
  const policy = await check(opReq('pkjwt-policy'));
  assert.equal(policy.grade, 'A', policy.summary);
  assert.deepEqual(byVerdict(policy, 'enforced'), [...jwtCasesFor('private_key_jwt')].sort());
});

test('oidc-provider has no RFC 7523 jwt-bearer grant: it does not advertise one, the valid assertion is refused, grade F', async () => {
  const metadata = await new Promise<{ grant_types_supported: string[] }>((resolve, reject) => {
    https.get(`${opIssuer}/.well-known/openid-configuration`, { ca: lab.serverCaPem }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c));
      res.on('end', () => resolve(JSON.parse(body)));
    }).on('error', reject);
  });
  assert.ok(!metadata.grant_types_supported.includes('urn:ietf:params:oauth:grant-type:jwt-bearer'), metadata.grant_types_supported.join(' '));
  const report = await check({ kind: 'jwt-bearer', tokenUrl: `${opIssuer}/token`, clientId: 'pkjwt-default', privateKeyPem: OP_KEY_PEM, kid: 'check-key-1', caPem: lab.serverCaPem });
  const valid = report.cases.find((c) => c.caseId === 'valid')!;
  assert.equal(valid.verdict, 'not_enforced');
  assert.match(valid.evidence.join(' '), /HTTP 400 error: invalid_request/);
  assert.equal(report.grade, 'F');
  assert.match(report.summary, /NOT enforced: valid \(refuses the valid assertion\)/);
  assert.equal(report.cases.find((c) => c.caseId === 'replayed_jti')!.verdict, 'inconclusive', 'no replay is judged when the valid assertion did not pass');
});

test('bad input is refused with the field named, before anything is signed or sent', async () => {
  let connections = 0;
  const counter = net.createServer((s) => { connections++; s.destroy(); });
  await new Promise<void>((ok) => counter.listen(0, '127.0.0.1', ok));
  const url = `https://127.0.0.1:${(counter.address() as AddressInfo).port}/token`;
  const rsa = lab.tokens!.demo.signingKeyPem;
  const dsa = generateKeyPairSync('dsa', { modulusLength: 2048, divisorLength: 256 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const ok: JwtCheckRequest = { kind: 'private_key_jwt', tokenUrl: url, clientId: 'c', privateKeyPem: rsa };
  const cases: [Partial<Record<keyof JwtCheckRequest, unknown>>, string, RegExp][] = [
    [{ kind: 'saml' }, 'kind', /exchange, jwt-bearer, private_key_jwt/],
    [{ tokenUrl: 'http://127.0.0.1/token' }, 'tokenUrl', /https:\/\//],
    [{ tokenUrl: 'not a url' }, 'tokenUrl', /not a URL/],
    [{ tokenUrl: 'https://user:pw@127.0.0.1/token' }, 'tokenUrl', /user name or password/],
    [{ clientId: '' }, 'clientId', /client id/],
    [{ clientId: 'a\nb' }, 'clientId', /control characters/],
    [{ kind: 'exchange' }, 'clientSecret', /client secret/],
    [{ clientSecret: 's3cret-canary' }, 'clientSecret', /only the exchange/],
    [{ privateKeyPem: 'nope' }, 'privateKeyPem', /not PEM/],
    [{ privateKeyPem: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n' }, 'privateKeyPem', /not a readable, unencrypted PEM private key/],
    [{ privateKeyPem: dsa }, 'privateKeyPem', /dsa keys are not supported/],
    [{ issuer: 'someone-else' }, 'issuer', /iss and sub are the client id/],
    [{ kid: ' padded' }, 'kid', /without surrounding spaces/],
  ];
  for (const [change, field, message] of cases) {
    await assert.rejects(check({ ...ok, ...change } as JwtCheckRequest), (err: unknown) => {
      assert.ok(err instanceof CheckInputError, String(err));
      assert.equal(err.field, field, JSON.stringify(change).slice(0, 80));
      assert.match(err.message, message);
      assert.ok(!err.message.includes('PRIVATE KEY') && !err.message.includes('s3cret-canary'), 'no key or secret in the message');
      return true;
    });
  }
  // Hosted mode: the outbound guard refuses a loopback literal by name.
  await assert.rejects(runJwtCheck(ok, { limits: validateLimits(), policy: hostedPolicy({ allowedPorts: [Number(new URL(url).port)] }) }), (err: unknown) => err instanceof CheckInputError && err.field === 'tokenUrl');
  assert.equal(connections, 0, 'nothing was sent');
  await new Promise<void>((done) => counter.close(() => done()));
});

test('the key, the client secret and the assertions that pass never reach an event or the report', async () => {
  const req = labRequest('exchange');
  const seen: unknown[] = [];
  const report = await runJwtCheck(req, { limits: validateLimits(), lab, onStarted: (c) => seen.push(c), onStep: (id, s) => seen.push(id, s), onCase: (c) => seen.push(c) });
  const text = JSON.stringify([seen, report]);
  assert.equal(report.grade, 'A');
  const keyBody = req.privateKeyPem.replace(/-----[^-]+-----|\s/g, '');
  for (const chunk of [keyBody.slice(0, 40), keyBody.slice(-40), 'PRIVATE KEY', req.clientSecret!]) assert.ok(!text.includes(chunk), `leaked: ${chunk.slice(0, 12)}…`);
  // The assertions themselves are bearer credentials while they live: only header and claims are shown.
  const valid = report.cases.find((c) => c.caseId === 'valid')!;
  assert.equal(typeof valid.assertion?.claims.jti, 'string');
  assert.ok(!/eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{20,}/.test(JSON.stringify(report.cases.map((c) => c.steps))), 'no signed assertion in any timeline');
});
