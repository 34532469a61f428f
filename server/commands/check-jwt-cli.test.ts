// `harness check --jwt …` as a partner uses it, against the built-in lab's token endpoint (its
// registered demo key): the strict tenant grades A (exit 0), a weakness tenant F (exit 1 unless
// --require allows it), bad input exits 2 naming what is wrong, and neither the key nor the
// client secret appears in anything the command prints or writes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLab, type RunningLab } from '../lab/lab.ts';
import { boundLabToken } from '../testing/lab-token.ts';
import { harness } from '../testing/cli.ts';

const SECRET = 'lab-seed-secret';


let dir: string;
let lab: RunningLab;
let keyFile: string;
let secretFile: string;
let caFile: string;
let keyPem: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'check-jwt-cli-'));
  lab = await startLab({ dataDir: join(dir, 'lab') });
  keyPem = lab.tokens!.demo.signingKeyPem;
  keyFile = join(dir, 'key.pem');
  secretFile = join(dir, 'secret.txt');
  caFile = join(dir, 'lab-ca.pem');
  await writeFile(keyFile, keyPem, { mode: 0o600 });
  await writeFile(secretFile, `${SECRET}\n`, { mode: 0o600 });
  await writeFile(caFile, lab.serverCaPem);
});

after(async () => {
  await lab.close();
});

/** No part of the key, and not the secret, in anything the command printed or wrote. */
function assertNoSecrets(...texts: string[]): void {
  const body = keyPem.replace(/-----[^-]+-----|\s/g, '');
  for (const text of texts) {
    assert.ok(!text.includes('PRIVATE KEY'), 'no PEM private key');
    for (let i = 0; i + 32 <= body.length; i += 32) assert.ok(!text.includes(body.slice(i, i + 32)), 'no piece of the key');
    assert.ok(!text.includes(SECRET), 'no client secret');
  }
}

// One argument (--kid=…): a thumbprint kid may begin with a dash, which parseArgs would take for an option.
const kid = () => [`--kid=${lab.tokens!.demo.signingKid}`];

test('private-key-jwt against the strict lab: every case enforced, grade A, exit 0, a report without the key', async () => {
  const report = join(dir, 'jwt.html');
  const r = await harness(['check', '--jwt', 'private-key-jwt', `${lab.tokens!.issuer}/token`, '--client-id', 'lab-pkjwt', '--key', keyFile, ...kid(), '--ca', caFile, '--report', report]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^JWT check https:\/\/localhost:\d+\/token — private_key_jwt, client lab-pkjwt$/m);
  assert.match(r.stdout, /✓ enforced {6}alg_none {15}the server refused it \(HTTP 401 invalid_client\)/);
  assert.match(r.stdout, /✓ enforced {6}valid {18}the server accepted it \(HTTP 200, token issued\)/);
  assert.match(r.stdout, /JWT check of https:\/\/localhost:\d+\/token \(private_key_jwt\): grade A — 16\/16 cases as required\n$/);
  const html = await readFile(report, 'utf8');
  assert.match(html, /Server check: grade A/);
  assert.match(html, /hs256_public_key/);
  assertNoSecrets(r.stdout, r.stderr, html);
});

test('exchange against a lab tenant that accepts alg none: caught, grade F, exit 1; --require F exits 0; --json lines', async () => {
  const url = `${lab.tokens!.issuer}/t/jwt-alg-none/exchange`;
  const args = ['check', '--jwt', 'exchange', url, '--client-id', 'lab-seed', '--client-secret-file', secretFile, '--key', keyFile, ...kid(), '--sub', 'lab-user', '--ca', caFile];
  const r = await harness([...args, '--report', join(dir, 'weak.html')]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /✗ NOT ENFORCED {2}alg_none {15}the server accepted it \(HTTP 200, token issued\)/);
  assert.match(r.stdout, /\nalg_none: Allow only the asymmetric algorithms registered/);
  assert.match(r.stdout, /grade F — 14\/15 cases as required; NOT enforced: alg_none \(accepts unsigned assertions \(alg none\)\)\n$/);
  assert.match(r.stderr, /grade F is below the required A/);
  const json = await harness([...args, '--json', '--require', 'F']);
  assert.equal(json.code, 0, json.stderr);
  const events = json.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(events[0].type, 'check.started');
  assert.equal(events[0].cases.length, 15);
  assert.equal(events[0].cases.find((c: { caseId: string }) => c.caseId === 'alg_none').assertion.header.alg, 'none');
  assert.equal(events.filter((e) => e.type === 'check.case').length, 15);
  const last = events.at(-1);
  assert.equal(last.type, 'check.finished');
  assert.equal(last.report.grade, 'F');
  assert.deepEqual(last.report.caps.map((c: { caseId: string }) => c.caseId), ['alg_none']);
  assertNoSecrets(r.stdout, r.stderr, json.stdout, json.stderr, await readFile(join(dir, 'weak.html'), 'utf8'));
});

