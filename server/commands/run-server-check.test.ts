// A `server-check` scenario run by `harness run` as a CI job would: a test CA kit made by
// `harness check --new-ca` next to the scenario, a real nginx configured from that kit (and a
// weakened copy without its subject rule), the matrix and grade printed, exit 0 only when the
// grade meets the file's `require`, one JUnit test case per check case, bad fields named, and
// the test CA's key files under the scenario consent rules.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTestPki, type TestPki } from '../testing/test-pki.ts';
import type { NginxServer } from '../testing/nginx.ts';
import { startNginxFromNewKit } from '../testing/check-ca.ts';
import { run } from './run.ts';
import { harness } from '../testing/cli.ts';

const CN = 'cxml-supplier.coupahost.com';

let dir: string;
let pki: TestPki;
let nginx: NginxServer<'good' | 'noRule'>;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'run-server-check-'));
  pki = await makeTestPki();
  nginx = await startNginxFromNewKit(join(dir, 'ci', 'kit'), CN, pki.server);
  await copyFile(pki.serverCa.certFile, join(dir, 'ci', 'server-ca.pem'));
});

after(async () => nginx?.stop());

/** A server-check scenario file in `folder` (default the one holding the kit). */
async function scenario(file: string, fields: { url: string; require?: string; mtls?: Record<string, unknown>; check?: Record<string, unknown>; secrets?: Record<string, unknown>; expect?: unknown }, folder = join(dir, 'ci')): Promise<string> {
  const path = join(folder, file);
  await writeFile(path, JSON.stringify({
    version: 1,
    name: `nginx ${file.replace(/\.json$/, '')}`,
    kind: 'server-check',
    'server-check': fields.check ?? {
      mtls: { url: fields.url, rule: { cnEquals: CN }, verifyDepth: 3, ca: { kit: 'kit' }, caPem: { $secret: 'server_ca' }, ...fields.mtls },
      ...(fields.require ? { require: fields.require } : {}),
    },
    secrets: { server_ca: { file: 'server-ca.pem' }, ...fields.secrets },
    ...(fields.expect ? { expect: fields.expect } : {}),
  }));
  return path;
}

function assertNoKey(...texts: string[]): void {
  for (const t of texts) assert.doesNotMatch(t, /PRIVATE KEY/);
}

test('a server configured from the kit: the matrix, grade A, exit 0; JUnit has one test case per check case and one for the grade; report and transcripts without keys', async () => {
  const file = await scenario('good.json', { url: nginx.url('good') });
  const out = join(dir, 'out-good');
  const r = await harness(['run', file, '--junit', join(out, 'junit.xml'), '--report', join(out, 'report.html'), '--transcript', join(out, 'transcripts')]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, new RegExp(`^Server check https://127\\.0\\.0\\.1:\\d+/ — mTLS — rule: CN equals ${CN.replace(/\./g, '\\.')}, depth 3; grade required: A$`, 'm'));
  assert.match(r.stdout, /^✓ enforced {6}valid +the server accepted it \(HTTP 200\)$/m);
  assert.match(r.stdout, /^✓ enforced {6}revoked +the server refused it/m);
  assert.match(r.stdout, /mTLS server check of https:\/\/127\.0\.0\.1:\d+\/: grade A — \d+\/\d+ cases as required/);
  assert.doesNotMatch(r.stdout, /NOT ENFORCED/);
  // Where the test CA's keys go, before anything is sent: nowhere.
  assert.match(r.stdout, /ca-kit\.root\.key \(file kit\/root\.key\) → nowhere/);
  const cases = r.stdout.split('\n').filter((l) => /^[✓✗?] /.test(l)).length;
  assert.ok(cases >= 12, `${cases} case lines`);

  const junit = await readFile(join(out, 'junit.xml'), 'utf8');
  assert.equal(junit.match(/<testcase /g)?.length, cases + 1);
  assert.match(junit, /<testsuite [^>]*tests="\d+" failures="0" errors="0"/);
  assert.match(junit, /<testcase classname="harness\.server-check\.nginx good" name="no_certificate — nginx good"/);
  assert.match(junit, /<testcase classname="harness\.server-check\.nginx good" name="grade — nginx good"/);
  const transcripts = await readdir(join(out, 'transcripts'));
  assert.equal(transcripts.length, cases);
  const report = await readFile(join(out, 'report.html'), 'utf8');
  assert.match(report, /grade A — /);
  assertNoKey(r.stdout, r.stderr, junit, report, ...(await Promise.all(transcripts.map((t) => readFile(join(out, 'transcripts', t), 'utf8')))));
});

