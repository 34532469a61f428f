// The JWT and resource checks over the WebSocket, as the app runs them: check.start with a kind,
// refused at the edge (ProtocolError naming the field) or by the relay (check_invalid naming the
// field) before anything is sent, the outbound guard and checksPerMinute obeyed, and against the
// built-in lab a check whose assertions were signed with a key that stays with the client
// (non-extractable, registered with lab.register) — every case streamed, graded, no secret back.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair } from 'jose';
import { startRelay, type RunningRelay } from '../relay.ts';
import { parseClientMessage, ProtocolError, type ServerMessage } from '../../shared/protocol/index.ts';
import { publicJwkOf } from '../../shared/jwt/sign.ts';
import { planJwtCases, signedCaseIds, spkiPem, type CaseSigningKey } from '../../shared/check/jwt-plan.ts';
import { RelayClient, type Msg } from '../testing/relay-client.ts';
import { boundLabToken } from '../testing/lab-token.ts';

let relay: RunningRelay;
let hosted: RunningRelay;
let limited: RunningRelay;

before(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'check-session-'));
  const base = { port: 0, quiet: true, webRoot: dir };
  [relay, hosted, limited] = await Promise.all([
    startRelay({ ...base, dataDir: join(dir, 'a') }),
    startRelay({ ...base, dataDir: join(dir, 'b'), hosted: true }),
    startRelay({ ...base, dataDir: join(dir, 'c'), limits: { checksPerMinute: 1 } }),
  ]);
});
after(() => Promise.all([relay.close(), hosted.close(), limited.close()]));

const ASSERTIONS = { valid: 'e30.e30.c2ln' };
const JWT = { kind: 'private_key_jwt', tokenUrl: 'https://localhost:1/token', clientId: 'c', assertions: ASSERTIONS };

const edge: { name: string; msg: Record<string, unknown>; want: RegExp | ((m: ReturnType<typeof parseClientMessage>) => void) }[] = [
  { name: 'no kind: the mTLS check, as before', msg: { check: { url: 'https://x/', ca: { rootCertificatePem: '', rootPrivateKeyPem: '', intermediateCertificatePem: '', intermediatePrivateKeyPem: '' }, rule: { cnEquals: 'a' }, verifyDepth: 2 } }, want: (m) => assert.ok('check' in m && !('kind' in m && m.kind)) },
  { name: 'an unknown kind', msg: { kind: 'saml', jwt: JWT }, want: /^kind must be one of mtls, jwt, resource/ },
  { name: 'kind jwt without jwt', msg: { kind: 'jwt', check: JWT }, want: /^jwt must be an object/ },
  { name: 'a private key in the JWT check', msg: { kind: 'jwt', jwt: { ...JWT, privateKeyPem: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----' } }, want: /^jwt\.privateKeyPem: the key stays in the browser/ },
  { name: 'no assertions', msg: { kind: 'jwt', jwt: { ...JWT, assertions: undefined } }, want: /^jwt\.assertions must be an object/ },
  { name: 'an assertion that is not a string', msg: { kind: 'jwt', jwt: { ...JWT, assertions: { valid: 42 } } }, want: /^jwt\.assertions\.valid must be a string/ },
  { name: 'an assertion too long', msg: { kind: 'jwt', jwt: { ...JWT, assertions: { valid: 'a'.repeat(16 * 1024 + 1) } } }, want: /^jwt\.assertions\.valid is longer than 16384/ },
  { name: 'too many assertions', msg: { kind: 'jwt', jwt: { ...JWT, assertions: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`c${i}`, 'x'])) } }, want: /^jwt\.assertions has more than 16 entries/ },
  { name: 'a client id that is not text', msg: { kind: 'jwt', jwt: { ...JWT, clientId: 7 } }, want: /^jwt\.clientId must be a string/ },
  { name: 'trustLab not a boolean', msg: { kind: 'jwt', jwt: { ...JWT, trustLab: 'yes' } }, want: /^jwt\.trustLab must be true or false/ },
  { name: 'a resource check without a token', msg: { kind: 'resource', resource: { url: 'https://x/' } }, want: /^resource\.accessToken must be a string/ },
  { name: 'a resource check with half a client', msg: { kind: 'resource', resource: { url: 'https://x/', accessToken: 'a.b.c', client: { certificatePem: 'x' } } }, want: /^resource\.client\.privateKeyPem must be a string/ },
  { name: 'a JWT check parsed', msg: { kind: 'jwt', jwt: { ...JWT, kid: 'k1', extra: 1 } }, want: (m) => assert.deepEqual('jwt' in m ? { ...m.jwt, assertions: { ...m.jwt.assertions } } : null, { ...JWT, kid: 'k1' }) },
];

