import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { checkClientCredentials, type ClientCredentialsOptions } from './credentials.ts';
import { issuedPki, type IssuedPki } from './fixtures.test.ts';
import { exportPkcs8Pem, generateKeyPair, x509 } from './issue.ts';

// Frozen clock: everything below is issued for 2030-01-01 … 2031-01-01 (clients, 365 days).
const ISSUED = new Date('2030-01-01T00:00:00Z');
const at = (iso: string): Date => new Date(iso);
const MID = at('2030-06-01T00:00:00Z');

let pki: IssuedPki;
let serverOnly: { pem: string; keyPem: string };
let rsa: { pem: string; keyPem: string };
let ed: { pem: string; keyPem: string };
let noEku: { pem: string; keyPem: string };
let encipherOnly: { pem: string; keyPem: string };
let otherKey: string;

/** A certificate with exactly these extensions, signed by the test intermediate. */
async function custom(subject: string, extensions: x509.Extension[]): Promise<{ pem: string; keyPem: string }> {
  const keys = await generateKeyPair('P-256', true);
  const issuerKey = await crypto.subtle.importKey('pkcs8', createPrivateKey(pki.intermediate.keyPem).export({ type: 'pkcs8', format: 'der' }), { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: '01',
    subject,
    issuer: new x509.X509Certificate(pki.intermediate.pem).subject,
    notBefore: ISSUED,
    notAfter: at('2031-01-01T00:00:00Z'),
    publicKey: keys.publicKey,
    signingKey: issuerKey,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    extensions,
  });
  return { pem: cert.toString('pem') + '\n', keyPem: await exportPkcs8Pem(keys.privateKey) };
}

before(async () => {
  pki = await issuedPki(ISSUED);
  serverOnly = await pki.issueWith('intermediate', { subject: 'CN=web.example.test', extendedKeyUsages: ['1.3.6.1.5.5.7.3.1'] });
  rsa = await pki.issueWith('intermediate', { subject: 'CN=rsa-client' }, 'RSA-2048');
  ed = await pki.issueWith('intermediate', { subject: 'CN=ed-client' }, 'Ed25519');
  noEku = await custom('CN=no-eku', [new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true)]);
  encipherOnly = await custom('CN=encipher-only', [new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyEncipherment, true), new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth])]);
  otherKey = await exportPkcs8Pem((await generateKeyPair('P-256', true)).privateKey);
});

interface Case {
  name: string;
  certificate: () => string;
  key: () => string;
  now?: Date;
  options?: ClientCredentialsOptions;
  want: { ok: boolean; problems: string[]; notes?: string[]; message?: RegExp };
}

const chain = (): string => pki.client.pem + pki.intermediate.pem;

const cases: Case[] = [
  { name: 'good pair with its intermediate', certificate: chain, key: () => pki.client.keyPem, want: { ok: true, problems: [], notes: ['chain_root_not_included'] } },
  { name: 'good pair, leaf only', certificate: () => pki.client.pem, key: () => pki.client.keyPem, want: { ok: true, problems: ['chain_leaf_only'] } },
  { name: 'key of another certificate', certificate: chain, key: () => otherKey, want: { ok: false, problems: ['key_cert_mismatch'], message: /is not the key of CN=harness-client, O=Harness/ } },
  { name: 'RSA key of an EC certificate', certificate: chain, key: () => rsa.keyPem, want: { ok: false, problems: ['key_cert_mismatch'], message: /private key \(RSA 2048 bits\)/ } },
  { name: 'expired (frozen clock after notAfter)', certificate: chain, key: () => pki.client.keyPem, now: at('2031-02-01T00:00:00Z'), want: { ok: false, problems: ['cert_expired'], message: /expired on 2031-01-01 \(31 days ago\)/ } },
  { name: 'not yet valid (frozen clock before notBefore)', certificate: chain, key: () => pki.client.keyPem, now: at('2029-12-31T00:00:00Z'), want: { ok: false, problems: ['cert_not_yet_valid', 'cert_not_yet_valid'], message: /not valid before 2030-01-01 00:00:00 UTC/ } },
  { name: 'expires within 90 days', certificate: chain, key: () => pki.client.keyPem, now: at('2030-11-15T00:00:00Z'), want: { ok: true, problems: ['expires_soon'], message: /expires on 2031-01-01, in 47 days/ } },
  { name: 'serverAuth-only certificate offered as client certificate', certificate: () => serverOnly.pem + pki.intermediate.pem, key: () => serverOnly.keyPem, want: { ok: false, problems: ['eku_missing_client_auth'], message: /is for serverAuth only, not clientAuth/ } },
  { name: 'no EKU at all is acceptable (a note, not a problem)', certificate: () => noEku.pem + pki.intermediate.pem, key: () => noEku.keyPem, want: { ok: true, problems: [], notes: ['chain_root_not_included', 'eku_absent'] } },
  { name: 'key usage without digitalSignature', certificate: () => encipherOnly.pem + pki.intermediate.pem, key: () => encipherOnly.keyPem, want: { ok: false, problems: ['key_usage_no_signature'] } },
  { name: 'RSA pair', certificate: () => rsa.pem + pki.intermediate.pem, key: () => rsa.keyPem, want: { ok: true, problems: [] } },
  { name: 'Ed25519 pair', certificate: () => ed.pem + pki.intermediate.pem, key: () => ed.keyPem, want: { ok: true, problems: [] } },
  { name: 'PKCS#1 and SEC1 keys are accepted', certificate: () => rsa.pem + pki.intermediate.pem, key: () => createPrivateKey(rsa.keyPem).export({ type: 'pkcs1', format: 'pem' }) as string, want: { ok: true, problems: [] } },
  { name: 'SEC1 EC key', certificate: chain, key: () => createPrivateKey(pki.client.keyPem).export({ type: 'sec1', format: 'pem' }) as string, want: { ok: true, problems: [] } },
  { name: 'chain in the wrong order', certificate: () => pki.intermediate.pem + pki.client.pem, key: () => pki.client.keyPem, want: { ok: true, problems: ['chain_wrong_order'] } },
  { name: 'key pasted into the certificate field', certificate: () => pki.client.keyPem, key: () => pki.client.keyPem, want: { ok: false, problems: ['not_a_certificate'] } },
  { name: 'certificate pasted into the key field', certificate: chain, key: () => pki.client.pem, want: { ok: false, problems: ['not_a_key'] } },
  { name: 'fields swapped', certificate: () => pki.client.keyPem, key: () => pki.client.pem, want: { ok: false, problems: ['not_a_certificate', 'not_a_key'] } },
  { name: 'certificate cut short', certificate: () => pki.client.pem.slice(0, 300) + '\n-----END CERTIFICATE-----\n', key: () => pki.client.keyPem, want: { ok: false, problems: ['der_truncated'] } },
  { name: 'certificate with a damaged character', certificate: () => pki.client.pem.replace(/(\n[A-Za-z0-9+/]{10})[A-Za-z0-9+/]/, '$1!'), key: () => pki.client.keyPem, want: { ok: false, problems: ['pem_malformed'] } },
  { name: 'END line lost', certificate: () => pki.client.pem.replace('-----END CERTIFICATE-----', ''), key: () => pki.client.keyPem, want: { ok: false, problems: ['pem_mismatched_markers'] } },
  {
    name: 'encrypted key without passphrase',
    certificate: chain,
    key: () => createPrivateKey(pki.client.keyPem).export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' }) as string,
    want: { ok: false, problems: ['key_encrypted'] },
  },
  {
    name: 'encrypted key with its passphrase',
    certificate: chain,
    key: () => createPrivateKey(pki.client.keyPem).export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' }) as string,
    options: { keyPassphrase: 'pw' },
    want: { ok: true, problems: [] },
  },
  { name: 'nothing given', certificate: () => '', key: () => ' ', want: { ok: false, problems: ['input_unrecognized', 'input_unrecognized'] } },
  { name: 'no key given', certificate: chain, key: () => 'not a key', want: { ok: false, problems: ['input_unrecognized'] } },
  { name: 'certificate as JSON with escaped PEM', certificate: () => JSON.stringify({ certificate: pki.client.pem.replace(/\n/g, '\r\n'), chain: [pki.intermediate.pem] }), key: () => pki.client.keyPem, want: { ok: true, problems: [] } },
];

