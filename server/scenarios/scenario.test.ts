import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from '../../shared/jwt/decode.ts';
import { startLab, type RunningLab } from '../lab/lab.ts';
import { boundLabToken } from '../testing/lab-token.ts';
import { checkExpect, needsLab, parseScenario, resolveScenario, ScenarioError } from './scenario.ts';
import { run, runScenario } from '../commands/run.ts';
import { exportPKCS8, generateKeyPair } from 'jose';
import { publicJwkOf } from '../../shared/jwt/sign.ts';

let lab: RunningLab;
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scenario-'));
  process.env.HARNESS_LAB_DIR = join(dir, 'lab');
  lab = await startLab({ dataDir: join(dir, 'lab') });
});
after(() => lab.close());

const base = { version: 1, name: 'x', kind: 'flow', flow: { kind: 'discovery', issuer: 'https://as.example' } };

const check = { version: 1, name: 'c', kind: 'server-check', 'server-check': { mtls: { url: 'https://partner.example/', rule: { cnEquals: 'client' }, verifyDepth: 2, ca: { kit: 'kit/' } } } };

const bad: [string, unknown, RegExp][] = [
  ['not JSON', '{', /not valid JSON/],
  ['an array', [], /a scenario is a JSON object/],
  ['version 2', { ...base, version: 2 }, /version must be 1/],
  ['no name', { ...base, name: '' }, /name must be a non-empty string/],
  ['kind unknown', { ...base, kind: 'saml' }, /kind must be "probe", "flow", "inbound" or "server-check"/],
  ['kind without its request', { ...base, kind: 'probe' }, /probe must be an object/],
  ['inbound without its listener', { ...base, kind: 'inbound', inbound: { client: {} } }, /inbound\.listener must be an object/],
  ['secret with two sources', { ...base, secrets: { s: { env: 'A', file: 'b' } } }, /secrets\.s must have exactly one/],
  ['secret from a bad env name', { ...base, secrets: { s: { env: 'A-B' } } }, /secrets\.s\.env must be an environment variable name/],
  ['secret from an unknown lab item', { ...base, secrets: { s: { lab: 'root-key' } } }, /secrets\.s\.lab must be one of/],
  ['secret generating DSA', { ...base, secrets: { s: { generate: 'DSA' } } }, /secrets\.s\.generate must be/],
  ['secret source unknown', { ...base, secrets: { s: { vault: 'x' } } }, /secrets\.s\.vault is not a secret source/],
  ['expect outcome unknown', { ...base, expect: { outcome: 'maybe' } }, /expect\.outcome/],
  ['expect diagnoses not a list', { ...base, expect: { outcome: 'fail', diagnoses: 'x' } }, /expect\.diagnoses/],
  ['target other than lab', { ...base, target: 'prod' }, /target may only be "lab"/],
  ['server-check without its request', { ...check, 'server-check': undefined }, /^server-check must be an object \(the check request\)/],
  ['server-check with no check', { ...check, 'server-check': { require: 'A' } }, /^server-check must have exactly one of mtls, jwt, resource/],
  ['server-check with two checks', { ...check, 'server-check': { mtls: {}, jwt: {} } }, /^server-check must have exactly one of mtls, jwt, resource/],
  ['server-check with an unknown field', { ...check, 'server-check': { mtls: {}, depth: 3 } }, /^server-check\.depth is not a field of a server check \(mtls, require\)/],
  ['server-check requiring grade E', { ...check, 'server-check': { mtls: {}, require: 'E' } }, /^server-check\.require must be one of A, B, C, D, F/],
  ['server-check request not an object', { ...check, 'server-check': { jwt: 'x' } }, /^server-check\.jwt must be an object/],
  ['server-check kit with another field', { ...check, 'server-check': { mtls: { ca: { kit: 'kit', rootPrivateKeyPem: 'x' } } } }, /^server-check\.mtls\.ca\.kit must be the folder/],
  ['server-check kit name taken', { ...check, secrets: { 'ca-kit.root.key': { value: 'x' } } }, /^secrets: "ca-kit\.root\.key" is the name server-check\.mtls\.ca\.kit gives/],
];