for (const c of edge) {
  test(`check.start at the edge: ${c.name}`, () => {
    const text = JSON.stringify({ type: 'check.start', id: 'q1', ...c.msg });
    if (typeof c.want === 'function') return c.want(parseClientMessage(text));
    assert.throws(() => parseClientMessage(text), (err: unknown) => err instanceof ProtocolError && err.code === 'bad_message' && err.id === 'q1' && (c.want as RegExp).test(err.message));
  });
}

/** A key as the browser makes it: WebCrypto, not extractable; its public JWK registered with the lab. */
async function browserKey(client: RelayClient): Promise<{ signing: CaseSigningKey; reg: Msg<'lab.registered'> }> {
  const pair = await generateKeyPair('ES256', { extractable: false });
  const reg = await client.request<Msg<'lab.registered'>>({ type: 'lab.register', publicJwk: await publicJwkOf(pair.publicKey) });
  assert.equal(reg.type, 'lab.registered', JSON.stringify(reg));
  return { signing: { key: pair.privateKey, alg: 'ES256', publicPem: spkiPem(new Uint8Array(await crypto.subtle.exportKey('spki', pair.publicKey))) }, reg: reg as Msg<'lab.registered'> };
}

async function signedRequest(signing: CaseSigningKey, reg: Msg<'lab.registered'>, tokenUrl = reg.tokenUrl) {
  const base = { kind: 'private_key_jwt' as const, tokenUrl, clientId: reg.clientId, kid: reg.kid };
  const plans = await planJwtCases(base, signing);
  const ids: string[] = signedCaseIds('private_key_jwt');
  return { ...base, assertions: Object.fromEntries(plans.filter((p) => ids.includes(p.id)).map((p) => [p.id, p.token])) };
}

/** Every message of one check, until check.finished or the request's error. */
async function runCheck(client: RelayClient, msg: Record<string, unknown>, timeoutMs = 60_000): Promise<{ first: ServerMessage; events: ServerMessage[] }> {
  const id = `chk${Math.random().toString(16).slice(2)}`;
  client.send({ type: 'check.start', id, ...msg });
  const first = await client.next((m) => (m.type === 'check.started' || m.type === 'error') && m.id === id, timeoutMs);
  if (first.type === 'error') return { first, events: [] };
  const { checkId } = first as Msg<'check.started'>;
  await client.next((m) => m.type === 'check.finished' && m.checkId === checkId, timeoutMs);
  return { first, events: client.messages.filter((m) => 'checkId' in m && m.checkId === checkId) };
}

test('a JWT check signed with a non-extractable key, against the lab: every case streamed with its timeline, grade A, no assertion back', async () => {
  const client = await RelayClient.open(relay);
  try {
    const { signing, reg } = await browserKey(client);
    const jwt = await signedRequest(signing, reg);
    const { first, events } = await runCheck(client, { kind: 'jwt', jwt });
    assert.equal(first.type, 'check.started', JSON.stringify(first));
    const started = first as Msg<'check.started'>;
    assert.equal(started.cases.length, 16);
    assert.equal(started.cases.find((c) => c.caseId === 'alg_none')?.assertion?.header.alg, 'none');
    const steps = events.filter((m): m is Msg<'check.step'> => m.type === 'check.step');
    assert.ok(steps.some((s) => s.caseId === 'wrong_aud' && s.step.id === 'exchange'), 'a case streams its token request step');
    assert.equal(events.filter((m) => m.type === 'check.case').length, 16);
    const finished = events.find((m): m is Msg<'check.finished'> => m.type === 'check.finished')!;
    assert.equal(finished.report.grade, 'A', finished.report.summary);
    assert.match(finished.report.summary, /JWT check of https:\/\/localhost:\d+\/token \(private_key_jwt\): grade A — 16\/16 cases as required/);
    const wire = JSON.stringify([first, ...events]);
    for (const [id, token] of Object.entries(jwt.assertions)) assert.ok(!wire.includes(token.split('.')[2]!.slice(0, 40) || token), `the ${id} assertion came back`);
  } finally {
    await client.close();
  }
});

