import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { certInspect } from './cert-inspect.ts';
import { issuedPki, openssl, opensslPki, tempDir } from '../../shared/pki/fixtures.test.ts';

const pki = opensslPki();

async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await certInspect(argv, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) });
  return { code, stdout, stderr };
}

test('cert inspect: human listing of a chain and its key, aligned, with what openssl says', async () => {
  const { code, stdout, stderr } = await run(pki.path('chain.pem'), pki.path('client.key'));
  assert.equal(stderr, '');
  assert.equal(code, 0);
  const serial = openssl(pki.dir, ['x509', '-in', 'client.pem', '-noout', '-serial']).trim().split('=')[1];
  const fingerprint = openssl(pki.dir, ['x509', '-in', 'client.pem', '-noout', '-fingerprint', '-sha256']).trim().split('=')[1];
  assert.match(stdout, /^.*chain\.pem: PEM, 2 certificates, 0 keys$/m);
  assert.match(stdout, /^Certificate 1 — .*chain\.pem, block 1 \(line 1\)$/m);
  assert.match(stdout, /^  Subject           CN=client\.example\.test, OU=Integrations, O=Acme\\, Inc\., L=Berlin, C=DE$/m);
  assert.ok(stdout.includes(`  Serial            ${serial}\n`));
  assert.ok(stdout.includes(`  SHA-256           ${fingerprint}\n`));
  assert.match(stdout, /^  Extended usage    clientAuth$/m);
  assert.match(stdout, /^  CA issuers        http:\/\/ca\.example\.test\/int\.cer$/m);
  assert.match(stdout, /^  Belongs to        certificate 1 \(/m);
  assert.match(stdout, /^  1\. CN=client\.example\.test.*leaf/m);
  assert.match(stdout, /^  next issuer \(not in the set\): CN=Example Root CA, O=Example Trust, C=US$/m);
  // Every field line has its value in the same column.
  const fields = stdout.split('\n').filter((l) => /^  [A-Z][A-Za-z0-9#-]*( [a-z]+)*  +\S/.test(l));
  assert.ok(fields.length > 20);
  for (const l of fields) assert.equal(l.search(/(?<=^  .{17}\s)\S/), 20, l);
});

test('cert inspect --json: one JSON document with certificates, keys, chain and problems', async () => {
  const { code, stdout } = await run(pki.path('client.pem'), pki.path('client.key'), '--json');
  assert.equal(code, 0);
  const report = JSON.parse(stdout);
  assert.equal(report.certificates.length, 1);
  assert.equal(report.certificates[0].commonName, 'client.example.test');
  assert.deepEqual(report.keys[0].matches, [report.certificates[0].where]);
  assert.deepEqual(
    report.problems.map((p: { code: string }) => p.code),
    ['chain_leaf_only'],
  );
  assert.match(report.problems[0].message, /http:\/\/ca\.example\.test\/int\.cer/);
  assert.deepEqual(report.unreadableFiles, []);
});

test('cert inspect: PKCS#12 with --password, and exit 2 for the wrong one', async () => {
  const ok = await run(pki.path('client-legacy.p12'), '--password', 'p12 secret');
  assert.equal(ok.code, 0);
  assert.match(ok.stdout, /client-legacy\.p12: PKCS12, 2 certificates, 1 key/);
  const bad = await run(pki.path('client.p12'), '--password', 'guess', '--json');
  assert.equal(bad.code, 2);
  assert.deepEqual(
    JSON.parse(bad.stdout).problems.map((p: { code: string }) => p.code),
    ['p12_bad_password'],
  );
});

test('cert inspect: an expired certificate is an error-level problem: reported, exit 1', async () => {
  const old = await issuedPki(new Date(Date.now() - 800 * 86_400_000));
  const dir = tempDir();
  writeFileSync(join(dir, 'old.pem'), old.client.pem + old.intermediate.pem);
  const { code, stdout } = await run(join(dir, 'old.pem'));
  assert.equal(code, 1);
  assert.match(stdout, /✗ error   cert_expired/);
  assert.match(stdout, /\(EXPIRED \d+ days ago\)/);
});

test('cert inspect: a serverAuth-only leaf is a warning without its key (exit 0), an error with it (exit 1)', async () => {
  for (const [files, want, code] of [
    [['server.pem'], /! warning eku_not_for_client +CN=server\.example\.test, O=Acme is for serverAuth only, not clientAuth: it cannot serve as a client certificate/, 0],
    [['server.pem', 'server.key'], /✗ error   eku_missing_client_auth +CN=server\.example\.test, O=Acme comes with its private key, as a client credential, but is for serverAuth only/, 1],
    [['chain.pem', 'client.key'], /chain_root_not_included/, 0],
  ] as const) {
    const r = await run(...files.map((f) => pki.path(f)));
    assert.equal(r.code, code, `${files.join(' ')}: ${r.stdout}`);
    assert.match(r.stdout, want);
    if (code === 0 && files[0] === 'chain.pem') assert.doesNotMatch(r.stdout, /eku_/);
  }
});

test('cert inspect: the PKCS#12 password from a file or an environment variable', async () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'pass'), 'p12 secret\n');
  process.env.HARNESS_TEST_P12_PASS = 'p12 secret';
  try {
    for (const flags of [['--password-file', join(dir, 'pass')], ['--password-env', 'HARNESS_TEST_P12_PASS']]) {
      const r = await run(pki.path('client.p12'), ...flags);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /client\.p12: PKCS12, 2 certificates, 1 key/);
    }
    const both = await run(pki.path('client.p12'), '--password', 'x', '--password-file', join(dir, 'pass'));
    assert.equal(both.code, 2);
    assert.match(both.stderr, /give one of --password, --password-file and --password-env/);
  } finally {
    delete process.env.HARNESS_TEST_P12_PASS;
  }
});

test('cert inspect: unreadable inputs exit 2 and the others are still shown', async () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'garbage.pem'), 'this is not PEM\n');
  writeFileSync(join(dir, 'cut.der'), pki.readBytes('client.der').subarray(0, 300));
  const { code, stdout, stderr } = await run(pki.path('int.pem'), join(dir, 'missing.pem'), join(dir, 'garbage.pem'), join(dir, 'cut.der'));
  assert.equal(code, 2);
  assert.match(stderr, /cannot read .*missing\.pem: no such file/);
  assert.match(stdout, /int\.pem: PEM, 1 certificate, 0 keys\n/);
  assert.match(stdout, /garbage\.pem: UNKNOWN, 0 certificates, 0 keys \(NOT FULLY READABLE\)/);
  assert.match(stdout, /der_truncated/);
  assert.match(stdout, /input_unrecognized/);
});

test('cert inspect: usage errors exit 2', async () => {
  for (const argv of [[], ['--json'], ['x.pem', '--bogus'], ['x.pem', '--password']]) {
    const { code, stderr } = await run(...argv);
    assert.equal(code, 2, argv.join(' '));
    assert.match(stderr, /usage: harness cert inspect FILE/);
  }
});
