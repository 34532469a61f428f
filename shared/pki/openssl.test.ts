// The inspector against the real openssl CLI as the oracle: every field it shows for certificates
// openssl made must equal what `openssl x509` prints, PKCS#12 files in every protection openssl
// offers must open (and refuse the wrong password), and certificates issue.ts makes must pass
// `openssl verify -purpose sslclient`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkClientCredentials } from './credentials.ts';
import { issuedPki, openssl, opensslBytes, opensslPki, tempDir } from './fixtures.test.ts';
import { inspectCertificate, type CertificateInfo } from './inspect.ts';
import { readInput } from './read.ts';

const pki = opensslPki();

async function inspect(name: string): Promise<CertificateInfo> {
  const { certificates } = await readInput(pki.read(name));
  return (await inspectCertificate(certificates[0]!.der)).info;
}

function x509(name: string, ...args: string[]): string {
  return openssl(pki.dir, ['x509', '-in', name, '-noout', ...args]).trim();
}

/** The lines under an extension heading of `openssl x509 -text`, and whether it is critical. */
function extension(text: string, heading: string): { critical: boolean; lines: string[] } | undefined {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.trim().startsWith(`${heading}:`));
  if (start < 0) return undefined;
  const indent = lines[start]!.search(/\S/);
  const body: string[] = [];
  for (const l of lines.slice(start + 1)) {
    if (l.search(/\S/) <= indent) break;
    body.push(l.trim());
  }
  return { critical: lines[start]!.includes('critical'), lines: body };
}

const KEY_USAGE_TEXT: Record<string, string> = {
  digitalSignature: 'Digital Signature',
  nonRepudiation: 'Non Repudiation',
  keyEncipherment: 'Key Encipherment',
  dataEncipherment: 'Data Encipherment',
  keyAgreement: 'Key Agreement',
  keyCertSign: 'Certificate Sign',
  cRLSign: 'CRL Sign',
};
const EKU_TEXT: Record<string, string> = { serverAuth: 'TLS Web Server Authentication', clientAuth: 'TLS Web Client Authentication' };