for (const [name, value, message] of bad) {
  test(`parseScenario refuses: ${name}`, () => {
    assert.throws(() => parseScenario(typeof value === 'string' ? value : JSON.stringify(value)), (e: unknown) => e instanceof ScenarioError && message.test(e.message));
  });
}

test('a server-check kit folder becomes the four file secrets of the test CA', () => {
  const s = parseScenario(JSON.stringify(check));
  assert.equal(s.kind, 'server-check');
  assert.deepEqual((s.request as { mtls: { ca: unknown } }).mtls.ca, {
    rootCertificatePem: { $secret: 'ca-kit.root.pem' }, rootPrivateKeyPem: { $secret: 'ca-kit.root.key' },
    intermediateCertificatePem: { $secret: 'ca-kit.intermediate.pem' }, intermediatePrivateKeyPem: { $secret: 'ca-kit.intermediate.key' },
  });
  assert.deepEqual(s.secrets['ca-kit.intermediate.key'], { file: 'kit/intermediate.key' });
});

test('a resource server-check scenario against the lab: the API that ignores binding fails on exactly its two cases; the strict one passes; no token in the events', async () => {
  const token = await boundLabToken(lab);
  const scenario = (api: string) => parseScenario(JSON.stringify({
    version: 1, name: 'resource', kind: 'server-check',
    'server-check': { resource: { url: api, accessToken: { $secret: 'token' }, client: { certificatePem: { $secret: 'cert' }, privateKeyPem: { $secret: 'key' } } }, require: 'B' },
    secrets: { token: { value: token }, cert: { lab: 'self-signed-certificate' }, key: { lab: 'self-signed-key' } },
  }));
  const events: unknown[] = [];
  const weak = await runScenario(scenario('lab:api-unbound/api/resource'), { baseDir: dir, lab, onEvent: (m) => events.push(m) });
  assert.equal(weak.outcome, 'fail');
  assert.deepEqual(weak.diagnoses, ['bound_without_certificate', 'bound_other_certificate']);
  assert.equal(weak.check?.report.grade, 'D');
  const strict = await runScenario(scenario('lab:api'), { baseDir: dir, lab, onEvent: (m) => events.push(m) });
  assert.deepEqual([strict.outcome, strict.check?.report.grade], ['pass', 'A']);
  const text = JSON.stringify(events);
  assert.ok(!text.includes(token.split('.')[2]!), 'the access token\'s signature appears in no event');
  assert.ok(!text.includes('PRIVATE KEY'));
});

test('needsLab: lab URLs, lab secrets, or target', () => {
  assert.equal(needsLab(parseScenario(JSON.stringify(base))), false);
  assert.equal(needsLab(parseScenario(JSON.stringify({ ...base, flow: { kind: 'discovery', issuer: 'lab:issuer' } }))), true);
  assert.equal(needsLab(parseScenario(JSON.stringify({ ...base, secrets: { k: { lab: 'signing-key' } } }))), true);
  assert.equal(needsLab(parseScenario(JSON.stringify({ ...base, target: 'lab' }))), true);
});

