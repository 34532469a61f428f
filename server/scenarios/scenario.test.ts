import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from '../../shared/jwt/decode.ts';
import { startLab, type RunningLab } from '../lab/lab.ts';
import { checkExpect, needsLab, parseScenario, resolveScenario, ScenarioError } from './scenario.ts';
import { run } from '../commands/run.ts';

let lab: RunningLab;
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scenario-'));
  process.env.HARNESS_LAB_DIR = join(dir, 'lab');
  lab = await startLab({ dataDir: join(dir, 'lab') });
});
after(() => lab.close());

const base = { version: 1, name: 'x', kind: 'flow', flow: { kind: 'discovery', issuer: 'https://as.example' } };

const bad: [string, unknown, RegExp][] = [
  ['not JSON', '{', /not valid JSON/],
  ['an array', [], /a scenario is a JSON object/],
  ['version 2', { ...base, version: 2 }, /version must be 1/],
  ['no name', { ...base, name: '' }, /name must be a non-empty string/],
  ['kind unknown', { ...base, kind: 'saml' }, /kind must be "probe", "flow" or "inbound"/],
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
];

for (const [name, value, message] of bad) {
  test(`parseScenario refuses: ${name}`, () => {
    assert.throws(() => parseScenario(typeof value === 'string' ? value : JSON.stringify(value)), (e: unknown) => e instanceof ScenarioError && message.test(e.message));
  });
}

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