for (const name of ['root.pem', 'int.pem', 'client.pem', 'server.pem', 'ed.pem']) {
  test(`openssl agrees: ${name}`, async () => {
    const info = await inspect(name);
    const text = x509(name, '-text');
    const nameopt = ['-nameopt', 'RFC2253,sep_comma_plus_space'];

    assert.equal(`subject=${info.subject}`, x509(name, '-subject', ...nameopt));
    assert.equal(`issuer=${info.issuer}`, x509(name, '-issuer', ...nameopt));
    assert.equal(`serial=${info.serial}`, x509(name, '-serial'));
    assert.equal(`sha256 Fingerprint=${info.fingerprints.sha256}`, x509(name, '-fingerprint', '-sha256'));
    assert.equal(`sha1 Fingerprint=${info.fingerprints.sha1}`, x509(name, '-fingerprint', '-sha1'));
    const [notBefore, notAfter] = x509(name, '-dates').split('\n').map((l) => new Date(l.split('=')[1]!).toISOString());
    assert.equal(info.notBefore, notBefore);
    assert.equal(info.notAfter, notAfter);
    assert.match(text, new RegExp(`Signature Algorithm: ${info.signatureAlgorithm}\\n`));

    if (info.key.kind === 'RSA') assert.match(text, new RegExp(`Public-Key: \\(${info.key.bits} bit\\)`));
    if (info.key.kind === 'EC') assert.match(text, new RegExp(`NIST CURVE: ${info.key.curve}\\n`));
    if (info.key.kind === 'Ed25519') assert.match(text, /Public Key Algorithm: ED25519/);

    const san = extension(text, 'X509v3 Subject Alternative Name');
    assert.deepEqual(info.subjectAltNames, san ? san.lines[0]!.split(', ') : []);
    const ku = extension(text, 'X509v3 Key Usage');
    assert.deepEqual(info.keyUsage && { critical: info.keyUsage.critical, lines: [info.keyUsage.usages.map((u) => KEY_USAGE_TEXT[u]).join(', ')] }, ku);
    const eku = extension(text, 'X509v3 Extended Key Usage');
    assert.deepEqual(info.extendedKeyUsage && { critical: info.extendedKeyUsage.critical, lines: [info.extendedKeyUsage.usages.map((u) => EKU_TEXT[u]).join(', ')] }, eku);
    const bc = extension(text, 'X509v3 Basic Constraints');
    const bcText = info.basicConstraints && `CA:${info.basicConstraints.ca ? 'TRUE' : 'FALSE'}${info.basicConstraints.pathLength !== undefined ? `, pathlen:${info.basicConstraints.pathLength}` : ''}`;
    assert.deepEqual(info.basicConstraints && { critical: info.basicConstraints.critical, lines: [bcText] }, bc);
    assert.equal(info.subjectKeyId, extension(text, 'X509v3 Subject Key Identifier')?.lines[0]);
    assert.equal(info.authorityKeyId, extension(text, 'X509v3 Authority Key Identifier')?.lines[0]?.replace(/^keyid:/, ''));
    const crl = extension(text, 'X509v3 CRL Distribution Points');
    assert.deepEqual(info.crlDistributionPoints, crl ? crl.lines.filter((l) => l.startsWith('URI:')).map((l) => l.slice(4)) : []);
    const aia = extension(text, 'Authority Information Access')?.lines ?? [];
    assert.deepEqual(info.ocsp, aia.filter((l) => l.startsWith('OCSP - URI:')).map((l) => l.slice('OCSP - URI:'.length)));
    assert.deepEqual(info.caIssuers, aia.filter((l) => l.startsWith('CA Issuers - URI:')).map((l) => l.slice('CA Issuers - URI:'.length)));
    const policies = extension(text, 'X509v3 Certificate Policies')?.lines ?? [];
    assert.deepEqual(info.policies, policies.map((l) => l.replace('Policy: ', '')));

    // x5t#S256 is base64url of the same SHA-256 openssl prints in hex.
    const hex = Buffer.from(info.fingerprints.x5tS256, 'base64url').toString('hex').toUpperCase();
    assert.equal(hex.match(/../g)!.join(':'), info.fingerprints.sha256);
    // SPKI pin as `openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary | base64`.
    const publicKeyPem = opensslBytes(pki.dir, ['x509', '-in', name, '-noout', '-pubkey']);
    const spkiDer = opensslBytes(pki.dir, ['pkey', '-pubin', '-in', writeTemp(publicKeyPem), '-outform', 'DER']);
    assert.equal(info.fingerprints.spkiSha256, await sha256Base64(spkiDer));

    assert.equal(info.selfSigned, name === 'root.pem');
  });
}

function writeTemp(bytes: Uint8Array): string {
  const path = join(tempDir(), 'data');
  writeFileSync(path, bytes);
  return path;
}

async function sha256Base64(bytes: Uint8Array): Promise<string> {
  return Buffer.from(await crypto.subtle.digest('SHA-256', bytes.slice())).toString('base64');
}

const P12_VARIANTS: { name: string; args: string[] }[] = [
  { name: 'OpenSSL 3 default (PBES2 AES-256-CBC, HMAC-SHA256)', args: [] },
  { name: '-legacy (RC2-40 certificates, 3DES key, HMAC-SHA1)', args: ['-legacy'] },
  { name: 'AES-128-CBC, SHA-512 MAC', args: ['-keypbe', 'AES-128-CBC', '-certpbe', 'AES-128-CBC', '-macalg', 'sha512'] },
  { name: '3DES certificates (-descert), SHA-1 MAC', args: ['-descert', '-macalg', 'sha1'] },
  { name: 'no MAC (wrong password found by decryption)', args: ['-nomac'] },
  { name: 'unencrypted contents, MAC only', args: ['-keypbe', 'NONE', '-certpbe', 'NONE'] },
];

