// The PKCS#12 writer against its consumers: the openssl CLI (`openssl pkcs12`, the OpenSSL 3
// default protection reported back), Node's TLS stack (what the relay and curl-like clients load)
// and the workshop's own reader. A wrong password must be refused by each.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSecureContext } from 'node:tls';
import { issuedPki, OPENSSL, tempDir } from './fixtures.test.ts';
import { fingerprints } from './fingerprint.ts';
import type { KeyAlgorithmName } from './issue.ts';
import { readInput } from './read.ts';
import { parseCertificate } from './certificate.ts';
import { writePkcs12 } from './pkcs12-write.ts';

function der(pem: string): Uint8Array {
  return new Uint8Array(Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64'));
}

function run(cwd: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(OPENSSL, args, { cwd, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const pki = await issuedPki();
const PASSWORD = 'pässwörd 1';

for (const algorithm of ['P-256', 'RSA-2048', 'Ed25519'] as const satisfies readonly KeyAlgorithmName[]) {
  test(`${algorithm}: openssl pkcs12 opens it with the password, shows the OpenSSL 3 protection and refuses a wrong one`, async () => {
    const leaf = await pki.issueWith('intermediate', { subject: `CN=p12-${algorithm}` }, algorithm);
    const p12 = await writePkcs12({ certificates: [der(leaf.pem), der(pki.intermediate.pem), der(pki.root.pem)], privateKey: der(leaf.keyPem) }, { password: PASSWORD, friendlyName: `p12 ${algorithm}` });
    const dir = tempDir();
    writeFileSync(join(dir, 'x.p12'), p12);
    writeFileSync(join(dir, 'leaf.pem'), leaf.pem);

    const info = run(dir, ['pkcs12', '-info', '-in', 'x.p12', '-nokeys', '-passin', `pass:${PASSWORD}`]);
    assert.equal(info.status, 0, info.stderr);
    assert.match(info.stderr, /MAC: sha256, Iteration 2048/);
    assert.match(info.stderr, /PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC, Iteration 2048, PRF hmacWithSHA256/);
    assert.match(info.stderr, /Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration 2048, PRF hmacWithSHA256/);
    assert.equal(info.stdout.match(/BEGIN CERTIFICATE/g)?.length, 3);
    assert.match(info.stdout, new RegExp(`friendlyName: p12 ${algorithm}`));
    assert.match(info.stdout, new RegExp(`subject=CN = p12-${algorithm}`));

    // The key inside is the leaf's key: same public key as the certificate.
    const keys = run(dir, ['pkcs12', '-in', 'x.p12', '-nocerts', '-nodes', '-passin', `pass:${PASSWORD}`, '-out', 'key.pem']);
    assert.equal(keys.status, 0, keys.stderr);
    const fromKey = run(dir, ['pkey', '-in', 'key.pem', '-pubout']);
    const fromCert = run(dir, ['x509', '-in', 'leaf.pem', '-noout', '-pubkey']);
    assert.equal(fromKey.stdout, fromCert.stdout);

    const wrong = run(dir, ['pkcs12', '-info', '-in', 'x.p12', '-nokeys', '-passin', 'pass:passwörd 1']);
    assert.notEqual(wrong.status, 0);
    assert.match(wrong.stderr, /Mac verify error/);
  });
}

test('Node TLS loads it as pfx with the password and refuses a wrong one', async () => {
  const leaf = await pki.issueWith('intermediate', { subject: 'CN=p12-node' }, 'RSA-2048');
  const p12 = await writePkcs12({ certificates: [der(leaf.pem), der(pki.intermediate.pem)], privateKey: der(leaf.keyPem) }, { password: PASSWORD });
  assert.doesNotThrow(() => createSecureContext({ pfx: Buffer.from(p12), passphrase: PASSWORD }));
  assert.throws(() => createSecureContext({ pfx: Buffer.from(p12), passphrase: 'wrong' }), /mac verify failure|bad decrypt/i);
});

test('the workshop reader gets back the exact certificate bytes and key', async () => {
  const leaf = await pki.issueWith('root', { subject: 'CN=p12-roundtrip' });
  const certificates = [der(leaf.pem), der(pki.root.pem)];
  const p12 = await writePkcs12({ certificates, privateKey: der(leaf.keyPem) }, { password: PASSWORD, friendlyName: 'roundtrip' });
  const read = await readInput(p12, { password: PASSWORD, name: 'x.p12' });
  assert.deepEqual(read.problems, []);
  assert.equal(read.format, 'pkcs12');
  assert.deepEqual(read.certificates.map((c) => Buffer.from(c.der).toString('hex')), certificates.map((c) => Buffer.from(c).toString('hex')));
  assert.equal(read.certificates[0]!.where, 'x.p12, certificate 1 ("roundtrip")');
  assert.equal(read.keys.length, 1);
  assert.equal(Buffer.from(read.keys[0]!.pkcs8).toString('hex'), Buffer.from(der(leaf.keyPem)).toString('hex'));
  const expected = await fingerprints(certificates[0]!, parseCertificate(certificates[0]!).spki);
  assert.equal((await fingerprints(read.certificates[0]!.der, parseCertificate(read.certificates[0]!.der).spki)).sha256, expected.sha256);

  const wrong = await readInput(p12, { password: 'wrong' });
  assert.deepEqual(wrong.problems.map((p) => p.code), ['p12_bad_password']);
});

test('a certificates-only file (a trust store) opens in openssl', async () => {
  const p12 = await writePkcs12({ certificates: [der(pki.root.pem)] }, { password: PASSWORD });
  const dir = tempDir();
  writeFileSync(join(dir, 'trust.p12'), p12);
  const info = run(dir, ['pkcs12', '-info', '-in', 'trust.p12', '-nokeys', '-passin', `pass:${PASSWORD}`]);
  assert.equal(info.status, 0, info.stderr);
  assert.equal(info.stdout.match(/BEGIN CERTIFICATE/g)?.length, 1);
  assert.doesNotMatch(info.stderr, /Shrouded Keybag/);
});

test('bad arguments are TypeErrors naming the argument', async () => {
  const certificates = [der(pki.root.pem)];
  const cases: { name: string; run: () => Promise<unknown>; want: RegExp }[] = [
    { name: 'empty password', run: () => writePkcs12({ certificates }, { password: '' }), want: /^password must not be empty/ },
    { name: 'no certificate', run: () => writePkcs12({ certificates: [] }, { password: 'x' }), want: /^certificates must hold/ },
    { name: 'not DER', run: () => writePkcs12({ certificates: [new Uint8Array([1, 2, 3])] }, { password: 'x' }), want: /^certificates\[0\] is not a single DER element/ },
    { name: 'key with trailing bytes', run: () => writePkcs12({ certificates, privateKey: new Uint8Array([...der(pki.root.keyPem), 0]) }, { password: 'x' }), want: /^privateKey is not/ },
    { name: 'zero iterations', run: () => writePkcs12({ certificates }, { password: 'x', iterations: 0 }), want: /^iterations must be/ },
  ];
  for (const c of cases) await assert.rejects(c.run(), (e: unknown) => e instanceof TypeError && c.want.test(e.message), c.name);
});