for (const [tenant, caught] of [['jwt-alg-none', 'alg_none'], ['jwt-hmac-confusion', 'hs256_public_key']] as const) {
  test(`a JWT check against the lab tenant ${tenant}: ${caught} not enforced, grade F (the browser's public PEM is the server's HMAC secret)`, async () => {
    const client = await RelayClient.open(relay);
    try {
      const { signing, reg } = await browserKey(client);
      const { events } = await runCheck(client, { kind: 'jwt', jwt: await signedRequest(signing, reg, `${reg.issuer}/t/${tenant}/token`) });
      const finished = events.find((m): m is Msg<'check.finished'> => m.type === 'check.finished')!;
      assert.equal(finished.report.grade, 'F', finished.report.summary);
      assert.deepEqual(finished.report.caps.map((c) => c.caseId), [caught]);
    } finally {
      await client.close();
    }
  });
}

test('the relay refuses what the check cannot use, naming the field, before anything is sent', async () => {
  const client = await RelayClient.open(relay);
  const guarded = await RelayClient.open(hosted);
  try {
    const { signing, reg } = await browserKey(client);
    const jwt = await signedRequest(signing, reg);
    const { expired: _left, ...missing } = jwt.assertions;
    for (const [c, msg, want] of [
      [client, { ...jwt, assertions: missing }, /^assertions\.expired: missing/],
      [client, { ...jwt, assertions: { ...jwt.assertions, replayed_jti: jwt.assertions.valid } }, /^assertions\.replayed_jti: is not a case of the private_key_jwt check/],
      [client, { ...jwt, assertions: { ...jwt.assertions, valid: 'not-a-jwt' } }, /^assertions\.valid: is not a compact JWT/],
      [client, { ...jwt, tokenUrl: 'http://localhost/token' }, /^tokenUrl: assertions travel only over TLS/],
      [client, { ...jwt, kind: 'saml' }, /^kind: must be one of exchange, jwt-bearer, private_key_jwt/],
      [client, { ...jwt, kind: 'exchange' }, /^clientSecret: the exchange sends client_secret/],
      [guarded, { ...jwt, tokenUrl: 'https://10.0.0.1/token' }, /^tokenUrl: .*10\.0\.0\.1/],
    ] as const) {
      const { first } = await runCheck(c, { kind: 'jwt', jwt: msg });
      assert.equal(first.type, 'error', JSON.stringify(first));
      const err = first as Msg<'error'>;
      assert.equal(err.code, 'check_invalid');
      assert.match(err.message, want);
      assert.ok(!err.message.includes(jwt.assertions.valid!.split('.')[2]!), 'no assertion quoted');
    }
    const { first } = await runCheck(guarded, { kind: 'resource', resource: { url: 'https://10.0.0.1/api', accessToken: jwt.assertions.valid } });
    assert.equal((first as Msg<'error'>).code, 'check_invalid');
    assert.match((first as Msg<'error'>).message, /^url: .*10\.0\.0\.1/);
  } finally {
    await Promise.all([client.close(), guarded.close()]);
  }
});

test('checksPerMinute counts JWT and resource checks too', async () => {
  const client = await RelayClient.open(limited);
  try {
    const first = await runCheck(client, { kind: 'jwt', jwt: { ...JWT, tokenUrl: 'http://localhost/token' } });
    assert.equal((first.first as Msg<'error'>).code, 'check_invalid');
    const second = await runCheck(client, { kind: 'resource', resource: { url: 'https://localhost:1/', accessToken: 'a.b.c' } });
    assert.equal((second.first as Msg<'error'>).code, 'busy_session');
    assert.match((second.first as Msg<'error'>).message, /at most 1 server checks a minute per session/);
  } finally {
    await client.close();
  }
});

test('a resource check over the WebSocket: the lab API enforces the binding, grade A; neither the token nor the key comes back', async () => {
  const lab = relay.lab!.tokens!;
  const self = lab.demo.selfSigned;
  const token = await boundLabToken(relay.lab!);
  const client = await RelayClient.open(relay);
  try {
    const { first, events } = await runCheck(client, { kind: 'resource', resource: { url: `${lab.issuer}/api/resource`, accessToken: token, client: { certificatePem: self.certificatePem, privateKeyPem: self.privateKeyPem } } });
    assert.equal(first.type, 'check.started', JSON.stringify(first));
    assert.deepEqual((first as Msg<'check.started'>).cases.map((c) => c.caseId), ['valid', 'tampered', 'alg_none', 'bound_without_certificate', 'bound_other_certificate']);
    const finished = events.find((m): m is Msg<'check.finished'> => m.type === 'check.finished')!;
    assert.equal(finished.report.grade, 'A', finished.report.summary);
    const wire = JSON.stringify([first, ...events]);
    assert.ok(!wire.includes(token.split('.')[2]!), 'the access token came back');
    assert.ok(!wire.includes('PRIVATE KEY') && !wire.includes(self.privateKeyPem.split('\n')[1]!), 'the key came back');
  } finally {
    await client.close();
  }
});