test('a server without its subject rule: wrong_subject not enforced, grade C below the required A, exit 1; JUnit fails that case and the grade; --require C in the file passes', async () => {
  const weak = await scenario('weak.json', { url: nginx.url('noRule') });
  const out = join(dir, 'out-weak');
  const r = await harness(['run', weak, '--junit', join(out, 'junit.xml')]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /^✗ NOT ENFORCED {2}wrong_subject {13}the server accepted it/m);
  assert.match(r.stdout, /\nwrong_subject: .*\n {2}fix \(Apache\): /);
  assert.match(r.stdout, /grade C — .*NOT enforced: wrong_subject/);
  assert.match(r.stderr, /weak\.json: grade C is below the required A/);
  const junit = await readFile(join(out, 'junit.xml'), 'utf8');
  assert.match(junit, /<testsuite [^>]*failures="2"/);
  assert.match(junit, /name="wrong_subject — nginx weak" time="[\d.]+">\s*<failure /);
  assert.match(junit, /name="grade — nginx weak" time="[\d.]+">\s*<failure message="expectation not met: mTLS server check of [^"]*grade C/);

  const tolerant = await scenario('weak-c.json', { url: nginx.url('noRule'), require: 'C' });
  const c = await harness(['run', tolerant]);
  assert.equal(c.code, 0, c.stdout + c.stderr);
  assert.match(c.stdout, /grade required: C/);
});

test('several files: each check in the summary with its cases not enforced; --check compares with expect', async () => {
  const good = await scenario('multi-good.json', { url: nginx.url('good'), expect: { outcome: 'pass', diagnoses: [] } });
  const weak = await scenario('multi-weak.json', { url: nginx.url('noRule'), expect: { outcome: 'fail', diagnoses: ['wrong_subject'] } });
  const r = await harness(['run', good, weak]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /Summary: 1 of 2 passed\n✓ passed {3}nginx multi-good +—\n✗ failed {3}nginx multi-weak +wrong_subject\n/);
  const checked = await harness(['run', good, weak, '--check']);
  assert.equal(checked.code, 0, checked.stdout + checked.stderr);
  assert.match(checked.stdout, /Summary: 2 of 2 as expected/);
});

test('a field the check cannot use is named in the file, exit 2, before anything is sent', async () => {
  const url = nginx.url('good');
  const cases: [Parameters<typeof scenario>[1], RegExp][] = [
    [{ url, mtls: { verifyDepth: 12 } }, /bad-\d\.json: server-check\.mtls\.verifyDepth: must be an integer from 1 to 9/],
    [{ url: 'http://127.0.0.1/' }, /server-check\.mtls\.url: the check speaks TLS/],
    [{ url, mtls: { rule: { cnEquals: CN, sanDnsEquals: CN } } }, /server-check\.mtls\.rule: the subject rule must be exactly one of/],
    [{ url, require: 'Z' }, /server-check\.require must be one of A, B, C, D, F/],
    [{ url, check: { mtls: {}, jwt: {} } }, /server-check must have exactly one of mtls, jwt, resource/],
    [{ url, check: { mtls: {}, grade: 'A' } }, /server-check\.grade is not a field of a server check/],
    [{ url, mtls: { ca: { kit: 'no-such-kit' } } }, /secret "ca-kit\.root\.pem" \(file no-such-kit\/root\.pem\): cannot read .*no-such-kit\/root\.pem \(ENOENT\)/],
    [{ url, mtls: { ca: { kit: 'kit', rootCertificatePem: 'x' } } }, /server-check\.mtls\.ca\.kit must be the folder harness check --new-ca wrote, alone/],
    [{ url, mtls: { ca: { rootCertificatePem: { $secret: 'root' }, rootPrivateKeyPem: { $secret: 'root_key' }, intermediateCertificatePem: { $secret: 'inter' }, intermediatePrivateKeyPem: { $secret: 'inter_key' } } }, secrets: { root: { file: 'kit/root.pem' }, root_key: { file: 'kit/intermediate.key' }, inter: { file: 'kit/intermediate.pem' }, inter_key: { file: 'kit/intermediate.key' } } },
      /server-check\.mtls\.ca\.rootPrivateKeyPem: does not belong to the root certificate/],
  ];
  for (const [i, [fields, message]] of cases.entries()) {
    // In this process: nothing here gets as far as a check, and nine harness processes are slow.
    const r = { code: 0, stdout: '', stderr: '' };
    r.code = await run([await scenario(`bad-${i}.json`, fields)], { stdout: (t) => { r.stdout += t; }, stderr: (t) => { r.stderr += t; } });
    assert.equal(r.code, 2, `${i}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, message, `${i}`);
    assert.doesNotMatch(r.stdout, /enforced/, `${i}: no case ran`);
    assertNoKey(r.stdout, r.stderr);
  }
});

test('the test CA\'s keys outside the scenario\'s folder need consent: refused with the flag to give it, then run with it', async () => {
  const elsewhere = join(dir, 'elsewhere');
  await mkdir(elsewhere, { recursive: true });
  await copyFile(pki.serverCa.certFile, join(elsewhere, 'server-ca.pem'));
  const file = await scenario('outside.json', { url: nginx.url('good'), mtls: { ca: { kit: '../ci/kit' } } }, elsewhere);
  const refused = await harness(['run', file]);
  assert.equal(refused.code, 2, refused.stdout + refused.stderr);
  assert.match(refused.stderr, /secret "ca-kit\.root\.key" comes from .*ci\/kit\/root\.key \(a path that leads out of the scenario's folder\) and would go to nowhere .*: allow it with --allow-file /);
  assert.doesNotMatch(refused.stdout, /enforced/);
  const allowed = await harness(['run', file, '--allow-outside']);
  assert.equal(allowed.code, 0, allowed.stdout + allowed.stderr);
  assert.match(allowed.stdout, /grade A/);
});