test('resolve: env, file, value and generated secrets; $jwt templates with defaults from the flow', async () => {
  await writeFile(join(dir, 'secret.txt'), 'from-a-file\n');
  const s = parseScenario(JSON.stringify({
    version: 1, name: 'x', kind: 'flow',
    flow: {
      kind: 'client-credentials', tokenUrl: 'lab:token',
      clientAuth: { method: 'private_key_jwt', clientId: 'acme', clientAssertions: { $jwt: { template: 'client-assertion', key: 'k', count: 3 } } },
      extraParams: { a: { $secret: 'e' }, b: { $secret: 'f' }, c: { $secret: 'v' } },
    },
    secrets: { k: { generate: 'ES256' }, e: { env: 'SCENARIO_TEST_SECRET' }, f: { file: 'secret.txt' }, v: { value: 'inline-value' } },
  }));
  const r = await resolveScenario(s, { baseDir: dir, lab, env: { SCENARIO_TEST_SECRET: 'from-env' }, consent: { env: new Set(['SCENARIO_TEST_SECRET']) } });
  assert.equal(r.kind, 'flow');
  if (r.kind !== 'flow' || r.flow.kind !== 'client-credentials') return;
  assert.deepEqual({ ...r.flow.extraParams }, { a: 'from-env', b: 'from-a-file', c: 'inline-value' });
  assert.equal(r.flow.tokenUrl, `${lab.tokens!.issuer}/token`);
  const auth = r.flow.clientAuth;
  assert.equal(auth.method, 'private_key_jwt');
  if (auth.method !== 'private_key_jwt') return;
  assert.equal(auth.clientAssertions.length, 3);
  const decoded = auth.clientAssertions.map((a) => decodeJwt(a));
  const claims = decoded.map((d) => (d.ok ? d.jwt.claims : {}));
  assert.deepEqual(claims.map((c) => [c.iss, c.sub, c.aud]), Array(3).fill(['acme', 'acme', `${lab.tokens!.issuer}/token`]));
  assert.equal(new Set(claims.map((c) => c.jti)).size, 3, 'each assertion has its own jti');
  assert.ok(decoded.every((d) => d.ok && d.jwt.header.alg === 'ES256' && typeof d.jwt.header.kid === 'string'));
  for (const v of ['from-env', 'from-a-file', 'inline-value']) assert.ok(r.secrets.includes(v), `${v} is scrubbed from output`);
});

test('resolve: what cannot be resolved is named', async () => {
  const cases: [object, RegExp][] = [
    [{ ...base, flow: { kind: 'discovery', issuer: { $secret: 'nope' } } }, /secret "nope" is not declared/],
    [{ ...base, flow: { kind: 'discovery', issuer: { $secret: 'e' } }, secrets: { e: { env: 'SCENARIO_UNSET_VARIABLE' } } }, /SCENARIO_UNSET_VARIABLE, which is not set/],
    [{ ...base, flow: { kind: 'discovery', issuer: { $secret: 'f' } }, secrets: { f: { file: 'missing.txt' } } }, /cannot read .*missing\.txt \(ENOENT\)/],
    [{ ...base, flow: { kind: 'discovery', issuer: 'lab:nowhere' } }, /"lab:nowhere" names no lab target/],
    [{ ...base, flow: { kind: 'discovery', issuer: 5 } }, /flow request: flow\.issuer must be a string/],
    [{ ...base, flow: { kind: 'jwt-exchange', tokenUrl: 'https://x', clientId: 'c', jwt: { $jwt: { template: 'seed', key: 'v' } } }, secrets: { v: { value: 'not a key' } } }, /secret "v" is not a private key PEM/],
    [{ ...base, flow: { kind: 'jwt-exchange', tokenUrl: 'https://x', clientId: 'c', jwt: { $jwt: { template: 'seed', key: 'k' } } }, secrets: { k: { generate: 'RS256' } } }, /the seed template needs subject/],
    [{ ...base, flow: { kind: 'jwt-exchange', tokenUrl: 'https://x', clientId: 'c', jwt: { $jwt: { template: 'nope', key: 'k' } } }, secrets: { k: { generate: 'RS256' } } }, /template must be one of/],
  ];
  for (const [scenario, message] of cases) {
    await assert.rejects(resolveScenario(parseScenario(JSON.stringify(scenario)), { baseDir: dir, lab, env: {}, consent: { env: 'all' } }), (e: unknown) => e instanceof ScenarioError && message.test(e.message), String(message));
  }
  await assert.rejects(resolveScenario(parseScenario(JSON.stringify({ ...base, flow: { kind: 'discovery', issuer: 'lab:issuer' } })), { baseDir: dir, lab: null }), /needs the built-in lab/);
});