test('bad input exits 2 with a specific message, before anything is sent', async () => {
  const url = `${lab.tokens!.issuer}/token`;
  const notPem = join(dir, 'not-a-key.pem');
  await writeFile(notPem, 'hello\n');
  for (const [args, want] of [
    [['--jwt', 'saml', url], /--jwt must be one of exchange, jwt-bearer, private-key-jwt/],
    [['--jwt', 'private-key-jwt', url, '--key', keyFile], /--client-id ID/],
    [['--jwt', 'exchange', url, '--client-id', 'c', '--key', keyFile], /--client-secret-file F \(never on the command line\)/],
    [['--jwt', 'private-key-jwt', url, '--client-id', 'c', '--key', keyFile, '--cn', 'x'], /--cn belong to another check, not --jwt/],
    [[url, '--client-id', 'c', '--cn', 'x'], /--client-id belong to the JWT check/],
    [['--resource', url], /--token-file F \(never on the command line\)/],
    [['--resource', url, '--token-file', keyFile, '--cert', keyFile], /--cert and --cert-key go together/],
    [['--jwt', 'private-key-jwt', 'http://localhost/token', '--client-id', 'c', '--key', keyFile], /tokenUrl: assertions travel only over TLS/],
    [['--jwt', 'private-key-jwt', url, '--client-id', 'c', '--key', notPem], /privateKeyPem: missing or not PEM/],
    [['--jwt', 'private-key-jwt', url, '--client-id', 'c', '--key', join(dir, 'missing.pem')], /cannot read private key .*ENOENT/],
  ] as const) {
    const r = await harness(['check', ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, want, args.join(' '));
    assertNoSecrets(r.stdout, r.stderr);
  }
});

test('--resource: a bound token against the lab API that ignores the binding: caught, grade D, exit 1; the strict API grades A', async () => {
  const self = lab.tokens!.demo.selfSigned;
  const token = await boundLabToken(lab);
  const files = { token: join(dir, 'token.txt'), cert: join(dir, 'bound.pem'), key: join(dir, 'bound.key') };
  await writeFile(files.token, `${token}\n`, { mode: 0o600 });
  await writeFile(files.cert, self.certificatePem);
  await writeFile(files.key, self.privateKeyPem, { mode: 0o600 });
  const args = (tenant: string) => ['check', '--resource', `${lab.tokens!.issuer}${tenant}/api/resource`, '--token-file', files.token, '--cert', files.cert, '--cert-key', files.key, '--ca', caFile];
  const weak = await harness(args('/t/api-unbound'));
  assert.equal(weak.code, 1, weak.stdout + weak.stderr);
  assert.match(weak.stdout, /✗ NOT ENFORCED {2}bound_without_certificate {2}the server accepted it \(HTTP 200\)/);
  assert.match(weak.stdout, /Resource check of https:\/\/localhost:\d+\/t\/api-unbound\/api\/resource: grade D — 3\/5 cases as required; NOT enforced: bound_without_certificate .*; bound_other_certificate/);
  const strict = await harness(args(''));
  assert.equal(strict.code, 0, strict.stdout + strict.stderr);
  assert.match(strict.stdout, /grade A — 5\/5 cases as required\n$/);
  const keyBody = self.privateKeyPem.replace(/-----[^-]+-----|\s/g, '');
  for (const text of [weak.stdout, weak.stderr, strict.stdout, strict.stderr]) {
    assert.ok(!text.includes(token.split('.')[2]!) && !text.includes(keyBody.slice(0, 32)) && !text.includes('PRIVATE KEY'), 'no token, no key');
  }
});

test('canary: a client secret the server refuses appears nowhere — not in the verdicts, the evidence, the JSON or the report', async () => {
  const canary = `CANARYSECRET${Math.random().toString(16).slice(2)}`;
  const file = join(dir, 'canary-secret.txt');
  await writeFile(file, canary, { mode: 0o600 });
  const report = join(dir, 'canary.html');
  const args = ['check', '--jwt', 'exchange', `${lab.tokens!.issuer}/exchange`, '--client-id', 'lab-seed', '--client-secret-file', file, '--key', keyFile, ...kid(), '--ca', caFile];
  const r = await harness([...args, '--report', report]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /✗ NOT ENFORCED {2}valid {18}the server refused it \(HTTP 401 invalid_client\)/);
  const json = await harness([...args, '--json']);
  for (const text of [r.stdout, r.stderr, json.stdout, json.stderr, await readFile(report, 'utf8')]) assert.ok(!text.includes(canary), 'the canary secret leaked');
  assertNoSecrets(r.stdout, json.stdout);
});