const clientFingerprint = x509('client.pem', '-fingerprint', '-sha256').split('=')[1];

for (const v of P12_VARIANTS) {
  test(`PKCS#12 from openssl pkcs12 -export ${v.name}`, async () => {
    const out = join(tempDir(), 'x.p12');
    openssl(pki.dir, ['pkcs12', '-export', ...v.args, '-in', 'client.pem', '-inkey', 'client.key', '-certfile', 'int.pem', '-passout', 'pass:pässwörd', '-out', out]);
    const bytes = new Uint8Array(readFileSync(out));
    const ok = await readInput(bytes, { password: 'pässwörd' });
    assert.deepEqual(ok.problems, []);
    assert.equal(ok.certificates.length, 2);
    assert.equal(ok.keys.length, 1);
    assert.equal((await inspectCertificate(ok.certificates[0]!.der)).info.fingerprints.sha256, clientFingerprint);
    const bad = await readInput(bytes, { password: 'passwörd' });
    assert.deepEqual(bad.problems.map((p) => p.code), ['p12_bad_password']);
    assert.equal(bad.keys.length, 0);
  });
}

test('issue.ts certificates pass openssl verify -purpose sslclient; a serverAuth-only one fails it, as checkClientCredentials says', async () => {
  const issued = await issuedPki();
  const dir = tempDir();
  const serverOnly = await issued.issueWith('intermediate', { subject: 'CN=server-only', extendedKeyUsages: ['1.3.6.1.5.5.7.3.1'] });
  const rsa = await issued.issueWith('root', { subject: 'CN=rsa-client' }, 'RSA-2048');
  const ed = await issued.issueWith('intermediate', { subject: 'CN=ed-client' }, 'Ed25519');
  for (const [file, text] of Object.entries({ 'root.pem': issued.root.pem, 'int.pem': issued.intermediate.pem, 'client.pem': issued.client.pem, 'server-only.pem': serverOnly.pem, 'rsa.pem': rsa.pem, 'ed.pem': ed.pem })) {
    writeFileSync(join(dir, file), text);
  }
  const verify = (file: string): string => {
    try {
      return openssl(dir, ['verify', '-purpose', 'sslclient', '-CAfile', 'root.pem', '-untrusted', 'int.pem', file]).trim();
    } catch (e) {
      return String((e as { stdout?: string }).stdout ?? '') + String((e as { stderr?: string }).stderr ?? '');
    }
  };
  for (const [file, creds, chain] of [['client.pem', issued.client, issued.intermediate.pem], ['rsa.pem', rsa, ''], ['ed.pem', ed, issued.intermediate.pem]] as const) {
    assert.equal(verify(file), `${file}: OK`);
    const report = await checkClientCredentials(creds.pem + chain, creds.keyPem);
    assert.deepEqual(report.problems.filter((p) => p.severity === 'error'), [], file);
    assert.equal(report.key?.matchesCertificate, true);
  }
  assert.match(verify('server-only.pem'), /unsuitable certificate purpose/);
  const report = await checkClientCredentials(serverOnly.pem, serverOnly.keyPem);
  assert.deepEqual(report.problems.filter((p) => p.severity === 'error').map((p) => p.code), ['eku_missing_client_auth']);
});

test('openssl-made keys in every form match their certificates', async () => {
  for (const [cert, key] of [
    ['client.pem', 'client.key'],
    ['client.pem', 'client-sec1.key'],
    ['server.pem', 'server-rsa.key'],
    ['ed.pem', 'ed.key'],
  ]) {
    const report = await checkClientCredentials(pki.read(cert!), pki.read(key!));
    assert.equal(report.key?.matchesCertificate, true, `${cert} + ${key}`);
    assert.equal(report.key?.spkiSha256, report.leaf?.fingerprints.spkiSha256);
  }
  const wrong = await checkClientCredentials(pki.read('client.pem'), pki.read('server.key'));
  assert.ok(wrong.problems.some((p) => p.code === 'key_cert_mismatch'));
});