test('checkExpect compares outcome and diagnoses exactly', () => {
  const s = parseScenario(JSON.stringify({ ...base, expect: { outcome: 'fail', diagnoses: ['jwt_expired'] } }));
  assert.equal(checkExpect(s, { outcome: 'fail', diagnoses: ['jwt_expired'] })?.ok, true);
  assert.equal(checkExpect(s, { outcome: 'fail', diagnoses: ['jwt_expired', 'clock_skew'] })?.ok, false);
  assert.equal(checkExpect(s, { outcome: 'pass', diagnoses: [] })?.message, 'expected fail [jwt_expired], got pass []');
  assert.equal(checkExpect(parseScenario(JSON.stringify(base)), { outcome: 'pass', diagnoses: [] }), null);
});

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { stdout: (s: string) => out.push(s), stderr: (s: string) => err.push(s) }, out, err };
}

test('harness run: exit codes, --json and --check', async () => {
  const examples = new URL('../../examples/', import.meta.url).pathname;
  const failing = io();
  assert.equal(await run([join(examples, 'jwt-exchange-expired.json')], failing.io), 1);
  assert.match(failing.out.join(''), /FAILED — jwt_expired/);
  const checked = io();
  assert.equal(await run([join(examples, 'jwt-exchange-expired.json'), '--check'], checked.io), 0);
  assert.match(checked.err.join(''), /expectation met/);
  const json = io();
  assert.equal(await run([join(examples, 'api-key.json'), '--json'], json.io), 0);
  const lines = json.out.join('').trim().split('\n').map((l) => JSON.parse(l) as { type: string; outcome?: string; secrets?: unknown });
  assert.deepEqual(lines[0], { type: 'scenario.secrets', secrets: [{ name: 'api_key', source: 'inline value in the scenario', to: ['the lab (loopback)'] }] });
  assert.equal(lines[1]!.type, 'run.started');
  assert.deepEqual(lines.at(-1), { ...lines.at(-1), type: 'run.finished', outcome: 'pass' });
  assert.doesNotMatch(json.out.join(''), /lab-api-key/);

  await writeFile(join(dir, 'broken.json'), '{"version":1');
  await writeFile(join(dir, 'env.json'), JSON.stringify({ ...base, flow: { kind: 'discovery', issuer: { $secret: 'e' } }, secrets: { e: { env: 'SCENARIO_UNSET_VARIABLE' } } }));
  await writeFile(join(dir, 'no-expect.json'), JSON.stringify({ ...base, flow: { kind: 'discovery', issuer: 'lab:issuer' } }));
  const usage: [string[], RegExp][] = [
    [[], /give one or more scenario files or folders/],
    [[join(dir, 'missing-a.json'), join(dir, 'missing-b.json')], /missing-a.json: .*ENOENT/],
    [['--nope', 'a.json'], /Unknown option/],
    [[join(dir, 'missing.json')], /cannot read .*ENOENT/],
    [[join(dir, 'broken.json')], /not valid JSON/],
    [[join(dir, 'env.json')], /environment variable SCENARIO_UNSET_VARIABLE .*allow it with --allow-env SCENARIO_UNSET_VARIABLE/],
    [[join(dir, 'env.json'), '--allow-env', 'SCENARIO_UNSET_VARIABLE'], /SCENARIO_UNSET_VARIABLE, which is not set/],
    [[join(dir, 'no-expect.json'), '--check'], /--check needs an "expect" block/],
  ];
  for (const [argv, message] of usage) {
    const r = io();
    assert.equal(await run(argv, r.io), 2, argv.join(' '));
    assert.match(r.err.join(''), message);
  }
});

