// One order for distinguished names: what the harness issues, what Node, @peculiar/x509 and the
// DER parser read back, and what `openssl x509 -nameopt RFC2253` prints must all be the same
// RFC 4514 line, most specific first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCsr, generateKeyPair, issue, readCsr, selfSign } from './issue.ts';
import { openssl, tempDir } from './fixtures.test.ts';
import { parseCertificate } from './certificate.ts';
import { readPem } from './pem.ts';
import { formatName, rfc4514FromDer, rfc4514FromNodeDn } from './names.ts';

const SUBJECTS = [
  'CN=lab-client',
  'CN=client one, O=Acme\\, Inc., C=US',
  'CN=Harness Lab Client CA x1, O=mTLS Harness Lab',
] as const;

function derOf(pem: string): Uint8Array {
  return readPem(pem).blocks[0]!.der;
}

for (const subject of SUBJECTS) {
  test(`issued "${subject}" reads back as the same RFC 4514 line everywhere`, async () => {
    const caKeys = await generateKeyPair('P-256', true);
    const ca = await selfSign(caKeys, { subject: `CN=Names Test CA, O=Names Test`, profile: 'root-ca' });
    const keys = await generateKeyPair('P-256', true);
    // Through a CSR, as the lab CA issues: the CSR's subject survives the round trip.
    const csr = await readCsr(await createCsr(keys, subject));
    assert.equal(csr.subject, subject);
    const cert = await issue(csr.publicKey, { certificate: ca, privateKey: caKeys.privateKey }, { subject: csr.subject, profile: 'client' });
    const pem = cert.toString('pem');
    const node = new X509Certificate(pem);
    assert.equal(rfc4514FromNodeDn(node.subject), subject);
    assert.equal(rfc4514FromNodeDn(node.issuer), 'CN=Names Test CA, O=Names Test');
    assert.equal(rfc4514FromDer(new Uint8Array(cert.subjectName.toArrayBuffer())), subject);
    assert.equal(formatName(parseCertificate(derOf(pem)).subject), subject);
    // The oracle: OpenSSL's RFC 2253 rendering, and its chain check finds the issuer by name.
    const dir = tempDir();
    writeFileSync(join(dir, 'leaf.pem'), pem);
    writeFileSync(join(dir, 'ca.pem'), ca.toString('pem'));
    const printed = openssl(dir, ['x509', '-in', 'leaf.pem', '-noout', '-subject', '-nameopt', 'RFC2253,sep_comma_plus_space']).trim();
    assert.equal(printed, `subject=${subject}`);
    assert.match(openssl(dir, ['verify', '-CAfile', 'ca.pem', '-purpose', 'sslclient', 'leaf.pem']), /leaf\.pem: OK/);
  });
}

test('a certificate OpenSSL made (C first in the encoding) reads CN first from Node and from DER alike', () => {
  const dir = tempDir();
  openssl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'k.pem', '-out', 'c.pem', '-subj', '/C=US/O=Acme, Inc./CN=client one', '-days', '2']);
  const pem = openssl(dir, ['x509', '-in', 'c.pem']);
  assert.equal(rfc4514FromNodeDn(new X509Certificate(pem).subject), 'CN=client one, O=Acme\\, Inc., C=US');
  assert.equal(formatName(parseCertificate(derOf(pem)).subject), 'CN=client one, O=Acme\\, Inc., C=US');
});