for (const c of cases) {
  test(`checkClientCredentials: ${c.name}`, async () => {
    const report = await checkClientCredentials(c.certificate(), c.key(), c.now ?? MID, c.options);
    assert.deepEqual(report.problems.map((p) => p.code).sort(), [...c.want.problems].sort(), JSON.stringify(report.problems, null, 1));
    if (c.want.notes) assert.deepEqual(report.notes.map((p) => p.code).sort(), [...c.want.notes].sort());
    assert.equal(report.ok, c.want.ok);
    if (c.want.message) assert.ok(report.problems.some((p) => c.want.message!.test(p.message)), JSON.stringify(report.problems, null, 1));
    for (const p of report.problems) assert.ok(p.where, `${p.code} says where`);
  });
}

test('checkClientCredentials: reports the leaf, the key and the chain, and never the key material', async () => {
  const report = await checkClientCredentials(chain(), pki.client.keyPem, MID);
  assert.equal(report.leaf?.commonName, 'harness-client');
  assert.equal(report.certificates.length, 2);
  assert.equal(report.key?.matchesCertificate, true);
  assert.equal(report.key?.key.text, 'EC P-256');
  assert.equal(report.key?.spkiSha256, report.leaf?.fingerprints.spkiSha256);
  assert.equal(report.chain?.paths[0]?.members.length, 2);
  const json = JSON.stringify(report);
  assert.ok(!json.includes('PRIVATE KEY'));
  // The private scalar, in any encoding it could leak in (the public half may appear: it is in the certificate).
  const d = Buffer.from(createPrivateKey(pki.client.keyPem).export({ format: 'jwk' }).d!, 'base64url');
  for (const form of [d.toString('base64url'), d.toString('base64'), d.toString('hex'), d.toString('hex').toUpperCase().match(/../g)!.join(':')]) {
    assert.ok(!json.includes(form.slice(0, 24)), 'the private key does not appear');
  }
});

test('checkClientCredentials: the leaf is the certificate the key belongs to, wherever it is in the input', async () => {
  const report = await checkClientCredentials(pki.intermediate.pem + pki.client.pem, pki.client.keyPem, MID);
  assert.equal(report.leaf?.commonName, 'harness-client');
});

test('checkClientCredentials: fast enough for every probe (EC and RSA pairs)', async () => {
  await checkClientCredentials(chain(), pki.client.keyPem, MID); // warm up
  for (const [cert, key] of [
    [chain(), pki.client.keyPem],
    [rsa.pem + pki.intermediate.pem, rsa.keyPem],
  ] as const) {
    const start = performance.now();
    const runs = 10;
    for (let i = 0; i < runs; i++) await checkClientCredentials(cert, key, MID);
    const perCall = (performance.now() - start) / runs;
    assert.ok(perCall < 50, `${perCall.toFixed(1)} ms per call`);
  }
});
