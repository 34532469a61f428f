// `harness check` as a partner uses it: make a test CA and the install kit, configure a real
// nginx from the kit's own files, check it (grade A, exit 0), check a weakened copy (exit 1
// unless the grade required allows it); bad input is refused before anything is sent.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTestPki, type TestPki } from '../testing/test-pki.ts';
import type { NginxServer } from '../testing/nginx.ts';
import { startNginxFromNewKit } from '../testing/check-ca.ts';
import { harness } from '../testing/cli.ts';

const CN = 'cxml-supplier.coupahost.com';

let dir: string;
let pki: TestPki;
let nginx: NginxServer<'good' | 'noRule'>;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'check-cli-'));
  pki = await makeTestPki();
  nginx = await startNginxFromNewKit(join(dir, 'kit'), CN, pki.server);
});

after(async () => nginx?.stop());

const caArgs = () => ['--root', join(dir, 'kit', 'root.pem'), '--root-key', join(dir, 'kit', 'root.key'), '--intermediate', join(dir, 'kit', 'intermediate.pem'), '--intermediate-key', join(dir, 'kit', 'intermediate.key'), '--ca', pki.serverCa.certFile];

test('--new-ca writes the test CA, the CA and CRL files, both snippets and what to run next; no key goes in the server files', async () => {
  const files = (await readdir(join(dir, 'kit'))).sort();
  assert.deepEqual(files, ['INSTALL.txt', 'apache.conf', 'check-ca.pem', 'check-crl.pem', 'intermediate.key', 'intermediate.pem', 'nginx.conf', 'root.key', 'root.pem']);
  for (const f of ['check-ca.pem', 'check-crl.pem', 'apache.conf', 'nginx.conf', 'INSTALL.txt']) {
    assert.doesNotMatch(await readFile(join(dir, 'kit', f), 'utf8'), /PRIVATE KEY/, f);
  }
  assert.match(await readFile(join(dir, 'kit', 'apache.conf'), 'utf8'), new RegExp(`Require expr %\\{SSL_CLIENT_S_DN_CN\\} == "${CN.replace(/\./g, '\\.')}"`));
});

test('a server configured from the kit grades A (exit 0), with a report; without its subject rule it is C (exit 1, or 0 with --require C)', async () => {
  const report = join(dir, 'check.html');
  const good = await harness(['check', nginx.url('good'), '--cn', CN, '--depth', '3', ...caArgs(), '--report', report]);
  assert.equal(good.code, 0, good.stdout + good.stderr);
  assert.match(good.stdout, /grade A — 14\/14 cases as required|grade A — \d+\/\d+ cases as required/);
  assert.doesNotMatch(good.stdout, /NOT ENFORCED/);
  const html = await readFile(report, 'utf8');
  assert.match(html, /Server check: grade A/);
  assert.doesNotMatch(html, /PRIVATE KEY/);

  const weak = await harness(['check', nginx.url('noRule'), '--cn', CN, '--depth', '3', ...caArgs()]);
  assert.equal(weak.code, 1);
  assert.match(weak.stdout, /✗ NOT ENFORCED {2}wrong_subject/);
  assert.match(weak.stdout, /grade C/);
  assert.match(weak.stderr, /grade C is below the required A/);
  const json = await harness(['check', nginx.url('noRule'), '--cn', CN, '--depth', '3', ...caArgs(), '--require', 'C', '--json']);
  assert.equal(json.code, 0);
  const last = JSON.parse(json.stdout.trim().split('\n').at(-1)!) as { type: string; report: { grade: string } };
  assert.deepEqual([last.type, last.report.grade], ['check.finished', 'C']);
});

test('bad input is refused with the field named, exit 2, before anything is sent', async () => {
  const cases: [string[], RegExp][] = [
    [['check', 'http://127.0.0.1/', '--cn', CN, ...caArgs()], /url: the check speaks TLS/],
    [['check', nginx.url('good'), ...caArgs()], /--cn NAME or --san DNSNAME/],
    [['check', nginx.url('good'), '--cn', CN, '--depth', '12', ...caArgs()], /verifyDepth|depth/],
    [['check', nginx.url('good'), '--cn', CN, '--root', join(dir, 'kit', 'root.pem')], /missing: --root-key, --intermediate, --intermediate-key/],
    [['check', nginx.url('good'), '--cn', CN, '--root', join(dir, 'kit', 'root.pem'), '--root-key', join(dir, 'kit', 'intermediate.key'), '--intermediate', join(dir, 'kit', 'intermediate.pem'), '--intermediate-key', join(dir, 'kit', 'intermediate.key')], /ca.rootPrivateKeyPem: does not belong to the root certificate/],
    [['check', nginx.url('good'), '--cn', CN, '--require', 'Z', ...caArgs()], /--require must be one of A, B, C, D, F/],
  ];
  for (const [args, message] of cases) {
    const r = await harness(args);
    assert.equal(r.code, 2, `${args.join(' ')}\n${r.stdout}${r.stderr}`);
    assert.match(r.stderr, message);
    assert.doesNotMatch(r.stdout, /enforced/, 'no case ran');
  }
});