test('$jwt default kid: the registered key\'s kid from registeredJwks; a thumbprint kid no one registered is a lint remark', async () => {
  // A partner registered its key under its own kid, as partners do.
  const pair = await generateKeyPair('ES256', { extractable: true });
  const publicJwk = await publicJwkOf(pair.publicKey, 'partner-2026');
  const reg = await lab.tokens!.register({ publicJwk });
  await writeFile(join(dir, 'partner.key'), await exportPKCS8(pair.privateKey));
  const scenario = (registeredJwks?: unknown) => parseScenario(JSON.stringify({
    version: 1, name: 'kid', kind: 'flow',
    flow: {
      kind: 'client-credentials', tokenUrl: 'lab:token',
      clientAuth: { method: 'private_key_jwt', clientId: reg.clientId, clientAssertions: [{ $jwt: { template: 'client-assertion', key: 'k' } }] },
      ...(registeredJwks ? { registeredJwks } : {}),
    },
    secrets: { k: { file: 'partner.key' } },
  }));
  const kidOf = (r: Awaited<ReturnType<typeof resolveScenario>>) => {
    const auth = r.kind === 'flow' && r.flow.kind === 'client-credentials' ? r.flow.clientAuth : undefined;
    const d = decodeJwt(auth?.method === 'private_key_jwt' ? auth.clientAssertions[0]! : '');
    return d.ok ? d.jwt.header.kid : undefined;
  };
  const runIt = async (registeredJwks?: unknown) => {
    const notes: string[] = [];
    const result = await runScenario(scenario(registeredJwks), { baseDir: dir, lab, onEvent: () => {}, onNote: (n) => notes.push(n) });
    return { ...result, notes };
  };

  const given = { keys: [publicJwk] };
  const withKeys = await resolveScenario(scenario(given), { baseDir: dir, lab });
  assert.equal(kidOf(withKeys), 'partner-2026');
  assert.deepEqual(withKeys.notes, []);
  const passed = await runIt(given);
  assert.equal(passed.outcome, 'pass', JSON.stringify(passed.diagnoses));

  const thumbprint = (await publicJwkOf(pair.publicKey)).kid;
  const blind = await resolveScenario(scenario(), { baseDir: dir, lab });
  assert.equal(kidOf(blind), thumbprint);
  assert.equal(blind.notes.length, 1);
  assert.match(blind.notes[0]!, /kid_is_thumbprint: kid ".+" is the signing key's RFC 7638 thumbprint/);
  const refused = await runIt();
  assert.equal(refused.outcome, 'fail');
  assert.deepEqual(refused.diagnoses, ['jwt_key_unknown']);
  assert.match(refused.notes[0]!, /kid_is_thumbprint/);
});

test('registeredJwks and a CA bundle from a file or an environment variable; certificates and public keys are not scrubbed', async () => {
  const pair = await generateKeyPair('ES256', { extractable: true });
  const publicJwk = await publicJwkOf(pair.publicKey, 'partner-file-kid');
  const reg = await lab.tokens!.register({ publicJwk });
  await writeFile(join(dir, 'partner2.key'), await exportPKCS8(pair.privateKey));
  await writeFile(join(dir, 'registered.json'), JSON.stringify({ keys: [publicJwk] }));
  await writeFile(join(dir, 'server-ca.pem'), lab.serverCaPem);
  const scenario = (jwks: object) => parseScenario(JSON.stringify({
    version: 1, name: 'files', kind: 'flow',
    flow: {
      kind: 'client-credentials', tokenUrl: 'lab:token',
      clientAuth: { method: 'private_key_jwt', clientId: reg.clientId, clientAssertions: [{ $jwt: { template: 'client-assertion', key: 'k' } }] },
      registeredJwks: { $secret: 'jwks' },
      tls: { caPem: { $secret: 'ca' }, trustLab: false },
    },
    secrets: { k: { file: 'partner2.key' }, ca: { file: 'server-ca.pem' }, jwks },
  }));
  for (const [source, jwks, env] of [['file', { file: 'registered.json' }, {}], ['environment variable', { env: 'PARTNER_JWKS' }, { PARTNER_JWKS: JSON.stringify({ keys: [publicJwk] }) }]] as const) {
    const r = await resolveScenario(scenario(jwks), { baseDir: dir, lab, env, consent: { env: new Set(['PARTNER_JWKS']) } });
    assert.equal(r.kind, 'flow');
    const flow = r.kind === 'flow' && r.flow.kind === 'client-credentials' ? r.flow : undefined;
    assert.deepEqual(flow?.registeredJwks, { keys: [publicJwk] }, source);
    const auth = flow?.clientAuth;
    const d = decodeJwt(auth?.method === 'private_key_jwt' ? auth.clientAssertions[0]! : '');
    assert.equal(d.ok && d.jwt.header.kid, 'partner-file-kid', `${source}: the kid comes from the registered keys`);
    const caLines = lab.serverCaPem.split('\n').filter((l) => l.length >= 16 && !l.startsWith('-----'));
    assert.ok(!r.secrets.some((x) => caLines.includes(x)), `${source}: the CA's PEM lines are not scrubbed`);
    assert.ok(!r.secrets.some((x) => x.includes('partner-file-kid')), `${source}: the public JWKS is not scrubbed`);
    assert.ok(r.secrets.length > 0, `${source}: the private key still is`);
    const result = await runScenario(scenario(jwks), { baseDir: dir, lab, env, consent: { env: new Set(['PARTNER_JWKS']) }, onEvent: () => {} });
    assert.equal(result.outcome, 'pass', `${source}: ${result.diagnoses.join(', ')}`);
  }
  await writeFile(join(dir, 'not-jwks.json'), '{"kty":"EC"}');
  await assert.rejects(resolveScenario(scenario({ file: 'not-jwks.json' }), { baseDir: dir, lab }), /secret "jwks" is not a JWKS/);
});

test('--save-refresh-token: a rotated refresh token is written back to its file, so the scenario runs twice', async () => {
  const file = join(dir, 'refresh-token.txt');
  await writeFile(file, `${lab.tokens!.issueRefreshToken('lab-basic')}\n`, { mode: 0o600 });
  const scenario = parseScenario(JSON.stringify({
    version: 1, name: 'refresh', kind: 'flow',
    flow: { kind: 'refresh-token', tokenUrl: 'lab:token', refreshToken: { $secret: 'rt' }, clientAuth: { method: 'client_secret_basic', clientId: 'lab-basic', clientSecret: 'lab-basic-secret' } },
    secrets: { rt: { file: 'refresh-token.txt' } },
  }));
  const runOnce = async (saveRefreshToken: boolean) => {
    const notes: string[] = [];
    const events: string[] = [];
    const result = await runScenario(scenario, { baseDir: dir, lab, saveRefreshToken, onEvent: (e) => events.push(JSON.stringify(e)), onNote: (n) => notes.push(n) });
    return { ...result, notes, events: events.join('\n') };
  };
  const first = await readFile(file, 'utf8');
  const one = await runOnce(true);
  assert.equal(one.outcome, 'pass', one.diagnoses.join(', '));
  const second = await readFile(file, 'utf8');
  assert.notEqual(second, first, 'the file holds the new refresh token');
  assert.match(second, /^\S+\n$/);
  assert.equal((await stat(file)).mode & 0o777, 0o600, 'the file keeps its mode');
  assert.match(one.notes.join('\n'), /rotated refresh token was written to .*refresh-token\.txt/);
  assert.ok(!one.events.includes(second.trim()) && !one.notes.join('').includes(second.trim()), 'the new token is in no event or note');
  const two = await runOnce(false);
  assert.equal(two.outcome, 'pass', `the saved token works: ${two.diagnoses.join(', ')}`);
  // Not saved this time: the file holds the token just spent, which the lab refuses.
  const three = await runOnce(false);
  assert.deepEqual(three.diagnoses, ['refresh_token_rejected']);

  const none = io();
  assert.equal(await run([new URL('../../examples/api-key.json', import.meta.url).pathname, '--save-refresh-token'], none.io), 0);
  assert.match(none.err.join(''), /note: --save-refresh-token: nothing saved/);
});
